"""Where tuichat keeps its configuration and data, each overridable by env."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "tuichat"


def config_path() -> Path:
    """The config file: ``$TUICHAT_CONFIG``, else ``config.toml`` in the config dir."""
    explicit = os.environ.get("TUICHAT_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def data_dir() -> Path:
    """The data dir: ``$TUICHAT_DATA_DIR``, else the platform's user data dir."""
    explicit = os.environ.get("TUICHAT_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def database_path() -> Path:
    """The SQLite conversation store."""
    return data_dir() / "tuichat.db"


def boot_path() -> Path:
    """What the last start that worked needs for the next first frame (see tuichat.boot)."""
    return data_dir() / "boot.json"


def log_path() -> Path:
    """tuichat's log: a busy main loop and what it ran, a hang-up it could not answer."""
    return data_dir() / "tuichat.log"


def prompts_dir() -> Path:
    """The prompt library: one TOML file per saved prompt, beside the config file."""
    return config_path().parent / "prompts"
