"""OpenAI provider for tuichat: the Chat Completions API, and every server that speaks it.

One plugin serves OpenAI itself and the OpenAI-compatible servers (Ollama, llama.cpp,
vLLM, LM Studio, OpenRouter, Groq...) as named instances::

    [providers.ollama]
    plugin = "openai"
    base_url = "http://localhost:11434/v1"

It speaks the wire protocol directly (no SDK): ``POST {base_url}/chat/completions``
with ``stream: true``, Server-Sent Events of ``chat.completion.chunk`` objects ended by
``data: [DONE]``, and ``GET {base_url}/models``. Status codes, transport faults and
retries are the core's (:mod:`tuichat.plugin_api`); this module only maps the protocol.

Lenient rules, for compatible servers that bend the protocol:

- A stream that ends cleanly without ``data: [DONE]`` after a choice gave its
  ``finish_reason`` is complete (some servers never send ``[DONE]``). Without a
  finish reason it is an interrupted reply.
- A server that rejects ``stream_options`` (HTTP 400/422 naming it) is asked again
  once without it, and never sent it again by this instance.
- Reasoning text comes in ``delta.reasoning_content`` (DeepSeek, vLLM, llama.cpp) or
  ``delta.reasoning`` (OpenRouter, Ollama); both are read, never both at once.
- An error inside the stream may come as ``data: {"error": ...}`` (OpenAI, OpenRouter
  with ``finish_reason: "error"``, vLLM), as ``event: error``, or as llama.cpp's bare
  ``error: {...}`` line, which a strict SSE parser would drop (llama.cpp then sends
  ``data: [DONE]``, so the failed reply would pass for a complete one).
- Tool calls stream as ``delta.tool_calls`` pieces keyed by ``index`` (see
  :class:`_ToolCalls`): a server that repeats a call's id and name, sends a whole call
  in one delta, leaves out the index of a lone call, or (Ollama) reuses index 0 for
  every call of a parallel batch is read as meant. A reply that asked for tools ends
  with ``tool_calls`` even when the server says ``stop`` (gpt-4o itself, Ollama and
  vLLM have done so).
- Unknown fields and chunk kinds are skipped.

Importing this module stays cheap: only the standard library, httpx (through the
core) and tuichat.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import Field

from tuichat.plugin_api import (
    AttachmentLimits,
    BinaryKind,
    BinaryPart,
    ChatEvent,
    ChatMessage,
    ChatRequest,
    ErrorInfo,
    Finish,
    FinishReason,
    LeftOut,
    ModelInfo,
    Provider,
    ProviderSettings,
    ReasoningDelta,
    ResponseInfo,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
    error_for_event,
    errors,
    hookimpl,
    int_or_none,
    key_hint,
    open_sse,
    redacting,
    request_json,
)

if TYPE_CHECKING:
    from httpx_sse import EventSource

__all__ = [
    "DEFAULT_BASE_URL",
    "OpenAIProvider",
    "OpenAISettings",
    "normalize_finish",
    "parse_openai_error",
    "register_providers",
]

__version__ = "0.1.0"

DEFAULT_BASE_URL = "https://api.openai.com/v1"

#: Model families that take ``max_completion_tokens``, no ``temperature``, and a
#: ``developer`` message rather than ``system``. GPT-6 answers a temperature with HTTP
#: 400 unless ``reasoning_effort`` is ``none`` (OpenAI's deployment checklist: "When
#: reasoning effort is not none, remove temperature, top_p, and top_logprobs").
DEFAULT_REASONING_MODELS = ["o1", "o3", "o4", "gpt-5", "gpt-6"]

#: Finish reasons as the API spells them, normalised.
_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    # OpenRouter ends a reply that failed mid-generation with finish_reason "error"
    # (usually beside an "error" object, which is raised instead).
    "error": "error",
}

#: HTTP status an in-stream error stands for, by its ``code`` or ``type``. OpenAI puts
#: the specific word in ``code`` (``rate_limit_exceeded``) and a broad one in ``type``.
_EVENT_STATUS: dict[str, int] = {
    "invalid_api_key": 401,
    "authentication_error": 401,
    "permission_error": 403,
    "insufficient_permissions": 403,
    "model_not_found": 404,
    "not_found_error": 404,
    "rate_limit_exceeded": 429,
    "rate_limit_error": 429,
    "insufficient_quota": 429,
    "overloaded_error": 529,
    "server_error": 500,
    "api_error": 500,
    "internal_error": 500,
    "invalid_request_error": 400,
    "context_length_exceeded": 400,
}

# Pages of the models list we follow at most: a server that always says "has_more"
# must not keep us looping.
_MAX_MODEL_PAGES = 50

#: An HTML tag. It stops at the next ``<`` too: ``<[^>]+>`` retried every ``<`` to the end of
#: a body holding many and no ``>``, quadratic in the body (issue #21).
_TAG = re.compile(r"<[^<>]++>")

#: Seconds we wait for the end of the body after ``[DONE]`` (see ``_drain``).
_DRAIN_SECONDS = 0.2

_MB = 1024 * 1024

#: OpenAI's documented input limits. Images: "up to 50 MB total payload size per
#: request" (vision guide); PDF file inputs: 32 MB of content in one request (file
#: inputs guide), checked here per PDF, the request as a whole against the 50 MB.
#: Compatible servers may differ; they are held to the same numbers.
OPENAI_LIMITS = AttachmentLimits(
    max_image_bytes=50 * _MB,
    max_document_bytes=32 * _MB,
    max_request_bytes=50 * _MB,
    source="OpenAI's Chat Completions API",
)


class OpenAISettings(ProviderSettings):
    """Settings of a ``[providers.<name>]`` table served by the openai plugin."""

    base_url: str = DEFAULT_BASE_URL
    """The API root; ``/chat/completions`` and ``/models`` are appended to it."""
    default_model: str = "gpt-4o-mini"
    organization: str | None = None
    """Sent as ``OpenAI-Organization`` (``OPENAI_ORG_ID`` for the ``openai`` instance)."""
    project: str | None = None
    """Sent as ``OpenAI-Project`` (``OPENAI_PROJECT_ID`` for the ``openai`` instance)."""
    stream_usage: bool = True
    """Ask for token usage at the end of the stream (``stream_options.include_usage``)."""
    max_tokens_field: Literal["auto", "max_tokens", "max_completion_tokens"] = "auto"
    """The body field carrying the max tokens. ``auto``: ``max_completion_tokens`` for
    reasoning models and on api.openai.com, ``max_tokens`` elsewhere (widest support)."""
    reasoning_models: list[str] = Field(default_factory=lambda: list(DEFAULT_REASONING_MODELS))
    """Model id prefixes of reasoning models (no temperature, ``max_completion_tokens``)."""
    system_role: Literal["auto", "system", "developer"] = "auto"
    """Role of the system prompt. ``auto``: ``developer`` for reasoning models, else
    ``system``."""
    vision: bool = True
    """Whether the models take images (``image_url`` parts); ``false`` refuses an image
    before sending, for a server whose models read text only."""
    documents: bool = True
    """Whether the models take PDF files (``file`` parts with ``file_data``)."""


def normalize_finish(raw: str | None) -> FinishReason:
    """Map the API's ``finish_reason`` to tuichat's; anything unknown is ``stop``."""
    return _FINISH.get(raw or "", "stop")


def _text_of(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int | float) and str(value) else None


def _error_text(data: Any) -> ErrorInfo | None:
    """Read one JSON error value in any of the shapes compatible servers use."""
    if isinstance(data, list) and data:
        data = data[0]
    if not isinstance(data, dict):
        return None
    err = data.get("error")
    if isinstance(err, str) and err:
        return ErrorInfo(message=err, type=_text_of(data.get("type")))
    if isinstance(err, dict):
        data = err
    elif "message" not in data and "detail" in data:
        # FastAPI servers: {"detail": "..."} or {"detail": [{"loc": [...], "msg": "..."}]}.
        detail = data["detail"]
        if isinstance(detail, list):
            parts = []
            for item in detail:
                if isinstance(item, dict):
                    loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                    parts.append(f"{loc}: {item.get('msg', '')}".strip(": "))
            return ErrorInfo(message="; ".join(parts) or None)
        return ErrorInfo(message=_text_of(detail))
    code = data.get("code")
    raw_type = code if isinstance(code, str) and code else data.get("type")
    message = data.get("message")
    if isinstance(message, dict):
        # Mistral's 422: {"object": "error", "message": {"detail": [{"loc", "msg"}]}, ...}
        nested = _error_text(message)
        message = nested.message if nested is not None else None
    return ErrorInfo(message=_text_of(message), type=_text_of(raw_type))


def parse_openai_error(response: httpx.Response | None, body: bytes) -> ErrorInfo:
    """Read an error body: ``{"error": {"message", "type", "code", "param"}}`` and kin.

    Also understands ``{"error": "..."}`` (Ollama), a top-level
    ``{"object": "error", "message", "type", "code"}`` (vLLM), ``{"detail": ...}``
    (FastAPI servers), and plain text or an HTML error page from a proxy.
    """
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace")
        if "<" in text and ">" in text:
            text = _TAG.sub(" ", text)  # a proxy's HTML error page: keep its words
        text = " ".join(text.split())
        return ErrorInfo(message=text[:500] or None)
    return _error_text(data) or ErrorInfo()


def _event_status(error: Mapping[str, Any]) -> int | None:
    """The HTTP status an in-stream error object stands for, if it says."""
    code = error.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        return code
    if isinstance(code, str) and code.isdigit() and 400 <= int(code) <= 599:
        return int(code)
    for word in (code, error.get("type")):
        if isinstance(word, str) and word in _EVENT_STATUS:
            return _EVENT_STATUS[word]
    return None


@dataclass(frozen=True, slots=True)
class _Event:
    """One server-sent event: its name (``message`` by default) and its data."""

    event: str
    data: str


async def _sse_lines(response: httpx.Response) -> AsyncGenerator[str, None]:
    """The body's lines, split on CRLF, CR or LF only (as the SSE spec says).

    Not ``str.splitlines``: a JSON string may hold U+2028 or U+0085 unescaped.
    """
    pending: list[str] = []  # the unterminated tail of what came so far
    trailing_cr = False  # a CR ending one chunk may be the first half of a CRLF
    async for text in response.aiter_text():
        if trailing_cr:
            text = "\r" + text
            trailing_cr = False
        if text.endswith("\r"):
            trailing_cr = True
            text = text[:-1]
        if not text:
            continue
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        # The last piece has no line end yet (it is "" when the text ended with one).
        pending.append(lines.pop())
        if lines:
            lines[0] = "".join(pending[:-1]) + lines[0]
            pending = pending[-1:]
            for line in lines:
                yield line
    if trailing_cr:
        yield "".join(pending)
    # An unterminated last line cannot end an event: the spec drops it with the event.


async def _sse_events(response: httpx.Response) -> AsyncGenerator[_Event, None]:
    """Server-sent events of ``response``, with one leniency for llama.cpp.

    llama.cpp's server sends a stream error as an ``error: {...}`` line (a field the
    SSE spec ignores) and then ``data: [DONE]``; it is read as ``event: error`` with
    that data, so the error is not lost and the reply not taken for complete.
    """
    name = ""
    data: list[str] = []
    async with aclosing(_sse_lines(response)) as lines:
        async for line in lines:
            if not line:
                if data or name:
                    yield _Event(name or "message", "\n".join(data))
                name, data = "", []
                continue
            if line.startswith(":"):
                continue  # a comment (": OPENROUTER PROCESSING", keep-alives)
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                data.append(value)
            elif field == "event":
                name = value
            elif field == "error":
                name = "error"
                data.append(value)


class OpenAIProvider(Provider):
    """Chat Completions over SSE, for OpenAI and OpenAI-compatible servers."""

    name: ClassVar[str] = "openai"
    display_name: ClassVar[str] = "OpenAI"
    Settings: ClassVar[type[ProviderSettings]] = OpenAISettings
    key_env: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY",)
    base_url_env: ClassVar[tuple[str, ...]] = ("OPENAI_BASE_URL",)
    requires_key: ClassVar[bool] = True
    supports_tools: ClassVar[bool] = True

    def __init__(
        self,
        *,
        settings: ProviderSettings,
        client: httpx.AsyncClient,
        instance_name: str | None = None,
    ) -> None:
        super().__init__(settings=settings, client=client, instance_name=instance_name)
        # Learnt from the server once, then kept for the life of the instance.
        self.stream_options_rejected = False

    @property
    def options(self) -> OpenAISettings:
        """The settings, typed (the host validated them against :class:`OpenAISettings`)."""
        settings = self.settings
        if not isinstance(settings, OpenAISettings):  # built by hand with the base model
            settings = OpenAISettings.model_validate(settings.model_dump())
            self.settings = settings
        return settings

    # Where and who ----------------------------------------------------------------------

    def url(self, path: str) -> str:
        """``base_url`` + ``path``; a path prefix in the base URL is kept."""
        base = (self.options.base_url or DEFAULT_BASE_URL).rstrip("/")
        return f"{base}/{path.lstrip('/')}"

    @property
    def is_official(self) -> bool:
        """Whether the base URL is OpenAI's own API."""
        host = (urlsplit(self.options.base_url or DEFAULT_BASE_URL).hostname or "").lower()
        return host == "api.openai.com" or host.endswith(".openai.com")

    def needs_key(self) -> bool:
        """A key is needed for OpenAI itself, or when the table names a key variable.

        Local servers (Ollama, llama.cpp, vLLM, LM Studio) need none, so a named
        instance pointing elsewhere may chat without one.
        """
        return self.is_official or bool(self.options.api_key_env)

    def request_headers(self) -> dict[str, str]:
        """``Authorization`` (only when there is a key) and the organization/project.

        Raises:
            ConfigError: ``api_key_cmd`` failed.
        """
        headers: dict[str, str] = {}
        key = self.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        # The standard variables belong to the instance named like the plugin only, as
        # the key does: OpenAI's organization id is never sent to a local server.
        standard = self.instance_name == self.name
        org = self.options.organization or (os.environ.get("OPENAI_ORG_ID") if standard else None)
        project = self.options.project or (
            os.environ.get("OPENAI_PROJECT_ID") if standard else None
        )
        if org:
            headers["OpenAI-Organization"] = org
        if project:
            headers["OpenAI-Project"] = project
        return headers

    # The request ------------------------------------------------------------------------

    def is_reasoning_model(self, model: str) -> bool:
        """Whether ``model`` is a reasoning model (by the ``reasoning_models`` prefixes).

        A vendor prefix (``openai/o3`` on OpenRouter) and a fine-tune prefix
        (``ft:o4-mini:...``) are ignored.
        """
        name = model.lower().removeprefix("ft:").rsplit("/", 1)[-1]
        return any(name.startswith(p.lower()) for p in self.options.reasoning_models if p)

    def attachment_limits(self, model: str) -> AttachmentLimits:
        """Images and PDFs as OpenAI documents them, unless the table says the server's
        models take none (``vision = false``, ``documents = false``)."""
        options = self.options
        kinds: set[BinaryKind] = set()
        if options.vision:
            kinds.add("image")
        if options.documents:
            kinds.add("document")
        return replace(OPENAI_LIMITS, kinds=frozenset(kinds))

    def left_out(self, request: ChatRequest) -> list[LeftOut]:
        """A temperature for a reasoning model, which accepts only its default."""
        if request.temperature is None or not self.is_reasoning_model(request.model):
            return []
        return [LeftOut("temperature", f"{request.model} is a reasoning model and takes none")]

    def build_body(self, request: ChatRequest, *, stream_options: bool = True) -> dict[str, Any]:
        """The JSON body for ``request``.

        ``request.extra`` is merged last; a key set to ``None`` there removes the field.
        """
        options = self.options
        reasoning = self.is_reasoning_model(request.model)
        system_role = options.system_role
        if system_role == "auto":
            # The docs: "with o1 models and newer, developer messages replace the
            # previous system messages"; older models take system.
            system_role = "developer" if reasoning else "system"
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": system_role, "content": request.system})
        for message in request.messages:
            if message.role == "tool":
                messages.extend(_tool_messages(message))
            elif message.role == "assistant" and message.tool_calls:
                messages.append(_assistant_with_calls(message))
            else:
                role = system_role if message.role == "system" else message.role
                messages.append({"role": role, "content": _content(message)})
        body: dict[str, Any] = {"model": request.model, "messages": messages, "stream": True}
        if request.tools:
            # Only when tools are offered: the request after the last allowed tool round
            # names none, and a server must not see an empty list (some refuse it).
            body["tools"] = [_tool(spec) for spec in request.tools]
        if stream_options and options.stream_usage and not self.stream_options_rejected:
            body["stream_options"] = {"include_usage": True}
        # Reasoning models accept only the default temperature: sending one is a 400.
        if request.temperature is not None and not reasoning:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            body[self._max_tokens_field(reasoning)] = request.max_tokens
        for key, value in request.extra.items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        return body

    def _max_tokens_field(self, reasoning: bool) -> str:
        field = self.options.max_tokens_field
        if field != "auto":
            return field
        # OpenAI deprecated max_tokens (reasoning models reject it); compatible servers
        # have known max_tokens far longer than max_completion_tokens.
        return "max_completion_tokens" if reasoning or self.is_official else "max_tokens"

    # Streaming --------------------------------------------------------------------------

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[ChatEvent, None]:
        """Stream one reply: ``TextDelta``/``ReasoningDelta``s, ``Usage``, then the
        ``ToolCall``s the reply asked for (complete, in index order) and one ``Finish``.

        Raises:
            ProviderError: Any failure, already one human sentence.
        """
        url = self.url("/chat/completions")
        headers = self.request_headers()
        for _ in range(2):
            body = self.build_body(request)
            sent_options = "stream_options" in body
            error_bodies: list[bytes] = []
            yielded = False
            try:
                async with open_sse(
                    self,
                    "POST",
                    url,
                    json_body=body,
                    headers=headers,
                    parse_error=self._recording_parser(error_bodies),
                ) as source:
                    async for event in self._events(source):
                        yielded = True
                        yield event
                return
            except errors.BadRequest:
                # A protocol fallback, not a retry: some servers refuse stream_options.
                if (
                    yielded
                    or not sent_options
                    or not any(b"stream_options" in b for b in error_bodies)
                ):
                    raise
                self.stream_options_rejected = True

    def _recording_parser(
        self, bodies: list[bytes]
    ) -> Callable[[httpx.Response, bytes], ErrorInfo]:
        def parse(response: httpx.Response, body: bytes) -> ErrorInfo:
            bodies.append(body)
            return parse_openai_error(response, body)

        return redacting(parse, self.secrets())

    async def _events(self, source: EventSource) -> AsyncGenerator[ChatEvent, None]:
        done = False
        finish_raw: str | None = None
        identified = False
        calls = _ToolCalls()
        async with aclosing(_sse_events(source.response)) as events:
            async for sse in events:
                data = sse.data.strip()
                if not data:
                    continue
                if sse.event == "error":
                    # llama.cpp (an "error:" line) and some proxies name the event; its
                    # data may be plain text.
                    raise self._stream_error(self._decode(data, lenient=True))
                if data == "[DONE]":
                    done = True
                    await self._drain(events)
                    break
                chunk = self._decode(data)
                if self._is_error(chunk):
                    raise self._stream_error(chunk)
                if not isinstance(chunk, dict):
                    continue  # not a chunk object: nothing we know how to read
                if not identified:
                    info = _response_info(chunk)
                    if info is not None:
                        identified = True
                        yield info
                for event in self._chunk_events(chunk, calls):
                    yield event
                finish_raw = self._finish_of(chunk) or finish_raw
        if not done and finish_raw is None:
            raise errors.StreamInterrupted(
                f"The {self.label} stream ended without a finish reason or [DONE]; "
                "the partial reply is kept, try again for the rest.",
                provider=self.label,
            )
        # Lenient: a finish reason followed by a clean end of stream, without [DONE],
        # is complete (some compatible servers never send [DONE]).
        reason = normalize_finish(finish_raw)
        if reason in ("stop", "tool_calls") and calls:
            # The calls are complete once the reply finished; one cut by the token limit
            # ("length") is not a call and is left out. gpt-4o, Ollama and vLLM have
            # said "stop" for a reply that asked for tools: it is a tool_calls finish.
            for call in calls.complete():
                yield call
            reason = "tool_calls"
        yield Finish(reason, finish_raw)

    @staticmethod
    async def _drain(events: AsyncIterator[Any]) -> None:
        """Read what follows ``[DONE]`` (the end of the chunked body), briefly.

        A response read to its end returns its connection to the pool, so the next
        reply skips a new TCP and TLS handshake. A server that keeps the stream open
        after ``[DONE]`` costs at most :data:`_DRAIN_SECONDS`, then is closed.
        """
        try:
            async with asyncio.timeout(_DRAIN_SECONDS):
                async for _ in events:
                    pass
        except (TimeoutError, httpx.HTTPError):
            pass  # the reply is complete; the connection is just not reused

    def _decode(self, data: str, *, lenient: bool = False) -> Any:
        try:
            return json.loads(data)
        except ValueError:
            if lenient:
                return {"error": {"message": data}}
            raise errors.MalformedResponse(
                f"{self.label} sent a stream event that is not valid JSON; the partial "
                "reply is kept (check base_url if a proxy sits in between).",
                provider=self.label,
            ) from None

    @staticmethod
    def _is_error(chunk: Any) -> bool:
        if not isinstance(chunk, dict):
            return False
        # OpenAI: {"error": {...}}; vLLM: {"object": "error", "message": ...}.
        return bool(chunk.get("error")) or chunk.get("object") == "error"

    def _stream_error(self, chunk: Any) -> errors.ProviderError:
        error = chunk.get("error") if isinstance(chunk, dict) else None
        obj: Mapping[str, Any] = (
            error if isinstance(error, dict) else chunk if isinstance(chunk, dict) else {}
        )
        info = _error_text(chunk) or ErrorInfo()
        return error_for_event(
            provider=self.label,
            raw_type=info.type,
            detail=info.message or "the server reported an error",
            status=_event_status(obj),
            secrets=self.secrets(),
            key_hint=key_hint(self),
        )

    @staticmethod
    def _chunk_events(chunk: dict[str, Any], calls: _ToolCalls) -> Iterator[ChatEvent]:
        # Never index choices[0]: the usage chunk has "choices": [].
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if not isinstance(choice, dict) or choice.get("index", 0) not in (0, None):
                continue
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                continue
            # reasoning_content (DeepSeek, vLLM, llama.cpp) or reasoning (OpenRouter,
            # Ollama); servers in transition send both with the same text.
            thought = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(thought, str) and thought:
                yield ReasoningDelta(thought)
            for key in ("content", "refusal"):
                text = delta.get(key)
                if isinstance(text, str) and text:
                    yield TextDelta(text)
            pieces = delta.get("tool_calls")
            if isinstance(pieces, list):
                for position, piece in enumerate(pieces):
                    if isinstance(piece, dict):
                        calls.add(piece, position)
        usage = chunk.get("usage")
        if not isinstance(usage, dict):
            extra = chunk.get("x_groq")  # Groq reports usage beside the chunk
            usage = extra.get("usage") if isinstance(extra, dict) else None
        if isinstance(usage, dict):
            prompt = usage.get("prompt_tokens_details")
            completion = usage.get("completion_tokens_details")
            yield Usage(
                int_or_none(usage.get("prompt_tokens")),
                int_or_none(usage.get("completion_tokens")),
                cached_input_tokens=int_or_none(prompt.get("cached_tokens"))
                if isinstance(prompt, dict)
                else None,
                reasoning_tokens=int_or_none(completion.get("reasoning_tokens"))
                if isinstance(completion, dict)
                else None,
            )

    @staticmethod
    def _finish_of(chunk: dict[str, Any]) -> str | None:
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if isinstance(choice, dict) and choice.get("index", 0) in (0, None):
                reason = choice.get("finish_reason")
                if isinstance(reason, str) and reason:
                    return reason
        return None

    # Models -----------------------------------------------------------------------------

    async def list_models(self) -> list[ModelInfo]:
        """Models from ``GET {base_url}/models``, following ``has_more`` pages, by id.

        A server without a models endpoint (404/405/501) gives the configured
        ``models`` instead, when there are some.

        Raises:
            ProviderError: The request failed.
        """
        url = self.url("/models")
        headers = self.request_headers()
        found: dict[str, ModelInfo] = {}
        params: dict[str, str] | None = None
        for _ in range(_MAX_MODEL_PAGES):
            try:
                data = await request_json(
                    self, "GET", url, headers=headers, params=params, parse_error=parse_openai_error
                )
            except errors.ProviderError as exc:
                if self.options.models and exc.status in (404, 405, 501):
                    return self._configured_models()
                raise
            items = data.get("data") if isinstance(data, dict) else data
            if not isinstance(items, list):
                raise errors.MalformedResponse(
                    f"{self.label} answered the models list without a data list; check base_url.",
                    provider=self.label,
                )
            last: str | None = None
            for item in items:
                model = self._model_info(item)
                if model is not None:
                    found.setdefault(model.id, model)
                    last = model.id
            if not (isinstance(data, dict) and data.get("has_more") is True):
                break
            cursor = data.get("last_id") or last
            if not isinstance(cursor, str) or (params and params.get("after") == cursor):
                break
            params = {"after": cursor}
        return sorted(found.values(), key=lambda m: m.id)

    def _model_info(self, item: Any) -> ModelInfo | None:
        if isinstance(item, str):
            return ModelInfo(id=item, provider=self.instance_name)
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            return None
        # OpenRouter says context_length, vLLM max_model_len; OpenAI says neither.
        window = int_or_none(item.get("context_length")) or int_or_none(item.get("max_model_len"))
        name = item.get("name")
        return ModelInfo(
            id=item["id"],
            provider=self.instance_name,
            name=name if isinstance(name, str) and name else None,
            context_window=window,
        )

    def _configured_models(self) -> list[ModelInfo]:
        return [
            ModelInfo(id=m, provider=self.instance_name) for m in sorted(set(self.options.models))
        ]


def _data_url(part: BinaryPart) -> str:
    return f"data:{part.media_type};base64,{base64.b64encode(part.data).decode('ascii')}"


def _filename(part: BinaryPart) -> str:
    name = part.name.replace("\\", "/").rsplit("/", 1)[-1] or "document"
    # The API reads the kind of a file from its name; stdin has none.
    return name if name.lower().endswith(".pdf") else f"{name}.pdf"


def _content(message: ChatMessage) -> str | list[dict[str, Any]]:
    """A message's ``content``: its text, or content parts when it carries files.

    The files come first, then the text, as the person gave them: ``image_url`` with
    a ``data:`` URL for an image, ``file`` with ``file_data`` for a PDF.
    """
    if not message.parts:
        return message.content
    parts: list[dict[str, Any]] = []
    for part in message.parts:
        if part.kind == "image":
            parts.append({"type": "image_url", "image_url": {"url": _data_url(part)}})
        else:
            parts.append(
                {
                    "type": "file",
                    "file": {"filename": _filename(part), "file_data": _data_url(part)},
                }
            )
    if message.content:
        parts.append({"type": "text", "text": message.content})
    return parts


def _tool(spec: ToolSpec) -> dict[str, Any]:
    """A tool as Chat Completions declares it: ``{"type": "function", "function": {...}}``
    with the JSON Schema of its arguments as ``parameters`` (API reference, "tools")."""
    return {
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": dict(spec.parameters),
        },
    }


def _assistant_with_calls(message: ChatMessage) -> dict[str, Any]:
    """An assistant turn that asked for tools, as the API takes it back.

    ``content`` is the text or ``null``; each call's ``arguments`` go back as the exact
    string the model wrote (the API reference: "the arguments to call the function
    with, as generated by the model in JSON format").
    """
    return {
        "role": "assistant",
        "content": message.content or None,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ],
    }


def _tool_messages(message: ChatMessage) -> list[dict[str, Any]]:
    """One ``tool`` message per result, in the order of the calls. The API has no
    error flag: a failed or declined call says so in its text."""
    return [
        {"role": "tool", "tool_call_id": result.call_id, "content": result.content}
        for result in message.tool_results
    ]


@dataclass(slots=True)
class _PendingCall:
    """One tool call as its pieces arrive."""

    index: int
    order: int
    id: str | None = None
    name: str | None = None
    arguments: list[str] = field(default_factory=list)
    #: The characters in ``arguments`` so far (without joining them at every piece).
    length: int = 0

    def text(self) -> str:
        return "".join(self.arguments)

    def complete_json(self) -> bool:
        """Whether the arguments so far are one whole JSON value."""
        try:
            json.loads(self.text())
        except ValueError:
            return False
        return True


class _ToolCalls:
    """The tool calls of one reply, assembled from ``delta.tool_calls`` pieces.

    The streaming reference: each piece carries the ``index`` of its call; the first
    piece of a call brings its ``id`` and ``function.name``, the following ones more of
    ``function.arguments``, and several calls may interleave. Leniencies, for servers
    that bend it:

    - an ``id`` or name sent again with later pieces is the same call, not a new one;
    - a whole call in one piece (id, name and all the arguments) is read as it is;
    - a piece without ``index`` takes its place in the list (a lone call: 0);
    - a new ``id`` at an index whose call already holds complete JSON arguments starts
      another call (Ollama sends every call of a parallel batch at index 0);
    - the whole arguments sent again after their pieces are not doubled.
    """

    def __init__(self) -> None:
        self._calls: list[_PendingCall] = []
        self._current: dict[int, _PendingCall] = {}

    def __bool__(self) -> bool:
        return bool(self._calls)

    def add(self, piece: dict[str, Any], position: int) -> None:
        """Apply one element of ``delta.tool_calls`` (its place in the list: ``position``)."""
        raw_index = piece.get("index")
        index = (
            raw_index
            if isinstance(raw_index, int) and not isinstance(raw_index, bool)
            else position
        )
        call_id = piece.get("id") if isinstance(piece.get("id"), str) and piece["id"] else None
        function = piece.get("function")
        function = function if isinstance(function, dict) else {}
        name = function.get("name") if isinstance(function.get("name"), str) else None
        arguments = function.get("arguments")
        call = self._current.get(index)
        if (
            call is not None
            and call_id is not None
            and call.id is not None
            and call_id != call.id
            and call.complete_json()
        ):
            call = None  # another call at a reused index
        if call is None:
            call = _PendingCall(index=index, order=len(self._calls))
            self._calls.append(call)
            self._current[index] = call
        if call.id is None and call_id is not None:
            call.id = call_id
        if not call.name and name:
            call.name = name
        if isinstance(arguments, str) and arguments:
            if call.length == len(arguments) and call.text() == arguments and call.complete_json():
                return  # the whole arguments again, after their pieces
            call.arguments.append(arguments)
            call.length += len(arguments)

    def complete(self) -> list[ToolCall]:
        """The calls in index order (a reused index: in the order they came), each with
        an id unique in the reply: the server's, or ``call_N`` when it gave none (or gave
        one already used). A call without a name cannot be run and is left out."""
        taken = {call.id for call in self._calls if call.id}
        used: set[str] = set()
        result: list[ToolCall] = []
        number = 0
        for call in sorted(self._calls, key=lambda c: (c.index, c.order)):
            if not call.name:
                continue
            call_id = call.id
            if call_id is None or call_id in used:
                while f"call_{number}" in taken:
                    number += 1
                call_id = f"call_{number}"
                taken.add(call_id)
            used.add(call_id)
            result.append(ToolCall(call_id, call.name, call.text() or "{}"))
        return result


@hookimpl
def register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register the OpenAI provider."""
    register(OpenAIProvider)


def _response_info(chunk: Mapping[str, Any]) -> ResponseInfo | None:
    """The chunk's ``id`` and ``model`` (every chunk repeats them; the first is enough)."""
    response_id, model = chunk.get("id"), chunk.get("model")
    if not isinstance(response_id, str) and not isinstance(model, str):
        return None
    return ResponseInfo(
        id=response_id if isinstance(response_id, str) and response_id else None,
        model=model if isinstance(model, str) and model else None,
    )
