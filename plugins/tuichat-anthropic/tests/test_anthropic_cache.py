"""Prompt caching: ``cache_control`` breakpoints on the wire, where the docs put them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tuichat_anthropic import AnthropicProvider, AnthropicSettings

from tuichat.http import make_client
from tuichat.prices import shipped
from tuichat.protocol import ChatMessage, ChatRequest, Usage
from tuichat.testing import (
    PNG_1X1,
    WireServer,
    anthropic_stream,
    attachment,
    collect,
    conversation_request,
    sse_response,
)

MODEL = "claude-sonnet-5-5"
LONG = "A long answer. " * 400  # about 1,500 estimated tokens
EPHEMERAL = {"type": "ephemeral"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as shared:
        yield shared


async def sent(
    server: WireServer, client: httpx.AsyncClient, request: ChatRequest, **settings: Any
) -> dict[str, Any]:
    server.enqueue(sse_response(*anthropic_stream(["ok"], model=MODEL)))
    provider = AnthropicProvider(
        settings=AnthropicSettings(base_url=server.url, api_key="sk-ant-test", **settings),
        client=client,
        instance_name="anthropic",
    )
    await collect(provider, request)
    body: dict[str, Any] = server.requests[-1].json()
    return body


def long_conversation(system: str | None = "Be brief.") -> ChatRequest:
    return ChatRequest(
        model=MODEL,
        system=system,
        messages=[
            ChatMessage("user", "Tell me everything."),
            ChatMessage("assistant", LONG),
            ChatMessage("user", "And in short?"),
        ],
    )


async def test_a_long_conversation_caches_the_system_prompt_and_everything_to_the_prompt(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    body = await sent(wire_server, client, long_conversation())
    assert body["system"] == [{"type": "text", "text": "Be brief.", "cache_control": EPHEMERAL}]
    assert body["messages"][:2] == [
        {"role": "user", "content": "Tell me everything."},
        {"role": "assistant", "content": LONG},
    ]
    assert body["messages"][-1] == {
        "role": "user",
        "content": [{"type": "text", "text": "And in short?", "cache_control": EPHEMERAL}],
    }


async def test_a_short_prompt_is_sent_as_before_without_breakpoints(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    request = ChatRequest(model=MODEL, system="Be brief.", messages=[ChatMessage("user", "hi")])
    body = await sent(wire_server, client, request)
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(("setting", "cached"), [("off", False), ("always", True)])
async def test_the_setting_turns_caching_off_or_on_whatever_the_length(
    wire_server: WireServer, client: httpx.AsyncClient, setting: str, cached: bool
) -> None:
    request = (
        long_conversation()
        if setting == "off"
        else ChatRequest(model=MODEL, messages=[ChatMessage("user", "hi")])
    )
    body = await sent(wire_server, client, request, prompt_cache=setting)
    assert ("cache_control" in str(body)) is cached


async def test_a_prompt_with_an_image_marks_its_last_block(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    request = conversation_request(
        MODEL, ("user", "What is this?", [attachment(PNG_1X1, "dot.png")])
    )
    body = await sent(wire_server, client, request, prompt_cache="always")
    blocks = body["messages"][-1]["content"]
    assert [block.get("cache_control") for block in blocks] == [None, EPHEMERAL]
    assert blocks[-1]["type"] == "text"


async def test_tokens_written_to_the_cache_are_reported_apart(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    """``input_tokens`` counts only the tokens after the last breakpoint: the prompt is
    the three counts together, and the written part is reported for its own price."""
    wire_server.enqueue(
        sse_response(
            *anthropic_stream(["ok"], model=MODEL, usage=(30, 5), cache_read=0, cache_write=1600)
        )
    )
    provider = AnthropicProvider(
        settings=AnthropicSettings(base_url=wire_server.url, api_key="sk-ant-test"),
        client=client,
        instance_name="anthropic",
    )
    events = await collect(provider, long_conversation())
    [usage] = [event for event in events if isinstance(event, Usage)]
    assert usage == Usage(1630, 5, cached_input_tokens=0, cache_write_tokens=1600)


def test_the_shipped_anthropic_prices_bill_cache_writes_at_one_and_a_quarter_the_input() -> None:
    for model, price in shipped()["anthropic"].items():
        assert price.cache_write == pytest.approx(price.input * 1.25), model
