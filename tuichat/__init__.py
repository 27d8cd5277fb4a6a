"""tuichat: a terminal chat client for large language models."""

from __future__ import annotations

from tuichat.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]
