"""tuichat-gemini: Google's Gemini models through the Gemini API (Generative Language API).

The provider speaks REST with the core's shared ``httpx`` client (no SDK):
``POST {base_url}/v1beta/models/{model}:streamGenerateContent?alt=sse`` and
``GET {base_url}/v1beta/models``. The key travels only in the ``x-goog-api-key``
header, never in the URL, so it cannot leak into logs, proxies or error text.

The stream is data-only server-sent events, each a ``GenerateContentResponse``;
there is no ``[DONE]``: the server ends the body after the candidate that carries
the ``finishReason``. The stream is read to its end, as Google's SDKs do, and the last
``finishReason`` wins: Gemini once put ``"STOP"`` on every chunk, and proxies still
do, so stopping at the first one would cut the reply short. A reply that gave its
``finishReason`` is complete even if the connection then stalls or drops.

Importing this module must stay cheap (it is imported whenever plugins load), so
the HTTP helpers of ``tuichat.plugin_api`` (and with them ``httpx``) are imported
inside the methods that talk to the network.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote

from pydantic import Field, model_validator

from tuichat.plugin_api import (
    AttachmentLimits,
    ChatEvent,
    ChatMessage,
    ChatRequest,
    Finish,
    FinishReason,
    ModelInfo,
    NativeReply,
    Provider,
    ProviderSettings,
    ReasoningDelta,
    ResponseInfo,
    TextDelta,
    ToolCall,
    ToolResult,
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
    "GeminiProvider",
    "GeminiSettings",
    "map_finish_reason",
    "parse_duration",
    "parse_error",
    "register_providers",
]

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
#: Pages of ``GET /models`` read at most: a server that always sends a
#: ``nextPageToken`` must not keep us looping.
MAX_MODEL_PAGES = 50

_FINISH_REASONS: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    # "The candidate content was flagged for using an unsupported language."
    "LANGUAGE": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    # The model produced something unusable: the reply is not a proper answer.
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "TOO_MANY_TOOL_CALLS": "error",
    "MISSING_THOUGHT_SIGNATURE": "error",
}

#: The HTTP status of each canonical ``google.rpc.Code`` name, for an error frame that
#: gives its ``status`` but no ``code``.
_STATUS_CODES: dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INTERNAL": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}

# A google.protobuf.Duration in JSON: "7s", "1.5s", "0.250s".
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
# A base URL that already names the API version ("https://proxy/gemini/v1beta").
_VERSIONED = re.compile(r"/v1(?:alpha|beta)?\d*$")


class GeminiSettings(ProviderSettings):
    """Settings of a ``[providers.gemini]`` table (or any table with ``plugin = "gemini"``)."""

    base_url: str = DEFAULT_BASE_URL
    """Without the version, as the official SDKs spell it; a path prefix is kept."""
    default_model: str = "gemini-3.8-flash"
    """The model used when none is chosen."""
    api_version: str = "v1beta"
    """The API version in the path; ``v1beta`` carries every current feature."""
    include_thoughts: bool = False
    """Ask for thought summaries; they are shown apart from the reply."""
    thinking_level: Literal["minimal", "low", "medium", "high"] | None = None
    """Gemini 3 thinking depth; the model's default when unset."""
    thinking_budget: int | None = Field(default=None, ge=-1)
    """Gemini 2.5 thinking tokens (0 off, -1 dynamic); not with ``thinking_level``."""

    @model_validator(mode="after")
    def _one_thinking_knob(self) -> GeminiSettings:
        if self.thinking_level is not None and self.thinking_budget is not None:
            # The API answers 400 when both are sent.
            raise ValueError("set thinking_level or thinking_budget, not both")
        return self


def map_finish_reason(raw: str | None) -> FinishReason:
    """Normalise a Gemini ``finishReason``; ``OTHER`` and unknown ones are ``stop``."""
    return _FINISH_REASONS.get(raw or "", "stop")


def parse_duration(value: Any) -> float | None:
    """Seconds from a protobuf Duration: ``"7s"``, ``"1.5s"`` or ``{"seconds", "nanos"}``."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        return float(match.group(1)) if match else None
    if isinstance(value, dict):
        seconds, nanos = value.get("seconds", 0), value.get("nanos", 0)
        try:
            return float(seconds) + float(nanos) / 1e9
        except (TypeError, ValueError):
            return None
    return None


def _error_object(data: Any) -> dict[str, Any] | None:
    # streamGenerateContent without alt=sse answers a JSON array; be lenient.
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        error: dict[str, Any] = data["error"]
        return error
    return None


def _read_error(error: dict[str, Any]) -> tuple[str | None, str | None, float | None]:
    """Message, type and retry delay of a ``google.rpc.Status``.

    The type is the ``ErrorInfo.reason`` when there is one (``API_KEY_INVALID`` says
    more than ``INVALID_ARGUMENT``), else the status name.
    """
    message = error.get("message")
    raw_type = error.get("status")
    retry_after = None
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, dict):
            continue
        kind = str(detail.get("@type") or "")
        if kind.endswith("google.rpc.RetryInfo"):
            retry_after = parse_duration(detail.get("retryDelay"))
        elif kind.endswith("google.rpc.ErrorInfo") and detail.get("reason"):
            raw_type = detail["reason"]
    return (
        str(message) if message else None,
        str(raw_type) if raw_type else None,
        retry_after,
    )


def parse_error(response: httpx.Response, body: bytes) -> ErrorInfo:
    """Read ``{"error": {"code", "message", "status", "details": [...]}}``.

    ``google.rpc.RetryInfo.retryDelay`` (``"7s"``) becomes ``retry_after``: Gemini
    says when to retry there, not in a ``Retry-After`` header.
    """
    from tuichat.plugin_api import ErrorInfo, default_error_parser

    try:
        error = _error_object(json.loads(body))
    except ValueError:
        error = None
    if error is None:
        return default_error_parser(response, body)
    message, raw_type, retry_after = _read_error(error)
    return ErrorInfo(message=message, type=raw_type, retry_after=retry_after)


_MB = 1024 * 1024

#: "Only small files can be sent as inline data because the total request size limit
#: is 20 MB" (Gemini API, input file requirements); larger files need the Files API,
#: which tuichat does not use.
GEMINI_LIMITS = AttachmentLimits(
    max_image_bytes=20 * _MB,
    max_document_bytes=20 * _MB,
    max_request_bytes=20 * _MB,
    source="the Gemini API (inline data)",
)


def _parts(message: ChatMessage) -> list[dict[str, Any]]:
    """A message's parts: ``inline_data`` for each file, in the order given, then the text.

    The REST API takes ``inline_data``/``mime_type`` as well as ``inlineData``/``mimeType``;
    DESIGN 5a names the first.
    """
    parts: list[dict[str, Any]] = [
        {
            "inline_data": {
                "mime_type": part.media_type,
                "data": base64.b64encode(part.data).decode("ascii"),
            }
        }
        for part in message.parts
    ]
    if message.content.strip():
        parts.append({"text": message.content})
    return parts


#: The documented stand-in for a thought signature on a function call that Gemini did
#: not make (a conversation begun with another model): the thought signatures docs, FAQ,
#: "you can set the following dummy signatures of either
#: context_engineering_is_the_way_to_go or skip_thought_signature_validator". The second
#: is also the one Vertex AI documents.
SIGNATURE_BYPASS = "skip_thought_signature_validator"

#: Keys of an argument schema that let a function take arguments without naming them.
_OPEN_SCHEMA_KEYS = ("anyOf", "oneOf", "allOf", "$ref", "additionalProperties")


def _declaration(spec: ToolSpec) -> dict[str, Any]:
    """A tool as a ``FunctionDeclaration``, its arguments' schema as ``parametersJsonSchema``.

    The API reference: ``parametersJsonSchema`` "describes the parameters to the function
    in JSON Schema format" and is "mutually exclusive with parameters". The older
    ``parameters`` field is an OpenAPI ``Schema`` message that refuses keys it does not
    know (HTTP 400 "Unknown name "additionalProperties" ... Cannot find field"), which the
    schemas MCP servers publish carry (``additionalProperties``, ``$schema``); the JSON
    Schema field takes them (the structured output docs list ``additionalProperties``,
    ``anyOf``, ``$ref``, ``$defs``, ``title``... and say other keys may be ignored).
    ``$schema`` only names the dialect and is left out. A function without arguments
    leaves the schema unset, as the reference allows.
    """
    declaration: dict[str, Any] = {"name": spec.name, "description": spec.description}
    schema = {key: value for key, value in spec.parameters.items() if key != "$schema"}
    if schema.get("properties") or any(key in schema for key in _OPEN_SCHEMA_KEYS):
        declaration["parametersJsonSchema"] = schema
    return declaration


def _args(arguments: str) -> dict[str, Any]:
    """A call's JSON arguments as the ``args`` object of a ``functionCall`` part (text that
    is not a JSON object goes back wrapped, so the model sees what it wrote)."""
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"INVALID_JSON": arguments}


def _model_parts(message: ChatMessage) -> list[dict[str, Any]]:
    """An assistant turn that asked for tools, rebuilt from its text and calls (it was
    not Gemini's, or Gemini's own parts were not kept): a text part, then one
    ``functionCall`` part per call, the first carrying :data:`SIGNATURE_BYPASS` (Gemini 3
    wants a signature on the first call of a step; only the first of parallel calls has
    one, thought signatures docs). The calls' ids were not Gemini's: none is sent."""
    parts: list[dict[str, Any]] = []
    if message.content.strip():
        parts.append({"text": message.content})
    for number, call in enumerate(message.tool_calls):
        part: dict[str, Any] = {"functionCall": {"name": call.name, "args": _args(call.arguments)}}
        if number == 0:
            part["thoughtSignature"] = SIGNATURE_BYPASS
        parts.append(part)
    return parts


def _function_response(result: ToolResult, gemini_ids: set[str]) -> dict[str, Any]:
    """A tool result as a ``functionResponse`` part: ``{"output": text}``, or
    ``{"error": text}`` for a failed or declined call (DESIGN.md 5a; the API reference,
    ``FunctionResponse.response``: "use "output" key to specify function output and
    "error" key to specify error details"), with the call's ``id`` when Gemini gave it
    one (the reference: the id "of the function call this response is for")."""
    response = {"error": result.content} if result.is_error else {"output": result.content}
    function: dict[str, Any] = {}
    if result.call_id in gemini_ids:
        function["id"] = result.call_id
    function["name"] = result.name
    function["response"] = response
    return {"functionResponse": function}


def _call_ids(parts: Any) -> set[str]:
    """The ids Gemini gave the function calls among ``parts``."""
    ids: set[str] = set()
    for part in parts if isinstance(parts, list) else []:
        call = part.get("functionCall") if isinstance(part, dict) else None
        if isinstance(call, dict) and isinstance(call.get("id"), str) and call["id"]:
            ids.add(call["id"])
    return ids


@dataclass(slots=True)
class _Text:
    """Plain text parts of one kind (thought or not) merged across chunks, as pieces."""

    thought: bool
    pieces: list[str]

    def part(self) -> dict[str, Any]:
        part: dict[str, Any] = {"text": "".join(self.pieces)}
        if self.thought:
            part["thought"] = True
        return part


@dataclass(slots=True)
class _Reply:
    """The model content of one reply, its parts merged across chunks.

    The thinking docs: "Return the entire response with all parts back to the model in
    subsequent turns. Don't concatenate parts with signatures together. Don't merge one
    part with a signature with another part without a signature." So consecutive plain
    text parts of one kind (thought or not), none with a signature, are joined; every
    other part (a signature, a ``functionCall``, a kind this plugin does not know) is kept
    as it came, in its place. A signature may come on its own in a last chunk, as an
    empty text part: it is kept as such.
    """

    parts: list[_Text | dict[str, Any]] = field(default_factory=list)

    def add(self, part: dict[str, Any]) -> None:
        text = part.get("text")
        if isinstance(text, str) and set(part) <= {"text", "thought"}:
            if not text:
                return  # an empty part with nothing else: Gemini refuses empty parts
            thought = part.get("thought") is True
            last = self.parts[-1] if self.parts else None
            if isinstance(last, _Text) and last.thought == thought:
                last.pieces.append(text)
            else:
                self.parts.append(_Text(thought, [text]))
            return
        self.parts.append(copy.deepcopy(part))

    def calls(self) -> list[dict[str, Any]]:
        """The ``functionCall`` objects, in order."""
        return [
            part["functionCall"]
            for part in self.parts
            if isinstance(part, dict) and isinstance(part.get("functionCall"), dict)
        ]

    def drop_calls(self) -> None:
        self.parts = [
            part for part in self.parts if isinstance(part, _Text) or "functionCall" not in part
        ]

    def native(self) -> list[dict[str, Any]] | None:
        """The parts to send back, or ``None`` when nothing in them needs to go back as it
        came (no signature, no function call): the reply is then rebuilt from its text."""
        if not any(
            isinstance(part, dict) and ("thoughtSignature" in part or "functionCall" in part)
            for part in self.parts
        ):
            return None
        return [part.part() if isinstance(part, _Text) else part for part in self.parts]


def _tool_calls(calls: list[dict[str, Any]]) -> list[ToolCall]:
    """:class:`ToolCall` events of ``functionCall`` objects: ``args`` (whole, never in
    pieces) as compact JSON in the model's key order, the call's ``id`` when Gemini gave
    one (not already used), else ``call_N``, unique in the reply."""
    given = {call["id"] for call in calls if isinstance(call.get("id"), str) and call["id"]}
    used: set[str] = set()
    events: list[ToolCall] = []
    number = 0
    for call in calls:
        name = call.get("name")
        if not isinstance(name, str) or not name:
            continue  # nothing to run
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id or call_id in used:
            while f"call_{number}" in given:
                number += 1
            call_id = f"call_{number}"
            given.add(call_id)
        used.add(call_id)
        args = call.get("args")
        arguments = (
            json.dumps(args, ensure_ascii=False, separators=(",", ":"))
            if isinstance(args, Mapping)
            else "{}"
        )
        events.append(ToolCall(call_id, name, arguments))
    return events


class GeminiProvider(Provider):
    """Gemini through ``streamGenerateContent``, streamed as server-sent events."""

    name: ClassVar[str] = "gemini"
    display_name: ClassVar[str] = "Google Gemini"
    Settings: ClassVar[type[ProviderSettings]] = GeminiSettings
    key_env: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    base_url_env: ClassVar[tuple[str, ...]] = ("GEMINI_BASE_URL",)
    supports_tools: ClassVar[bool] = True

    @property
    def _settings(self) -> GeminiSettings:
        settings = self.settings
        assert isinstance(settings, GeminiSettings)
        return settings

    def api_root(self) -> str:
        """The base URL with the API version (``.../v1beta``), its path prefix kept."""
        base = (self._settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        if _VERSIONED.search(base):
            # Someone pasted the versioned URL: use it as it is rather than doubling it.
            return base
        return f"{base}/{self._settings.api_version}"

    def chat_url(self, model: str) -> str:
        """The ``streamGenerateContent`` URL of ``model`` (``models/`` prefix optional)."""
        model = model.removeprefix("models/")
        # Quoted so that a model name can never change the path ("../", "?").
        return f"{self.api_root()}/models/{quote(model, safe='')}:streamGenerateContent"

    def count_url(self, model: str) -> str:
        """The ``countTokens`` URL of ``model``."""
        model = model.removeprefix("models/")
        return f"{self.api_root()}/models/{quote(model, safe='')}:countTokens"

    async def count_tokens(self, request: ChatRequest) -> int | None:
        """``POST models/{model}:countTokens`` with the whole ``generateContentRequest``
        (so the system instruction and tools count too): its ``totalTokens``.

        Raises:
            ProviderError: The request failed or the answer holds no count.
        """
        from tuichat.plugin_api import request_json

        model = request.model.removeprefix("models/")
        inner = {"model": f"models/{model}", **self.build_body(request)}
        try:
            data = await request_json(
                self,
                "POST",
                self.count_url(model),
                headers=self.headers(),
                json_body={"generateContentRequest": inner},
                parse_error=redacting(parse_error, self.secrets()),
            )
        except errors.BadRequest as exc:
            raise self._key_error(exc) from None
        tokens = int_or_none(data.get("totalTokens")) if isinstance(data, dict) else None
        if tokens is None:
            raise errors.MalformedResponse(
                f"{self.label} answered countTokens without totalTokens; check base_url.",
                provider=self.label,
            )
        return tokens

    def attachment_limits(self, model: str) -> AttachmentLimits:
        """Images and PDFs inline, within the API's 20 MB request."""
        return GEMINI_LIMITS

    def headers(self) -> dict[str, str]:
        """The key header; the key is never put in the URL."""
        key = self.api_key()
        return {"x-goog-api-key": key} if key else {}

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The ``GenerateContentRequest`` body for ``request``."""
        settings = self._settings
        system_parts = [request.system] if request.system else []
        contents: list[dict[str, Any]] = []
        gemini_ids: set[str] = set()
        for message in request.messages:
            native = self._native(message)
            if message.role == "system":
                system_parts.append(message.content)
            elif message.role == "tool":
                # The function calling docs send the responses back in a user turn.
                if message.tool_results:
                    parts = [_function_response(r, gemini_ids) for r in message.tool_results]
                    contents.append({"role": "user", "parts": parts})
            elif native is not None:
                # The model's own parts, signatures and all, exactly as they came.
                gemini_ids |= _call_ids(native)
                contents.append({"role": "model", "parts": native})
            elif message.role == "assistant" and message.tool_calls:
                contents.append({"role": "model", "parts": _model_parts(message)})
            elif message.content.strip() or message.parts:
                # Gemini rejects empty parts; an interrupted reply may be empty.
                role = "model" if message.role == "assistant" else "user"
                contents.append({"role": role, "parts": _parts(message)})
        body: dict[str, Any] = {"contents": contents}
        system = "\n\n".join(part for part in system_parts if part)
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        if request.tools:
            # Only when tools are offered: the request after the last allowed round names
            # none. One Tool holds every declaration (function calling docs).
            body["tools"] = [{"functionDeclarations": [_declaration(t) for t in request.tools]}]
        config: dict[str, Any] = {}
        if request.temperature is not None:
            config["temperature"] = request.temperature
        if request.max_tokens is not None:
            config["maxOutputTokens"] = request.max_tokens
        thinking: dict[str, Any] = {}
        if settings.include_thoughts:
            thinking["includeThoughts"] = True
        if settings.thinking_level is not None:
            thinking["thinkingLevel"] = settings.thinking_level
        if settings.thinking_budget is not None:
            thinking["thinkingBudget"] = settings.thinking_budget
        if thinking:
            config["thinkingConfig"] = thinking
        if config:
            body["generationConfig"] = config
        return merge_extra(body, request.extra)

    def _native(self, message: ChatMessage) -> list[dict[str, Any]] | None:
        """The parts of an assistant message as this plugin received them, to send back
        unchanged; ``None`` when there are none (or they are another plugin's)."""
        native = message.native
        if (
            message.role != "assistant"
            or native is None
            or native.plugin != self.name
            or not isinstance(native.data, list)
            or not native.data
        ):
            return None
        parts: list[dict[str, Any]] = copy.deepcopy(native.data)
        return parts

    async def list_models(self) -> list[ModelInfo]:
        """The models that can chat (``generateContent``), following ``nextPageToken``.

        Raises:
            ProviderError: The request failed or the answer is not a model list.
        """
        from tuichat.plugin_api import request_json

        models: list[ModelInfo] = []
        seen: set[str] = set()
        token: str | None = None
        for _page in range(MAX_MODEL_PAGES):
            params = {"pageSize": "1000"}
            if token:
                params["pageToken"] = token
            try:
                data = await request_json(
                    self,
                    "GET",
                    f"{self.api_root()}/models",
                    headers=self.headers(),
                    params=params,
                    parse_error=redacting(parse_error, self.secrets()),
                )
            except errors.NotFound:
                if self.settings.models and not models:
                    return [
                        ModelInfo(id=m, provider=self.instance_name) for m in self.settings.models
                    ]
                raise
            except errors.BadRequest as exc:
                raise self._key_error(exc) from None
            if not isinstance(data, dict) or not isinstance(data.get("models", []), list):
                raise errors.MalformedResponse(
                    f"{self.label} answered GET /models with something that is not a model "
                    "list; check base_url.",
                    provider=self.label,
                )
            for item in data.get("models") or []:
                info = self._model_info(item)
                if info is not None and info.id not in seen:
                    seen.add(info.id)
                    models.append(info)
            next_token = data.get("nextPageToken")
            if not isinstance(next_token, str) or not next_token or next_token == token:
                break
            token = next_token
        return models

    def _model_info(self, item: Any) -> ModelInfo | None:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return None
        methods = item.get("supportedGenerationMethods")
        # Embedding, TTS and image-only models cannot chat.
        if not isinstance(methods, list) or "generateContent" not in methods:
            return None
        name = item.get("displayName")
        return ModelInfo(
            id=item["name"].removeprefix("models/"),
            provider=self.instance_name,
            name=strip_controls(name) if isinstance(name, str) else None,
            context_window=int_or_none(item.get("inputTokenLimit")),
            max_output_tokens=int_or_none(item.get("outputTokenLimit")),
        )

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[ChatEvent, None]:
        """Stream one reply: text and thought deltas, then ``Usage`` and ``Finish``.

        The stream is read to its end; the last ``finishReason`` is the reply's.

        Raises:
            ProviderError: HTTP errors, an error frame, a blocked prompt, malformed
                frames, or a stream that ends with no ``finishReason``
                (``StreamInterrupted``).
        """
        from tuichat.plugin_api import open_sse

        usage: Usage | None = None
        finish: str | None = None
        identified = False
        reply = _Reply()
        try:
            async with open_sse(
                self,
                "POST",
                self.chat_url(request.model),
                json_body=self.build_body(request),
                headers=self.headers(),
                params={"alt": "sse"},
                parse_error=redacting(parse_error, self.secrets()),
            ) as source:
                async for sse in source.aiter_sse():
                    if not sse.data.strip():
                        continue
                    data = self._frame_json(sse)
                    self._raise_for_frame(data)
                    if not identified and ("responseId" in data or "modelVersion" in data):
                        identified = True
                        yield _response_info(data)
                    usage = _usage(data.get("usageMetadata")) or usage
                    candidate = _first_candidate(data)
                    if candidate is None:
                        continue
                    for event in _deltas(candidate, reply):
                        yield event
                    raw = candidate.get("finishReason")
                    if isinstance(raw, str) and raw and raw != "FINISH_REASON_UNSPECIFIED":
                        # Not the end yet: more text or the usage may still follow.
                        finish = raw
        except errors.BadRequest as exc:
            raise self._key_error(exc) from None
        except (errors.StreamInterrupted, errors.ProviderTimeout):
            if finish is None:
                raise
            # The reply gave its finishReason: a server that then stalls or drops the
            # connection instead of ending the body has lost nothing.
        if finish is None:
            raise errors.StreamInterrupted(
                f"The {self.label} stream ended without a finishReason; the partial reply is "
                "kept, try again for the rest.",
                provider=self.label,
            )
        reason = map_finish_reason(finish)
        if reason == "stop" and reply.calls():
            # Gemini ends a reply that asks for functions with STOP, like any other.
            for call in _tool_calls(reply.calls()):
                yield call
            reason = "tool_calls"
        else:
            # A reply cut short (MAX_TOKENS, SAFETY...) asks for no function: a call
            # without its response would break the next request.
            reply.drop_calls()
        native = reply.native()
        if native is not None:
            yield NativeReply(native)
        if usage is not None:
            yield usage
        yield Finish(reason, finish)

    def _frame_json(self, sse: ServerSentEvent) -> dict[str, Any]:
        try:
            data = json.loads(sse.data)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise errors.MalformedResponse(
                f"{self.label} sent a stream frame that is not a JSON object; the reply is "
                "incomplete (check base_url if a proxy sits in between).",
                provider=self.label,
            )
        return data

    def _raise_for_frame(self, data: dict[str, Any]) -> None:
        """Raise for an error frame or a blocked prompt."""
        from tuichat.plugin_api import error_for_event, error_for_status, key_hint

        error = _error_object(data)
        if error is not None:
            message, raw_type, retry_after = _read_error(error)
            code = int_or_none(error.get("code"))
            if code is None or code < 400:
                status = error.get("status")
                code = _STATUS_CODES.get(status) if isinstance(status, str) else None
            if code is not None and code >= 400:
                # An error frame after HTTP 200 carries the HTTP code it would have had.
                raise error_for_status(
                    code,
                    provider=self.label,
                    detail=message,
                    raw_type=raw_type,
                    retry_after=retry_after,
                    key_hint=key_hint(self),
                    secrets=self.secrets(),
                )
            raise error_for_event(
                provider=self.label,
                raw_type=raw_type,
                detail=message,
                secrets=self.secrets(),
                key_hint=key_hint(self),
            )
        feedback = data.get("promptFeedback")
        reason = feedback.get("blockReason") if isinstance(feedback, dict) else None
        if isinstance(reason, str) and reason and reason != "BLOCK_REASON_UNSPECIFIED":
            shown = strip_controls(reason)[:60]
            raise errors.BadRequest(
                f"{self.label} blocked the prompt before answering (blockReason {shown}); "
                "rephrase the message or start a new conversation.",
                provider=self.label,
                raw_type=shown,
            )

    def _key_error(self, exc: errors.BadRequest) -> errors.ProviderError:
        """Gemini answers a bad key with HTTP 400 ``API_KEY_INVALID``: make it an AuthError."""
        if exc.raw_type != "API_KEY_INVALID":
            return exc
        from tuichat.plugin_api import key_hint

        return errors.AuthError(
            f"{self.label} rejected the API key (HTTP {exc.status or 400} API_KEY_INVALID); "
            f"check {key_hint(self)}.",
            provider=self.label,
            status=exc.status,
            raw_type=exc.raw_type,
        )


def _first_candidate(data: dict[str, Any]) -> dict[str, Any] | None:
    candidates = data.get("candidates")
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        candidate: dict[str, Any] = candidates[0]
        return candidate
    return None


def _deltas(candidate: dict[str, Any], reply: _Reply) -> list[ChatEvent]:
    """Text and thought parts of a candidate, as deltas; every part is kept in ``reply``."""
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    events: list[ChatEvent] = []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, dict):
            continue
        reply.add(part)
        text = part.get("text")
        if not isinstance(text, str) or not text:
            continue
        events.append(ReasoningDelta(text) if part.get("thought") is True else TextDelta(text))
    return events


def _usage(metadata: Any) -> Usage | None:
    if not isinstance(metadata, dict):
        return None
    prompt = int_or_none(metadata.get("promptTokenCount"))
    reply = int_or_none(metadata.get("candidatesTokenCount"))
    thoughts = int_or_none(metadata.get("thoughtsTokenCount"))
    # Thinking tokens are billed as output: count them with the reply.
    output = None if reply is None and thoughts is None else (reply or 0) + (thoughts or 0)
    if prompt is None and output is None:
        return None
    return Usage(
        input_tokens=prompt,
        output_tokens=output,
        cached_input_tokens=int_or_none(metadata.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def _response_info(frame: dict[str, Any]) -> ResponseInfo:
    response_id, model = frame.get("responseId"), frame.get("modelVersion")
    return ResponseInfo(
        id=response_id if isinstance(response_id, str) and response_id else None,
        model=model if isinstance(model, str) and model else None,
    )


@hookimpl
def register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register the Gemini provider."""
    register(GeminiProvider)
