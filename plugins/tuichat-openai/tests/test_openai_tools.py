"""Tool calling on the Chat Completions wire: the exact requests and what the stream gives.

The shared contract suite (``test_openai.py``) proves the general rules; these tests pin
the bytes: the ``tools`` field, ``delta.tool_calls`` assembled from pieces, the
assistant turn and ``tool`` messages sent back, and the leniencies for compatible
servers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
from tuichat_openai import OpenAIProvider, OpenAISettings

from tuichat.http import make_client
from tuichat.provider import (
    ChatEvent,
    ChatMessage,
    ChatRequest,
    Finish,
    Native,
    ResponseInfo,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
)
from tuichat.testing import (
    WireServer,
    collect,
    native_of,
    openai_chat_stream,
    openai_tool_stream,
    sse_event,
    sse_response,
    text_of,
    tool_calls_of,
)

MODEL = "gpt-4o-mini"
KEY = "sk-test-tools"

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

#: The arguments' JSON text, cut between ``{`` and ``"``, inside a string, inside the
#: ``\u00e9`` escape, and between a backslash and the quote it escapes.
PIECES = ("{", '"city": "S\\u00', "e9o \\", '"Paulo\\"", "da', 'ys": 3}')
ARGUMENTS = "".join(PIECES)


def compact(value: Any) -> bytes:
    """JSON as httpx sends it: compact, UTF-8, not ASCII-escaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as shared:
        yield shared


def make_provider(server: WireServer, client: httpx.AsyncClient) -> OpenAIProvider:
    settings = OpenAISettings(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    return OpenAIProvider(settings=settings, client=client, instance_name="openai")


def question(*, tools: Sequence[ToolSpec] = TOOLS) -> ChatRequest:
    return ChatRequest(
        model=MODEL,
        system="Be brief.",
        messages=[ChatMessage("user", "Weather in São Paulo?")],
        tools=tuple(tools),
    )


def follow_up(
    request: ChatRequest,
    events: list[ChatEvent],
    results: Sequence[ToolResult],
    *,
    tools: Sequence[ToolSpec] = TOOLS,
) -> ChatRequest:
    """The next request as the core builds it: the reply (its text, calls and native
    form), then the ``tool`` message with one result per call."""
    native = native_of(events)
    reply = ChatMessage(
        "assistant",
        text_of(events),
        tool_calls=tuple(tool_calls_of(events)),
        native=Native("openai", native.data) if native is not None else None,
    )
    return ChatRequest(
        model=request.model,
        system=request.system,
        messages=[*request.messages, reply, ChatMessage("tool", "", tool_results=tuple(results))],
        tools=tuple(tools),
    )


TOOLS_FIELD = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "list_files",
            "description": "The files of the project.",
            "parameters": {"type": "object", "properties": {}},
        },
    },
]


def body_of(messages: list[dict[str, Any]], *, tools: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "system", "content": "Be brief."}, *messages],
        "stream": True,
    }
    if tools:
        body["tools"] = TOOLS_FIELD
    body["stream_options"] = {"include_usage": True}
    return body


QUESTION = {"role": "user", "content": "Weather in São Paulo?"}


# One call, its arguments in awkward pieces --------------------------------------------


async def test_one_call_in_awkward_pieces_and_its_follow_up(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            *openai_tool_stream([("call_1", "get_weather", PIECES)], text=["Checking", "."])
        ),
        sse_response(*openai_chat_stream(["Sunny."])),
    )
    provider = make_provider(wire_server, client)
    request = question()

    events = await collect(provider, request)

    assert events == [
        ResponseInfo(id="chatcmpl-test", model=MODEL),
        TextDelta("Checking"),
        TextDelta("."),
        Usage(10, 20),
        ToolCall("call_1", "get_weather", ARGUMENTS),
        Finish("tool_calls", "tool_calls"),
    ]
    assert json.loads(ARGUMENTS) == {"city": 'Séo "Paulo"', "days": 3}
    assert wire_server.requests[0].body == compact(body_of([QUESTION]))

    result = ToolResult("call_1", "get_weather", "Sunny, 21 °C")
    await collect(provider, follow_up(request, events, [result]))

    assert wire_server.requests[1].body == compact(
        body_of(
            [
                QUESTION,
                {
                    "role": "assistant",
                    "content": "Checking.",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            # The exact string the model wrote, escapes and all.
                            "function": {"name": "get_weather", "arguments": ARGUMENTS},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21 °C"},
            ]
        )
    )


async def test_two_calls_interleaved_by_index(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    calls = [
        ("call_a", "get_weather", ('{"ci', 'ty": "Li', 'ma"}')),
        ("call_b", "list_files", ("{", "}")),
    ]
    wire_server.enqueue(
        sse_response(*openai_tool_stream(calls, interleave=True)),
        sse_response(*openai_chat_stream(["Done."])),
    )
    provider = make_provider(wire_server, client)
    request = question()

    events = await collect(provider, request)

    assert tool_calls_of(events) == [
        ToolCall("call_a", "get_weather", '{"city": "Lima"}'),
        ToolCall("call_b", "list_files", "{}"),
    ]
    assert text_of(events) == ""
    assert native_of(events) is None
    assert events[-1] == Finish("tool_calls", "tool_calls")

    results = [
        ToolResult("call_a", "get_weather", "Foggy."),
        ToolResult("call_b", "list_files", "permission denied", is_error=True),
    ]
    await collect(provider, follow_up(request, events, results))

    assert wire_server.requests[1].body == compact(
        body_of(
            [
                QUESTION,
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Lima"}'},
                        },
                        {
                            "id": "call_b",
                            "type": "function",
                            "function": {"name": "list_files", "arguments": "{}"},
                        },
                    ],
                },
                # One tool message per result, in the order of the calls; the API has no
                # error flag, the text says it.
                {"role": "tool", "tool_call_id": "call_a", "content": "Foggy."},
                {"role": "tool", "tool_call_id": "call_b", "content": "permission denied"},
            ]
        )
    )


async def test_a_declined_call_and_the_step_limit_request_without_tools(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(*openai_tool_stream([("call_1", "get_weather", ('{"city":"Oslo"}',))])),
        sse_response(*openai_chat_stream(["I could not check."])),
    )
    provider = make_provider(wire_server, client)
    request = question()
    events = await collect(provider, request)

    declined = ToolResult("call_1", "get_weather", "declined by the user", is_error=True)
    # The step limit was reached: the next request offers no tools at all.
    events_2 = await collect(provider, follow_up(request, events, [declined], tools=()))

    assert text_of(events_2) == "I could not check."
    assert not tool_calls_of(events_2)
    sent = wire_server.requests[1]
    assert "tools" not in sent.json()
    assert sent.body == compact(
        body_of(
            [
                QUESTION,
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_1", "content": "declined by the user"},
            ],
            tools=False,
        )
    )


async def test_no_tools_field_without_tools(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*openai_chat_stream(["Hi."])))
    await collect(make_provider(wire_server, client), question(tools=()))
    assert "tools" not in wire_server.requests[0].json()


async def test_native_form_of_another_plugin_is_ignored(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*openai_chat_stream(["Ok."])))
    reply = ChatMessage(
        "assistant",
        "",
        tool_calls=(ToolCall("toolu_1", "list_files", "{}"),),
        native=Native("anthropic", [{"type": "thinking", "thinking": "x", "signature": "S"}]),
    )
    request = ChatRequest(
        model=MODEL,
        messages=[
            ChatMessage("user", "Files?"),
            reply,
            ChatMessage("tool", "", tool_results=(ToolResult("toolu_1", "list_files", "a.txt"),)),
        ],
        tools=TOOLS,
    )
    await collect(make_provider(wire_server, client), request)
    messages = wire_server.requests[0].json()["messages"]
    assert messages[1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "list_files", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "a.txt"},
    ]


# Compatible servers that bend the protocol ---------------------------------------------


def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    return sse_event({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


def tool_delta(**element: Any) -> bytes:
    return chunk({"tool_calls": [element]})


async def stream(server: WireServer, client: httpx.AsyncClient, *frames: bytes) -> list[ChatEvent]:
    server.enqueue(sse_response(*frames))
    return await collect(make_provider(server, client), question())


async def test_id_and_name_sent_again_with_every_piece(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    head = {"id": "call_1", "type": "function"}
    events = await stream(
        wire_server,
        client,
        tool_delta(index=0, **head, function={"name": "get_weather", "arguments": ""}),
        tool_delta(index=0, **head, function={"name": "get_weather", "arguments": '{"city":'}),
        tool_delta(index=0, **head, function={"name": "get_weather", "arguments": ' "Rome"}'}),
        chunk({}, "tool_calls"),
        sse_event("[DONE]"),
    )
    assert tool_calls_of(events) == [ToolCall("call_1", "get_weather", '{"city": "Rome"}')]


async def test_a_whole_call_in_one_delta_without_index_and_a_stop_finish(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    """A lone call without ``index`` (some servers leave it out), sent whole, then
    ``finish_reason: "stop"`` (gpt-4o, Ollama and vLLM have said so): a tool_calls reply."""
    events = await stream(
        wire_server,
        client,
        chunk({"content": "On it."}),
        tool_delta(
            id="call_x", type="function", function={"name": "list_files", "arguments": "{}"}
        ),
        chunk({}, "stop"),
        sse_event("[DONE]"),
    )
    assert text_of(events) == "On it."
    assert tool_calls_of(events) == [ToolCall("call_x", "list_files", "{}")]
    assert events[-1] == Finish("tool_calls", "stop")


async def test_the_whole_arguments_sent_again_after_their_pieces_are_not_doubled(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    events = await stream(
        wire_server,
        client,
        tool_delta(index=0, id="c1", function={"name": "get_weather", "arguments": '{"city"'}),
        tool_delta(index=0, function={"arguments": ': "Bern"}'}),
        tool_delta(index=0, function={"arguments": '{"city": "Bern"}'}),
        chunk({}, "tool_calls"),
        sse_event("[DONE]"),
    )
    assert tool_calls_of(events) == [ToolCall("c1", "get_weather", '{"city": "Bern"}')]


async def test_parallel_calls_that_all_say_index_zero(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    """Ollama sends every call of a parallel batch at index 0, each with its own id."""
    events = await stream(
        wire_server,
        client,
        tool_delta(index=0, id="c1", function={"name": "get_weather", "arguments": '{"city":'}),
        tool_delta(index=0, function={"arguments": '"Kyiv"}'}),
        tool_delta(
            index=0, id="c2", function={"name": "get_weather", "arguments": '{"city":"Oslo"}'}
        ),
        chunk({}, "tool_calls"),
        sse_event("[DONE]"),
    )
    assert tool_calls_of(events) == [
        ToolCall("c1", "get_weather", '{"city":"Kyiv"}'),
        ToolCall("c2", "get_weather", '{"city":"Oslo"}'),
    ]


async def test_missing_ids_are_made_and_a_call_without_a_name_is_left_out(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    events = await stream(
        wire_server,
        client,
        tool_delta(index=0, function={"name": "list_files", "arguments": ""}),
        tool_delta(index=1, id="call_0", function={"name": "get_weather", "arguments": "{}"}),
        tool_delta(index=2, id="c3", function={"arguments": "{}"}),
        chunk({}, "tool_calls"),
        sse_event("[DONE]"),
    )
    # The server's call_0 is taken: the made id steps over it. No arguments: "{}".
    assert tool_calls_of(events) == [
        ToolCall("call_1", "list_files", "{}"),
        ToolCall("call_0", "get_weather", "{}"),
    ]


async def test_an_id_given_twice_is_made_unique(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    events = await stream(
        wire_server,
        client,
        tool_delta(index=0, id="dup", function={"name": "get_weather", "arguments": "{}"}),
        tool_delta(index=1, id="dup", function={"name": "list_files", "arguments": "{}"}),
        chunk({}, "tool_calls"),
        sse_event("[DONE]"),
    )
    assert [call.id for call in tool_calls_of(events)] == ["dup", "call_0"]


async def test_calls_are_given_in_index_order(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    events = await stream(
        wire_server,
        client,
        tool_delta(index=1, id="b", function={"name": "list_files", "arguments": "{}"}),
        tool_delta(index=0, id="a", function={"name": "get_weather", "arguments": "{}"}),
        chunk({}, "tool_calls"),
        sse_event("[DONE]"),
    )
    assert [call.id for call in tool_calls_of(events)] == ["a", "b"]


async def test_a_call_cut_by_the_token_limit_is_not_a_call(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    events = await stream(
        wire_server,
        client,
        tool_delta(index=0, id="c1", function={"name": "get_weather", "arguments": '{"ci'}),
        chunk({}, "length"),
        sse_event("[DONE]"),
    )
    assert not tool_calls_of(events)
    assert events[-1] == Finish("length", "length")


async def test_an_interrupted_stream_gives_no_call(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            tool_delta(index=0, id="c1", function={"name": "get_weather", "arguments": "{}"})
        )
    )
    events: list[ChatEvent] = []
    with pytest.raises(Exception, match="ended without a finish reason"):
        async for event in make_provider(wire_server, client).stream_chat(question()):
            events.append(event)
    assert not tool_calls_of(events)


def test_supports_tools() -> None:
    assert OpenAIProvider.supports_tools is True
