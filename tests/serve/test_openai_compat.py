"""The OpenAI-compatible API, driven by the official ``openai`` SDK and by raw HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.serve.server import CLAUDE, KEYS, ServeFactory, provider_tables
from tuichat.testing import (
    Drop,
    WireServer,
    anthropic_error,
    anthropic_stream,
    openai_error,
    sse_response,
)
from tuichat.testing.__main__ import MODEL_IDS, make_handlers

openai = pytest.importorskip("openai")

TOKEN = "serve-token-for-tests"


def sdk(served_url: str, api_key: str = TOKEN) -> Any:
    """The official OpenAI client pointed at ``tuichat serve`` (no retries: tests stay fast)."""
    return openai.OpenAI(base_url=f"{served_url}/v1", api_key=api_key, max_retries=0, timeout=10)


def test_the_openai_sdk_streams_an_anthropic_reply(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve(token=TOKEN)
    wire_server.enqueue(
        sse_response(*anthropic_stream(["Hello", " from", " Claude"], usage=(12, 3)))
    )
    stream = sdk(served.url).chat.completions.create(
        model=f"anthropic/{CLAUDE}",
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Greet me"},
        ],
        max_tokens=64,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from Claude"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert len({c.id for c in chunks}) == 1
    assert all(c.model == f"anthropic/{CLAUDE}" for c in chunks)
    usage = chunks[-1].usage
    assert chunks[-1].choices == []
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (12, 3, 15)
    sent = wire_server.last_request
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == KEYS["anthropic"]
    assert sent.json()["system"] == "You are terse."
    assert sent.json()["model"] == CLAUDE
    assert sent.json()["max_tokens"] == 64


def test_the_openai_sdk_gets_a_whole_completion(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(sse_response(*anthropic_stream(["Four."], usage=(5, 2))))
    completion = sdk(served.url).chat.completions.create(
        model=f"anthropic/{CLAUDE}",
        messages=[{"role": "user", "content": [{"type": "text", "text": "2+2?"}]}],
    )
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == "Four."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == 7
    assert wire_server.last_request.json()["messages"][0]["content"] == "2+2?"


def test_stream_chunks_are_in_openai_format_and_end_with_done(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(sse_response(*anthropic_stream(["a", "b"])))
    body = {
        "model": f"anthropic/{CLAUDE}",
        "messages": [{"role": "user", "content": "x"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with httpx.stream("POST", f"{served.url}/v1/chat/completions", json=body) as response:
        raw = response.read().decode()
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = raw.split("\n\n")
    assert frames[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(frame.removeprefix("data: ")) for frame in frames[:-2]]
    assert all(frame.startswith("data: {") for frame in frames[:-2])
    keys = {"id", "object", "created", "model", "system_fingerprint", "choices", "usage"}
    assert all(set(chunk) == keys for chunk in chunks)
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks[:-1]]
    assert deltas == [
        {"role": "assistant", "content": "", "refusal": None},
        {"content": "a"},
        {"content": "b"},
        {},
    ]
    assert [chunk["choices"][0]["finish_reason"] for chunk in chunks[:-1]] == [
        None,
        None,
        None,
        "stop",
    ]
    assert all(chunk["usage"] is None for chunk in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}


def test_without_include_usage_chunks_carry_no_usage(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(sse_response(*anthropic_stream(["a"])))
    body = {"model": f"anthropic/{CLAUDE}", "messages": [{"role": "user", "content": "x"}]}
    with httpx.stream(
        "POST", f"{served.url}/v1/chat/completions", json={**body, "stream": True}
    ) as response:
        frames = response.read().decode().split("\n\n")
    chunks = [json.loads(frame.removeprefix("data: ")) for frame in frames[:-2]]
    assert all("usage" not in chunk for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_a_failure_before_the_first_delta_is_a_real_http_error(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(anthropic_error(529, "overloaded_error", "Overloaded"))
    with pytest.raises(openai.InternalServerError) as caught:
        list(
            sdk(served.url).chat.completions.create(
                model=f"anthropic/{CLAUDE}",
                messages=[{"role": "user", "content": "x"}],
                stream=True,
            )
        )
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "overloaded"


def test_a_failure_mid_stream_is_raised_by_the_sdk(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    wire_server.enqueue(sse_response(*anthropic_stream(["partial"])[:4], Drop()))
    stream = sdk(served.url).chat.completions.create(
        model=f"anthropic/{CLAUDE}", messages=[{"role": "user", "content": "x"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIError, match="dropped"):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content)
    assert "partial" in received


def test_errors_use_openai_shapes_and_sdk_classes(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve(token=TOKEN)
    client = sdk(served.url)
    with pytest.raises(openai.AuthenticationError):
        sdk(served.url, api_key="wrong").chat.completions.create(
            model=f"anthropic/{CLAUDE}", messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(
            model="demo/demo",  # a plugin without tool calling
            messages=[{"role": "user", "content": "x"}],
            tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
        )
    assert bad.value.body["param"] == "tools"
    assert "does not support tool calling" in bad.value.body["message"]
    wire_server.enqueue(openai_error(404, "The model does not exist", code="model_not_found"))
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(
            model="openai/nosuch", messages=[{"role": "user", "content": "x"}]
        )
    assert missing.value.body["code"] == "model_not_found"
    assert wire_server.last_request.json()["model"] == "nosuch"


def test_a_model_whose_provider_prefix_is_unknown_is_refused_before_any_provider_is_asked(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    client = sdk(serve(token=TOKEN).url)
    with pytest.raises(openai.NotFoundError) as refused:
        client.chat.completions.create(
            model="nope/nothing", messages=[{"role": "user", "content": "x"}]
        )
    assert "Unknown provider 'nope'" in refused.value.body["message"]
    assert "openai" in refused.value.body["message"]  # the instances are named
    assert wire_server.requests == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "openai/gpt-4o-mini", "messages": []}, "messages"),
        (
            {
                "model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": [{"type": "image_url"}]}],
            },
            "messages[0].content",
        ),
        (
            {"model": "openai/gpt-4o-mini", "messages": [{"role": "function", "content": "x"}]},
            "messages[0].role",
        ),
        (
            {"model": "openai/gpt-4o-mini", "messages": [{"role": "tool", "content": "x"}]},
            "messages[0].tool_call_id",
        ),
        (
            {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "n": 2},
            "n",
        ),
        (
            {
                "model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": "x"}],
                "temperature": 9,
            },
            "temperature",
        ),
    ],
)
def test_invalid_requests_are_400_in_openai_shape(
    serve: ServeFactory, body: dict[str, Any], param: str
) -> None:
    served = serve()
    response = httpx.post(f"{served.url}/v1/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


def test_bad_json_on_v1_is_a_400_in_openai_shape(serve: ServeFactory) -> None:
    served = serve()
    response = httpx.post(f"{served.url}/v1/chat/completions", content=b"not json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_models_lists_every_usable_provider_and_skips_failures(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    providers = provider_tables(wire_server)
    # A provider whose models endpoint fails, and one without a key: both left out.
    providers["broken"] = {
        "plugin": "openai",
        "base_url": f"{wire_server.url}/broken/v1",
        "api_key": "k",
        "max_retries": 0,
    }
    providers["keyless"] = {"plugin": "anthropic", "base_url": wire_server.url}
    wire_server.route("GET", "/broken/*", openai_error(500, "boom", "server_error"))
    wire_server.route("GET", "*/models", make_handlers(1, 0)[("GET", "*/models")])
    served = serve({"providers": providers})
    ids = [model.id for model in sdk(served.url).models.list()]
    expected = {f"{p}/{m}" for p in ("anthropic", "openai", "gemini") for m in MODEL_IDS}
    assert expected <= set(ids)
    assert {"demo/demo", "demo/echo"} <= set(ids)
    assert not [i for i in ids if i.startswith(("broken/", "keyless/"))]
    raw = httpx.get(f"{served.url}/v1/models").json()
    assert raw["object"] == "list"
    assert raw["data"][0].keys() == {"id", "object", "created", "owned_by"}


def test_a_listed_model_id_can_be_used_as_is(serve: ServeFactory, wire_server: WireServer) -> None:
    served = serve()
    wire_server.route("GET", "*/models", make_handlers(1, 0)[("GET", "*/models")])
    client = sdk(served.url)
    gemini_id = next(m.id for m in client.models.list() if m.id.startswith("gemini/"))
    wire_server.route(
        "POST", "*:streamGenerateContent", make_handlers(2, 0)[("POST", "*:streamGenerateContent")]
    )
    reply = client.chat.completions.create(
        model=gemini_id, messages=[{"role": "user", "content": "x"}]
    )
    assert reply.model == gemini_id
    assert reply.choices[0].message.content
    assert (
        f"/models/{gemini_id.partition('/')[2]}:streamGenerateContent"
        in wire_server.last_request.path
    )
