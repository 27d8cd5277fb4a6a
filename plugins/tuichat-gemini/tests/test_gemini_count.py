"""Token counting on demand: ``POST models/{model}:countTokens``, as the API reference has it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tuichat_gemini import GeminiProvider, GeminiSettings

from tuichat import errors
from tuichat.http import make_client
from tuichat.protocol import ChatMessage, ChatRequest
from tuichat.testing import WireServer
from tuichat.testing.sse import json_response

KEY = "AIzaSyTest-count-0f1e2d"
MODEL = "gemini-3.8-flash"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as shared:
        yield shared


def provider(server: WireServer, client: httpx.AsyncClient) -> GeminiProvider:
    settings = GeminiSettings(base_url=server.url, api_key=KEY, max_retries=0, read_timeout=5)
    return GeminiProvider(settings=settings, client=client)


async def test_the_count_sends_the_whole_generate_content_request_of_the_model(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(json_response({"totalTokens": 31, "promptTokensDetails": []}))
    request = ChatRequest(
        model=MODEL,
        system="Be brief.",
        messages=[
            ChatMessage("user", "Hello"),
            ChatMessage("assistant", "Hi."),
            ChatMessage("user", "2+2?"),
        ],
        max_tokens=100,
    )

    assert await provider(wire_server, client).count_tokens(request) == 31

    [sent] = wire_server.requests
    assert (sent.method, sent.path) == ("POST", f"/v1beta/models/{MODEL}:countTokens")
    assert sent.headers["x-goog-api-key"] == KEY  # never in the URL
    assert "key=" not in sent.path
    assert sent.json() == {
        "generateContentRequest": {
            "model": f"models/{MODEL}",
            "contents": [
                {"role": "user", "parts": [{"text": "Hello"}]},
                {"role": "model", "parts": [{"text": "Hi."}]},
                {"role": "user", "parts": [{"text": "2+2?"}]},
            ],
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "generationConfig": {"maxOutputTokens": 100},
        }
    }


async def test_an_answer_without_a_count_is_one_sentence(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(json_response({}))
    request = ChatRequest(model=MODEL, messages=[ChatMessage("user", "hi")])
    with pytest.raises(errors.MalformedResponse, match="without totalTokens"):
        await provider(wire_server, client).count_tokens(request)
