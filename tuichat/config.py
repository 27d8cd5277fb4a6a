"""Settings: the config file (TOML) and ``TUICHAT_`` environment variables.

Precedence, highest first: environment variables (``TUICHAT_UI__THEME=...``,
nested with ``__``), then the config file, then the defaults. Provider tables stay
raw here; each is validated against its provider's own ``Settings`` model when
the provider is built (see :mod:`tuichat.runtime`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tuichat import locations
from tuichat.errors import ConfigError
from tuichat.serve.settings import ServeSettings


class UISettings(BaseModel):
    """The full-screen app."""

    model_config = ConfigDict(extra="forbid")

    theme: str = "textual-dark"
    """A Textual theme name (``textual-dark``, ``nord``, ``gruvbox``...)."""
    sidebar: bool = True
    """Show the conversation sidebar at start."""
    cursor_blink: bool = True
    """Blink the cursor in the input box."""
    fps: int = Field(default=30, ge=1, le=120)
    """Most frames per second a streaming reply is redrawn at (lower it on slow SSH links)."""


class RetrySettings(BaseModel):
    """How failed requests are retried (only ever before the first delta)."""

    model_config = ConfigDict(extra="forbid")

    base_delay: float = Field(default=1.0, ge=0)
    """Seconds before the first retry; doubled each time, with jitter."""
    max_delay: float = Field(default=30.0, ge=0)
    """Longest wait between two attempts, also the cap on ``Retry-After``."""


class Settings(BaseSettings):
    """Everything configurable. Documented, option by option, in ``config.toml``."""

    model_config = SettingsConfigDict(
        env_prefix="TUICHAT_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    provider: str | None = None
    """The provider instance to chat with; the first one with a key when unset."""
    model: str | None = None
    """The model (``gpt-4o-mini`` or ``openai/gpt-4o-mini``); the provider's default when unset."""
    system_prompt: str | None = None
    """The system prompt of new conversations."""
    temperature: float | None = Field(default=None, ge=0, le=2)
    """Sampling temperature of new conversations; the model's default when unset."""
    max_tokens: int | None = Field(default=None, gt=0)
    """Most tokens per reply; the provider's default when unset."""
    providers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """One table per provider instance: ``[providers.openai]``, ``[providers.ollama]``..."""
    ui: UISettings = Field(default_factory=UISettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's data arrives through init kwargs (see load_settings), so that we
        # parse TOML ourselves and can name the line of a syntax error. Env wins.
        return (env_settings, init_settings)


def read_config_file(path: Path) -> tuple[dict[str, Any], str]:
    """Parse the TOML file at ``path``; a missing file is an empty config.

    Returns:
        The data and the file's text (for locating keys in error messages).

    Raises:
        ConfigError: The file cannot be read or is not valid TOML.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, ""
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            f"Cannot read config file {path}: {reason}; fix its permissions or set TUICHAT_CONFIG."
        ) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}; fix that line.") from None


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """Settings with the file they came from (to name lines in later errors)."""

    settings: Settings
    path: Path
    text: str


def load_config(path: Path | None = None) -> LoadedConfig:
    """Load the settings from ``path`` (default: :func:`locations.config_path`) and env.

    Raises:
        ConfigError: One line naming the file, the key and its line, and what is expected.
    """
    path = path or locations.config_path()
    data, text = read_config_file(path)
    try:
        return LoadedConfig(Settings(**data), path, text)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, path, text)) from None


def load_settings(path: Path | None = None) -> Settings:
    """Load only the settings (see :func:`load_config`)."""
    return load_config(path).settings


def describe_validation_error(
    exc: ValidationError, path: Path, text: str, *, prefix: Sequence[str | int] = ()
) -> str:
    """One sentence for the first error: file, key, line, what is wrong and expected."""
    error = exc.errors()[0]
    loc = [*prefix, *error["loc"]]
    key = ".".join(str(part) for part in loc)
    line = find_key_line(text, [str(part) for part in loc])
    where = f"{path}, line {line}" if line else f"{path} (or a TUICHAT_ environment variable)"
    if error["type"] == "extra_forbidden":
        return f"Config error in {where}: unknown key '{key}'; check its spelling in config.toml."
    if error["type"] == "missing":
        return f"Config error in {where}: '{key}' is required; add it."
    given = error.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float | bool) else ""
    message = error["msg"][0].lower() + error["msg"][1:]
    return f"Config error in {where}: '{key}' {message}{shown}."


_HEADER = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")


def find_key_line(text: str, loc: Sequence[str]) -> int | None:
    """The 1-based line where the key ``loc`` is set in a TOML text, if it can be found."""
    if not text or not loc:
        return None
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = [part.strip().strip("\"'") for part in header.group(1).split(".")]
            if table == list(loc):
                return number
            continue
        key = _KEY.match(line)
        if key:
            parts = [part.strip().strip("\"'") for part in key.group(1).split(".")]
            if [*table, *parts] == list(loc):
                return number
    # A key inside an inline table or a missing key: point at its table instead.
    return find_key_line(text, loc[:-1]) if len(loc) > 1 else None
