"""Token counting on demand: ``POST /v1/messages/count_tokens``, as the API reference has it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tuichat_anthropic import API_VERSION_2026, AnthropicProvider, AnthropicSettings

from tuichat import errors
from tuichat.http import make_client
from tuichat.protocol import ChatMessage, ChatRequest, ToolSpec
from tuichat.testing import WireServer
from tuichat.testing.sse import json_response

KEY = "sk-ant-test-count-1a2b3c"
MODEL = "claude-sonnet-5-5"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as shared:
        yield shared


def provider(server: WireServer, client: httpx.AsyncClient) -> AnthropicProvider:
    settings = AnthropicSettings(base_url=server.url, api_key=KEY, max_retries=0, read_timeout=5)
    return AnthropicProvider(settings=settings, client=client, instance_name="anthropic")


async def test_the_count_sends_the_prompt_and_what_shapes_it_and_nothing_that_generates(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(json_response({"input_tokens": 2095}))
    request = ChatRequest(
        model=MODEL,
        system="Be brief.",
        messages=[
            ChatMessage("user", "Hello"),
            ChatMessage("assistant", "Hi."),
            ChatMessage("user", "What is 2+2?"),
        ],
        temperature=0.2,
        max_tokens=500,
        tools=[ToolSpec("add", "Add two numbers", {"type": "object", "properties": {}})],
    )

    assert await provider(wire_server, client).count_tokens(request) == 2095

    [sent] = wire_server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/messages/count_tokens")
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == API_VERSION_2026
    assert sent.json() == {
        "model": MODEL,
        "system": "Be brief.",
        "messages": [
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi."},
            {"role": "user", "content": "What is 2+2?"},
        ],
        "tools": [
            {
                "name": "add",
                "description": "Add two numbers",
                "input_schema": {"type": "object", "properties": {}},
            }
        ],
    }


async def test_an_answer_without_a_count_is_one_sentence(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(json_response({"tokens": 3}))
    request = ChatRequest(model=MODEL, messages=[ChatMessage("user", "hi")])
    with pytest.raises(errors.MalformedResponse, match="without input_tokens"):
        await provider(wire_server, client).count_tokens(request)
