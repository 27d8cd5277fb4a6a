"""Fixtures for Pilot tests: the app over a directly built runtime."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.app.support import fake
from tests.fakes import Script
from tuichat.app.app import TuichatApp
from tuichat.runtime import Runtime


@pytest.fixture
def make_app(build_runtime: Callable[..., Runtime]) -> Callable[..., TuichatApp]:
    """Build the app: ``make_app(*scripts, provider=None, settings=None, runtime=None)``.

    Scripts are queued on the fake provider, which then answers (``provider="fake"`` is
    implied); without scripts the instant demo answers.
    """

    def make(
        *scripts: Script,
        provider: str | None = None,
        model: str | None = None,
        settings: dict[str, Any] | None = None,
        runtime: Runtime | None = None,
    ) -> TuichatApp:
        runtime = runtime or build_runtime(settings, fake=True)
        if scripts:
            fake(runtime).queue(*scripts)
            provider = provider or "fake"
        return TuichatApp(runtime, provider=provider, model=model)

    return make
