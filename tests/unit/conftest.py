"""Fixtures for the headless core's unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from tuichat.config import LoadedConfig, Settings
from tuichat.plugins import get_plugin_manager, load_providers
from tuichat.provider import ChatEvent, ChatRequest, ModelInfo, Provider, ProviderSettings
from tuichat.runtime import Runtime
from tuichat.store import Store

Step = ChatEvent | BaseException | asyncio.Event


class ScriptedProvider(Provider):
    """A provider that plays scripts: events to yield, an error to raise, an Event to wait on.

    Each call of ``stream_chat`` takes the next script from ``scripts``; the requests
    it was asked are kept in ``requests``.
    """

    name: ClassVar[str] = "scripted"
    display_name: ClassVar[str] = "Scripted"
    key_env: ClassVar[tuple[str, ...]] = ("SCRIPTED_API_KEY",)
    base_url_env: ClassVar[tuple[str, ...]] = ("SCRIPTED_BASE_URL",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scripts: list[list[Step]] = []
        self.requests: list[ChatRequest] = []
        self.on_call: Callable[[ChatRequest], None] | None = None

    async def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(id="scripted-1", provider=self.instance_name)]

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        self.requests.append(request)
        if self.on_call is not None:
            self.on_call(request)
        script = self.scripts.pop(0) if self.scripts else []
        for step in script:
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, asyncio.Event):
                await step.wait()
                continue
            yield step


def scripted_provider(
    *scripts: list[Step], settings: dict[str, Any] | None = None
) -> ScriptedProvider:
    """A ScriptedProvider on a client that must never be used."""
    provider = ScriptedProvider(
        settings=ProviderSettings.model_validate({"max_retries": 2, **(settings or {})}),
        client=httpx.AsyncClient(transport=httpx.MockTransport(_no_network)),
    )
    provider.scripts = list(scripts)
    return provider


def _no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected HTTP request to {request.url}")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh store in a temporary file."""
    with Store(tmp_path / "tuichat.db") as opened:
        yield opened


@pytest.fixture
def make_runtime(tmp_path: Path) -> Callable[..., Runtime]:
    """Build a Runtime from settings data (as if read from a config file)."""

    def make(data: dict[str, Any] | None = None, *, text: str = "", extra=()) -> Runtime:
        path = tmp_path / "config.toml"
        settings = Settings(**(data or {}))
        pm = get_plugin_manager(load_entrypoints=False)
        for plugin in extra:
            pm.register(plugin)
        return Runtime(
            LoadedConfig(settings, path, text),
            load_providers(pm),
            plugin_manager=pm,
            database_path=tmp_path / "data" / "tuichat.db",
        )

    return make
