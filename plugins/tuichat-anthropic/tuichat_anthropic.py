"""tuichat-anthropic: Claude models through Anthropic's Messages API.

The provider speaks REST with the core's shared ``httpx`` client (no SDK):
``POST {base_url}/v1/messages`` with ``"stream": true`` and ``GET {base_url}/v1/models``.
The key travels in the ``x-api-key`` header and the API version in
``anthropic-version``; ``2026-10-21`` (the default) no longer accepts the sampling
parameters, see :func:`fit_body_to_version`.

Importing this module must stay cheap (it is imported whenever plugins load), so
the HTTP helpers of ``tuichat.plugin_api`` (and with them ``httpx``) are imported
inside the methods that talk to the network.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from tuichat.plugin_api import (
    AttachmentLimits,
    ChatEvent,
    ChatMessage,
    ChatRequest,
    Finish,
    FinishReason,
    LeftOut,
    ModelInfo,
    NativeReply,
    Provider,
    ProviderSettings,
    ReasoningDelta,
    ResponseInfo,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
    errors,
    hookimpl,
    int_or_none,
    merge_extra,
    redacting,
    strip_controls,
)

if TYPE_CHECKING:
    import httpx
    from httpx_sse import ServerSentEvent

    from tuichat.plugin_api import ErrorInfo

__all__ = [
    "API_VERSION_2023",
    "API_VERSION_2026",
    "AnthropicProvider",
    "AnthropicSettings",
    "fit_body_to_version",
    "map_stop_reason",
    "parse_error",
    "register_providers",
]

DEFAULT_BASE_URL = "https://api.anthropic.com"
#: The version every request carried from 2023 to October 2026.
API_VERSION_2023 = "2023-06-01"
#: The current version (released 2026-10-21): sampling parameters are gone.
API_VERSION_2026 = "2026-10-21"
#: Request fields ``2026-10-21`` refuses with HTTP 400, even at their default values.
#: Source: https://platform.claude.com/docs/en/api/versioning (version history) and
#: https://platform.claude.com/docs/en/api/migration-2026-10-21.
SAMPLING_PARAMETERS = ("temperature", "top_p", "top_k")
#: What ``POST /v1/messages/count_tokens`` takes of a Messages body (its API reference):
#: the prompt and what shapes it, never ``max_tokens``, ``stream`` or sampling.
COUNT_FIELDS = frozenset(
    {"model", "messages", "system", "tools", "tool_choice", "thinking", "output_config"}
)
#: Pages of ``GET /v1/models`` read at most: a server that always says ``has_more``
#: must not keep us looping.
MAX_MODEL_PAGES = 50

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: The HTTP status each documented error ``type`` stands for
#: (https://platform.claude.com/docs/en/api/errors), for ``error`` events that arrive
#: after HTTP 200 and so carry no status of their own.
_ERROR_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    # The reply filled the model's context window: cut short like max_tokens.
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


_MB = 1024 * 1024

#: The Messages API's documented limits: "5MB per image" through the API, and a
#: request of at most 32 MB, which also bounds a PDF ("maximum request size 32MB";
#: its 100 pages per request are not counted here, the API says so itself).
ANTHROPIC_LIMITS = AttachmentLimits(
    max_image_bytes=5 * _MB,
    max_document_bytes=32 * _MB,
    max_request_bytes=32 * _MB,
    source="Anthropic's Messages API",
)


def _ephemeral() -> dict[str, str]:
    """What marks a cache breakpoint (the default 5-minute cache, refreshed by each hit)."""
    return {"type": "ephemeral"}


def _mark_cache_breakpoints(body: dict[str, Any]) -> None:
    """At most three ``cache_control`` breakpoints (of the four allowed): the last tool
    and the system prompt, the most stable prefixes, and the last block of the last
    message, so the next turn (or tool round), which repeats the whole conversation,
    reads all of it from the cache.

    The prompt caching docs: a breakpoint caches the request up to and including its
    block, in the order tools, system, messages (so a breakpoint on the last tool
    definition caches them all); string contents become one text block to carry it.
    """
    tools = body.get("tools")
    if isinstance(tools, list) and tools and isinstance(tools[-1], dict):
        tools[-1] = {**tools[-1], "cache_control": _ephemeral()}
    system = body.get("system")
    if isinstance(system, str) and system:
        body["system"] = [{"type": "text", "text": system, "cache_control": _ephemeral()}]
    messages = body.get("messages")
    if not messages:
        return
    last = messages[-1]
    content = last["content"]
    if isinstance(content, str):
        last["content"] = [{"type": "text", "text": content, "cache_control": _ephemeral()}]
        return
    for block in reversed(content):
        # Thinking blocks take no cache_control (a 400): mark the last block that can.
        if block.get("type") not in ("thinking", "redacted_thinking"):
            block["cache_control"] = _ephemeral()
            return


def _content(message: ChatMessage) -> str | list[dict[str, Any]]:
    """A message's ``content``: its text, or blocks when it carries files.

    ``image`` and ``document`` blocks with a base64 ``source`` come first, in the order
    given, then the text block (Anthropic advises images before the question).
    """
    if not message.parts:
        return message.content
    blocks: list[dict[str, Any]] = [
        {
            "type": part.kind,
            "source": {
                "type": "base64",
                "media_type": part.media_type,
                "data": base64.b64encode(part.data).decode("ascii"),
            },
        }
        for part in message.parts
    ]
    if message.content.strip():
        blocks.append({"type": "text", "text": message.content})
    return blocks


def _tool(spec: ToolSpec) -> dict[str, Any]:
    """A tool as the Messages API declares it: ``name``, ``description``, and the JSON
    Schema of its input as ``input_schema`` (tool use docs, "Specifying client tools")."""
    return {
        "name": spec.name,
        "description": spec.description,
        "input_schema": dict(spec.parameters),
    }


def _tool_input(arguments: str) -> dict[str, Any]:
    """A call's arguments as the ``input`` object of a ``tool_use`` block.

    Arguments that are not a JSON object (a stream cut short) go back wrapped as
    ``{"INVALID_JSON": "..."}``, as the fine-grained tool streaming docs advise for
    invalid input sent back to the model.
    """
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        value = None
    if isinstance(value, dict):
        return value
    return {"INVALID_JSON": arguments}


def _assistant_blocks(message: ChatMessage) -> list[dict[str, Any]]:
    """An assistant turn that asked for tools, rebuilt from its text and calls: a text
    block (when there is text), then one ``tool_use`` block per call."""
    blocks: list[dict[str, Any]] = []
    if message.content.strip():
        blocks.append({"type": "text", "text": message.content})
    blocks += [
        {"type": "tool_use", "id": call.id, "name": call.name, "input": _tool_input(call.arguments)}
        for call in message.tool_calls
    ]
    return blocks


def _tool_results(message: ChatMessage) -> list[dict[str, Any]]:
    """A ``tool`` message's results as ``tool_result`` blocks of one user turn, in order.

    The tool use docs: ``content`` is optional (left out when the tool gave no text), and
    ``is_error: true`` marks a failed call (a declined one too, DESIGN.md 5a).
    """
    blocks: list[dict[str, Any]] = []
    for result in message.tool_results:
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": result.call_id}
        if result.content:
            block["content"] = result.content
        if result.is_error:
            block["is_error"] = True
        blocks.append(block)
    return blocks


class AnthropicSettings(ProviderSettings):
    """Settings of ``[providers.anthropic]`` (or of any table with ``plugin = "anthropic"``)."""

    base_url: str = DEFAULT_BASE_URL
    """Without ``/v1``, as the official SDKs spell it; a path prefix is kept."""
    default_model: str = "claude-sonnet-5-5"
    """The model used when none is chosen."""
    api_version: str = API_VERSION_2026
    """The ``anthropic-version`` header: ``2026-10-21`` (current) or ``2023-06-01``."""
    default_max_tokens: int = Field(default=8192, gt=0)
    """``max_tokens`` sent when the request sets none (the API requires one)."""
    thinking: Literal["default", "adaptive", "enabled", "disabled"] = "default"
    """Extended thinking: ``default`` sends nothing (the model decides), ``adaptive``
    lets the model choose how long to think, ``enabled`` thinks with a fixed
    ``thinking_budget`` (older models), ``disabled`` turns it off where allowed."""
    thinking_budget: int | None = Field(default=None, ge=1024)
    """Thinking tokens for ``thinking = "enabled"`` (must stay below ``max_tokens``)."""
    thinking_display: Literal["summarized", "omitted"] = "summarized"
    """Whether adaptive thinking returns its (summarised) text; newer models omit it
    unless asked."""
    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = None
    """``output_config.effort``: how much the model thinks and writes; its default when unset."""
    prompt_cache: Literal["auto", "always", "off"] = "auto"
    """Prompt caching: ``cache_control`` breakpoints on the system prompt and the end of the
    conversation, so the next turn reads that prefix from the cache (billed about a tenth).
    ``auto``: once the prompt is long enough to be cached (``prompt_cache_min_tokens``)."""
    prompt_cache_min_tokens: int = Field(default=1024, ge=0)
    """The estimated prompt size (characters / 4) from which ``auto`` caches; Anthropic
    caches no prefix shorter than 1,024 tokens (more on some models)."""

    @field_validator("api_version")
    @classmethod
    def _known_version(cls, value: str) -> str:
        # Any later date is let through: a future version then keeps the 2026 rules,
        # which is the most likely reading, and the server has the last word.
        if not _DATE.match(value) or value < API_VERSION_2023:
            raise ValueError(f"must be {API_VERSION_2026} or {API_VERSION_2023}")
        return value

    @model_validator(mode="after")
    def _budget_when_enabled(self) -> AnthropicSettings:
        if self.thinking == "enabled" and self.thinking_budget is None:
            raise ValueError('thinking = "enabled" needs thinking_budget (1024 or more)')
        return self


def fit_body_to_version(body: dict[str, Any], api_version: str) -> tuple[dict[str, Any], list[str]]:
    """Drop the request fields ``api_version`` no longer accepts.

    The one place where the difference between API versions lives. ``2026-10-21``
    removed ``temperature``, ``top_p`` and ``top_k`` from the Messages API: a request
    carrying any of them gets HTTP 400 ("Extra inputs are not permitted"), whatever
    the value. The other changes of that version (``document`` blocks in assistant
    messages, ``citations`` on user text blocks) concern content a text chat never
    sends. Versions after ``2026-10-21`` are assumed to keep its rules.

    Args:
        body: The Messages request body; not modified.
        api_version: The ``anthropic-version`` header value.

    Returns:
        The body to send, and the names of the fields that were dropped.
    """
    if api_version < API_VERSION_2026:
        return body, []
    dropped = [name for name in SAMPLING_PARAMETERS if name in body]
    return {key: value for key, value in body.items() if key not in dropped}, dropped


def map_stop_reason(raw: str | None) -> FinishReason:
    """Normalise an Anthropic ``stop_reason``; unknown ones (``pause_turn``...) are ``stop``."""
    return _STOP_REASONS.get(raw or "", "stop")


def parse_error(response: httpx.Response, body: bytes) -> ErrorInfo:
    """Read ``{"type": "error", "error": {"type", "message"}, "request_id"}``.

    The request id is kept in the message: it is what Anthropic's support asks for.
    """
    from tuichat.plugin_api import ErrorInfo, default_error_parser

    try:
        data = json.loads(body)
    except ValueError:
        return default_error_parser(response, body)
    if not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        return default_error_parser(response, body)
    error = data["error"]
    message = error.get("message")
    request_id = data.get("request_id") or response.headers.get("request-id")
    text = str(message) if message else None
    if text and isinstance(request_id, str) and request_id:
        text = f"{text} (request {request_id})"
    raw_type = error.get("type")
    return ErrorInfo(message=text, type=str(raw_type) if raw_type else None)


#: The usage fields that together make the prompt: ``input_tokens`` leaves out the
#: tokens read from or written to the cache, and the person wants the whole prompt.
_INPUT_FIELDS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")

#: Block kinds a rebuilt reply would lose: a reply holding one is kept as it came.
_NATIVE_KINDS = frozenset({"thinking", "redacted_thinking", "tool_use"})


@dataclass(slots=True)
class _Block:
    """One content block as its events arrive (``content_block_start``, then deltas)."""

    type: str
    #: ``text_delta`` texts or ``thinking_delta`` thinkings.
    pieces: list[str] = field(default_factory=list)
    #: ``signature_delta`` signatures (one, in the documented stream).
    signature: list[str] = field(default_factory=list)
    #: A ``redacted_thinking`` block's ``data``.
    data: str | None = None
    #: A ``tool_use`` block's id, name, ``input_json_delta`` pieces and start input.
    id: str = ""
    name: str = ""
    json: list[str] = field(default_factory=list)
    start_input: Any = None

    def arguments(self) -> str:
        """The tool input as the model wrote it: the ``partial_json`` pieces joined.

        The streaming docs: the pieces are "partial JSON strings" that together make the
        ``input`` object; a block that starts with its whole input (a proxy) and streams
        no pieces keeps that input.
        """
        streamed = "".join(self.json)
        if streamed:
            return streamed
        if isinstance(self.start_input, dict) and self.start_input:
            return json.dumps(self.start_input, ensure_ascii=False, separators=(",", ":"))
        return "{}"

    def native(self) -> dict[str, Any] | None:
        """The block as the API takes it back unchanged, or ``None`` for nothing to send
        (an empty text block is a 400; kinds this plugin does not know are left out)."""
        if self.type == "text":
            text = "".join(self.pieces)
            return {"type": "text", "text": text} if text else None
        if self.type == "thinking":
            return {
                "type": "thinking",
                "thinking": "".join(self.pieces),
                "signature": "".join(self.signature),
            }
        if self.type == "redacted_thinking":
            return {"type": "redacted_thinking", "data": self.data or ""}
        if self.type == "tool_use":
            return {
                "type": "tool_use",
                "id": self.id,
                "name": self.name,
                "input": _tool_input(self.arguments()),
            }
        return None


@dataclass(slots=True)
class _Reply:
    """What a stream told so far: content blocks, token counts, the stop reason."""

    blocks: dict[int, _Block] = field(default_factory=dict)
    #: The latest value of each usage field (``_INPUT_FIELDS`` and ``output_tokens``).
    counts: dict[str, int] = field(default_factory=dict)
    stop_reason: str | None = None

    def ending(self) -> list[ChatEvent]:
        """The events that close the reply at ``message_stop``: its tool calls, its
        native form, the usage and the finish.

        A reply cut by ``max_tokens`` asks for no tool: its last call may have half its
        input, and a ``tool_use`` without a result would break the next request.
        """
        reason = map_stop_reason(self.stop_reason)
        blocks = [self.blocks[index] for index in sorted(self.blocks)]
        if reason == "length":
            blocks = [block for block in blocks if block.type != "tool_use"]
        events: list[ChatEvent] = [
            ToolCall(block.id, block.name, block.arguments())
            for block in blocks
            if block.type == "tool_use"
        ]
        if events and reason == "stop":
            reason = "tool_calls"
        if any(block.type in _NATIVE_KINDS for block in blocks):
            # Thinking blocks go back unchanged (their signature is checked) in the turn
            # that asked for tools: the extended thinking docs, "Preserving thinking
            # blocks". The whole content is kept, in order, text and tool_use included.
            native = [data for block in blocks if (data := block.native()) is not None]
            events.append(NativeReply(native))
        usage = self.usage()
        if usage is not None:
            events.append(usage)
        events.append(Finish(reason, self.stop_reason))
        return events

    def count(self, usage: dict[str, Any]) -> None:
        """Take the counts ``usage`` gives; a field it leaves out or nulls is kept.

        ``message_delta`` counts are cumulative and replace ``message_start``'s field
        by field, as the official SDKs accumulate them.
        """
        for name in (*_INPUT_FIELDS, "output_tokens"):
            value = int_or_none(usage.get(name))
            if value is not None:
                self.counts[name] = value

    def usage(self) -> Usage | None:
        inputs = [self.counts[name] for name in _INPUT_FIELDS if name in self.counts]
        input_tokens = sum(inputs) if inputs else None
        output_tokens = self.counts.get("output_tokens")
        if input_tokens is None and output_tokens is None:
            return None
        return Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=self.counts.get("cache_read_input_tokens"),
            cache_write_tokens=self.counts.get("cache_creation_input_tokens"),
        )


class AnthropicProvider(Provider):
    """Claude through the Messages API, streamed."""

    name: ClassVar[str] = "anthropic"
    display_name: ClassVar[str] = "Anthropic"
    Settings: ClassVar[type[ProviderSettings]] = AnthropicSettings
    key_env: ClassVar[tuple[str, ...]] = ("ANTHROPIC_API_KEY",)
    base_url_env: ClassVar[tuple[str, ...]] = ("ANTHROPIC_BASE_URL",)
    # The Messages API continues a trailing assistant message: Continue is seamless.
    supports_prefill: ClassVar[bool] = True
    supports_tools: ClassVar[bool] = True

    @property
    def _settings(self) -> AnthropicSettings:
        settings = self.settings
        assert isinstance(settings, AnthropicSettings)
        return settings

    def url(self, path: str) -> str:
        """``path`` (``/v1/messages``) under the base URL, its path prefix kept."""
        base = (self._settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        return base + path

    def headers(self) -> dict[str, str]:
        """The key and version headers of every request."""
        headers = {"anthropic-version": self._settings.api_version}
        key = self.api_key()
        if key:
            headers["x-api-key"] = key
        return headers

    def attachment_limits(self, model: str) -> AttachmentLimits:
        """Images and PDFs, as every current Claude model takes them."""
        return ANTHROPIC_LIMITS

    def left_out(self, request: ChatRequest) -> list[LeftOut]:
        """The sampling settings the configured API version refuses (see
        :func:`fit_body_to_version`): the request goes out without them."""
        version = self._settings.api_version
        if version < API_VERSION_2026:
            return []
        asked = {"temperature": request.temperature} | {
            name: request.extra.get(name) for name in SAMPLING_PARAMETERS if name != "temperature"
        }
        return [
            LeftOut(name, f"Anthropic's API version {version} takes none")
            for name, value in asked.items()
            if value is not None
        ]

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The Messages request body for ``request``, fitted to the configured version."""
        settings = self._settings
        system_parts = [request.system] if request.system else []
        messages: list[dict[str, Any]] = []
        for message in request.messages:
            native = self._native(message)
            if message.role == "system":
                # Anthropic has no system role in messages: it joins the top-level prompt.
                system_parts.append(message.content)
            elif message.role == "tool":
                # The results answer the calls of the turn before, as one user turn.
                if message.tool_results:
                    messages.append({"role": "user", "content": _tool_results(message)})
            elif native is not None:
                messages.append({"role": "assistant", "content": native})
            elif message.role == "assistant" and message.tool_calls:
                messages.append({"role": "assistant", "content": _assistant_blocks(message)})
            elif message.content.strip() or message.parts:
                # An empty text block is a 400 ("text content blocks must be non-empty"),
                # and an interrupted reply can leave an empty assistant message behind.
                messages.append({"role": message.role, "content": _content(message)})
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens or settings.default_max_tokens,
            "messages": messages,
            "stream": True,
        }
        system = "\n\n".join(part for part in system_parts if part)
        if system:
            body["system"] = system
        if request.tools:
            # Only when tools are offered: a request that offers none (the one after the
            # last allowed tool round) may still hold tool_use and tool_result blocks, which
            # the API takes without tools since 2025-02-27 (API release notes).
            body["tools"] = [_tool(spec) for spec in request.tools]
        if self._caches(system, request):
            _mark_cache_breakpoints(body)
        if request.temperature is not None:
            body["temperature"] = request.temperature
        thinking = self._thinking()
        if thinking is not None:
            body["thinking"] = thinking
        if settings.effort:
            body["output_config"] = {"effort": settings.effort}
        body = merge_extra(body, request.extra)
        body["stream"] = True  # the reader below only understands the event stream
        fitted, _dropped = fit_body_to_version(body, settings.api_version)
        return fitted

    def _native(self, message: ChatMessage) -> list[dict[str, Any]] | None:
        """The content blocks of an assistant message as this plugin received them, to
        send back unchanged; ``None`` when there are none (or they are another plugin's)."""
        native = message.native
        if (
            message.role != "assistant"
            or native is None
            or native.plugin != self.name
            or not isinstance(native.data, list)
            or not native.data
        ):
            return None
        # A copy: the cache breakpoint may mark the last block of the last message.
        blocks: list[dict[str, Any]] = copy.deepcopy(native.data)
        return blocks

    def _caches(self, system: str, request: ChatRequest) -> bool:
        setting = self._settings.prompt_cache
        if setting != "auto":
            return setting == "always"
        characters = (
            len(system)
            + sum(len(message.content) for message in request.messages)
            + sum(
                len(call.arguments) for message in request.messages for call in message.tool_calls
            )
            + sum(
                len(result.content)
                for message in request.messages
                for result in message.tool_results
            )
            + sum(len(json.dumps(dict(spec.parameters))) for spec in request.tools)
        )
        files = sum(len(part.data) for message in request.messages for part in message.parts)
        # Files count by their size: an image or a PDF is many tokens, far beyond 1,024.
        return characters // 4 + files // 4 >= self._settings.prompt_cache_min_tokens

    def _thinking(self) -> dict[str, Any] | None:
        settings = self._settings
        if settings.thinking == "adaptive":
            return {"type": "adaptive", "display": settings.thinking_display}
        if settings.thinking == "enabled":
            return {"type": "enabled", "budget_tokens": settings.thinking_budget}
        if settings.thinking == "disabled":
            return {"type": "disabled"}
        return None

    async def list_models(self) -> list[ModelInfo]:
        """Every model of ``GET /v1/models``, following ``has_more``/``last_id`` pages.

        Raises:
            ProviderError: The request failed or the answer is not a model list.
        """
        from tuichat.plugin_api import request_json

        models: list[ModelInfo] = []
        seen: set[str] = set()
        after: str | None = None
        for _page in range(MAX_MODEL_PAGES):
            params = {"limit": "1000"}
            if after:
                params["after_id"] = after
            try:
                data = await request_json(
                    self,
                    "GET",
                    self.url("/v1/models"),
                    headers=self.headers(),
                    params=params,
                    parse_error=redacting(parse_error, self.secrets()),
                )
            except errors.NotFound:
                if self.settings.models and not models:
                    return self._configured_models()
                raise
            if not isinstance(data, dict) or not isinstance(data.get("data", []), list):
                raise errors.MalformedResponse(
                    f"{self.label} answered GET /v1/models with something that is not a model "
                    "list; check base_url.",
                    provider=self.label,
                )
            for item in data.get("data") or []:
                if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                    continue
                model_id = item["id"]
                if model_id in seen:
                    continue
                seen.add(model_id)
                name = item.get("display_name")
                models.append(
                    ModelInfo(
                        id=model_id,
                        provider=self.instance_name,
                        name=strip_controls(name) if isinstance(name, str) else None,
                        context_window=int_or_none(item.get("max_input_tokens")),
                        max_output_tokens=int_or_none(item.get("max_tokens")),
                    )
                )
            last = data.get("last_id")
            if not data.get("has_more") or not isinstance(last, str) or not last or last == after:
                break
            after = last
        return models

    async def count_tokens(self, request: ChatRequest) -> int | None:
        """``POST /v1/messages/count_tokens``: the request's input tokens, as the API
        counts them (the body of :meth:`build_body` less what only generation takes).

        Raises:
            ProviderError: The request failed or the answer holds no count.
        """
        from tuichat.plugin_api import request_json

        body = self.build_body(request)
        counted = {name: value for name, value in body.items() if name in COUNT_FIELDS}
        data = await request_json(
            self,
            "POST",
            self.url("/v1/messages/count_tokens"),
            headers=self.headers(),
            json_body=counted,
            parse_error=redacting(parse_error, self.secrets()),
        )
        tokens = int_or_none(data.get("input_tokens")) if isinstance(data, dict) else None
        if tokens is None:
            raise errors.MalformedResponse(
                f"{self.label} answered POST /v1/messages/count_tokens without input_tokens; "
                "check base_url.",
                provider=self.label,
            )
        return tokens

    def _configured_models(self) -> list[ModelInfo]:
        return [ModelInfo(id=model, provider=self.instance_name) for model in self.settings.models]

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[ChatEvent, None]:
        """Stream one reply: text and thinking deltas, then ``Usage`` and ``Finish``.

        Raises:
            ProviderError: HTTP errors, an ``error`` event, malformed events, or a
                stream that ends before ``message_stop`` (``StreamInterrupted``).
        """
        from tuichat.plugin_api import open_sse

        body = self.build_body(request)
        reply = _Reply()
        async with open_sse(
            self,
            "POST",
            self.url("/v1/messages"),
            json_body=body,
            headers=self.headers(),
            parse_error=redacting(parse_error, self.secrets()),
        ) as source:
            async for sse in source.aiter_sse():
                if sse.event == "ping" or not sse.data.strip():
                    continue
                data = self._event_json(sse)
                kind = sse.event
                if kind == "message":
                    # A proxy that drops event names still leaves the type in the data.
                    kind = str(data.get("type") or "")
                if kind == "message_stop":
                    for event in reply.ending():
                        yield event
                    return
                if kind == "error":
                    raise self._error_event(data)
                for event in self._handle(kind, data, reply):
                    yield event
        raise errors.StreamInterrupted(
            f"The {self.label} stream ended before message_stop; the partial reply is kept, "
            "try again for the rest.",
            provider=self.label,
        )

    def _handle(self, kind: str, data: dict[str, Any], reply: _Reply) -> list[ChatEvent]:
        """Apply one event to ``reply``; return the deltas it carries."""
        if kind == "message_start":
            message = data.get("message")
            if not isinstance(message, dict):
                return []
            usage = message.get("usage")
            if isinstance(usage, dict):
                reply.count(usage)
            response_id, model = message.get("id"), message.get("model")
            return [
                ResponseInfo(
                    id=response_id if isinstance(response_id, str) and response_id else None,
                    model=model if isinstance(model, str) and model else None,
                )
            ]
        if kind == "content_block_start":
            block = data.get("content_block")
            index = data.get("index")
            if not isinstance(block, dict) or not isinstance(index, int):
                return []
            block_type = str(block.get("type") or "")
            state = _Block(block_type)
            reply.blocks[index] = state
            # Blocks usually start empty, but the start event may carry text.
            if block_type == "text":
                return self._piece(state, TextDelta, block.get("text"))
            if block_type == "thinking":
                signature = block.get("signature")
                if isinstance(signature, str) and signature:
                    state.signature.append(signature)
                return self._piece(state, ReasoningDelta, block.get("thinking"))
            if block_type == "redacted_thinking":
                redacted = block.get("data")
                state.data = redacted if isinstance(redacted, str) else None
            elif block_type == "tool_use":
                # The streaming docs: a tool_use block starts with its id, name and an
                # empty input; the input then comes as input_json_delta pieces.
                block_id, name = block.get("id"), block.get("name")
                state.id = block_id if isinstance(block_id, str) else ""
                state.name = name if isinstance(name, str) else ""
                state.start_input = block.get("input")
            return []
        if kind == "content_block_delta":
            delta = data.get("delta")
            if not isinstance(delta, dict):
                return []
            delta_type = delta.get("type")
            index = data.get("index")
            known = reply.blocks.get(index) if isinstance(index, int) else None
            # A delta for a block that never started: its text is shown, nothing kept.
            state = known if known is not None else _Block("")
            if delta_type == "text_delta":
                return self._piece(state, TextDelta, delta.get("text"))
            if delta_type == "thinking_delta":
                return self._piece(state, ReasoningDelta, delta.get("thinking"))
            if delta_type == "signature_delta":
                signature = delta.get("signature")
                if isinstance(signature, str):
                    state.signature.append(signature)
            elif delta_type == "input_json_delta":
                piece = delta.get("partial_json")
                if isinstance(piece, str):
                    state.json.append(piece)
            # citations_delta and later kinds: nothing to show.
            return []
        if kind == "message_delta":
            delta = data.get("delta")
            if isinstance(delta, dict) and isinstance(delta.get("stop_reason"), str):
                reply.stop_reason = delta["stop_reason"]
            usage = data.get("usage")
            if isinstance(usage, dict):
                # Cumulative counts: they replace what message_start said, field by field.
                reply.count(usage)
            return []
        # content_block_stop and event types added later: nothing to do.
        return []

    @staticmethod
    def _piece(state: _Block, kind: Callable[[str], ChatEvent], text: Any) -> list[ChatEvent]:
        """Keep a text or thinking piece in its block and show it."""
        if not isinstance(text, str) or not text:
            return []
        state.pieces.append(text)
        return [kind(text)]

    def _event_json(self, sse: ServerSentEvent) -> dict[str, Any]:
        try:
            data = json.loads(sse.data)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise errors.MalformedResponse(
                f"{self.label} sent a {sse.event or 'message'!r} event that is not a JSON "
                "object; the reply is incomplete (check base_url if a proxy sits in between).",
                provider=self.label,
            )
        return data

    def _error_event(self, data: dict[str, Any]) -> errors.ProviderError:
        from tuichat.plugin_api import error_for_event, key_hint

        error = data.get("error")
        error = error if isinstance(error, dict) else {}
        raw_type = error.get("type")
        message = error.get("message")
        detail = str(message) if message else None
        request_id = data.get("request_id")
        if detail and isinstance(request_id, str) and request_id:
            detail = f"{detail} (request {request_id})"
        raw = str(raw_type) if raw_type else None
        mapped = error_for_event(
            provider=self.label,
            raw_type=raw,
            detail=detail,
            # The type says which error it is (billing_error is no server fault to retry).
            status=_ERROR_STATUS.get(raw or ""),
            secrets=self.secrets(),
            key_hint=key_hint(self),
        )
        mapped.status = None  # it came after HTTP 200: there is no error status
        return mapped


@hookimpl
def register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register the Anthropic provider."""
    register(AnthropicProvider)
