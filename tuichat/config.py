"""Settings: the config file (TOML) and ``TUICHAT_`` environment variables.

Precedence, highest first: environment variables (``TUICHAT_UI__THEME=...``,
nested with ``__``), then the config file, then the defaults. Provider tables stay
raw here; each is validated against its provider's own ``Settings`` model when
the provider is built (see :mod:`tuichat.runtime`).
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tuichat import locations
from tuichat.discovery import USUAL_PORTS
from tuichat.errors import ConfigError
from tuichat.serve_settings import ServeSettings
from tuichat.tool_settings import McpServerSettings, ToolsSettings

if TYPE_CHECKING:
    from tuichat.prices import Price


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
    title_from_model: bool = True
    """Ask the model for a short title after the first reply (never with the demo)."""


class PresetSettings(BaseModel):
    """A named preset: system prompt, model and parameters applied to a conversation."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    """The model, or ``provider/model``; unchanged when unset."""
    system_prompt: str | None = None
    """The system prompt; unchanged when unset."""
    temperature: float | None = Field(default=None, ge=0, le=2)
    """Sampling temperature; the model's default when unset."""
    max_tokens: int | None = Field(default=None, gt=0)
    """Most tokens per reply; the provider's default when unset."""


class PriceSettings(BaseModel):
    """What a model costs, US dollars per million tokens (``[prices."openai/gpt-4o"]``)."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0)
    """Prompt tokens."""
    output: float = Field(ge=0)
    """Reply tokens (reasoning included)."""
    cached_input: float | None = Field(default=None, ge=0)
    """Prompt tokens read from the provider's cache; the input price when unset."""
    cache_write: float | None = Field(default=None, ge=0)
    """Prompt tokens written to the provider's cache (Anthropic); the input price when unset."""


class ContextSettings(BaseModel):
    """What happens when a conversation outgrows the model's context window."""

    model_config = ConfigDict(extra="forbid")

    when_full: Literal["ask", "summarise", "trim"] = "ask"
    """When the next request would pass ``share`` of the window: ``summarise`` the older
    turns (a summary by the model is sent in their place), ``trim`` them (left out, oldest
    first), or ``ask`` (the app offers both, and a new conversation seeded with a summary;
    ``tuichat ask -c`` trims and says so)."""
    share: float = Field(default=0.9, gt=0, le=1)
    """The share of the window from which the conversation counts as full."""
    keep_recent: int = Field(default=4, ge=0)
    """Messages at the end kept as they are when summarising."""
    summary_model: str | None = None
    """The model that writes summaries (``provider/model``); the conversation's own when unset."""


class HttpSettings(BaseModel):
    """HTTP for every provider. TLS certificates are always verified: there is no switch."""

    model_config = ConfigDict(extra="forbid")

    ca_bundle: Path | None = None
    """A PEM file of the certificate authorities to trust (a company proxy, a self-signed
    local server), instead of the system's; verification itself stays on."""

    @field_validator("ca_bundle")
    @classmethod
    def _readable_bundle(cls, path: Path | None) -> Path | None:
        if path is None:
            return None
        path = path.expanduser()
        if not path.is_file():
            raise ValueError(f"names no file ({path}); give the path of a PEM certificate file")
        return path


class RetrySettings(BaseModel):
    """How failed requests are retried (only ever before the first delta)."""

    model_config = ConfigDict(extra="forbid")

    base_delay: float = Field(default=1.0, ge=0)
    """Seconds before the first retry; doubled each time, with jitter."""
    max_delay: float = Field(default=30.0, ge=0)
    """Longest wait between two attempts, also the cap on ``Retry-After``."""


class DiscoverySettings(BaseModel):
    """Local model servers found on this machine's usual ports, with no config."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    """Ask the usual loopback ports whether a model server answers (start, model picker,
    ``tuichat providers``, ``doctor``)."""
    timeout: float = Field(default=0.5, gt=0, le=10)
    """Seconds each port gets to answer."""
    ports: dict[str, int] = Field(default_factory=lambda: dict(USUAL_PORTS))
    """Where to look: the instance name a server is offered under, and its port."""

    @field_validator("ports")
    @classmethod
    def _valid_ports(cls, ports: dict[str, int]) -> dict[str, int]:
        for name, port in ports.items():
            if not 0 < port < 65536:
                raise ValueError(f"{name!r} = {port} is no TCP port; give one from 1 to 65535")
        return ports


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
    http: HttpSettings = Field(default_factory=HttpSettings)
    presets: dict[str, PresetSettings] = Field(default_factory=dict)
    """Named presets (``[presets.reviewer]``), chosen per conversation in the app (Ctrl+O)."""
    keymap: dict[str, str] = Field(default_factory=dict)
    """Rebound keys: binding id (``new-conversation``) to keys (``"ctrl+k"``)."""
    context: ContextSettings = Field(default_factory=ContextSettings)
    prices: dict[str, PriceSettings] = Field(default_factory=dict)
    """Model prices (``"provider/model"`` or ``"model"``), over the shipped table."""

    def price_table(self) -> dict[str, Price]:
        """``[prices]`` as :class:`~tuichat.prices.Price` values."""
        from tuichat.prices import Price

        return {
            key: Price(value.input, value.output, value.cached_input, value.cache_write)
            for key, value in self.prices.items()
        }

    @field_validator("keymap")
    @classmethod
    def _known_actions(cls, keymap: dict[str, str]) -> dict[str, str]:
        from tuichat.keymap import validate_keymap

        problems = validate_keymap(keymap)
        if problems:
            raise ValueError(problems[0])
        return keymap

    serve: ServeSettings = Field(default_factory=ServeSettings)
    mcp: dict[str, McpServerSettings] = Field(default_factory=dict)
    """MCP servers whose tools a conversation may offer: ``[mcp.NAME]`` tables."""
    tools: ToolsSettings = Field(default_factory=ToolsSettings)
    discovery: DiscoverySettings = Field(default_factory=DiscoverySettings)

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
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, ""
    except OSError as exc:
        reason = exc.strerror or str(exc)
        fix = (
            "point TUICHAT_CONFIG at a file"
            if path.is_dir()
            else "fix its permissions or set TUICHAT_CONFIG"
        )
        raise ConfigError(f"Cannot read config file {path}: {reason}; {fix}.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"Config file {path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line "
            f"{line}); save it as UTF-8."
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
    warnings: tuple[str, ...] = ()
    """One sentence each, to show on stderr (CLI) or as a toast (TUI): the config is
    usable but something should be fixed (a key in a file others can read)."""


def key_file_warnings(path: Path, data: dict[str, Any]) -> tuple[str, ...]:
    """Warn when the file at ``path`` holds an API key that other users can read."""
    providers = data.get("providers")
    tables = providers.values() if isinstance(providers, dict) else ()
    if not any(isinstance(t, dict) and t.get("api_key") for t in tables):
        return ()
    try:
        mode = path.stat().st_mode
    except OSError:
        return ()
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return ()
    return (
        f"{path} holds an API key and other users can read it; run 'chmod 600 {path}' "
        "(or move the key to an environment variable or api_key_cmd).",
    )


def load_config(path: Path | None = None) -> LoadedConfig:
    """Load the settings from ``path`` (default: :func:`locations.config_path`) and env.

    Raises:
        ConfigError: One line naming the file, the key and its line, and what is expected.
    """
    path = path or locations.config_path()
    data, text = read_config_file(path)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, path, text, model=Settings)) from None
    return LoadedConfig(settings, path, text, key_file_warnings(path, data))


def load_settings(path: Path | None = None) -> Settings:
    """Load only the settings (see :func:`load_config`)."""
    return load_config(path).settings


def describe_validation_error(
    exc: ValidationError,
    path: Path,
    text: str,
    *,
    prefix: Sequence[str | int] = (),
    model: type[BaseModel] | None = None,
) -> str:
    """One sentence for the first error: file, key, line, what is wrong and expected.

    ``model`` (the model that was validated) lets an unknown key come with the nearest
    known one (``did you mean 'ui.theme'?``).
    """
    error = exc.errors()[0]
    loc = [*prefix, *error["loc"]]
    key = ".".join(str(part) for part in loc)
    line = find_key_line(text, [str(part) for part in loc])
    named = _named_key(error)
    if named is not None:
        # A table's validator named the entry at fault: point at its line.
        line = find_key_line(text, [*(str(part) for part in loc), named]) or line
    where = f"{path}, line {line}" if line else f"{path} (or a TUICHAT_ environment variable)"
    variable = _variable_for(loc)
    if variable is not None:
        # The environment wins over the file: the value at fault came from there.
        where = f"the environment variable {variable} (which wins over {path})"
    if error["type"] == "extra_forbidden":
        if str(loc[-1]).lower() in _TLS_SWITCHES:
            return (
                f"Config error in {where}: '{key}' cannot turn TLS verification off; to trust "
                "a private or self-signed certificate, set ca_bundle in [http] to its PEM file."
            )
        hint = _known_keys_hint(model, [str(part) for part in error["loc"]], prefix)
        return f"Config error in {where}: unknown key '{key}'; {hint}"
    if error["type"] == "missing":
        return f"Config error in {where}: '{key}' is required; add it."
    given = error.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float | bool) else ""
    message = error["msg"][0].lower() + error["msg"][1:]
    if error["type"] == "value_error":
        # Our own validators' words are the whole sentence; drop pydantic's preamble.
        message, shown = str(error.get("ctx", {}).get("error", message)), ""
    return f"Config error in {where}: '{key}' {message}{shown}."


def _variable_for(loc: Sequence[str | int]) -> str | None:
    """The ``TUICHAT_`` variable that sets the key at ``loc``, when one is set (its name
    as spelled in the environment: pydantic-settings reads them whatever their case)."""
    wanted = ("TUICHAT_" + "__".join(str(part) for part in loc)).lower()
    return next((name for name in os.environ if name.lower() == wanted), None)


def _named_key(error: Any) -> str | None:
    """The entry of a table that a validator's message starts by naming (``'quit' = ...``)."""
    given, message = error.get("input"), str(error.get("ctx", {}).get("error", ""))
    if error["type"] != "value_error" or not isinstance(given, dict):
        return None
    return next((k for k in given if message.startswith(f"{k!r}")), None)


#: Keys people try in order to switch certificate checks off; none exists, on purpose.
_TLS_SWITCHES = frozenset({"verify", "verify_ssl", "verify_tls", "insecure", "ssl_verify"})


def _known_keys_hint(
    model: type[BaseModel] | None, loc: Sequence[str], prefix: Sequence[str | int] = ()
) -> str:
    """``did you mean 'x'?`` (or the known keys) for an unknown key at ``loc`` in ``model``
    (whose table is ``prefix`` in the file)."""
    fields = _fields_at(model, loc[:-1])
    if not fields:
        return "check its spelling against the documented config.toml."
    *table, bad = loc
    close = difflib.get_close_matches(bad, fields, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{'.'.join(str(part) for part in [*prefix, *table, close[0]])}'?"
    return f"the keys there are: {', '.join(sorted(fields))}."


def _fields_at(model: type[BaseModel] | None, loc: Sequence[str]) -> list[str]:
    """The field names of the (nested) model found at ``loc`` inside ``model``."""
    for part in loc:
        if model is None:
            return []
        field = model.model_fields.get(part)
        annotation = field.annotation if field is not None else None
        model = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    return list(model.model_fields) if model is not None else []


# Possessive quantifiers (``*+``, ``++``) never give back what they took: neighbours that
# could split one run of spaces or brackets between them (``\[+\s*([^\]]+?)\s*``, as this
# pattern read before) took cubic time on a long line that does not match (issue #21).
# The table's name keeps its inner spaces here; the parts are stripped where it is split.
_HEADER = re.compile(r"^\s*+\[++([^\]]++)\]++\s*+(#.*)?$")
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
