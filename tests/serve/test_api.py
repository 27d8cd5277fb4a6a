"""The native API: /health, /api/chat and /api/chat/stream over real HTTP."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from httpx_sse import aconnect_sse

from tests.serve.helpers import HELLO, sse_events
from tests.serve.server import KEYS, ServeFactory, provider_tables
from tuichat.testing import (
    Drop,
    Gate,
    WireServer,
    anthropic_error,
    anthropic_stream,
    gemini_stream,
    openai_chat_stream,
    openai_error,
    sse_response,
)


def test_health_is_ok(serve: ServeFactory) -> None:
    served = serve()
    response = httpx.get(f"{served.url}/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_chat_returns_content_finish_reason_and_usage(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(sse_response(*anthropic_stream(["Hel", "lo!"], usage=(11, 3))))
    body = {
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello, how can I help?"},
            {"role": "user", "content": "Say hello"},
        ],
        "model": "claude-sonnet-4-5",
        "provider": "anthropic",
        "system_prompt": "Be brief.",
        "max_tokens": 50,
    }
    response = httpx.post(f"{served.url}/api/chat", json=body)
    assert response.status_code == 200
    assert response.json() == {
        "content": "Hello!",
        "finish_reason": "stop",
        "usage": {
            "input_tokens": 11,
            "output_tokens": 3,
            "total_tokens": 14,
            "cached_input_tokens": 0,
            "reasoning_tokens": None,
        },
        # claude-sonnet-4-5 at $3 / $15 per million tokens
        "cost": pytest.approx((11 * 3 + 3 * 15) / 1e6),
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "conversation_id": None,
        "left_out": [],
    }
    sent = wire_server.last_request.json()
    assert sent["model"] == "claude-sonnet-4-5"
    assert sent["system"] == "Be brief."
    assert sent["max_tokens"] == 50
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]


@pytest.mark.parametrize(
    ("model", "frames"),
    [
        ("openai/gpt-4o-mini", openai_chat_stream(["Bon", "jour"])),
        ("gemini/gemini-2.5-flash", gemini_stream(["Bon", "jour"])),
    ],
)
def test_chat_reaches_every_provider(
    serve: ServeFactory, wire_server: WireServer, model: str, frames: list[bytes]
) -> None:
    served = serve()
    wire_server.enqueue(sse_response(*frames))
    response = httpx.post(
        f"{served.url}/api/chat",
        json={"messages": [{"role": "user", "content": "Hi"}], "model": model},
    )
    assert response.status_code == 200
    assert response.json()["content"] == "Bonjour"
    assert response.json()["provider"] == model.partition("/")[0]


async def test_stream_frames_each_delta_then_done(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(sse_response(*anthropic_stream(["Hel", "lo ", "wörld"], usage=(7, 9))))
    async with (
        httpx.AsyncClient() as client,
        client.stream("POST", f"{served.url}/api/chat/stream", json=HELLO) as response,
    ):
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    frames = raw.decode().split("\n\n")
    assert frames[-1] == ""  # the stream ends with a complete frame
    assert frames[:3] == [
        'event: message\ndata: {"content":"Hel","done":false}',
        'event: message\ndata: {"content":"lo ","done":false}',
        'event: message\ndata: {"content":"wörld","done":false}',
    ]
    event, _, data = frames[3].partition("\ndata: ")
    assert event == "event: message"
    assert json.loads(data) == {
        "content": "",
        "done": True,
        "finish_reason": "stop",
        "usage": {
            "input_tokens": 7,
            "output_tokens": 9,
            "total_tokens": 16,
            "cached_input_tokens": 0,
            "reasoning_tokens": None,
        },
        "cost": pytest.approx((7 * 3 + 9 * 15) / 1e6),
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "conversation_id": None,
        "left_out": [],
    }
    assert len(frames) == 5


async def test_stream_parses_with_an_sse_client(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(sse_response(*anthropic_stream(["a", "b", "c"])))
    response, events = await sse_events(f"{served.url}/api/chat/stream", HELLO)
    assert [event.event for event in events] == ["message"] * 4
    datas = [event.json() for event in events]
    assert [d["content"] for d in datas[:3]] == ["a", "b", "c"]
    assert all(d["done"] is False for d in datas[:3])
    assert datas[3]["done"] is True and datas[3]["finish_reason"] == "stop"


async def test_deltas_reach_the_client_while_upstream_is_still_streaming(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    gate = Gate()
    frames = anthropic_stream(["first ", "second"])
    # message_start, content_block_start, ping, first delta | gate | the rest
    wire_server.enqueue(sse_response(*frames[:4], gate, *frames[4:]))
    async with (
        httpx.AsyncClient() as client,
        aconnect_sse(client, "POST", f"{served.url}/api/chat/stream", json=HELLO) as source,
    ):
        events = source.aiter_sse()
        first = await asyncio.wait_for(anext(events), 5)
        assert first.json() == {"content": "first ", "done": False}
        assert not gate.is_open  # it arrived while upstream was held
        gate.open()
        rest = [event.json() async for event in events]
    assert [d["content"] for d in rest] == ["second", ""]


async def test_an_upstream_failure_is_an_error_event(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(anthropic_error(529, "overloaded_error", "Overloaded"))
    response, events = await sse_events(f"{served.url}/api/chat/stream", HELLO)
    assert response.status_code == 200  # the stream had begun: failures are events
    assert [event.event for event in events] == ["error"]
    error = events[0].json()["error"]
    assert error["type"] == "overloaded"
    assert error["status"] == 503
    assert error["provider"] == "anthropic"
    assert "overloaded" in error["message"]


async def test_a_drop_mid_stream_sends_the_deltas_then_an_error_event(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(sse_response(*anthropic_stream(["partial "])[:4], Drop()))
    _, events = await sse_events(f"{served.url}/api/chat/stream", HELLO)
    assert [event.event for event in events] == ["message", "error"]
    assert events[0].json()["content"] == "partial "
    assert events[1].json()["error"]["type"] == "stream_interrupted"


async def test_retries_use_the_core_policy_and_are_announced(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    providers = provider_tables(wire_server)
    providers["anthropic"]["max_retries"] = 1
    served = serve({"providers": providers, "retry": {"base_delay": 0, "max_delay": 0}})
    wire_server.enqueue(
        anthropic_error(529, "overloaded_error", "Overloaded"),
        sse_response(*anthropic_stream(["after retry"])),
    )
    _, events = await sse_events(f"{served.url}/api/chat/stream", HELLO)
    assert [event.event for event in events] == ["retrying", "message", "message"]
    assert events[0].json()["attempt"] == 2
    assert events[1].json()["content"] == "after retry"


def test_upstream_auth_failure_is_a_bad_gateway_without_the_key(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(
        openai_error(401, f"Incorrect API key provided: {KEYS['openai']}", code="invalid_api_key")
    )
    body = {"messages": [{"role": "user", "content": "Hi"}], "model": "openai/gpt-4o-mini"}
    response = httpx.post(f"{served.url}/api/chat", json=body)
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["type"] == "upstream_auth_error"
    assert error["provider"] == "openai"
    assert KEYS["openai"] not in response.text


def test_rate_limits_pass_through_with_retry_after(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(
        anthropic_error(429, "rate_limit_error", "Slow", headers={"retry-after": "7"})
    )
    response = httpx.post(f"{served.url}/api/chat", json=HELLO)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["type"] == "rate_limited"


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/stream"])
def test_bad_json_is_a_400_json_error(serve: ServeFactory, path: str) -> None:
    served = serve()
    response = httpx.post(
        f"{served.url}{path}",
        content=b'{"messages": [',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["type"] == "invalid_json"
    assert error["message"].startswith("The request body is not valid JSON")


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role"),
        ({"messages": [{"role": "user", "content": "x"}], "temperature": 3}, "temperature"),
        ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, "max_tokens"),
        ({"messages": [{"role": "user", "content": "x"}], "stream": True}, "stream"),
        ({"messages": [{"role": "assistant", "content": "x"}]}, "messages"),
        ({"messages": [{"role": "user", "content": "  "}]}, "messages"),
    ],
)
def test_invalid_requests_are_422_naming_the_field(
    serve: ServeFactory, body: dict[str, object], param: str
) -> None:
    served = serve()
    response = httpx.post(f"{served.url}/api/chat", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "invalid_request"
    assert error["param"] == param


def test_unknown_provider_is_404(serve: ServeFactory, wire_server: WireServer) -> None:
    served = serve()
    body = {"messages": [{"role": "user", "content": "x"}], "provider": "nosuch"}
    response = httpx.post(f"{served.url}/api/chat", json=body)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "not_found"
    assert "nosuch" in error["message"]
    assert wire_server.requests == []


def test_unknown_model_is_404(serve: ServeFactory, wire_server: WireServer) -> None:
    served = serve()
    wire_server.enqueue(
        openai_error(404, "The model `gpt-nope` does not exist", code="model_not_found")
    )
    body = {"messages": [{"role": "user", "content": "x"}], "model": "openai/gpt-nope"}
    response = httpx.post(f"{served.url}/api/chat", json=body)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


def test_a_provider_without_a_key_is_503(serve: ServeFactory, wire_server: WireServer) -> None:
    providers = provider_tables(wire_server)
    del providers["gemini"]["api_key"]
    served = serve({"providers": providers})
    body = {"messages": [{"role": "user", "content": "x"}], "model": "gemini/gemini-2.5-flash"}
    response = httpx.post(f"{served.url}/api/chat", json=body)
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "provider_not_configured"
    assert "GEMINI_API_KEY" in response.json()["error"]["message"]


def test_unknown_paths_and_methods_are_json_errors(serve: ServeFactory) -> None:
    served = serve()
    missing = httpx.get(f"{served.url}/api/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found"
    wrong = httpx.get(f"{served.url}/api/chat")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["type"] == "method_not_allowed"


async def test_keepalive_comments_while_the_model_is_silent(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve(keepalive=0.05)
    gate = Gate()
    frames = anthropic_stream(["late"])
    wire_server.enqueue(sse_response(*frames[:3], gate, *frames[3:]))
    seen = b""
    async with (
        httpx.AsyncClient() as client,
        client.stream("POST", f"{served.url}/api/chat/stream", json=HELLO) as response,
    ):
        async for chunk in response.aiter_raw():
            seen += chunk
            if b": keep-alive\n\n" in seen and not gate.is_open:
                gate.open()
    assert seen.startswith(b": keep-alive\n\n")
    assert b'"content":"late"' in seen


async def test_the_stream_opens_while_the_model_is_still_silent(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    gate = Gate()
    wire_server.enqueue(sse_response(gate, *anthropic_stream(["late"])))
    async with (
        httpx.AsyncClient() as client,
        client.stream("POST", f"{served.url}/api/chat/stream", json=HELLO) as response,
    ):
        assert response.status_code == 200  # the status line did not wait for the model
        assert not gate.is_open
        gate.open()
        body = await response.aread()
    assert b'"content":"late"' in body


def test_a_temperature_the_provider_cannot_take_is_named_in_the_answer(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(sse_response(*anthropic_stream(["Hi"])))
    body = {
        "messages": [{"role": "user", "content": "Hi"}],
        "model": "anthropic/claude-sonnet-4-5",
        "temperature": 0.5,
    }
    response = httpx.post(f"{served.url}/api/chat", json=body)
    assert response.status_code == 200
    assert response.json()["left_out"] == [
        {"name": "temperature", "reason": "Anthropic's API version 2026-10-21 takes none"}
    ]
    assert "temperature" not in wire_server.last_request.json()
