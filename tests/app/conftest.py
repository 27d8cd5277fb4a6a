"""Fixtures for Pilot tests: the app over a directly built runtime."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.app.support import fake
from tests.fakes import Script
from tuichat.app.app import TuichatApp
from tuichat.runtime import Runtime

#: Variables that would make a copy reach the machine's own clipboard or a multiplexer.
CLIPBOARD_VARIABLES = (
    "TMUX",
    "STY",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "SSH_TTY",
    "SSH_CONNECTION",
    "SSH_CLIENT",
)


@pytest.fixture(autouse=True)
def no_real_clipboard(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Copies in tests stay inside the app: no tmux, no X11/Wayland, no SSH session."""
    for name in CLIPBOARD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def make_app(build_runtime: Callable[..., Runtime]) -> Callable[..., TuichatApp]:
    """Build the app: ``make_app(*scripts, provider=None, settings=None, runtime=None)``.

    Scripts are queued on the fake provider, which then answers (``provider="fake"`` is
    implied); without scripts the instant demo answers. Background titles are off unless
    the settings turn them on: a title request would take the next script off the queue.
    """

    def make(
        *scripts: Script,
        provider: str | None = None,
        model: str | None = None,
        settings: dict[str, Any] | None = None,
        runtime: Runtime | None = None,
        **kwargs: Any,
    ) -> TuichatApp:
        runtime = runtime or build_runtime(settings, fake=True)
        if "title_from_model" not in (settings or {}).get("ui", {}):
            runtime.settings.ui.title_from_model = False
        if scripts:
            fake(runtime).queue(*scripts)
            provider = provider or "fake"
        return TuichatApp(runtime, provider=provider, model=model, **kwargs)

    return make
