"""The error tree: every failure a person can meet, each with one plain sentence.

``str(error)`` is always a complete, human sentence that says what is wrong and how
to fix it. It never holds an API key (provider errors pass through
:func:`tuichat.sanitize.redact`) nor a terminal escape sequence.
"""

from __future__ import annotations

from typing import ClassVar


class TuichatError(Exception):
    """Base of every error tuichat shows to a person."""

    #: Exit code of the command line when this error ends a command.
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(TuichatError):
    """The configuration file or environment is wrong."""

    exit_code = 2


class MissingKey(ConfigError):
    """A provider needs an API key and none is set."""

    def __init__(self, message: str, *, provider: str, names: str) -> None:
        super().__init__(message)
        self.provider = provider
        """The provider instance's name."""
        self.names = names
        """Where a key may be set (``OPENAI_API_KEY`` or ``api_key in [providers.x]``)."""


class UsageError(TuichatError):
    """The command line was used wrongly (an unknown provider, a bad flag value)."""

    exit_code = 2


class AttachmentError(UsageError):
    """A file cannot be attached or sent: missing, unreadable, too big, of no kind that
    works, or more than the provider takes (its documented limits, a kind the model
    does not read). One plain sentence naming the file; refused before anything is sent.
    """


class PluginError(TuichatError):
    """A plugin could not be loaded or registered (a duplicate provider name...)."""

    exit_code = 2


class StoreError(TuichatError):
    """The conversation store cannot be opened or written."""


class StoreUnusable(StoreError):
    """The store file cannot be opened at all (damaged, another program's, unwritable).

    The command line stops with exit code 2: the person must move the file aside or
    point ``TUICHAT_DATA_DIR`` elsewhere; retrying changes nothing.
    """

    exit_code = 2


class ProviderError(TuichatError):
    """A provider request failed.

    Attributes:
        provider: The provider instance name (``openai``, ``ollama``...).
        status: The HTTP status, when there was one.
        retry_after: Seconds the server asked us to wait, when it said so.
        raw_type: The provider's own error type (``overloaded_error``...), if any.
    """

    #: Whether the core may retry the request (only ever before the first delta).
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        raw_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.retry_after = retry_after
        self.raw_type = raw_type


class AuthError(ProviderError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDenied(ProviderError):
    """403: the key is valid but may not use this model or endpoint."""


class NotFound(ProviderError):
    """404: usually an unknown model name."""


class BadRequest(ProviderError):
    """400 / 422: the request was rejected (a parameter the model does not accept...)."""


class RateLimited(ProviderError):
    """429: too many requests or tokens; ``retry_after`` says when to try again."""

    retryable = True


class Overloaded(ProviderError):
    """529 / 503: the provider is overloaded; try again shortly."""

    retryable = True


class ServerError(ProviderError):
    """5xx: the provider failed on its side."""

    retryable = True


class NetworkError(ProviderError):
    """The server could not be reached (refused, DNS, TLS, dropped before any reply)."""

    retryable = True


class TLSError(NetworkError):
    """The TLS handshake failed (an untrusted certificate, http spoken to an https URL).

    Not retried: the same certificate fails the same way a second later.
    """

    retryable = False


class ProviderTimeout(ProviderError):
    """No byte arrived within the connect or read timeout."""

    retryable = True


class StreamInterrupted(ProviderError):
    """The stream stopped before its terminator: the reply is incomplete."""

    retryable = True


class MalformedResponse(ProviderError):
    """The server answered something that is not the provider's wire format."""
