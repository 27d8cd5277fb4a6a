"""Fixtures shared by every test: an isolated environment and runtimes built directly."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tuichat.config import LoadedConfig, Settings
from tuichat.plugins import get_plugin_manager, load_providers
from tuichat.runtime import Runtime
from tuichat.store import Store

#: Provider key variables the standard providers read; never inherited by a test.
KEY_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")

#: Proxy variables httpx honours; a test must never go through the host's proxy.
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")

#: Settings of a test runtime unless a test says otherwise: the demo at full speed.
DEFAULT_SETTINGS: dict[str, Any] = {"providers": {"demo": {"instant": True}}}


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Point config and data at ``tmp_path`` and drop keys, proxies and TUICHAT_* settings.

    ``TUICHAT_CONFIG`` names ``tmp_path/config.toml`` (absent unless the test writes it);
    ``TUICHAT_DATA_DIR`` is ``tmp_path/data``. Yields the config path.
    """
    for name in list(os.environ):
        upper = name.upper()
        if (
            upper.startswith("TUICHAT_")
            or upper in KEY_VARIABLES
            or upper in PROXY_VARIABLES
            or upper.endswith("_BASE_URL")
        ):
            monkeypatch.delenv(name, raising=False)
    # pytest imports readline, which writes COLUMNS=80 and LINES=24 into the C-level
    # environment (not os.environ): every child process (a tuichat under tmux) would
    # then believe its terminal is 80x24 whatever its real size.
    for name in ("COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)
        os.unsetenv(name)
    config = tmp_path / "config.toml"
    # Never ask this machine's real model-server ports (a developer's Ollama would show
    # up in snapshots); discovery's own tests turn it on with ports of their servers.
    monkeypatch.setenv("TUICHAT_DISCOVERY__ENABLED", "false")
    monkeypatch.setenv("TUICHAT_CONFIG", str(config))
    monkeypatch.setenv("TUICHAT_DATA_DIR", str(tmp_path / "data"))
    yield config


@pytest.fixture
def build_runtime(tmp_path: Path) -> Callable[..., Runtime]:
    """Build a :class:`Runtime` directly, without reading a config file.

    Call it as ``build_runtime(settings=None, *, fake=False, store=None, plugins=())``:

    - ``settings``: settings data as if read from config.toml (default: the instant demo);
    - ``fake``: also register :class:`tests.fakes.FakeProvider` as provider ``fake``;
    - ``store``: a store to use (e.g. one with a fixed clock) instead of the data dir's;
    - ``plugins``: more plugin objects (modules) to register.

    The database is ``$TUICHAT_DATA_DIR/tuichat.db`` (``tmp_path/data``), so two runtimes
    built in one test share it, as two runs of the app would.
    """

    def build(
        settings: dict[str, Any] | None = None,
        *,
        fake: bool = False,
        store: Store | None = None,
        plugins: tuple[object, ...] = (),
    ) -> Runtime:
        pm = get_plugin_manager(load_entrypoints=False)
        if fake:
            from tests.fakes import register_fake

            register_fake(pm)
        for plugin in plugins:
            pm.register(plugin)
        data = DEFAULT_SETTINGS if settings is None else settings
        loaded = LoadedConfig(Settings(**data), tmp_path / "config.toml", "")
        return Runtime(loaded, load_providers(pm), plugin_manager=pm, store=store)

    return build


@pytest.fixture
def runtime(build_runtime: Callable[..., Runtime]) -> Runtime:
    """A runtime with the instant demo provider and the fake provider registered."""
    return build_runtime(fake=True)
