"""The environment of a tuichat subprocess in a test: no real keys, a private config and data."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["isolated_env"]

#: What a developer's shell may hold that must not reach the run under test: tuichat's
#: own settings and the providers' keys and base URLs.
_LEFT_OUT = ("TUICHAT_", "OPENAI_", "ANTHROPIC_", "GEMINI_", "GOOGLE_")


def isolated_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This process's environment for ``subprocess.run(..., env=...)``, made private.

    Args:
        tmp_path: Where the config (``config.toml``) and data (``data/``) live.
        extra: Variables to set on top (``OPENAI_API_KEY=...``, a base URL).

    Returns:
        A new mapping; colours are off (``NO_COLOR``), so output compares as text.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith(_LEFT_OUT)}
    env.update(
        TUICHAT_CONFIG=str(tmp_path / "config.toml"),
        TUICHAT_DATA_DIR=str(tmp_path / "data"),
        NO_COLOR="1",
        **extra,
    )
    return env
