"""Pluggy markers and the hook specifications tuichat plugins implement."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from tuichat.provider import Provider

hookspec = pluggy.HookspecMarker("tuichat")
hookimpl = pluggy.HookimplMarker("tuichat")


@hookspec
def register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register provider classes: ``register(OpenAIProvider)``.

    Args:
        register: Call it once per :class:`~tuichat.provider.Provider` subclass.
            A name already registered by another plugin is refused.
    """
