"""A real ``tuichat serve`` for the tests: uvicorn on a free loopback port.

The server runs in a background thread with its own event loop; its providers talk
to the test kit's ``wire_server`` (another thread), so every test goes over real
HTTP end to end: test client -> tuichat serve -> provider plugin -> wire server.
Needs the ``serve`` extra; ``conftest.py`` skips this directory without it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import tuichat_anthropic
import tuichat_gemini
import tuichat_openai
import uvicorn
from starlette.applications import Starlette

from tuichat.runtime import Runtime
from tuichat.serve import bind_socket, url_for
from tuichat.serve.app import create_app
from tuichat.serve.settings import ServeSettings
from tuichat.testing import WireServer

#: Keys the upstream providers are configured with; no response may ever show one.
KEYS = {
    "openai": "sk-openai-canary-0123",
    "anthropic": "sk-ant-canary-4567",
    "gemini": "gm-canary-89ab",
}

#: The Anthropic model the tests chat with.
CLAUDE = "claude-sonnet-4-5"


def provider_tables(upstream: WireServer) -> dict[str, dict[str, Any]]:
    """The three first-party providers, all pointed at the wire server, no retries."""
    return {
        "anthropic": {"base_url": upstream.url, "api_key": KEYS["anthropic"], "max_retries": 0},
        "openai": {"base_url": f"{upstream.url}/v1", "api_key": KEYS["openai"], "max_retries": 0},
        "gemini": {"base_url": upstream.url, "api_key": KEYS["gemini"], "max_retries": 0},
    }


class _Server(uvicorn.Server):  # type: ignore[misc]
    """uvicorn's server, stopping at once instead of at its next 0.1 s tick."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopping: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stopping = asyncio.Event()
        await self.stopping.wait()

    def stop(self) -> None:
        self.should_exit = True
        if self.loop is not None and self.stopping is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.stopping.set)


@dataclass
class Served:
    """A running ``tuichat serve``."""

    url: str
    runtime: Runtime
    settings: ServeSettings
    app: Starlette
    server: _Server
    thread: threading.Thread

    def stop(self, *, wait: bool = True) -> None:
        """Ask uvicorn to exit and (unless ``wait`` is false) wait for its thread."""
        self.server.stop()
        if wait:
            self.thread.join(10)
            assert not self.thread.is_alive(), "the server did not stop"


#: Servers asked to stop at the end of their test and joined at the end of the session:
#: uvicorn's shutdown always sleeps 0.1 s, which no test needs to wait for.
_STOPPING: list[Served] = []


@pytest.fixture(scope="session", autouse=True)
def _join_stopped_servers() -> Iterator[None]:
    yield
    for served in _STOPPING:
        served.stop()


ServeFactory = Callable[..., Served]


@pytest.fixture
def serve(build_runtime: Callable[..., Runtime], wire_server: WireServer) -> Iterator[ServeFactory]:
    """Start ``tuichat serve`` on a free port:
    ``serve(settings=None, plugins=None, **serve_options)``.

    ``settings`` is the tuichat settings data (default: the three providers pointed at
    ``wire_server``, Anthropic the default provider); ``plugins`` the provider plugins
    (default: the three first-party ones); ``serve_options`` go to
    :class:`ServeSettings` (``token=...``, ``cors_origins=[...]``, ``save=True``...).
    """
    started: list[Served] = []

    def start(
        settings: dict[str, Any] | None = None,
        plugins: tuple[object, ...] | None = None,
        **serve_options: Any,
    ) -> Served:
        data = settings if settings is not None else {"providers": provider_tables(wire_server)}
        if plugins is None:
            plugins = (tuichat_anthropic, tuichat_openai, tuichat_gemini)
        runtime = build_runtime(data, plugins=plugins)
        options = {"port": 0, "keepalive": 0, **serve_options}
        config = ServeSettings(**options)
        sock = bind_socket(config.host, 0)
        app = create_app(runtime, config=config)
        server = _Server(
            uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
        )
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="tuichat-serve", daemon=True
        )
        thread.start()
        served = Served(
            url_for(config.host, sock.getsockname()[1]), runtime, config, app, server, thread
        )
        started.append(served)
        deadline = time.monotonic() + 10
        while server.stopping is None:  # uvicorn exposes no event; poll until it is up
            assert thread.is_alive(), "the server failed to start"
            assert time.monotonic() < deadline, "the server did not start in time"
            time.sleep(0.002)
        return served

    try:
        yield start
    finally:
        for served in started:
            served.stop(wait=False)
            _STOPPING.append(served)
