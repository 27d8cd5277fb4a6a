"""Function calling on the Gemini wire: the exact requests and what the stream gives.

The shared contract suite (``test_gemini.py``) proves the general rules; these tests pin
the bytes: ``functionDeclarations`` with ``parametersJsonSchema``, ``functionCall`` parts
read whole, the model's parts (and their ``thoughtSignature``) sent back unchanged, and
``functionResponse`` parts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
from tuichat_gemini import SIGNATURE_BYPASS, GeminiProvider, GeminiSettings

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
    collect,
    gemini_function_call_stream,
    gemini_stream,
    native_of,
    sse_event,
    sse_response,
    text_of,
    tool_calls_of,
)

MODEL = "gemini-3.8-flash"
KEY = "AIzaSyTest-tools"
#: A thought signature as the API sends it: base64, with the characters a careless
#: re-encoding would change.
SIGNATURE = "CiQBcsjafL1y2Vj+Uq/Vd6hRmxBvZ0+2ILn1X9wQ=="

WEATHER = ToolSpec(
    "get_weather",
    "The weather in a city.",
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "get_weatherArguments",
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
        "additionalProperties": False,
    },
)
FILES = ToolSpec("list_files", "The files of the project.", {"type": "object", "properties": {}})
TOOLS = (WEATHER, FILES)
#: ``parametersJsonSchema`` takes the schema as MCP servers write it; only ``$schema``
#: (the dialect's name) is left out, and a function without arguments has none.
TOOLS_FIELD = [
    {
        "functionDeclarations": [
            {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parametersJsonSchema": {
                    "title": "get_weatherArguments",
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
            },
            {"name": "list_files", "description": "The files of the project."},
        ]
    }
]

#: The arguments' JSON text in awkward pieces (Gemini sends the object whole; the kit
#: parses the joined pieces).
PIECES = ("{", '"city": "S\\u00', "e9o \\", '"Paulo\\"", "da', 'ys": 3}')
ARGS = {"city": 'Séo "Paulo"', "days": 3}
#: ``args`` as compact JSON, in the model's key order.
ARGUMENTS = '{"city":"Séo \\"Paulo\\"","days":3}'
QUESTION = {"role": "user", "parts": [{"text": "Weather in São Paulo?"}]}


def compact(value: Any) -> bytes:
    """JSON as httpx sends it: compact, UTF-8, not ASCII-escaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as shared:
        yield shared


def make_provider(server: WireServer, client: httpx.AsyncClient) -> GeminiProvider:
    settings = GeminiSettings(base_url=server.url, api_key=KEY, max_retries=0)
    return GeminiProvider(settings=settings, client=client, instance_name="gemini")


def question(*, tools: Sequence[ToolSpec] = TOOLS) -> ChatRequest:
    return ChatRequest(
        model=MODEL, messages=[ChatMessage("user", "Weather in São Paulo?")], tools=tuple(tools)
    )


def follow_up(
    request: ChatRequest,
    events: list[ChatEvent],
    results: Sequence[ToolResult],
    *,
    tools: Sequence[ToolSpec] = TOOLS,
) -> ChatRequest:
    """The next request as the core builds it: the reply (its text, calls and native
    form, stored as JSON), then the ``tool`` message with one result per call."""
    native = native_of(events)
    data = json.loads(json.dumps(native.data)) if native is not None else None
    reply = ChatMessage(
        "assistant",
        text_of(events),
        tool_calls=tuple(tool_calls_of(events)),
        native=Native("gemini", data) if native is not None else None,
    )
    return ChatRequest(
        model=request.model,
        messages=[*request.messages, reply, ChatMessage("tool", "", tool_results=tuple(results))],
        tools=tuple(tools),
    )


def body_of(contents: list[dict[str, Any]], *, tools: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"contents": [QUESTION, *contents]}
    if tools:
        body["tools"] = TOOLS_FIELD
    return body


def response(
    name: str, *, output: str | None = None, error: str | None = None, **ids: str
) -> dict[str, Any]:
    """A ``functionResponse`` part: ``{"output": ...}`` or ``{"error": ...}``."""
    value = {"output": output} if error is None else {"error": error}
    return {"functionResponse": {**ids, "name": name, "response": value}}


# One call, with its thought signature --------------------------------------------------


async def test_one_call_with_its_signature_and_its_follow_up(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            *gemini_function_call_stream(
                [("fc_1", "get_weather", PIECES)],
                text=["Checking", "."],
                signature=SIGNATURE,
                model=MODEL,
            )
        ),
        sse_response(*gemini_stream(["Sunny."], model=MODEL)),
    )
    provider = make_provider(wire_server, client)
    request = question()

    events = await collect(provider, request)

    model_parts = [
        {"text": "Checking."},
        {
            "functionCall": {"name": "get_weather", "args": ARGS, "id": "fc_1"},
            "thoughtSignature": SIGNATURE,
        },
    ]
    assert events == [
        ResponseInfo(id="resp-test", model=MODEL),
        TextDelta("Checking"),
        TextDelta("."),
        ToolCall("fc_1", "get_weather", ARGUMENTS),
        NativeReply(model_parts),
        Usage(10, 20),
        # Gemini says STOP for a reply that calls functions.
        Finish("tool_calls", "STOP"),
    ]
    assert wire_server.requests[0].body == compact(body_of([]))

    result = ToolResult("fc_1", "get_weather", "Sunny, 21 °C")
    await collect(provider, follow_up(request, events, [result]))

    sent = wire_server.requests[1]
    assert b'"thoughtSignature":"' + SIGNATURE.encode() + b'"' in sent.body
    assert sent.body == compact(
        body_of(
            [
                {"role": "model", "parts": model_parts},
                # The id Gemini gave the call goes back with its response.
                {
                    "role": "user",
                    "parts": [response("get_weather", output="Sunny, 21 °C", id="fc_1")],
                },
            ]
        )
    )


async def test_two_calls_without_ids_and_a_tool_error(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            *gemini_function_call_stream(
                [(None, "get_weather", ('{"city": "Lima"}',)), (None, "list_files", ())],
                signature=SIGNATURE,
                model=MODEL,
            )
        ),
        sse_response(*gemini_stream(["Done."], model=MODEL)),
    )
    provider = make_provider(wire_server, client)
    request = question()

    events = await collect(provider, request)

    assert tool_calls_of(events) == [
        ToolCall("call_0", "get_weather", '{"city":"Lima"}'),
        ToolCall("call_1", "list_files", "{}"),
    ]
    results = [
        ToolResult("call_0", "get_weather", "Foggy."),
        ToolResult("call_1", "list_files", "permission denied", is_error=True),
    ]
    await collect(provider, follow_up(request, events, results))

    assert wire_server.requests[1].body == compact(
        body_of(
            [
                {
                    "role": "model",
                    "parts": [
                        {
                            "functionCall": {"name": "get_weather", "args": {"city": "Lima"}},
                            "thoughtSignature": SIGNATURE,
                        },
                        {"functionCall": {"name": "list_files", "args": {}}},
                    ],
                },
                # The ids were made here, not by Gemini: none is sent.
                {
                    "role": "user",
                    "parts": [
                        response("get_weather", output="Foggy."),
                        response("list_files", error="permission denied"),
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
            *gemini_function_call_stream(
                [("fc_9", "get_weather", ('{"city":"Oslo"}',))], signature=SIGNATURE, model=MODEL
            )
        ),
        sse_response(*gemini_stream(["I could not check."], model=MODEL)),
    )
    provider = make_provider(wire_server, client)
    request = question()
    events = await collect(provider, request)

    declined = ToolResult("fc_9", "get_weather", "declined by the user", is_error=True)
    await collect(provider, follow_up(request, events, [declined], tools=()))

    sent = wire_server.requests[1]
    assert "tools" not in sent.json()
    assert sent.body == compact(
        body_of(
            [
                {
                    "role": "model",
                    "parts": [
                        {
                            "functionCall": {
                                "name": "get_weather",
                                "args": {"city": "Oslo"},
                                "id": "fc_9",
                            },
                            "thoughtSignature": SIGNATURE,
                        }
                    ],
                },
                {
                    "role": "user",
                    "parts": [response("get_weather", error="declined by the user", id="fc_9")],
                },
            ],
            tools=False,
        )
    )


async def test_no_tools_field_without_tools(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["Hi."], model=MODEL)))
    await collect(make_provider(wire_server, client), question(tools=()))
    assert "tools" not in wire_server.requests[0].json()


# Parts merged across chunks, signatures kept in their place ----------------------------


def frame(*parts: dict[str, Any], finish: str | None = None) -> bytes:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return sse_event({"candidates": [candidate]}, crlf=True)


async def test_a_signature_in_a_last_empty_part_is_kept_as_it_came(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    """A stream may bring the signature alone, on an empty text part, in its last chunk
    (thought signatures docs); text parts without a signature are merged, never with one
    that has a signature (thinking docs)."""
    wire_server.enqueue(
        sse_response(
            frame({"text": "Let me ", "thought": True}),
            frame({"text": "see.", "thought": True}),
            frame({"text": "It is "}),
            frame({"text": "sunny"}, {"text": ".", "thoughtSignature": "c2lnMQ=="}),
            frame({"text": " Bye."}),
            frame({"text": "", "thoughtSignature": SIGNATURE}, finish="STOP"),
        )
    )
    events = await collect(make_provider(wire_server, client), question())

    assert text_of(events) == "It is sunny. Bye."
    assert native_of(events) == NativeReply(
        [
            {"text": "Let me see.", "thought": True},
            {"text": "It is sunny"},
            {"text": ".", "thoughtSignature": "c2lnMQ=="},
            {"text": " Bye."},
            {"text": "", "thoughtSignature": SIGNATURE},
        ]
    )
    assert events[-1] == Finish("stop", "STOP")


async def test_a_reply_without_signatures_or_calls_has_no_native_form(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["Hi", " there."], model=MODEL)))
    events = await collect(make_provider(wire_server, client), question())
    assert native_of(events) is None


async def test_a_call_in_a_reply_cut_short_is_not_a_call(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            frame({"text": "Hm", "thoughtSignature": SIGNATURE}),
            frame({"functionCall": {"name": "get_weather", "args": {}}}, finish="MAX_TOKENS"),
        )
    )
    events = await collect(make_provider(wire_server, client), question())
    assert not tool_calls_of(events)
    assert native_of(events) == NativeReply([{"text": "Hm", "thoughtSignature": SIGNATURE}])
    assert events[-1] == Finish("length", "MAX_TOKENS")


async def test_another_plugins_reply_is_rebuilt_with_the_documented_bypass_signature(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    """A conversation begun with another model has no Gemini signature: the first call
    of the step carries the dummy the thought signatures docs give for that case."""
    wire_server.enqueue(sse_response(*gemini_stream(["Ok."], model=MODEL)))
    reply = ChatMessage(
        "assistant",
        "Looking.",
        tool_calls=(
            ToolCall("toolu_1", "get_weather", '{"city": "Rome"}'),
            ToolCall("toolu_2", "list_files", "{}"),
        ),
        native=Native("anthropic", [{"type": "thinking", "thinking": "x", "signature": "S"}]),
    )
    request = ChatRequest(
        model=MODEL,
        messages=[
            ChatMessage("user", "Weather in São Paulo?"),
            reply,
            ChatMessage(
                "tool",
                "",
                tool_results=(
                    ToolResult("toolu_1", "get_weather", "Warm."),
                    ToolResult("toolu_2", "list_files", "a.txt"),
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
                    "role": "model",
                    "parts": [
                        {"text": "Looking."},
                        {
                            "functionCall": {"name": "get_weather", "args": {"city": "Rome"}},
                            "thoughtSignature": SIGNATURE_BYPASS,
                        },
                        {"functionCall": {"name": "list_files", "args": {}}},
                    ],
                },
                {
                    "role": "user",
                    "parts": [
                        response("get_weather", output="Warm."),
                        response("list_files", output="a.txt"),
                    ],
                },
            ]
        )
    )


def test_supports_tools() -> None:
    assert GeminiProvider.supports_tools is True
