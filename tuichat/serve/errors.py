"""Errors as HTTP answers: one status and one JSON body per failure, never a secret.

Two shapes share one mapping:

* native (``/api/*``): ``{"error": {"message", "type", "provider", "param"}}``;
* OpenAI (``/v1/*``): ``{"error": {"message", "type", "param", "code"}}``, so that
  OpenAI SDKs raise their usual exception classes.

Upstream failures keep their meaning for the caller, not their status: a provider
rejecting *our* key is a gateway failure (502), not the caller's 401, which is kept
for a wrong ``tuichat serve`` token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from tuichat import errors
from tuichat.sanitize import one_line, redact

__all__ = ["ApiError", "api_error_from", "native_body", "openai_body"]

log = logging.getLogger("tuichat.serve")


@dataclass
class ApiError(Exception):
    """A failure with its HTTP status, ready to be sent.

    Attributes:
        status: The HTTP status.
        type: A short machine-readable kind (``invalid_json``, ``rate_limited``...).
        message: One human sentence, free of keys and control characters.
        provider: The provider instance involved, if any.
        param: The request field at fault, if known.
        headers: Extra response headers (``Retry-After``).
    """

    status: int
    type: str
    message: str
    provider: str | None = None
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


# (status, native type) per provider error class; the first matching class wins, so
# subclasses come before ProviderError itself.
_PROVIDER_ERRORS: tuple[tuple[type[errors.ProviderError], int, str], ...] = (
    # The provider refused the server's key: the caller can do nothing about it.
    (errors.AuthError, 502, "upstream_auth_error"),
    (errors.PermissionDenied, 502, "upstream_permission_denied"),
    (errors.NotFound, 404, "not_found"),
    (errors.BadRequest, 400, "bad_request"),
    (errors.RateLimited, 429, "rate_limited"),
    (errors.Overloaded, 503, "overloaded"),
    (errors.ProviderTimeout, 504, "upstream_timeout"),
    (errors.StreamInterrupted, 502, "stream_interrupted"),
    (errors.NetworkError, 502, "upstream_unreachable"),
    (errors.MalformedResponse, 502, "upstream_malformed"),
    (errors.ServerError, 502, "upstream_error"),
    (errors.ProviderError, 502, "upstream_error"),
)


def api_error_from(exc: BaseException, *, secrets: list[str] | None = None) -> ApiError:
    """Map any exception to an :class:`ApiError`.

    Provider errors are already one redacted sentence; they are redacted again with
    ``secrets`` as a second line of defence. Anything unexpected becomes a generic 500
    whose details go to the server log only.

    Args:
        exc: The failure.
        secrets: Strings that must never appear in the answer (the provider's keys).

    Returns:
        The error to send.
    """
    if isinstance(exc, ApiError):
        return exc

    def clean(text: str) -> str:
        return one_line(redact(text, secrets or []), 500)

    if isinstance(exc, errors.ProviderError):
        status, kind = next(
            (status, kind) for cls, status, kind in _PROVIDER_ERRORS if isinstance(exc, cls)
        )
        headers = {}
        if exc.retry_after is not None and status in (429, 503):
            headers["retry-after"] = str(max(1, round(exc.retry_after)))
        provider = exc.provider or None
        return ApiError(status, kind, clean(str(exc)), provider=provider, headers=headers)
    if isinstance(exc, errors.AttachmentError):
        # A file the provider or the model cannot take: the request's fault, not the server's.
        return ApiError(400, "invalid_request", clean(str(exc)), param="messages")
    if isinstance(exc, errors.UsageError):
        # The runtime's only usage error here is an unknown provider name.
        return ApiError(404, "not_found", clean(str(exc)), param="provider")
    if isinstance(exc, errors.ConfigError):
        return ApiError(500, "server_config_error", clean(str(exc)))
    if isinstance(exc, errors.TuichatError):
        return ApiError(500, "server_error", clean(str(exc)))
    log.error("Unexpected failure while serving a request", exc_info=exc)
    return ApiError(500, "internal_error", "tuichat serve failed unexpectedly; see its log.")


def native_body(error: ApiError) -> dict[str, Any]:
    """The ``/api/*`` body: ``{"error": {"message", "type", "provider", "param"}}``."""
    return {
        "error": {
            "message": error.message,
            "type": error.type,
            "provider": error.provider,
            "param": error.param,
        }
    }


# OpenAI's own (type, code) for the statuses its SDKs turn into exception classes.
_OPENAI_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "forbidden"),
    404: ("invalid_request_error", "model_not_found"),
    413: ("invalid_request_error", "request_too_large"),
    422: ("invalid_request_error", None),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}


def openai_body(error: ApiError) -> dict[str, Any]:
    """The ``/v1/*`` body: ``{"error": {"message", "type", "param", "code"}}``.

    ``code`` is OpenAI's where one fits, else tuichat's own ``type``.
    """
    kind, code = _OPENAI_KINDS.get(error.status, ("server_error", None))
    return {
        "error": {
            "message": error.message,
            "type": kind,
            "param": error.param,
            "code": code or error.type,
        }
    }
