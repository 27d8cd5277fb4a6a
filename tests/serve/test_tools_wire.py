"""Tools end to end: the ``openai`` SDK -> tuichat serve -> the real Anthropic, Gemini and
OpenAI plugins -> their wire formats, as the APIs document them (issue 15)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.serve.server import CLAUDE, ServeFactory
from tuichat.testing import (
    WireServer,
    anthropic_stream,
    openai_chat_stream,
    openai_tool_stream,
    sse_event,
    sse_response,
)

openai = pytest.importorskip("openai")

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": SCHEMA,
    },
}
QUESTION = "What is the weather in Paris?"


def run_the_sdk_example(url: str, model: str) -> tuple[Any, Any]:
    """The SDK's tool-calling example: ask, run the call, send its result, get the answer."""
    with openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0, timeout=10) as client:
        messages: list[Any] = [{"role": "user", "content": QUESTION}]
        first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER])
        message = first.choices[0].message
        messages.append(message)
        for call in message.tool_calls or []:
            city = json.loads(call.function.arguments)["city"]
            messages.append({"role": "tool", "tool_call_id": call.id, "content": f"18C in {city}"})
        final = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER])
    return first, final


# Anthropic ---------------------------------------------------------------------------------


def _anthropic(data: dict[str, Any]) -> bytes:
    return sse_event(data, event=data["type"])


THINKING_SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3h+/Gg0xKq9+zE/w=="


def _block(index: int, start: dict[str, Any], deltas: list[dict[str, Any]]) -> list[bytes]:
    return [
        _anthropic({"type": "content_block_start", "index": index, "content_block": start}),
        *(
            _anthropic({"type": "content_block_delta", "index": index, "delta": delta})
            for delta in deltas
        ),
        _anthropic({"type": "content_block_stop", "index": index}),
    ]


def claude_thinks_then_calls_get_weather() -> list[bytes]:
    """A Messages stream: a ``thinking`` block with its signature, a text block, then a
    ``tool_use`` block whose input arrives in ``input_json_delta`` pieces cut mid-string;
    ``stop_reason: "tool_use"``."""
    usage = {"input_tokens": 40, "output_tokens": 1}
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": CLAUDE,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    tool_use = {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}}
    return [
        _anthropic({"type": "message_start", "message": message}),
        *_block(
            0,
            {"type": "thinking", "thinking": ""},
            [
                {"type": "thinking_delta", "thinking": "Paris, so get_weather."},
                {"type": "signature_delta", "signature": THINKING_SIGNATURE},
            ],
        ),
        *_block(1, {"type": "text", "text": ""}, [{"type": "text_delta", "text": "Let me check."}]),
        *_block(
            2,
            tool_use,
            [
                {"type": "input_json_delta", "partial_json": piece}
                for piece in ('{"ci', 'ty": "Pa', 'ris"}')
            ],
        ),
        _anthropic(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 12},
            }
        ),
        _anthropic({"type": "message_stop"}),
    ]


def test_the_sdks_tool_calling_example_works_with_claude(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(sse_response(*claude_thinks_then_calls_get_weather()))
    wire_server.enqueue(sse_response(*anthropic_stream(["It is 18C in Paris."])))

    first, final = run_the_sdk_example(served.url, f"anthropic/{CLAUDE}")

    assert first.choices[0].finish_reason == "tool_calls"
    [call] = first.choices[0].message.tool_calls
    assert (call.id, call.function.name) == ("toolu_01", "get_weather")
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert first.choices[0].message.content == "Let me check."
    assert final.choices[0].message.content == "It is 18C in Paris."
    asked, answered = (request.json() for request in wire_server.requests)
    assert asked["tools"] == [
        {"name": "get_weather", "description": "The weather in a city.", "input_schema": SCHEMA}
    ]
    assert answered["tools"] == asked["tools"]
    history = answered["messages"]
    assert history[1]["role"] == "assistant"
    # The thinking block goes back as it came: its signature is checked.
    assert history[1]["content"][0] == {
        "type": "thinking",
        "thinking": "Paris, so get_weather.",
        "signature": THINKING_SIGNATURE,
    }
    assert [block["type"] for block in history[1]["content"]] == ["thinking", "text", "tool_use"]
    assert history[1]["content"][2] == {
        "type": "tool_use",
        "id": "toolu_01",
        "name": "get_weather",
        "input": {"city": "Paris"},
    }
    assert history[2]["role"] == "user"
    [result] = history[2]["content"]
    assert result["type"] == "tool_result"
    assert result["tool_use_id"] == "toolu_01"
    assert result["content"] in ("18C in Paris", [{"type": "text", "text": "18C in Paris"}])
    assert not result.get("is_error")


# Gemini ------------------------------------------------------------------------------------

SIGNATURE = "CiQBcsjafA+/7yl6xZ8c3mJi6k/q2wEh0kNyqQ=="


def gemini_frame(parts: list[dict[str, Any]], finish: str | None = None) -> bytes:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": "gemini-3-flash"}
    if finish:
        body["usageMetadata"] = {"promptTokenCount": 30, "candidatesTokenCount": 8}
    return sse_event(body)


def test_a_gemini_thought_signature_makes_the_round_trip_through_the_sdk(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    call_part = {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
        "thoughtSignature": SIGNATURE,
    }
    wire_server.enqueue(sse_response(gemini_frame([call_part], "STOP")))
    wire_server.enqueue(sse_response(gemini_frame([{"text": "It is 18C in Paris."}], "STOP")))

    first, final = run_the_sdk_example(served.url, "gemini/gemini-3-flash")

    [call] = first.choices[0].message.tool_calls
    assert call.model_extra["extra_content"] == {"google": {"thought_signature": SIGNATURE}}
    assert final.choices[0].message.content == "It is 18C in Paris."
    answered = wire_server.requests[1].json()
    model_turn = answered["contents"][1]
    assert model_turn["role"] == "model"
    [sent] = [part for part in model_turn["parts"] if "functionCall" in part]
    assert sent["thoughtSignature"] == SIGNATURE  # the same bytes, not re-encoded
    assert sent["functionCall"]["name"] == "get_weather"
    assert sent["functionCall"]["args"] == {"city": "Paris"}
    response_turn = answered["contents"][2]
    [response] = response_turn["parts"]
    assert response["functionResponse"]["name"] == "get_weather"
    assert response["functionResponse"]["response"] == {"output": "18C in Paris"}


def test_a_streamed_gemini_call_carries_its_thought_signature(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    call_part = {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
        "thoughtSignature": SIGNATURE,
    }
    wire_server.enqueue(
        sse_response(gemini_frame([{"text": "Checking."}]), gemini_frame([call_part], "STOP"))
    )
    with openai.OpenAI(base_url=f"{served.url}/v1", api_key="x", max_retries=0) as client:
        chunks = list(
            client.chat.completions.create(
                model="gemini/gemini-3-flash",
                messages=[{"role": "user", "content": QUESTION}],
                tools=[WEATHER],
                stream=True,
            )
        )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    [call] = [c for chunk in chunks for c in chunk.choices[0].delta.tool_calls or []]
    assert text == "Checking."
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert call.model_extra["extra_content"] == {"google": {"thought_signature": SIGNATURE}}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


# OpenAI and compatible servers -------------------------------------------------------------


def test_an_openai_compatible_server_gets_the_calls_and_results_in_its_own_shape(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    pieces = ('{"ci', 'ty": "Pa', 'ris"}')
    wire_server.enqueue(sse_response(*openai_tool_stream([("call_abc", "get_weather", pieces)])))
    wire_server.enqueue(sse_response(*openai_chat_stream(["It is 18C in Paris."])))

    first, final = run_the_sdk_example(served.url, "openai/gpt-4o-mini")

    [call] = first.choices[0].message.tool_calls
    assert (call.id, call.function.arguments) == ("call_abc", '{"city": "Paris"}')
    assert final.choices[0].message.content == "It is 18C in Paris."
    asked, answered = (request.json() for request in wire_server.requests)
    assert asked["tools"] == [WEATHER]
    assert answered["messages"][1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc", "content": "18C in Paris"},
    ]


def test_a_signature_a_client_kept_reaches_gemini_after_a_restart(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()  # a fresh server: it remembers no reply
    wire_server.enqueue(sse_response(gemini_frame([{"text": "It is 18C in Paris."}], "STOP")))
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        "extra_content": {"google": {"thought_signature": SIGNATURE}},
    }
    messages = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18C in Paris"},
    ]
    with openai.OpenAI(base_url=f"{served.url}/v1", api_key="x", max_retries=0) as client:
        client.chat.completions.create(
            model="gemini/gemini-3-flash", messages=messages, tools=[WEATHER]
        )
    model_turn = wire_server.last_request.json()["contents"][1]
    assert model_turn == {
        "role": "model",
        "parts": [
            {
                "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                "thoughtSignature": SIGNATURE,
            }
        ],
    }
