"""HTTP for providers: the one shared client, SSE streams, errors and retries.

Every provider plugin uses :func:`open_sse` (or :func:`request_json`) on the shared
client, so that status codes, transport faults, ``Retry-After`` and redaction are
handled the same way for all of them, and :func:`stream_with_retries` wraps every
reply with the one retry policy (only ever before the first delta).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import ssl
import threading
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from httpx_sse import EventSource, aconnect_sse

from tuichat import errors
from tuichat.provider import ChatEvent, ChatRequest, Provider, ReasoningDelta, Retrying, TextDelta
from tuichat.sanitize import neutralize, one_line, redact

# Plugins reach the part of this they may use through tuichat.plugin_api.
__all__ = [
    "ERROR_BODY_LIMIT",
    "ErrorContext",
    "ErrorInfo",
    "ErrorParser",
    "RetryPolicy",
    "default_error_parser",
    "error_for_event",
    "error_for_status",
    "httpx_env_proxies",
    "key_hint",
    "make_client",
    "open_sse",
    "parse_retry_after",
    "request_json",
    "stream_with_retries",
    "tls_context",
    "transport_error",
    "warm_up",
]

#: Bytes of an error body we read at most: enough for any JSON error, bounded anyway.
ERROR_BODY_LIMIT = 64 * 1024


def make_client(*, ca_bundle: str | os.PathLike[str] | None = None) -> httpx.AsyncClient:
    """The one shared ``AsyncClient`` (connection pooling across replies).

    Timeouts are set per request from each provider's settings. TLS certificates are
    always verified; there is deliberately no way to turn that off.

    Args:
        ca_bundle: A PEM file of certificate authorities to trust besides the standard
            ones (``[http] ca_bundle``: a company proxy, a self-signed local server).

    Raises:
        ConfigError: ``ca_bundle`` is not a readable PEM file of certificates.
    """
    from tuichat import __version__

    options: dict[str, Any] = {
        "timeout": httpx.Timeout(60.0, connect=10.0),
        "headers": {"user-agent": f"tuichat/{__version__}"},
        "follow_redirects": False,
    }
    if ca_bundle is not None or httpx_env_proxies():
        # A bad CA bundle must stop tuichat at once, and proxy transports take the TLS
        # context when the client is made: the whole client now.
        return httpx.AsyncClient(verify=tls_context(ca_bundle), **options)
    transport = _LazyTransport()
    client = httpx.AsyncClient(transport=transport, **options)
    _LAZY[client] = transport
    return client


def httpx_env_proxies() -> bool:
    """Whether proxy variables are set that httpx would use (``HTTPS_PROXY``...)."""
    return any(key.lower().endswith("_proxy") and value for key, value in os.environ.items())


def warm_up(client: httpx.AsyncClient) -> None:
    """Make the client's connection pool and TLS context now, if they wait for a first
    request (safe from another thread)."""
    transport = _LAZY.get(client)
    if transport is not None:
        transport.real()


class _LazyTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, made at the first request.

    Making it imports httpcore and loads the certificate authorities into a TLS context
    (~60 ms): before the app's first frame that is time the person waits for nothing.
    """

    def __init__(self) -> None:
        self._transport: httpx.AsyncHTTPTransport | None = None
        self._lock = threading.Lock()

    def real(self) -> httpx.AsyncHTTPTransport:
        """The transport (made on the first call)."""
        with self._lock:
            if self._transport is None:
                self._transport = httpx.AsyncHTTPTransport(verify=tls_context())
            return self._transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the real transport."""
        return await self.real().handle_async_request(request)

    async def aclose(self) -> None:
        """Close the real transport, if it was made."""
        if self._transport is not None:
            await self._transport.aclose()


_LAZY: weakref.WeakKeyDictionary[httpx.AsyncClient, _LazyTransport] = weakref.WeakKeyDictionary()


def tls_context(ca_bundle: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """A verifying TLS context: the standard authorities, plus ``ca_bundle``'s if given.

    Raises:
        ConfigError: ``ca_bundle`` is not a readable PEM file of certificates.
    """
    import certifi

    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=os.fspath(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            reason = one_line(getattr(exc, "strerror", None) or str(exc), 120)
            raise errors.ConfigError(
                f"[http] ca_bundle {os.fspath(ca_bundle)} is not a usable PEM certificate "
                f"file ({reason}); point it at the PEM file of the CA to trust."
            ) from None
    return context


class ErrorContext(Protocol):
    """What error mapping needs to know about the provider instance."""

    @property
    def label(self) -> str: ...

    def secrets(self) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """A provider's reading of an error body."""

    message: str | None = None
    type: str | None = None
    retry_after: float | None = None


ErrorParser = Callable[[httpx.Response, bytes], ErrorInfo]


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def key_hint(provider: Provider) -> str:
    """Where the person should look for the key (``OPENAI_API_KEY``...)."""
    names = provider.key_env_names()
    if names:
        return names[0]
    return f"api_key in [providers.{provider.instance_name}]"


def error_for_status(
    status: int,
    *,
    provider: str,
    detail: str | None = None,
    raw_type: str | None = None,
    retry_after: float | None = None,
    key_hint: str = "your API key",
    secrets: list[str] | None = None,
    where: str | None = None,
) -> errors.ProviderError:
    """Map an HTTP status (and the server's own words) to one human sentence.

    ``where`` replaces ``HTTP <status> <type>`` in the sentence (an error sent inside a
    stream came with HTTP 200: its status is only the kind of error it is).
    """
    said = ""
    if detail:
        said = ": " + one_line(redact(neutralize(detail), secrets or []), 200)
    code = where or f"HTTP {status}" + (f" {raw_type}" if raw_type else "")
    kwargs: dict[str, Any] = {
        "provider": provider,
        "status": status,
        "retry_after": retry_after,
        "raw_type": raw_type,
    }
    if status == 401:
        return errors.AuthError(
            f"{provider} rejected the API key ({code}{said}); check {key_hint}.", **kwargs
        )
    if status == 402:
        return errors.PermissionDenied(
            f"{provider} refused the request for billing reasons ({code}{said}); "
            "check your plan and credit.",
            **kwargs,
        )
    if status == 403:
        return errors.PermissionDenied(
            f"{provider} refused access ({code}{said}); check that your key may use this model.",
            **kwargs,
        )
    if status == 404:
        return errors.NotFound(
            f"{provider} does not know that model or endpoint ({code}{said}); "
            f"run 'tuichat models -p {provider}' to list models, or check base_url.",
            **kwargs,
        )
    if status == 429:
        wait = f"wait {retry_after:.0f} s" if retry_after else "wait a moment"
        return errors.RateLimited(
            f"{provider} is rate limiting requests ({code}{said}); {wait} "
            "or check your plan's limits.",
            **kwargs,
        )
    if status in (503, 529) or raw_type in ("overloaded_error",):
        return errors.Overloaded(
            f"{provider} is overloaded ({code}{said}); try again in a moment.", **kwargs
        )
    if status >= 500:
        return errors.ServerError(
            f"{provider} had a server error ({code}{said}); try again later.", **kwargs
        )
    if 400 <= status < 500:
        return errors.BadRequest(
            f"{provider} rejected the request ({code}{said}); "
            "check the model name and its parameters.",
            **kwargs,
        )
    return errors.MalformedResponse(
        f"{provider} answered with unexpected HTTP status {status}{said}.", **kwargs
    )


def error_for_event(
    *,
    provider: str,
    raw_type: str | None,
    detail: str | None,
    status: int | None = None,
    secrets: list[str] | None = None,
    key_hint: str = "your API key",
) -> errors.ProviderError:
    """Map an error that arrived inside a stream (after HTTP 200) to the error tree."""
    by_type = {
        "authentication_error": 401,
        "invalid_api_key": 401,
        "permission_error": 403,
        "not_found_error": 404,
        "rate_limit_error": 429,
        "rate_limit_exceeded": 429,
        "overloaded_error": 529,
        "api_error": 500,
        "server_error": 500,
        "invalid_request_error": 400,
        "request_too_large": 413,
        "billing_error": 402,
        "timeout_error": 504,
        "conflict_error": 409,
    }
    code = status or by_type.get(raw_type or "", 500)
    # The HTTP status was 200: name the error as the stream did, never "HTTP 500".
    named = [raw_type or "an error", f"(code {status})" if status else ""]
    error = error_for_status(
        code,
        provider=provider,
        detail=detail,
        raw_type=raw_type,
        key_hint=key_hint,
        secrets=secrets,
        where=" ".join(part for part in named if part) + " in the reply's stream",
    )
    error.status = status
    return error


def transport_error(
    exc: httpx.HTTPError, *, provider: str, url: str, streaming: bool, read_timeout: float
) -> errors.ProviderError:
    """Map an httpx transport exception to the error tree.

    ``streaming`` tells whether the reply had begun: a drop then is an interrupted
    reply, not an unreachable server.
    """
    host = httpx.URL(url).host or url
    reason = one_line(str(exc), 160) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return errors.ProviderTimeout(
            f"Connecting to {provider} at {host} timed out; check your network and base_url.",
            provider=provider,
        )
    if isinstance(exc, httpx.TimeoutException):
        if streaming:
            return errors.ProviderTimeout(
                f"{provider} stopped sending for {read_timeout:g} s in the middle of the reply; "
                "the partial reply is kept (raise read_timeout if the model is slow).",
                provider=provider,
            )
        return errors.ProviderTimeout(
            f"{provider} sent nothing for {read_timeout:g} s; try again, or raise read_timeout "
            "if the model is slow to start.",
            provider=provider,
        )
    if isinstance(exc, httpx.ConnectError):
        lowered = reason.lower()
        if "certificate" in lowered:
            return errors.TLSError(
                f"{provider} at {host} sent a TLS certificate that is not trusted ({reason}); "
                "if it is a private or self-signed one, set ca_bundle in [http] to its CA's "
                "PEM file.",
                provider=provider,
            )
        if "ssl" in lowered or "tls" in lowered:
            return errors.TLSError(
                f"The TLS handshake with {provider} at {host} failed ({reason}); check that "
                "base_url's scheme (https or http) is the one the server speaks.",
                provider=provider,
            )
        if (
            "name or service not known" in lowered
            or "nodename nor servname" in lowered
            or ("name resolution" in lowered)
        ):
            return errors.NetworkError(
                f"Cannot resolve {host} for {provider}; check base_url and your DNS.",
                provider=provider,
            )
        return errors.NetworkError(
            f"Cannot reach {provider} at {host} ({reason}); check that the server runs "
            "and that base_url is right.",
            provider=provider,
        )
    if streaming:
        return errors.StreamInterrupted(
            f"The connection to {provider} dropped in the middle of the reply; "
            "the partial reply is kept, try again for the rest.",
            provider=provider,
        )
    return errors.NetworkError(
        f"The connection to {provider} at {host} failed ({reason}); try again.",
        provider=provider,
    )


def default_error_parser(response: httpx.Response, body: bytes) -> ErrorInfo:
    """Read ``{"error": {"message", "type"}}`` or ``{"error": "..."}``, or plain text."""
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return ErrorInfo(message=text[:500] or None)
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            message = err.get("message")
            raw_type = err.get("type") or err.get("status") or err.get("code")
            return ErrorInfo(
                message=str(message) if message else None,
                type=str(raw_type) if raw_type else None,
            )
        if isinstance(err, str):
            return ErrorInfo(message=err)
    return ErrorInfo()


@asynccontextmanager
async def open_sse(
    provider: Provider,
    method: str,
    url: str,
    *,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    parse_error: ErrorParser = default_error_parser,
) -> AsyncIterator[EventSource]:
    """Open an SSE stream on the shared client, mapping every failure to the error tree.

    A bad status raises the mapped :class:`~tuichat.errors.ProviderError`; a 200 that
    is not ``text/event-stream`` raises ``MalformedResponse``; transport faults while
    reading the events raise ``StreamInterrupted`` or ``ProviderTimeout``.
    """
    settings = provider.settings
    timeout = httpx.Timeout(
        settings.read_timeout, connect=settings.connect_timeout, pool=settings.connect_timeout
    )
    all_headers = {**settings.headers, **(headers or {})}
    streaming = False
    try:
        async with aconnect_sse(
            provider.client,
            method,
            url,
            json=json_body,
            headers=all_headers,
            params=params,
            timeout=timeout,
        ) as source:
            response = source.response
            if response.status_code >= 400:
                raise await _status_error(provider, response, parse_error)
            content_type = response.headers.get("content-type", "")
            if "text/event-stream" not in content_type:
                body = await _read_limited(response)
                info = parse_error(response, body)
                said = ""
                if info.message:
                    said = (
                        f": {one_line(redact(neutralize(info.message), provider.secrets()), 200)}"
                    )
                raise errors.MalformedResponse(
                    f"{provider.label} answered with {content_type or 'no content type'} "
                    f"instead of an event stream{said}; check base_url.",
                    provider=provider.label,
                    status=response.status_code,
                )
            streaming = True
            yield source
    except httpx.HTTPError as exc:
        raise transport_error(
            exc,
            provider=provider.label,
            url=url,
            streaming=streaming,
            read_timeout=settings.read_timeout,
        ) from None


async def request_json(
    provider: Provider,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    json_body: Any = None,
    parse_error: ErrorParser = default_error_parser,
) -> Any:
    """A plain JSON request (models endpoints), with the same error mapping."""
    settings = provider.settings
    timeout = httpx.Timeout(
        settings.read_timeout, connect=settings.connect_timeout, pool=settings.connect_timeout
    )
    try:
        response = await provider.client.request(
            method,
            url,
            headers={**settings.headers, **(headers or {})},
            params=params,
            json=json_body,
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise transport_error(
            exc,
            provider=provider.label,
            url=url,
            streaming=False,
            read_timeout=settings.read_timeout,
        ) from None
    if response.status_code >= 400:
        raise await _status_error(provider, response, parse_error)
    try:
        return response.json()
    except ValueError:
        raise errors.MalformedResponse(
            f"{provider.label} answered {url} with something that is not JSON; check base_url.",
            provider=provider.label,
            status=response.status_code,
        ) from None


async def _read_limited(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= ERROR_BODY_LIMIT:
                break
    except httpx.HTTPError:
        pass
    return b"".join(chunks)[:ERROR_BODY_LIMIT]


async def _status_error(
    provider: Provider, response: httpx.Response, parse_error: ErrorParser
) -> errors.ProviderError:
    body = await _read_limited(response) if not response.is_closed else response.content
    info = parse_error(response, body)
    retry_after = parse_retry_after(response.headers)
    if retry_after is None:
        retry_after = info.retry_after
    return error_for_status(
        response.status_code,
        provider=provider.label,
        detail=info.message,
        raw_type=info.type,
        retry_after=retry_after,
        key_hint=key_hint(provider),
        secrets=provider.secrets(),
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter; ``Retry-After`` wins when the server says."""

    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, rand: float) -> float:
        """Seconds to wait before ``attempt`` (2 = the first retry)."""
        if retry_after is not None:
            return retry_after
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 2))
        return backoff * (0.5 + rand / 2)


async def stream_with_retries(
    provider: Provider,
    request: ChatRequest,
    *,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rand: Callable[[], float] = random.random,
) -> AsyncGenerator[ChatEvent, None]:
    """Stream ``request``, retrying retryable failures that happen before any text.

    Yields a :class:`Retrying` event before each wait. Once text has arrived a
    failure is raised, never silently re-sent. A server asking for a longer wait
    than ``policy.max_delay`` is not retried: the person is told when to retry.
    """
    policy = policy or RetryPolicy()
    attempts = provider.settings.max_retries + 1
    for attempt in range(1, attempts + 1):
        received = False
        try:
            async with aclosing(provider.stream_chat(request)) as events:
                async for event in events:
                    if isinstance(event, TextDelta | ReasoningDelta) and event.text:
                        received = True
                    yield event
            return
        except errors.ProviderError as exc:
            if received or not exc.retryable or attempt == attempts:
                raise
            if exc.retry_after is not None and exc.retry_after > policy.max_delay:
                raise
            delay = policy.delay(attempt + 1, exc.retry_after, rand())
            yield Retrying(attempt=attempt + 1, attempts=attempts, delay=delay, error=str(exc))
            await sleep(delay)
