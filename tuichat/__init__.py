"""tuichat: a terminal chat client for large language models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuichat.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]


def __getattr__(name: str) -> Any:
    # ``hookimpl`` (the plugin API) loads pluggy: only when a plugin asks for it, not
    # on every start of the app (see tuichat.boot).
    if name == "hookimpl":
        from tuichat.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'tuichat' has no attribute {name!r}")
