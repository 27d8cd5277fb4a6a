"""The ASGI application of ``tuichat serve``: routes, errors, CORS and the guard.

Endpoints:

* ``GET /health``: ``{"status": "ok", "version"}``, open even with a token;
* ``POST /api/chat``: one reply as ``{content, finish_reason, usage, provider, model,
  conversation_id}``;
* ``POST /api/chat/stream``: the reply as server-sent events (``event: message`` per
  delta, a final ``done`` message, ``event: error`` on failure);
* ``POST /v1/chat/completions`` and ``GET /v1/models``: the OpenAI-compatible API
  (see :mod:`tuichat.serve.openai_compat`).

Every reply goes through :class:`~tuichat.serve.exchange.Exchange`, i.e. the core's
``Turn``: the same providers, retry policy and store as the TUI.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tuichat import __version__
from tuichat.errors import TuichatError
from tuichat.provider import Finish, Retrying, TextDelta, ToolCall
from tuichat.runtime import Runtime
from tuichat.sanitize import one_line
from tuichat.serve import openai_compat, openai_tools
from tuichat.serve.errors import ApiError, api_error_from, native_body, openai_body
from tuichat.serve.exchange import ChatCall, Exchange, Role, TurnMessage, Turns
from tuichat.serve.security import Guard, is_openai_path
from tuichat.serve.sse import ClientGone, EventStreamResponse, cancel_on_disconnect, sse_frame
from tuichat.serve_settings import ServeSettings, is_loopback
from tuichat.store import Store

__all__ = ["create_app"]

log = logging.getLogger("tuichat.serve")

#: How long ``GET /v1/models`` answers from its cache (clients poll it often).
MODELS_CACHE_SECONDS = 60.0
#: How long one provider's models endpoint may take before it is skipped.
MODELS_TIMEOUT = 10.0
#: How long ``/api/chat/stream``'s status line waits to leave with the first delta.
HEADERS_WAIT = 0.05


# Native request body ----------------------------------------------------------------------


class ApiMessage(BaseModel):
    """One message of ``/api/chat``'s ``messages``."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str | list[Any] | None
    """Text, or OpenAI-style content parts (text, image_url, file with data: URLs)."""


class ApiChatBody(BaseModel):
    """The body of ``POST /api/chat`` and ``/api/chat/stream``."""

    model_config = ConfigDict(extra="forbid")

    messages: list[ApiMessage] = Field(min_length=1)
    model: str | None = None
    provider: str | None = None
    system_prompt: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)

    def to_call(self) -> ChatCall:
        """The API-neutral request."""
        messages = []
        for index, message in enumerate(self.messages):
            text, files = openai_compat.content_of(message.content, f"messages[{index}]")
            messages.append(TurnMessage(message.role, text, files))
        return ChatCall(
            messages=messages,
            model=self.model or None,
            provider=self.provider or None,
            system_prompt=self.system_prompt,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
        )


def _validation_error(exc: ValidationError) -> ApiError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    if first["type"] == "extra_forbidden":
        message = f"Unknown field '{where}'; check its spelling."
    else:
        message = f"'{where}': {first['msg'][0].lower()}{first['msg'][1:]}."
    return ApiError(422, "invalid_request", one_line(message, 300), param=where)


# The application ----------------------------------------------------------------------------


class _Models:
    """``/v1/models``: every usable provider instance's models, cached briefly."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = asyncio.Lock()
        self._cached: list[dict[str, Any]] | None = None
        self._at = 0.0

    async def _one(self, name: str) -> list[dict[str, Any]]:
        info = self.runtime.describe(name)
        if not info.usable:
            return []  # no key: nothing it lists could be used
        provider = self.runtime.provider(name)
        models = await asyncio.wait_for(provider.list_models(), MODELS_TIMEOUT)
        return [openai_compat.model_entry(name, info.plugin, model) for model in models]

    async def entries(self) -> list[dict[str, Any]]:
        """The ``data`` of ``GET /v1/models``."""
        async with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._at < MODELS_CACHE_SECONDS:
                return self._cached
            names = self.runtime.instance_names()
            results = await asyncio.gather(
                *(self._one(name) for name in names), return_exceptions=True
            )
            entries: list[dict[str, Any]] = []
            failed = False
            for name, result in zip(names, results, strict=True):
                if isinstance(result, BaseException):
                    # One provider down must not hide the others.
                    failed = True
                    reason = (
                        str(result) if isinstance(result, TuichatError) else type(result).__name__
                    )
                    log.warning("Skipping the models of %s: %s", name, reason)
                    continue
                entries += result
            # Cache only a complete answer: a provider that failed is asked again next time.
            self._cached, self._at = (None, 0.0) if failed else (entries, now)
            return entries


def create_app(
    runtime: Runtime,
    *,
    config: ServeSettings | None = None,
    close_runtime: bool = True,
) -> Starlette:
    """Build the ASGI application.

    Args:
        runtime: Providers, settings and store; its HTTP client is created on the
            server's event loop at first use.
        config: The serve settings; default: the runtime's ``[serve]`` table if the
            settings have one, else the defaults.
        close_runtime: Close the runtime (client, providers, store) at shutdown.

    Returns:
        The Starlette application.
    """
    if config is None:
        config = getattr(runtime.settings, "serve", None) or ServeSettings()
    settings = config
    scratch = Store(":memory:")
    turns = Turns(runtime, save=settings.save, scratch=scratch)
    models = _Models(runtime)

    def error_response(error: ApiError, *, openai: bool) -> JSONResponse:
        body = openai_body(error) if openai else native_body(error)
        return JSONResponse(body, error.status, headers=error.headers)

    async def read_json(request: Request) -> Any:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise _too_large(settings.max_body_bytes)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > settings.max_body_bytes:
                raise _too_large(settings.max_body_bytes)
        try:
            return json.loads(body)
        except ValueError as exc:
            detail = (
                f": {exc.msg} at line {exc.lineno} column {exc.colno}"
                if isinstance(exc, json.JSONDecodeError)
                else ""
            )
            raise ApiError(
                400, "invalid_json", f"The request body is not valid JSON{detail}."
            ) from None

    def parse_native(data: Any) -> ChatCall:
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
        try:
            return ApiChatBody.model_validate(data).to_call()
        except ValidationError as exc:
            raise _validation_error(exc) from None

    # Endpoints ------------------------------------------------------------------------------

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def api_chat(request: Request) -> Response:
        try:
            exchange = turns.prepare(parse_native(await read_json(request)))
        except ApiError as error:
            return error_response(error, openai=False)
        try:
            outcome = await cancel_on_disconnect(request.receive, exchange.complete())
        except ClientGone:
            return Response(status_code=499)  # never reaches the client; for the log only
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON error
            failure = api_error_from(exc, secrets=exchange.provider.secrets())
            return error_response(failure, openai=False)
        return JSONResponse(
            {
                "content": outcome.content,
                "finish_reason": outcome.finish_reason,
                "usage": outcome.usage(),
                "cost": outcome.cost,
                "provider": exchange.provider.instance_name,
                "model": exchange.model,
                "conversation_id": outcome.conversation_id,
                "left_out": outcome.left_out_fields(),
            }
        )

    async def api_chat_stream(request: Request) -> Response:
        try:
            exchange = turns.prepare(parse_native(await read_json(request)))
        except ApiError as error:
            return error_response(error, openai=False)
        return EventStreamResponse(
            native_frames(exchange), keepalive=settings.keepalive, headers_wait=HEADERS_WAIT
        )

    async def v1_chat_completions(request: Request) -> Response:
        try:
            parsed = openai_compat.parse_request(await read_json(request))
            exchange = turns.prepare(parsed.call)
        except ApiError as error:
            if error.status == 422:
                error.status = 400  # OpenAI reports every invalid request as 400
            return error_response(error, openai=True)
        secrets = exchange.provider.secrets()
        if parsed.stream:
            writer = openai_compat.ChunkWriter(exchange.model_id, parsed.include_usage)

            def early(exc: Exception) -> Response:
                return error_response(api_error_from(exc, secrets=secrets), openai=True)

            return EventStreamResponse(
                openai_frames(exchange, writer),
                keepalive=settings.keepalive,
                early_error=early,
            )
        try:
            outcome = await cancel_on_disconnect(request.receive, exchange.complete())
        except ClientGone:
            return Response(status_code=499)
        except Exception as exc:  # noqa: BLE001
            return error_response(api_error_from(exc, secrets=secrets), openai=True)
        return JSONResponse(openai_compat.completion(exchange.model_id, outcome))

    async def v1_models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": await models.entries()})

    # Errors Starlette raises itself (unknown path, wrong method) and anything unexpected.

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = {
            404: f"There is no endpoint {request.url.path}; see GET /health, POST /api/chat, "
            "POST /api/chat/stream, POST /v1/chat/completions, GET /v1/models.",
            405: f"{request.method} is not allowed on {request.url.path}.",
        }.get(exc.status_code, str(exc.detail))
        error = ApiError(exc.status_code, kind, message, headers=dict(exc.headers or {}))
        return error_response(error, openai=is_openai_path(request.url.path))

    async def unexpected(request: Request, exc: Exception) -> Response:
        return error_response(api_error_from(exc), openai=is_openai_path(request.url.path))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close_runtime:
                await runtime.aclose()
            scratch.close()

    middleware = [
        # Outermost, so preflights are answered before the guard and refusals still
        # carry CORS headers a permitted page can read.
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type"],
            expose_headers=["retry-after"],
            # Clients authenticate with a bearer token, not cookies: no credentials.
            allow_credentials=False,
            max_age=600,
        ),
        Middleware(
            Guard,
            token=settings.token_value(),
            cors_origins=settings.cors_origins,
            allowed_hosts=settings.allowed_hosts if is_loopback(settings.host) else None,
        ),
    ]
    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/api/chat", api_chat, methods=["POST"]),
            Route("/api/chat/stream", api_chat_stream, methods=["POST"]),
            Route("/v1/chat/completions", v1_chat_completions, methods=["POST"]),
            Route("/v1/models", v1_models, methods=["GET"]),
        ],
        middleware=middleware,
        exception_handlers={HTTPException: http_error, Exception: unexpected},
        lifespan=lifespan,
    )
    app.state.turns = turns  # for introspection (tests, embedding applications)
    return app


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "request_too_large", f"The request body is larger than {limit} bytes.")


# Event streams ----------------------------------------------------------------------------


async def native_frames(exchange: Exchange) -> AsyncGenerator[bytes, None]:
    """``/api/chat/stream``'s frames: a ``message`` per delta, a final ``done`` message.

    A failure, before or after the first delta, ends the stream with ``event: error``
    and ``{"error": {...}}``; the partial reply stays in the store when saving.
    """
    try:
        async with aclosing(exchange.events()) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    if event.text:
                        yield sse_frame({"content": event.text, "done": False}, event="message")
                elif isinstance(event, Retrying):
                    yield sse_frame(
                        {
                            "attempt": event.attempt,
                            "attempts": event.attempts,
                            "delay": event.delay,
                            "error": event.error,
                        },
                        event="retrying",
                    )
        outcome = exchange.outcome()
        yield sse_frame(
            {
                "content": "",
                "done": True,
                "finish_reason": outcome.finish_reason,
                "usage": outcome.usage(),
                "cost": outcome.cost,
                "provider": exchange.provider.instance_name,
                "model": exchange.model,
                "conversation_id": outcome.conversation_id,
                "left_out": outcome.left_out_fields(),
            },
            event="message",
        )
    except Exception as exc:  # noqa: BLE001 - reported to the client as an event
        error = api_error_from(exc, secrets=exchange.provider.secrets())
        body = native_body(error)
        body["error"]["status"] = error.status
        yield sse_frame(body, event="error")


async def openai_frames(
    exchange: Exchange, writer: openai_compat.ChunkWriter
) -> AsyncGenerator[bytes, None]:
    """``/v1/chat/completions`` stream frames, in OpenAI's exact format.

    Nothing is yielded until the provider produced something, so a failure before the
    first delta is raised (and answered with a real HTTP status); a later failure is
    sent as ``data: {"error": {...}}``, which OpenAI SDKs raise as ``APIError``.

    The model's tool calls go out when its reply ends (its thought signatures, which
    Gemini sends last, with them): one ``delta.tool_calls`` chunk per whole call.
    """
    started = False
    finish: str | None = None
    calls: list[ToolCall] = []
    try:
        async with aclosing(exchange.events()) as events:
            async for event in events:
                if isinstance(event, TextDelta) and event.text:
                    if not started:
                        started = True
                        yield writer.delta({"role": "assistant", "content": "", "refusal": None})
                    yield writer.delta({"content": event.text})
                elif isinstance(event, ToolCall):
                    calls.append(event)
                elif isinstance(event, Finish):
                    finish = event.reason
                    if finish == "tool_calls" and calls:
                        signatures = exchange.signatures(calls)
                        for index, call in enumerate(calls):
                            delta: dict[str, Any] = {}
                            if not started:
                                started = True
                                delta = {"role": "assistant", "content": None, "refusal": None}
                            entry = openai_tools.tool_call_delta(index, call, signatures[index])
                            yield writer.delta({**delta, "tool_calls": [entry]})
    except Exception as exc:  # noqa: BLE001
        if not started:
            raise
        error = api_error_from(exc, secrets=exchange.provider.secrets())
        yield b"data: " + json.dumps(openai_body(error)).encode() + b"\n\n"
        return
    if not started:
        yield writer.delta({"role": "assistant", "content": "", "refusal": None})
    yield writer.delta({}, finish or "stop")
    if writer.include_usage:
        outcome = exchange.outcome()
        yield writer.usage(outcome.input_tokens, outcome.output_tokens)
    yield openai_compat.DONE
