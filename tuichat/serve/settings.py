"""The ``[serve]`` table, kept importable here: it lives in :mod:`tuichat.serve_settings`."""

from __future__ import annotations

from tuichat.serve_settings import DEFAULT_PORT, ServeSettings, is_loopback

__all__ = ["DEFAULT_PORT", "ServeSettings", "is_loopback"]
