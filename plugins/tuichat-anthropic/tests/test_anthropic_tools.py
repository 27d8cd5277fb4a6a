"""Tool use on the Messages API wire: the exact requests and what the stream gives.

The shared contract suite (``test_anthropic.py``) proves the general rules; these tests
pin the bytes: ``tools``, ``tool_use`` blocks assembled from ``input_json_delta`` pieces,
the thinking blocks and their signatures sent back unchanged, ``tool_result`` blocks,
and the prompt-cache breakpoints with tools.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
from tuichat_anthropic import AnthropicProvider, AnthropicSettings

from tuichat.http import make_client
from tuichat.provider import (
    ChatEvent,
    ChatMessage,
    ChatRequest,
    Finish,
    Native,
    NativeReply,
    ResponseInfo,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
)
from tuichat.testing import (
    WireServer,
    anthropic_stream,
    collect,
    native_of,
    sse_response,
    text_of,
    tool_calls_of,
)

MODEL = "claude-sonnet-5-5"
KEY = "sk-ant-test-tools"
EPHEMERAL = {"type": "ephemeral"}
#: A thinking signature as the API sends it: base64, with the characters a careless
#: re-encoding would change.
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3h+/Gg0xKq9+zE/w=="
REDACTED = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"

WEATHER = ToolSpec(
    "get_weather",
    "The weather in a city.",
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
        "additionalProperties": False,
    },
)
FILES = ToolSpec("list_files", "The files of the project.", {"type": "object", "properties": {}})
TOOLS = (WEATHER, FILES)
TOOLS_FIELD = [
    {
        "name": "get_weather",
        "description": "The weather in a city.",
        "input_schema": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
    {
        "name": "list_files",
        "description": "The files of the project.",
        "input_schema": {"type": "object", "properties": {}},
    },
]

#: The input's JSON text, cut between ``{`` and ``"``, inside a string, inside the
#: ``\u00e9`` escape, and between a backslash and the quote it escapes.
PIECES = ("{", '"city": "S\\u00', "e9o \\", '"Paulo\\"", "da', 'ys": 3}')
ARGUMENTS = "".join(PIECES)
INPUT = {"city": 'Séo "Paulo"', "days": 3}
QUESTION = {"role": "user", "content": "Weather in São Paulo?"}


def compact(value: Any) -> bytes:
    """JSON as httpx sends it: compact, UTF-8, not ASCII-escaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as shared:
        yield shared


def make_provider(
    server: WireServer, client: httpx.AsyncClient, **settings: Any
) -> AnthropicProvider:
    values: dict[str, Any] = {"base_url": server.url, "api_key": KEY, "max_retries": 0}
    return AnthropicProvider(
        settings=AnthropicSettings(**{**values, **settings}),
        client=client,
        instance_name="anthropic",
    )


def question(*, tools: Sequence[ToolSpec] = TOOLS) -> ChatRequest:
    return ChatRequest(
        model=MODEL,
        max_tokens=1000,
        messages=[ChatMessage("user", "Weather in São Paulo?")],
        tools=tuple(tools),
    )


def follow_up(
    request: ChatRequest,
    events: list[ChatEvent],
    results: Sequence[ToolResult],
    *,
    tools: Sequence[ToolSpec] = TOOLS,
    plugin: str = "anthropic",
) -> ChatRequest:
    """The next request as the core builds it: the reply (its text, calls and native
    form, stored as JSON), then the ``tool`` message with one result per call."""
    native = native_of(events)
    data = json.loads(json.dumps(native.data)) if native is not None else None
    reply = ChatMessage(
        "assistant",
        text_of(events),
        tool_calls=tuple(tool_calls_of(events)),
        native=Native(plugin, data) if native is not None else None,
    )
    return ChatRequest(
        model=request.model,
        max_tokens=request.max_tokens,
        messages=[*request.messages, reply, ChatMessage("tool", "", tool_results=tuple(results))],
        tools=tuple(tools),
    )


def body_of(messages: list[dict[str, Any]], *, tools: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 1000,
        "messages": [QUESTION, *messages],
        "stream": True,
    }
    if tools:
        body["tools"] = TOOLS_FIELD
    return body


def tool_use(call_id: str, name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": tool_input}


# One call, its input in awkward pieces -------------------------------------------------


async def test_one_call_in_awkward_pieces_and_its_follow_up(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            *anthropic_stream(
                ["Checking", "."],
                model=MODEL,
                stop_reason="tool_use",
                tool_uses=[("toolu_1", "get_weather", PIECES)],
            )
        ),
        sse_response(*anthropic_stream(["Sunny."], model=MODEL)),
    )
    provider = make_provider(wire_server, client)
    request = question()

    events = await collect(provider, request)

    assert events == [
        ResponseInfo(id="msg_test", model=MODEL),
        TextDelta("Checking"),
        TextDelta("."),
        ToolCall("toolu_1", "get_weather", ARGUMENTS),
        NativeReply(
            [{"type": "text", "text": "Checking."}, tool_use("toolu_1", "get_weather", INPUT)]
        ),
        Usage(10, 20, cached_input_tokens=0, cache_write_tokens=0),
        Finish("tool_calls", "tool_use"),
    ]
    assert wire_server.requests[0].body == compact(body_of([]))

    result = ToolResult("toolu_1", "get_weather", "Sunny, 21 °C")
    await collect(provider, follow_up(request, events, [result]))

    assert wire_server.requests[1].body == compact(
        body_of(
            [
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Checking."},
                        tool_use("toolu_1", "get_weather", INPUT),
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_1",
                            "content": "Sunny, 21 °C",
                        }
                    ],
                },
            ]
        )
    )


async def test_two_calls_and_a_tool_error(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            *anthropic_stream(
                [],
                model=MODEL,
                stop_reason="tool_use",
                tool_uses=[
                    ("toolu_a", "get_weather", ('{"city": ', '"Lima"}')),
                    ("toolu_b", "list_files", ("",)),
                ],
            )
        ),
        sse_response(*anthropic_stream(["Done."], model=MODEL)),
    )
    provider = make_provider(wire_server, client)
    request = question()

    events = await collect(provider, request)

    # No input at all (an empty input_json_delta): "{}".
    assert tool_calls_of(events) == [
        ToolCall("toolu_a", "get_weather", '{"city": "Lima"}'),
        ToolCall("toolu_b", "list_files", "{}"),
    ]
    assert text_of(events) == ""

    results = [
        ToolResult("toolu_a", "get_weather", "Foggy."),
        ToolResult("toolu_b", "list_files", "permission denied", is_error=True),
    ]
    await collect(provider, follow_up(request, events, results))

    assert wire_server.requests[1].body == compact(
        body_of(
            [
                {
                    "role": "assistant",
                    "content": [
                        tool_use("toolu_a", "get_weather", {"city": "Lima"}),
                        tool_use("toolu_b", "list_files", {}),
                    ],
                },
                # Every result in one user turn, in the order of the calls.
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_a", "content": "Foggy."},
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_b",
                            "content": "permission denied",
                            "is_error": True,
                        },
                    ],
                },
            ]
        )
    )


async def test_a_declined_call_and_the_step_limit_request_without_tools(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            *anthropic_stream(
                [],
                model=MODEL,
                stop_reason="tool_use",
                tool_uses=[("toolu_1", "get_weather", ('{"city":"Oslo"}',))],
            )
        ),
        sse_response(*anthropic_stream(["I could not check."], model=MODEL)),
    )
    provider = make_provider(wire_server, client)
    request = question()
    events = await collect(provider, request)

    declined = ToolResult("toolu_1", "get_weather", "declined by the user", is_error=True)
    # The step limit was reached: the next request offers no tools (the API takes tool
    # blocks without tools since 2025-02-27).
    await collect(provider, follow_up(request, events, [declined], tools=()))

    sent = wire_server.requests[1]
    assert "tools" not in sent.json()
    assert sent.body == compact(
        body_of(
            [
                {
                    "role": "assistant",
                    "content": [tool_use("toolu_1", "get_weather", {"city": "Oslo"})],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_1",
                            "content": "declined by the user",
                            "is_error": True,
                        }
                    ],
                },
            ],
            tools=False,
        )
    )


async def test_no_tools_field_without_tools(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*anthropic_stream(["Hi."], model=MODEL)))
    await collect(make_provider(wire_server, client), question(tools=()))
    assert "tools" not in wire_server.requests[0].json()


# Extended thinking with tool use: the signature goes back unchanged --------------------


async def test_thinking_blocks_go_back_unchanged_before_the_tool_use(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            *anthropic_stream(
                ["Let me look."],
                model=MODEL,
                stop_reason="tool_use",
                thinking=["The user wants ", "the weather."],
                signature=SIGNATURE,
                redacted_thinking=[REDACTED],
                tool_uses=[("toolu_1", "get_weather", PIECES)],
            )
        ),
        sse_response(*anthropic_stream(["Sunny."], model=MODEL)),
    )
    provider = make_provider(wire_server, client, thinking="enabled", thinking_budget=2048)
    request = question()

    events = await collect(provider, request)

    blocks = [
        {"type": "thinking", "thinking": "The user wants the weather.", "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": REDACTED},
        {"type": "text", "text": "Let me look."},
        tool_use("toolu_1", "get_weather", INPUT),
    ]
    assert native_of(events) == NativeReply(blocks)
    assert events.index(native_of(events)) == len(events) - 3  # then Usage, Finish

    result = ToolResult("toolu_1", "get_weather", "Sunny.")
    await collect(provider, follow_up(request, events, [result]))

    sent = wire_server.requests[1]
    # Byte for byte: the signature and the redacted data as the server sent them.
    assert b'"signature":"' + SIGNATURE.encode() + b'"' in sent.body
    assert b'"data":"' + REDACTED.encode() + b'"' in sent.body
    body = body_of(
        [
            {"role": "assistant", "content": blocks},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "Sunny."}],
            },
        ]
    )
    body["thinking"] = {"type": "enabled", "budget_tokens": 2048}
    assert sent.body == compact(body)


async def test_a_reply_with_thinking_and_no_tool_is_kept_whole_too(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    """Thinking blocks of earlier turns may go back; the API filters them (extended
    thinking docs, "Preserving thinking blocks")."""
    wire_server.enqueue(
        sse_response(
            *anthropic_stream(["Hi."], model=MODEL, thinking=["Hmm."], signature=SIGNATURE)
        )
    )
    events = await collect(make_provider(wire_server, client), question())
    assert native_of(events) == NativeReply(
        [
            {"type": "thinking", "thinking": "Hmm.", "signature": SIGNATURE},
            {"type": "text", "text": "Hi."},
        ]
    )
    assert not tool_calls_of(events)
    assert events[-1] == Finish("stop", "end_turn")


async def test_a_plain_reply_has_no_native_form(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*anthropic_stream(["Hi."], model=MODEL)))
    events = await collect(make_provider(wire_server, client), question())
    assert native_of(events) is None


async def test_another_plugins_native_form_is_rebuilt_from_text_and_calls(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*anthropic_stream(["Ok."], model=MODEL)))
    reply = ChatMessage(
        "assistant",
        "Looking.",
        tool_calls=(
            ToolCall("call_1", "get_weather", '{"city": "Rome"}'),
            ToolCall("call_2", "list_files", '{"broken": '),
        ),
        native=Native("gemini", [{"functionCall": {"name": "get_weather"}}]),
    )
    request = ChatRequest(
        model=MODEL,
        max_tokens=1000,
        messages=[
            ChatMessage("user", "Weather in São Paulo?"),
            reply,
            ChatMessage(
                "tool",
                "",
                tool_results=(
                    ToolResult("call_1", "get_weather", "Warm."),
                    ToolResult("call_2", "list_files", ""),
                ),
            ),
        ],
        tools=TOOLS,
    )
    await collect(make_provider(wire_server, client), request)
    assert wire_server.requests[0].body == compact(
        body_of(
            [
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Looking."},
                        tool_use("call_1", "get_weather", {"city": "Rome"}),
                        # Input that is no JSON object goes back wrapped (fine-grained
                        # tool streaming docs).
                        tool_use("call_2", "list_files", {"INVALID_JSON": '{"broken": '}),
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "call_1", "content": "Warm."},
                        # No text: no content (it is optional).
                        {"type": "tool_result", "tool_use_id": "call_2"},
                    ],
                },
            ]
        )
    )


async def test_a_call_cut_by_max_tokens_is_not_a_call(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            *anthropic_stream(
                [],
                model=MODEL,
                stop_reason="max_tokens",
                thinking=["Hmm."],
                signature=SIGNATURE,
                tool_uses=[("toolu_1", "get_weather", ('{"ci',))],
            )
        )
    )
    events = await collect(make_provider(wire_server, client), question())
    assert not tool_calls_of(events)
    # The thinking goes back; the half tool_use (which no result would answer) does not.
    assert native_of(events) == NativeReply(
        [{"type": "thinking", "thinking": "Hmm.", "signature": SIGNATURE}]
    )
    assert events[-1] == Finish("length", "max_tokens")


# Prompt caching with tools -------------------------------------------------------------


async def test_cache_breakpoints_with_tools_stay_within_four(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    """The last tool caches every tool definition (prompt caching docs); with the system
    prompt and the end of the conversation that makes three of the four allowed. The
    native form stored with the reply is not changed by the marking."""
    wire_server.enqueue(sse_response(*anthropic_stream(["Ok."], model=MODEL)))
    blocks = [
        {"type": "thinking", "thinking": "Hmm.", "signature": SIGNATURE},
        tool_use("toolu_1", "get_weather", {"city": "Rome"}),
    ]
    stored = json.loads(json.dumps(blocks))
    request = ChatRequest(
        model=MODEL,
        max_tokens=1000,
        system="Be brief.",
        messages=[
            ChatMessage("user", "Weather in Rome?"),
            ChatMessage(
                "assistant",
                "",
                tool_calls=(ToolCall("toolu_1", "get_weather", '{"city": "Rome"}'),),
                native=Native("anthropic", stored),
            ),
            ChatMessage("tool", "", tool_results=(ToolResult("toolu_1", "get_weather", "Warm."),)),
        ],
        tools=TOOLS,
    )
    provider = make_provider(wire_server, client, prompt_cache="always")
    await collect(provider, request)

    body = wire_server.requests[0].json()
    assert body["tools"] == [TOOLS_FIELD[0], {**TOOLS_FIELD[1], "cache_control": EPHEMERAL}]
    assert body["system"] == [{"type": "text", "text": "Be brief.", "cache_control": EPHEMERAL}]
    assert body["messages"][1] == {"role": "assistant", "content": blocks}
    assert body["messages"][2] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_1",
                "content": "Warm.",
                "cache_control": EPHEMERAL,
            }
        ],
    }
    assert wire_server.requests[0].body.count(b'"cache_control"') == 3
    assert stored == blocks


async def test_a_long_tool_result_turns_auto_caching_on(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*anthropic_stream(["Ok."], model=MODEL)))
    request = ChatRequest(
        model=MODEL,
        max_tokens=1000,
        messages=[
            ChatMessage("user", "Read it."),
            ChatMessage("assistant", "", tool_calls=(ToolCall("toolu_1", "list_files", "{}"),)),
            ChatMessage(
                "tool", "", tool_results=(ToolResult("toolu_1", "list_files", "x" * 8000),)
            ),
        ],
        tools=TOOLS,
    )
    await collect(make_provider(wire_server, client), request)
    assert b'"cache_control"' in wire_server.requests[0].body


def test_supports_tools() -> None:
    assert AnthropicProvider.supports_tools is True
