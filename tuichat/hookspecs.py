"""Pluggy markers and the hook specifications tuichat plugins implement."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from tuichat.provider import Provider
    from tuichat.tools.plugin_tool import Tool

hookspec = pluggy.HookspecMarker("tuichat")
hookimpl = pluggy.HookimplMarker("tuichat")


@hookspec
def register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register provider classes: ``register(OpenAIProvider)``.

    Args:
        register: Call it once per :class:`~tuichat.provider.Provider` subclass.
            A name already registered by another plugin is refused.
    """


@hookspec
def register_tools(register: Callable[[Tool], None]) -> None:
    """Register Python tools: ``register(Tool("shout", "Upper-case a text.", schema, fn))``.

    The tools of one plugin form one tool "server" named like the plugin (its entry
    point's name). None is offered until the person lists that name in ``[tools]
    plugins``, and each call is approved unless the tool says ``approve="always"``.

    Args:
        register: Call it once per :class:`~tuichat.plugin_api.Tool`. A name the
            plugin already registered is refused.
    """
