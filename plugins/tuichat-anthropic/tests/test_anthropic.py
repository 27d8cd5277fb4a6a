"""The Anthropic provider against the test kit's loopback wire server.

The shared contract suite covers what every provider must do; the tests below cover
what is Anthropic's own: the exact request per API version, thinking blocks, the
event types, error events after HTTP 200, 529, and the models pages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from tuichat_anthropic import (
    API_VERSION_2023,
    API_VERSION_2026,
    AnthropicProvider,
    AnthropicSettings,
    fit_body_to_version,
    map_stop_reason,
)

from tuichat import errors
from tuichat.http import make_client
from tuichat.provider import (
    ChatMessage,
    ChatRequest,
    Finish,
    NativeReply,
    ResponseInfo,
    ToolCall,
    Usage,
)
from tuichat.testing.contract import (
    CANARY_KEY,
    ErrorKind,
    ProviderContract,
    ScriptedCall,
    SentResult,
    SentTool,
    WireScript,
)
from tuichat.testing.environment import isolated_env
from tuichat.testing.replies import collect, failure, reasoning_of, text_of
from tuichat.testing.server import Delay, Drop, RecordedRequest, Response, WireServer
from tuichat.testing.sse import json_response, sse_event, sse_response
from tuichat.testing.wire import anthropic_error, anthropic_error_event, anthropic_stream

KEY = "sk-ant-test-4f9c2e7d1b"
MODEL = "claude-sonnet-5-5"


# The shared contract suite ------------------------------------------------------------

_STOP_WORDS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
_ERROR_TYPES = {
    "overloaded": "overloaded_error",
    "server": "api_error",
    "rate_limit": "rate_limit_error",
}
_STATUS_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


class AnthropicWire(WireScript):
    """The Messages API as Anthropic documents it, from the test kit's builders."""

    provider_cls = AnthropicProvider
    model = MODEL
    # message_stop is the terminator: a stream without it is interrupted, even when
    # message_delta already gave the stop reason.
    complete_without_terminator = False

    def settings(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "api_key": CANARY_KEY, "max_retries": 0}

    def chat_path(self, model: str) -> str:
        return "/v1/messages"

    def stream(
        self,
        deltas: Sequence[str],
        *,
        finish: str = "stop",
        usage: tuple[int, int] | None = (10, 20),
        reasoning: Sequence[str] = (),
    ) -> list[bytes]:
        return anthropic_stream(
            deltas,
            model=MODEL,
            stop_reason=self.finish_raw(finish),
            usage=usage,
            thinking=reasoning,
        )

    def unterminated(self, deltas: Sequence[str]) -> list[bytes]:
        frames = self.stream(deltas)
        assert frames[-1].startswith(b"event: message_stop")
        return frames[:-1]

    def truncated(self, deltas: Sequence[str]) -> list[bytes]:
        return anthropic_stream(deltas, model=MODEL, stop_reason=None)

    def error_event(self, message: str, *, kind: ErrorKind = "overloaded") -> bytes:
        return anthropic_error_event(_ERROR_TYPES[kind], message)

    def error_response(
        self, status: int, message: str, *, retry_after: float | None = None
    ) -> Response:
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else None
        return anthropic_error(
            status, _STATUS_TYPES.get(status, "api_error"), message, headers=headers
        )

    def finish_raw(self, finish: str) -> str:
        return _STOP_WORDS[finish]

    def check_request(self, recorded: RecordedRequest, request: ChatRequest) -> None:
        assert recorded.method == "POST"
        assert recorded.headers["x-api-key"] == CANARY_KEY
        assert recorded.headers["anthropic-version"] == API_VERSION_2026
        assert recorded.json() == {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "system": request.system,
            "stream": True,
            # No temperature: API version 2026-10-21 refuses it.
        }

    def models_route(self, ids: Sequence[str]) -> tuple[str, str, Response]:
        page = {
            "data": [model_item(model_id, model_id.title()) for model_id in ids],
            "has_more": False,
            "first_id": ids[0] if ids else None,
            "last_id": ids[-1] if ids else None,
        }
        return "GET", "/v1/models", json_response(page)

    def malformed_event(self) -> bytes:
        return b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'

    def tool_call_stream(
        self, calls: Sequence[ScriptedCall], *, text: Sequence[str] = ()
    ) -> list[bytes]:
        return anthropic_stream(
            text,
            model=MODEL,
            stop_reason="tool_use",
            tool_uses=[(c.id, c.name, c.pieces) for c in calls],
        )

    def signed_tool_call_stream(self, call: ScriptedCall, *, signature: str) -> list[bytes]:
        # Extended thinking with tool use: the thinking block and its signature must go
        # back unchanged in the turn that asked for the tool.
        return anthropic_stream(
            [],
            model=MODEL,
            stop_reason="tool_use",
            thinking=["The user wants the weather; ", "I should look it up."],
            signature=signature,
            tool_uses=[(call.id, call.name, call.pieces)],
        )

    def sent_tools(self, body: Any) -> list[SentTool]:
        return [
            SentTool(t["name"], t["description"], t["input_schema"]) for t in body.get("tools", [])
        ]

    def sent_tool_calls(self, body: Any) -> list[tuple[str, Any]]:
        return [
            (block["name"], block["input"])
            for message in body["messages"]
            if message["role"] == "assistant" and isinstance(message["content"], list)
            for block in message["content"]
            if block["type"] == "tool_use"
        ]

    def sent_tool_results(self, body: Any) -> list[SentResult]:
        return [
            SentResult(block.get("content", ""), bool(block.get("is_error")))
            for message in body["messages"]
            if message["role"] == "user" and isinstance(message["content"], list)
            for block in message["content"]
            if block["type"] == "tool_result"
        ]


class TestAnthropicContract(ProviderContract):
    wire = AnthropicWire()


# Wire helpers --------------------------------------------------------------------------


def frame(kind: str, **data: Any) -> bytes:
    """One named Anthropic event whose data repeats its type, as the API sends it."""
    return sse_event({"type": kind, **data}, event=kind)


def message_start(input_tokens: int = 12, **usage: int) -> bytes:
    return frame(
        "message_start",
        message={
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1, **usage},
        },
    )


def block_start(index: int, block: dict[str, Any]) -> bytes:
    return frame("content_block_start", index=index, content_block=block)


def block_delta(index: int, delta: dict[str, Any]) -> bytes:
    return frame("content_block_delta", index=index, delta=delta)


def text_block(index: int, *pieces: str) -> list[bytes]:
    return [
        block_start(index, {"type": "text", "text": ""}),
        *(block_delta(index, {"type": "text_delta", "text": piece}) for piece in pieces),
        frame("content_block_stop", index=index),
    ]


def message_end(stop_reason: str = "end_turn", output_tokens: int = 7) -> list[bytes]:
    return [
        frame(
            "message_delta",
            delta={"stop_reason": stop_reason, "stop_sequence": None},
            usage={"output_tokens": output_tokens},
        ),
        frame("message_stop"),
    ]


def reply(*pieces: str, stop_reason: str = "end_turn") -> list[bytes]:
    return [message_start(), *text_block(0, *pieces), *message_end(stop_reason)]


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_9"}


# Fixtures ------------------------------------------------------------------------------


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as shared:
        yield shared


def make_provider(
    server: WireServer, client: httpx.AsyncClient, **settings: Any
) -> AnthropicProvider:
    values: dict[str, Any] = {
        "base_url": server.url,
        "api_key": KEY,
        "max_retries": 0,
        "read_timeout": 5.0,
        **settings,
    }
    return AnthropicProvider(settings=AnthropicSettings(**values), client=client)


def ask(text: str = "hi", **fields: Any) -> ChatRequest:
    return ChatRequest(model=MODEL, messages=[ChatMessage("user", text)], **fields)


# The request ---------------------------------------------------------------------------


def test_the_messages_api_continues_a_trailing_assistant_message() -> None:
    """Continue sends the partial reply as a prefill instead of asking to go on."""
    assert AnthropicProvider.supports_prefill is True


async def test_request_body_and_headers_for_the_current_version(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*reply("Hello")))
    provider = make_provider(wire_server, client)
    request = ChatRequest(
        model=MODEL,
        messages=[
            ChatMessage("user", "Hi"),
            ChatMessage("assistant", "Hello!"),
            ChatMessage("user", "Tell me more"),
        ],
        system="Be brief.",
        temperature=0.3,
    )

    await collect(provider, request)

    sent = wire_server.last_request
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == API_VERSION_2026
    assert "authorization" not in sent.headers
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["accept"] == "text/event-stream"
    # 2026-10-21 refuses temperature with a 400, so it is not sent.
    assert sent.json() == {
        "model": MODEL,
        "max_tokens": 8192,
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Tell me more"},
        ],
        "stream": True,
        "system": "Be brief.",
    }


async def test_version_2023_sends_the_sampling_parameters(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*reply("Hello")))
    provider = make_provider(wire_server, client, api_version=API_VERSION_2023)

    await collect(provider, ask(temperature=0.3, max_tokens=50, extra={"top_k": 5}))

    sent = wire_server.last_request
    assert sent.headers["anthropic-version"] == "2023-06-01"
    body = sent.json()
    assert (body["temperature"], body["top_k"], body["max_tokens"]) == (0.3, 5, 50)


async def test_version_2026_drops_sampling_parameters_from_extra_too(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*reply("Hello")))
    provider = make_provider(wire_server, client)

    await collect(
        provider,
        ask(temperature=1.0, extra={"top_p": 0.9, "top_k": 5, "stop_sequences": ["END"]}),
    )

    body = wire_server.last_request.json()
    assert not {"temperature", "top_p", "top_k"} & body.keys()
    assert body["stop_sequences"] == ["END"]


@pytest.mark.parametrize(
    ("version", "kept"),
    [
        ("2023-06-01", {"temperature", "top_p", "top_k"}),
        ("2026-10-21", set()),
        ("2027-03-01", set()),  # a later version keeps the 2026 rules
    ],
)
def test_fit_body_to_version(version: str, kept: set[str]) -> None:
    body = {"model": "m", "temperature": 1.0, "top_p": 0.5, "top_k": 3, "max_tokens": 9}

    fitted, dropped = fit_body_to_version(body, version)

    assert {"temperature", "top_p", "top_k"} & fitted.keys() == kept
    assert set(dropped) == {"temperature", "top_p", "top_k"} - kept
    assert fitted["max_tokens"] == 9
    assert body["temperature"] == 1.0  # the caller's dict is untouched


async def test_base_url_path_prefix_is_kept(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*reply("ok")))
    provider = make_provider(wire_server, client, base_url=wire_server.url + "/proxy/anthropic/")

    await collect(provider, ask())

    assert wire_server.last_request.path == "/proxy/anthropic/v1/messages"


async def test_system_messages_join_the_system_prompt_and_empty_turns_are_dropped(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*reply("ok")))
    provider = make_provider(wire_server, client, default_max_tokens=300)
    request = ChatRequest(
        model=MODEL,
        messages=[
            ChatMessage("system", "Answer in French."),
            ChatMessage("user", "Hi"),
            ChatMessage("assistant", ""),  # a reply interrupted before any text
            ChatMessage("user", "Again"),
        ],
        system="Be brief.",
    )

    await collect(provider, request)

    body = wire_server.last_request.json()
    assert body["system"] == "Be brief.\n\nAnswer in French."
    assert body["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "user", "content": "Again"},
    ]
    assert body["max_tokens"] == 300


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, {}),
        (
            {"thinking": "adaptive", "effort": "medium"},
            {
                "thinking": {"type": "adaptive", "display": "summarized"},
                "output_config": {"effort": "medium"},
            },
        ),
        (
            {"thinking": "adaptive", "thinking_display": "omitted"},
            {"thinking": {"type": "adaptive", "display": "omitted"}},
        ),
        (
            {"thinking": "enabled", "thinking_budget": 2048},
            {"thinking": {"type": "enabled", "budget_tokens": 2048}},
        ),
        ({"thinking": "disabled"}, {"thinking": {"type": "disabled"}}),
    ],
)
async def test_thinking_settings(
    wire_server: WireServer,
    client: httpx.AsyncClient,
    settings: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    wire_server.enqueue(sse_response(*reply("ok")))
    provider = make_provider(wire_server, client, **settings)

    await collect(provider, ask())

    body = wire_server.last_request.json()
    assert {key: body[key] for key in ("thinking", "output_config") if key in body} == expected


@pytest.mark.parametrize(
    "table",
    [
        {"thinking": "enabled"},  # no budget
        {"thinking_budget": 100},  # below the API's minimum
        {"api_version": "latest"},
        {"api_version": "2022-01-01"},
        {"base_url": "api.anthropic.com"},
        {"default_max_tokens": 0},
        {"temprature": 1},  # a typo is an unknown key
    ],
)
def test_settings_reject_bad_values(table: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AnthropicSettings.model_validate(table)


def test_settings_defaults() -> None:
    settings = AnthropicSettings()

    assert settings.base_url == "https://api.anthropic.com"
    assert settings.api_version == "2026-10-21"
    assert settings.default_model.startswith("claude-")
    assert settings.default_max_tokens == 8192
    assert AnthropicProvider.key_env == ("ANTHROPIC_API_KEY",)
    assert AnthropicProvider.base_url_env == ("ANTHROPIC_BASE_URL",)
    assert AnthropicProvider.display_name == "Anthropic"


# The stream ----------------------------------------------------------------------------


async def test_thinking_and_text_are_kept_apart_and_noise_is_ignored(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            message_start(
                input_tokens=10, cache_read_input_tokens=90, cache_creation_input_tokens=5
            ),
            frame("ping"),
            block_start(0, {"type": "thinking", "thinking": ""}),
            block_delta(0, {"type": "thinking_delta", "thinking": "Let me think"}),
            block_delta(0, {"type": "thinking_delta", "thinking": " about it."}),
            block_delta(0, {"type": "signature_delta", "signature": "EqQBCgIYAhIM"}),
            frame("content_block_stop", index=0),
            block_start(1, {"type": "redacted_thinking", "data": "opaque"}),
            frame("content_block_stop", index=1),
            sse_event(comment="keep-alive"),
            frame("brand_new_event", payload={"x": 1}),
            *text_block(2, "Hello", ", ", "world"),
            block_delta(2, {"type": "citations_delta", "citation": {"cited_text": "x"}}),
            block_start(3, {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}),
            block_delta(3, {"type": "input_json_delta", "partial_json": '{"a": '}),
            block_delta(3, {"type": "brand_new_delta", "text": "not shown"}),
            block_delta(3, {"type": "input_json_delta", "partial_json": "1}"}),
            frame("content_block_stop", index=3),
            frame("ping"),
            *message_end("tool_use", output_tokens=42),
        )
    )
    provider = make_provider(wire_server, client)

    events = await collect(provider, ask())

    assert reasoning_of(events) == "Let me think about it."
    assert text_of(events) == "Hello, world"
    assert events[-4:] == [
        ToolCall("toolu_1", "f", '{"a": 1}'),
        NativeReply(
            [
                {
                    "type": "thinking",
                    "thinking": "Let me think about it.",
                    "signature": "EqQBCgIYAhIM",
                },
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "text", "text": "Hello, world"},
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}},
            ]
        ),
        Usage(input_tokens=105, output_tokens=42, cached_input_tokens=90, cache_write_tokens=5),
        Finish("tool_calls", "tool_use"),
    ]
    # Deltas come in the order they arrived: all thinking before the reply here.
    kinds = [
        type(event).__name__
        for event in events
        if not isinstance(event, Usage | Finish | ResponseInfo | ToolCall | NativeReply)
    ]
    assert kinds == ["ReasoningDelta"] * 2 + ["TextDelta"] * 3


async def test_text_in_a_block_start_is_not_lost(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            message_start(),
            block_start(0, {"type": "text", "text": "Already "}),
            block_delta(0, {"type": "text_delta", "text": "here"}),
            *message_end(),
        )
    )
    provider = make_provider(wire_server, client)

    assert text_of(await collect(provider, ask())) == "Already here"


async def test_data_only_frames_are_read_by_their_type(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    # A proxy that drops the "event:" lines still leaves the type in the data.
    frames = [
        sse_event({"type": "message_start", "message": {"usage": {"input_tokens": 3}}}),
        sse_event(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }
        ),
        sse_event(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "ok"},
            }
        ),
        sse_event({"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {}}),
        sse_event({"type": "message_stop"}),
    ]
    wire_server.enqueue(sse_response(*frames))
    provider = make_provider(wire_server, client)

    events = await collect(provider, ask())

    assert text_of(events) == "ok"
    assert events[-2:] == [Usage(input_tokens=3), Finish("length", "max_tokens")]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
        ("something_new", "stop"),
        (None, "stop"),
    ],
)
def test_map_stop_reason(raw: str | None, reason: str) -> None:
    assert map_stop_reason(raw) == reason


@pytest.mark.parametrize(("raw", "reason"), [("refusal", "content_filter"), ("pause_turn", "stop")])
async def test_stop_reason_on_the_wire_keeps_the_raw_value(
    wire_server: WireServer, client: httpx.AsyncClient, raw: str, reason: str
) -> None:
    wire_server.enqueue(sse_response(*reply("partial", stop_reason=raw)))
    provider = make_provider(wire_server, client)

    events = await collect(provider, ask())

    assert events[-1] == Finish(reason, raw)  # type: ignore[arg-type]


async def test_the_stream_stops_at_message_stop(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    # Whatever follows message_stop (here a long silence) is never waited for.
    wire_server.enqueue(sse_response(*reply("done"), Delay(30)))
    provider = make_provider(wire_server, client, read_timeout=0.5)

    events = await collect(provider, ask())

    assert events[-1] == Finish("stop", "end_turn")


# Faults --------------------------------------------------------------------------------


async def test_overloaded_error_event_after_http_200(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            message_start(),
            frame("error", error={"type": "overloaded_error", "message": "Overloaded"}),
        )
    )
    provider = make_provider(wire_server, client)

    events, error = await failure(provider, ask())

    assert events == [ResponseInfo(id="msg_01", model="claude-sonnet-5-5")]  # no text
    assert isinstance(error, errors.Overloaded)
    assert error.retryable
    assert error.raw_type == "overloaded_error"
    assert "overloaded" in str(error).lower() and "anthropic" in str(error)


async def test_error_event_in_the_middle_of_the_reply_keeps_the_text(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            message_start(),
            block_start(0, {"type": "text", "text": ""}),
            block_delta(0, {"type": "text_delta", "text": "Half a"}),
            frame("error", error={"type": "api_error", "message": "Internal server error"}),
        )
    )
    provider = make_provider(wire_server, client)

    events, error = await failure(provider, ask())

    assert text_of(events) == "Half a"
    assert isinstance(error, errors.ServerError)


@pytest.mark.parametrize(
    ("kind", "expected", "retryable"),
    [
        # Documented types the core's own table does not know (they used to fall back
        # to a retryable server error).
        ("billing_error", errors.PermissionDenied, False),
        ("timeout_error", errors.ServerError, True),
        ("request_too_large", errors.BadRequest, False),
        ("permission_error", errors.PermissionDenied, False),
    ],
)
async def test_error_event_types_keep_their_meaning(
    wire_server: WireServer,
    client: httpx.AsyncClient,
    kind: str,
    expected: type[errors.ProviderError],
    retryable: bool,
) -> None:
    wire_server.enqueue(
        sse_response(
            message_start(),
            frame("error", error={"type": kind, "message": f"It failed ({kind})"}),
        )
    )
    provider = make_provider(wire_server, client)

    _, error = await failure(provider, ask())

    assert type(error) is expected, repr(error)
    assert error.retryable is retryable
    assert error.raw_type == kind
    assert error.status is None  # it came after HTTP 200
    assert f"It failed ({kind})" in str(error)


async def test_message_delta_usage_replaces_counts_field_by_field(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    # The SDKs take each cumulative field message_delta gives and keep the others.
    wire_server.enqueue(
        sse_response(
            message_start(10, cache_creation_input_tokens=0, cache_read_input_tokens=100),
            *text_block(0, "Hi"),
            frame(
                "message_delta",
                delta={"stop_reason": "end_turn", "stop_sequence": None},
                usage={
                    "input_tokens": 10,
                    "cache_creation_input_tokens": None,
                    "output_tokens": 20,
                },
            ),
            frame("message_stop"),
        )
    )
    provider = make_provider(wire_server, client)

    events = await collect(provider, ask())

    assert events[-2:] == [
        Usage(input_tokens=110, output_tokens=20, cached_input_tokens=100, cache_write_tokens=0),
        Finish("stop", "end_turn"),
    ]


async def test_full_cumulative_usage_in_message_delta(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            *anthropic_stream(["Hi"], usage=(10, 20), cache_read=30, full_delta_usage=True)
        )
    )
    provider = make_provider(wire_server, client)

    events = await collect(provider, ask())

    assert [e for e in events if isinstance(e, Usage)] == [
        Usage(40, 20, cached_input_tokens=30, cache_write_tokens=0)
    ]


async def test_non_event_stream_200_never_shows_the_key(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        Response(
            200,
            {"content-type": "application/json"},
            json.dumps(error_body("authentication_error", f"bad key {KEY}")).encode(),
            chunked=False,
        )
    )
    provider = make_provider(wire_server, client)

    _, error = await failure(provider, ask())

    assert isinstance(error, errors.MalformedResponse)
    assert "bad key" in str(error)
    assert KEY not in str(error)


async def test_http_529_is_overloaded(wire_server: WireServer, client: httpx.AsyncClient) -> None:
    wire_server.enqueue(json_response(error_body("overloaded_error", "Overloaded"), status=529))
    provider = make_provider(wire_server, client)

    _, error = await failure(provider, ask())

    assert isinstance(error, errors.Overloaded)
    assert error.status == 529
    assert "req_9" in str(error)  # the request id support asks for


async def test_http_401_names_the_key_variable_and_never_shows_the_key(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        json_response(
            error_body("authentication_error", f"invalid x-api-key {KEY}\x1b]52;c;evil\x07"),
            status=401,
        )
    )
    provider = make_provider(wire_server, client, api_key=None)
    os.environ["ANTHROPIC_API_KEY"] = KEY
    try:
        _, error = await failure(provider, ask())
    finally:
        del os.environ["ANTHROPIC_API_KEY"]

    assert isinstance(error, errors.AuthError)
    assert "ANTHROPIC_API_KEY" in str(error)
    assert KEY not in str(error)
    assert "\x1b" not in str(error)
    assert wire_server.last_request.headers["x-api-key"] == KEY


async def test_http_429_honours_retry_after(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        json_response(
            error_body("rate_limit_error", "Number of request tokens has exceeded your limit"),
            status=429,
            headers={"retry-after": "12"},
        )
    )
    provider = make_provider(wire_server, client)

    _, error = await failure(provider, ask())

    assert isinstance(error, errors.RateLimited)
    assert error.retry_after == 12


async def test_malformed_event_names_the_provider(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            message_start(),
            sse_event('{"type": "content_block_delta", "ind', event="content_block_delta"),
        )
    )
    provider = make_provider(wire_server, client)

    _, error = await failure(provider, ask())

    assert isinstance(error, errors.MalformedResponse)
    message = str(error)
    assert "anthropic" in message and "JSON" in message
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence


async def test_stream_without_message_stop_is_interrupted(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*reply("cut")[:-1]))  # everything but message_stop
    provider = make_provider(wire_server, client)

    events, error = await failure(provider, ask())

    assert text_of(events) == "cut"
    assert isinstance(error, errors.StreamInterrupted)
    assert "message_stop" in str(error)


async def test_dropped_connection_is_interrupted(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*reply("cut")[:3], Drop()))
    provider = make_provider(wire_server, client)

    _, error = await failure(provider, ask())

    assert isinstance(error, errors.StreamInterrupted)


# Models --------------------------------------------------------------------------------


def model_item(model_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model_id,
        "display_name": name,
        "created_at": "2026-10-01T00:00:00Z",
        **extra,
    }


async def test_models_follow_every_page(wire_server: WireServer, client: httpx.AsyncClient) -> None:
    wire_server.enqueue(
        json_response(
            {
                "data": [
                    model_item(
                        "claude-sonnet-5-5",
                        "Claude Sonnet 5.5",
                        max_input_tokens=1_000_000,
                        max_tokens=128_000,
                    ),
                    model_item("claude-haiku-4-5", "Claude Haiku 4.5"),
                ],
                "has_more": True,
                "first_id": "claude-sonnet-5-5",
                "last_id": "claude-haiku-4-5",
            }
        ),
        json_response(
            {
                "data": [model_item("claude-opus-4-1", "Claude\x1b[31m Opus 4.1"), {"junk": True}],
                "has_more": False,
                "first_id": "claude-opus-4-1",
                "last_id": "claude-opus-4-1",
            }
        ),
    )
    provider = make_provider(wire_server, client)

    models = await provider.list_models()

    assert [(m.id, m.name) for m in models] == [
        ("claude-sonnet-5-5", "Claude Sonnet 5.5"),
        ("claude-haiku-4-5", "Claude Haiku 4.5"),
        ("claude-opus-4-1", "Claude[31m Opus 4.1"),
    ]
    assert (models[0].context_window, models[0].max_output_tokens) == (1_000_000, 128_000)
    assert models[0].provider == "anthropic"
    first, second = wire_server.requests
    assert first.bare_path == second.bare_path == "/v1/models"
    assert "after_id" not in first.query
    assert second.query["after_id"] == "claude-haiku-4-5"
    assert first.headers["x-api-key"] == KEY
    assert first.headers["anthropic-version"] == API_VERSION_2026


async def test_models_stop_when_the_cursor_does_not_move(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    page = {"data": [model_item("m1", "M1")], "has_more": True, "last_id": "m1"}
    wire_server.route("GET", "/v1/models", json_response(page))
    provider = make_provider(wire_server, client)

    models = await provider.list_models()

    assert [m.id for m in models] == ["m1"]
    assert len(wire_server.requests) == 2


async def test_models_error_is_mapped(wire_server: WireServer, client: httpx.AsyncClient) -> None:
    wire_server.enqueue(json_response(error_body("permission_error", "nope"), status=403))
    provider = make_provider(wire_server, client)

    with pytest.raises(errors.PermissionDenied):
        await provider.list_models()


# Packaging and the command line -------------------------------------------------------


def test_importing_the_plugin_is_cheap() -> None:
    probe = "import sys, tuichat_anthropic; print('httpx' in sys.modules, 'textual' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["False", "False"]


def test_ask_streams_the_reply_configured_only_by_env(
    wire_server: WireServer, tmp_path: Path
) -> None:
    wire_server.enqueue(sse_response(*reply("Hello", " from", " Claude")))
    env = isolated_env(
        tmp_path, ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=wire_server.url + "/anthropic"
    )

    done = subprocess.run(
        [sys.executable, "-m", "tuichat", "ask", "-p", "anthropic", "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Hello from Claude"
    sent: RecordedRequest = wire_server.last_request
    assert sent.path == "/anthropic/v1/messages"
    assert sent.headers["x-api-key"] == KEY
    body = sent.json()
    assert body["model"] == AnthropicSettings().default_model
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert json.dumps(body).count(KEY) == 0


def test_ask_reports_an_overloaded_api_in_one_line(wire_server: WireServer, tmp_path: Path) -> None:
    wire_server.set_default(json_response(error_body("overloaded_error", "Overloaded"), status=529))
    env = isolated_env(tmp_path, ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=wire_server.url)
    (tmp_path / "config.toml").write_text("[providers.anthropic]\nmax_retries = 0\n")

    done = subprocess.run(
        [sys.executable, "-m", "tuichat", "ask", "-p", "anthropic", "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "overloaded" in lines[0].lower()
