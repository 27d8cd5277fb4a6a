"""The plugin API: what a provider is, what it is asked, and what it answers.

A provider plugin registers a :class:`Provider` subclass through the
``register_providers`` hook. The host validates the provider's config table against
the class's nested :class:`ProviderSettings` model, builds one instance per
configured provider instance with the one shared ``httpx.AsyncClient``, and calls
:meth:`Provider.stream_chat`, which yields :data:`ChatEvent` values.

This module must stay cheap to import and must never import Textual.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from tuichat.errors import ConfigError
from tuichat.protocol import (
    AttachmentLimits,
    BinaryKind,
    BinaryPart,
    ChatEvent,
    ChatMessage,
    ChatRequest,
    Finish,
    FinishReason,
    LeftOut,
    ModelInfo,
    Native,
    NativeReply,
    ReasoningDelta,
    ResponseInfo,
    Retrying,
    Role,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "AttachmentLimits",
    "BinaryKind",
    "BinaryPart",
    "ChatEvent",
    "ChatMessage",
    "ChatRequest",
    "Finish",
    "FinishReason",
    "LeftOut",
    "ModelInfo",
    "Native",
    "NativeReply",
    "Provider",
    "ProviderSettings",
    "ReasoningDelta",
    "ResponseInfo",
    "Retrying",
    "Role",
    "TextDelta",
    "ToolCall",
    "ToolResult",
    "ToolSpec",
    "Usage",
    "key_is_configured",
    "resolve_api_key",
]


class ProviderSettings(BaseModel):
    """Settings every provider accepts in its ``[providers.<name>]`` table.

    Providers subclass this to change defaults or add their own fields.
    """

    model_config = ConfigDict(extra="forbid")

    plugin: str | None = None
    """Which plugin serves this instance (defaults to the table's name)."""
    base_url: str = ""
    """The API's base URL; a path prefix is kept (``http://host/proxy/openai/v1``)."""
    api_key: SecretStr | None = None
    """The API key. Prefer the provider's standard environment variable."""
    api_key_cmd: str | None = None
    """A command that prints the key (``pass show openai``), run when the key is needed."""
    api_key_env: str | None = None
    """An environment variable holding the key (``OPENROUTER_API_KEY``)."""
    default_model: str = ""
    """The model used when none is chosen."""
    models: list[str] = Field(default_factory=list)
    """Models to offer when the server has no models endpoint."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra HTTP headers sent with every request."""
    connect_timeout: float = Field(default=10.0, gt=0)
    """Seconds to wait for the connection."""
    read_timeout: float = Field(default=60.0, gt=0)
    """Seconds to wait between two bytes of a reply before calling the stream stalled."""
    max_retries: int = Field(default=2, ge=0, le=10)
    """Retries after a retryable failure before the first delta (0 disables them)."""

    @field_validator("base_url")
    @classmethod
    def _an_http_url(cls, value: str) -> str:
        # Caught here, with the line it is on: otherwise every request failed, retried,
        # with httpx's "missing an 'http://' or 'https://' protocol".
        scheme, _, rest = value.partition("://")
        if value and (scheme.lower() not in ("http", "https") or not rest.strip("/")):
            raise ValueError(
                f"must be an http:// or https:// URL, like 'http://localhost:11434/v1' "
                f"(got {value[:80]!r})"
            )
        return value


class Provider(ABC):
    """A chat provider. Subclass it in a plugin and register the class.

    Class attributes:
        name: The plugin's provider name: the default ``[providers.<name>]`` table
            and the prefix of model ids (``openai/gpt-4o-mini``).
        display_name: Shown to people (``OpenAI``).
        Settings: The pydantic model the instance's config table is validated against.
        key_env: Standard environment variables holding the API key, first wins.
        base_url_env: Standard environment variables overriding the base URL.
        requires_key: Whether a request without a key is pointless (local servers
            do not need one).
        supports_prefill: Whether the API carries on a request's trailing assistant
            message ("prefill", as Anthropic's Messages API does). Continue then sends
            the partial reply as that message; otherwise it sends the partial reply
            and a short user turn asking to go on.
        supports_tools: Whether the plugin sends :attr:`ChatRequest.tools`, streams
            :class:`ToolCall` events and sends back ``tool_calls``, ``tool_results``
            and ``native`` in the history. A plugin written before tools leaves it
            false: the core then never offers it tools (it would drop them unsaid).
    """

    name: ClassVar[str]
    display_name: ClassVar[str] = ""
    Settings: ClassVar[type[ProviderSettings]] = ProviderSettings
    key_env: ClassVar[tuple[str, ...]] = ()
    base_url_env: ClassVar[tuple[str, ...]] = ()
    requires_key: ClassVar[bool] = True
    supports_prefill: ClassVar[bool] = False
    supports_tools: ClassVar[bool] = False

    def __init__(
        self,
        *,
        settings: ProviderSettings,
        client: httpx.AsyncClient,
        instance_name: str | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.instance_name = instance_name or self.name
        self._api_key: str | None = None

    @property
    def label(self) -> str:
        """How this instance is named to people."""
        return self.instance_name

    @property
    def default_model(self) -> str:
        """The model used when the person chose none."""
        return self.settings.default_model

    def key_env_names(self) -> tuple[str, ...]:
        """Environment variables this instance takes its key from, first wins.

        The standard variables (``OPENAI_API_KEY``) belong to the instance named like
        the plugin only: a key for OpenAI is never sent to ``[providers.ollama]``.
        """
        own = (self.settings.api_key_env,) if self.settings.api_key_env else ()
        if self.instance_name == self.name:
            return own + self.key_env
        return own

    def api_key(self) -> str | None:
        """The key, from the settings, ``api_key_cmd`` or the env variables.

        Raises:
            ConfigError: ``api_key_cmd`` failed.
        """
        if self._api_key is None:
            self._api_key = resolve_api_key(self.settings, self.key_env_names())
        return self._api_key

    def needs_key(self) -> bool:
        """Whether chatting without a key is pointless for this instance.

        Defaults to the class's ``requires_key``; a plugin whose instances may point
        at keyless local servers (Ollama behind the openai plugin) overrides it.
        """
        return self.requires_key

    def has_key(self) -> bool:
        """Whether a key is configured (without running ``api_key_cmd``)."""
        return key_is_configured(self.settings, self.key_env_names())

    def secrets(self) -> list[str]:
        """Strings that must never appear in anything shown or stored."""
        found = [self._api_key] if self._api_key else []
        if self.settings.api_key is not None:
            found.append(self.settings.api_key.get_secret_value())
        for name in self.key_env_names():
            found.append(os.environ.get(name, "").strip())
        return [secret for secret in found if secret]

    @abstractmethod
    async def list_models(self) -> list[ModelInfo]:
        """Return the models this instance offers (from the API's models endpoint).

        Raises:
            ProviderError: The request failed.
        """

    @abstractmethod
    def stream_chat(self, request: ChatRequest) -> AsyncGenerator[ChatEvent, None]:
        """Stream one reply as events: ``TextDelta``s, ``Usage``, then one ``Finish``.

        Implemented as an async generator. Closing it (the person pressed Esc) must
        close the HTTP stream at once. A stream that ends without the provider's
        terminator raises :class:`~tuichat.errors.StreamInterrupted`.

        Raises:
            ProviderError: Any failure, already a human sentence.
        """

    async def count_tokens(self, request: ChatRequest) -> int | None:
        """The input tokens ``request`` would use, counted by the provider's own
        token-counting endpoint; ``None`` when it has none (the default).

        Asked on demand only (a key), never as one types: it is a request over the
        network, and some providers rate-limit it.

        Raises:
            ProviderError: The request failed.
        """
        return None

    def left_out(self, request: ChatRequest) -> list[LeftOut]:
        """The settings of ``request`` this provider will not send, and why.

        Override it where the API refuses a setting the person may have made (a
        temperature for a reasoning model): the request goes out without it and the
        front-ends say so. The default: everything is sent.
        """
        return []

    def attachment_limits(self, model: str) -> AttachmentLimits:
        """The images and documents ``model`` takes, and the API's size limits.

        The default takes none: a plugin written before attachments reads only the
        messages' text and would drop them without a word. A plugin that sends
        :attr:`ChatMessage.parts` overrides it, with its API's documented limits.
        """
        return AttachmentLimits(kinds=frozenset())

    def check_attachments(self, request: ChatRequest) -> None:
        """Refuse ``request`` before it is sent when its images or documents cannot go.

        The default checks :meth:`attachment_limits`; override it for a rule those
        cannot say.

        Raises:
            AttachmentError: A kind the model does not take, or a file or request over
                a limit (one sentence naming the file and the limit).
        """
        from tuichat.attachment_checks import check_request

        check_request(self.label, request, self.attachment_limits(request.model))

    async def aclose(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Release anything the provider holds besides the shared client."""


def resolve_api_key(settings: ProviderSettings, env_names: Sequence[str]) -> str | None:
    """Find the key: the config (or ``TUICHAT_`` env) first, then the command, then env.

    Raises:
        ConfigError: ``api_key_cmd`` failed or printed nothing.
    """
    if settings.api_key is not None and settings.api_key.get_secret_value():
        return settings.api_key.get_secret_value()
    if settings.api_key_cmd:
        return _run_key_command(settings.api_key_cmd)
    for name in env_names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def key_is_configured(settings: ProviderSettings, env_names: Sequence[str]) -> bool:
    """Whether a key is available, without running ``api_key_cmd``."""
    if settings.api_key is not None and settings.api_key.get_secret_value():
        return True
    if settings.api_key_cmd:
        return True
    return any(os.environ.get(name, "").strip() for name in env_names)


def _run_key_command(command: str) -> str:
    program = shlex.split(command)[0] if command.strip() else command
    try:
        done = subprocess.run(  # noqa: S603 - the person's own configured command
            shlex.split(command), capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(
            f"api_key_cmd could not run {program!r} ({type(exc).__name__}); "
            "fix the command in your config."
        ) from None
    key = done.stdout.strip().splitlines()[0].strip() if done.stdout.strip() else ""
    if done.returncode != 0 or not key:
        raise ConfigError(
            f"api_key_cmd {program!r} exited with status {done.returncode} and printed no key; "
            "run it yourself to see why."
        )
    return key
