"""A client that leaves cancels the upstream request at once; served turns can be saved."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import pytest
from httpx_sse import aconnect_sse

from tests.serve.helpers import HELLO, eventually
from tests.serve.server import CLAUDE, ServeFactory
from tuichat.testing import Drop, Stall, WireServer, anthropic_stream, sse_response


def _partial_then_stall(wire_server: WireServer) -> None:
    # message_start, content_block_start, ping, one delta; then silence until the
    # client (tuichat serve) goes away, which the wire server counts as a disconnect.
    wire_server.enqueue(sse_response(*anthropic_stream(["partial "])[:4], Stall()))


async def test_leaving_a_stream_closes_the_upstream_request(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve(save=True)
    _partial_then_stall(wire_server)
    async with (
        httpx.AsyncClient() as client,
        aconnect_sse(client, "POST", f"{served.url}/api/chat/stream", json=HELLO) as source,
    ):
        first = await asyncio.wait_for(anext(source.aiter_sse()), 5)
        assert first.json()["content"] == "partial "
        assert wire_server.disconnects == 0
        left = time.monotonic()
    # Leaving the block closed our connection; upstream must see its own close promptly.
    assert await wire_server.await_disconnect(timeout=5)
    assert time.monotonic() - left < 1.0
    store = served.runtime.store
    (conversation,) = store.list_conversations()
    await eventually(lambda: store.messages(conversation.id)[-1].status != "streaming")
    reply = store.messages(conversation.id)[-1]
    assert (reply.status, reply.content) == ("cancelled", "partial ")


async def test_leaving_a_plain_request_closes_the_upstream_request(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    _partial_then_stall(wire_server)
    async with httpx.AsyncClient() as client:
        request = asyncio.create_task(client.post(f"{served.url}/api/chat", json=HELLO))
        await wire_server.await_requests(1)
        request.cancel()  # the client gives up: httpx closes the connection
        with contextlib.suppress(asyncio.CancelledError):
            await request
    assert await wire_server.await_disconnect(timeout=5)
    # Not saving: the scratch store forgets the turn once it is over.
    scratch = served.app.state.turns.scratch
    await eventually(lambda: scratch.list_conversations() == [])


def test_leaving_an_openai_stream_closes_the_upstream_request(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve()
    _partial_then_stall(wire_server)
    body = {"model": f"anthropic/{CLAUDE}", "messages": [{"role": "user", "content": "x"}]}
    with httpx.stream(
        "POST", f"{served.url}/v1/chat/completions", json={**body, "stream": True}
    ) as response:
        for line in response.iter_lines():
            if '"partial "' in line:
                break
    assert wire_server.wait_for_disconnect(timeout=5)


def test_saved_conversations_land_in_the_store(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve(save=True)
    wire_server.enqueue(sse_response(*anthropic_stream(["Paris."], usage=(9, 2))))
    body = {
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris."},
            {"role": "user", "content": "Sure?"},
        ],
        "model": f"anthropic/{CLAUDE}",
        "temperature": 0.5,
    }
    response = httpx.post(f"{served.url}/api/chat", json=body)
    assert response.status_code == 200
    conversation_id = response.json()["conversation_id"]
    store = served.runtime.store
    conversation = store.get_conversation(conversation_id)
    assert conversation is not None
    assert conversation.title == "What is the capital of France?"
    assert (conversation.provider, conversation.model) == ("anthropic", CLAUDE)
    assert conversation.system_prompt == "Be terse."
    assert conversation.params == {"temperature": 0.5}
    messages = store.messages(conversation_id)
    assert [(m.role, m.content) for m in messages] == [
        ("user", "What is the capital of France?"),
        ("assistant", "Paris."),
        ("user", "Sure?"),
        ("assistant", "Paris."),
    ]
    reply = messages[-1]
    assert (reply.status, reply.finish_reason, reply.input_tokens) == ("complete", "stop", 9)
    assert reply.provider == "anthropic"


async def test_a_failed_saved_stream_keeps_its_partial_reply(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    served = serve(save=True)
    wire_server.enqueue(sse_response(*anthropic_stream(["half a "])[:4], Drop()))
    async with httpx.AsyncClient() as client:
        async with aconnect_sse(
            client, "POST", f"{served.url}/api/chat/stream", json=HELLO
        ) as source:
            events = [event async for event in source.aiter_sse()]
    assert events[-1].event == "error"
    store = served.runtime.store
    (conversation,) = store.list_conversations()
    reply = store.messages(conversation.id)[-1]
    assert (reply.status, reply.content) == ("interrupted", "half a ")


@pytest.mark.parametrize("path", ["/api/chat", "/v1/chat/completions"])
def test_without_save_nothing_is_stored(
    serve: ServeFactory, wire_server: WireServer, path: str
) -> None:
    served = serve(save=False)
    wire_server.enqueue(sse_response(*anthropic_stream(["hi"])))
    body = {"model": f"anthropic/{CLAUDE}", "messages": [{"role": "user", "content": "x"}]}
    assert httpx.post(f"{served.url}{path}", json=body).status_code == 200
    assert served.runtime.store.list_conversations() == []
    assert served.app.state.turns.scratch.list_conversations() == []


def test_openai_requests_are_saved_too(serve: ServeFactory, wire_server: WireServer) -> None:
    served = serve(save=True)
    wire_server.enqueue(sse_response(*anthropic_stream(["hi"])))
    body = {"model": f"anthropic/{CLAUDE}", "messages": [{"role": "user", "content": "hello"}]}
    assert httpx.post(f"{served.url}/v1/chat/completions", json=body).status_code == 200
    (conversation,) = served.runtime.store.list_conversations()
    assert [m.content for m in served.runtime.store.messages(conversation.id)] == ["hello", "hi"]
