"""Who may call the API: the bearer token, the Origin and the Host header.

* **Token.** With ``token`` set, every request but ``GET /health`` needs
  ``Authorization: Bearer <token>``; it is compared in constant time.
* **Origin.** A browser names the page that makes a request in ``Origin``; a request
  from a page whose origin is not in ``cors_origins`` is refused with 403 even when it
  needs no preflight (a "simple" POST), so no web page can spend your API keys.
* **Host.** On a loopback bind the ``Host`` header must name this machine (or one of
  ``allowed_hosts``): a DNS-rebinding page, whose requests carry its own host name,
  is refused.

The middleware is plain ASGI: Starlette's ``BaseHTTPMiddleware`` would wrap the event
streams and get in the way of disconnect detection.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tuichat.serve.errors import ApiError, native_body, openai_body
from tuichat.serve_settings import is_loopback

__all__ = ["Guard", "host_name", "is_openai_path"]

#: Paths anyone may call without the token: they reveal nothing and cost nothing.
OPEN_PATHS = frozenset({"/health"})


def is_openai_path(path: str) -> bool:
    """Whether ``path`` belongs to the OpenAI-compatible API (errors in OpenAI's shape)."""
    return path == "/v1" or path.startswith("/v1/")


def host_name(host_header: str) -> str:
    """The host name of a ``Host`` header, without port or IPv6 brackets, lower-cased."""
    value = host_header.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:  # host:port; more colons would be a bare IPv6 address
        return value.partition(":")[0]
    return value


class Guard:
    """ASGI middleware enforcing the token, the allowed origins and the Host header.

    Args:
        app: The application to protect.
        token: The bearer token; None leaves the API open.
        cors_origins: Browser origins allowed to call the API.
        allowed_hosts: Host names accepted besides loopback ones; None accepts any
            (a non-loopback bind, where the token protects the API).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        cors_origins: Iterable[str],
        allowed_hosts: Iterable[str] | None,
    ) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.cors_origins = frozenset(cors_origins)
        self.allowed_hosts = (
            None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error = self.check(scope)
        if error is None:
            await self.app(scope, receive, send)
            return
        body = openai_body(error) if is_openai_path(scope["path"]) else native_body(error)
        await JSONResponse(body, error.status, headers=error.headers)(scope, receive, send)

    def check(self, scope: Scope) -> ApiError | None:
        """The reason to refuse this request, or None to let it through."""
        headers = Headers(scope=scope)
        if self.allowed_hosts is not None:
            host = host_name(headers.get("host", ""))
            if not (is_loopback(host) or host in self.allowed_hosts):
                return ApiError(
                    400,
                    "invalid_host",
                    "The Host header names no host this server answers to; add it to "
                    "[serve] allowed_hosts if a proxy forwards to tuichat serve.",
                )
        origin = headers.get("origin")
        if origin is not None and origin not in self.cors_origins:
            return ApiError(
                403,
                "origin_not_allowed",
                "Requests from this web origin are not allowed; add it to [serve] cors_origins.",
            )
        if self.token is not None and scope["path"] not in OPEN_PATHS:
            scheme, _, given = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), self.token
            ):
                return ApiError(
                    401,
                    "unauthorized",
                    "Missing or wrong bearer token; send 'Authorization: Bearer <token>' "
                    "with the token tuichat serve was given.",
                    headers={"www-authenticate": "Bearer"},
                )
        return None
