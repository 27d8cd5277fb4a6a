"""The test kit: a real loopback server, exercised with real httpx clients."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import httpx_sse
import pytest

from tests.fakes import FakeProvider, FakeSettings, Script
from tuichat import errors
from tuichat.provider import (
    ChatMessage,
    ChatRequest,
    Finish,
    Native,
    NativeReply,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolSpec,
)
from tuichat.testing import (
    Chunk,
    Delay,
    Drop,
    Gate,
    RecordedRequest,
    Response,
    Stall,
    WireServer,
    anthropic_error,
    anthropic_error_event,
    anthropic_stream,
    collect,
    failure,
    gemini_error,
    gemini_function_call_stream,
    gemini_stream,
    isolated_env,
    json_response,
    native_of,
    openai_chat_stream,
    openai_error,
    openai_error_event,
    openai_tool_stream,
    reasoning_of,
    split_at,
    split_bytes,
    sse_event,
    sse_response,
    text_of,
    tool_calls_of,
)
from tuichat.testing.contract import ProviderContract

pytest_plugins = ["pytester"]


@pytest.fixture
def server() -> Iterator[WireServer]:
    with WireServer() as running:
        yield running


def events(client: httpx.Client, url: str) -> list[httpx_sse.ServerSentEvent]:
    with httpx_sse.connect_sse(client, "POST", url, json={}) as source:
        return list(source.iter_sse())


# Scripting ------------------------------------------------------------------------------


def test_queue_is_fifo_then_404(server: WireServer) -> None:
    server.enqueue(Response(body=b"one"), Response(status=201, body="two"))
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/a").text == "one"
        second = client.get("/b")
        third = client.get("/c")
    assert (second.status_code, second.text) == (201, "two")
    assert third.status_code == 404
    assert third.json() == {"error": "no scripted response"}


def test_routes_come_first_are_reused_and_ignore_the_query(server: WireServer) -> None:
    server.route("GET", "/v1/models", json_response({"data": []}))
    server.route("post", "*/chat/completions", Response(body=b"chat"))
    server.enqueue(Response(body=b"queued"))
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/v1/models?limit=5").json() == {"data": []}
        assert client.get("/v1/models").json() == {"data": []}
        assert client.post("/proxy/v1/chat/completions").text == "chat"
        assert client.post("/v1/models").text == "queued"  # method must match
        assert client.post("/v1/models").status_code == 404


def test_handlers_default_and_handler_errors(server: WireServer) -> None:
    async def echo(request: RecordedRequest) -> Response:
        return json_response({"got": request.json()})

    def boom(request: RecordedRequest) -> Response:
        raise ValueError("bad script")

    server.route("POST", "/echo", echo)
    server.route("GET", "/boom", boom)
    server.set_default(lambda request: Response(status=418, body=request.path))
    with httpx.Client(base_url=server.url) as client:
        assert client.post("/echo", json={"x": 1}).json() == {"got": {"x": 1}}
        teapot = client.get("/else?q=1")
        assert (teapot.status_code, teapot.text) == (418, "/else?q=1")
        assert client.get("/boom").status_code == 500
    assert isinstance(server.errors[0], ValueError)


def test_requests_are_recorded(server: WireServer) -> None:
    server.set_default(Response())

    def body() -> Iterator[bytes]:
        yield b'{"stream": '
        yield b"true}"

    with httpx.Client(base_url=server.url) as client:
        client.post("/v1beta/models/m:stream?alt=sse", json={"a": "é"}, headers={"X-Key": "k"})
        client.post("/chunked", content=body())  # sent with Transfer-Encoding: chunked
    first, second = server.wait_for_requests(2)
    assert first.method == "POST"
    assert first.path == "/v1beta/models/m:stream?alt=sse"
    assert first.bare_path == "/v1beta/models/m:stream"
    assert first.query == {"alt": "sse"}
    assert first.headers["x-key"] == "k"
    assert first.headers["content-type"] == "application/json"
    assert first.json() == {"a": "é"}
    assert second.headers["transfer-encoding"] == "chunked"
    assert second.json() == {"stream": True}
    assert server.last_request is second
    server.reset()
    assert server.requests == [] and server.connections == 0
    with pytest.raises(TimeoutError):
        server.wait_for_requests(1, timeout=0.01)


# Bytes on the wire ----------------------------------------------------------------------


def test_one_byte_chunks_of_utf8_reassemble_into_the_same_events(server: WireServer) -> None:
    texts = ["Grüße ", "日本語 ", "👋🏽", "\n\nend"]
    frames = [sse_event({"text": text}) for text in texts]
    frames.append(sse_event("two\nlines", event="note", id="7"))
    raw = b"".join(frames)
    server.enqueue(sse_response(*frames, chunk_size=1), sse_response(*frames, chunk_size=1))
    with httpx.Client(base_url=server.url) as client:
        parsed = events(client, "/sse")
        with client.stream("GET", "/raw") as response:
            assert b"".join(response.iter_raw()) == raw
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert response.headers["transfer-encoding"] == "chunked"
    assert [json.loads(e.data)["text"] for e in parsed[:4]] == texts
    assert (parsed[4].event, parsed[4].data, parsed[4].id) == ("note", "two\nlines", "7")


async def test_crlf_frames_split_between_cr_and_lf(server: WireServer) -> None:
    raw = b"".join(
        [
            sse_event(comment="keep-alive", crlf=True),
            sse_event({"n": 1}, event="a", crlf=True),
            sse_event({"n": 2}, retry=100, crlf=True),
        ]
    )
    cuts = [i + 1 for i, byte in enumerate(raw) if byte == ord("\r")]
    server.enqueue(
        Response(headers={"content-type": "text/event-stream"}, body=split_at(raw, *cuts))
    )
    async with (
        httpx.AsyncClient(base_url=server.url) as client,
        httpx_sse.aconnect_sse(client, "GET", "/") as source,
    ):
        got = [(e.event, json.loads(e.data)) async for e in source.aiter_sse()]
    assert got == [("a", {"n": 1}), ("message", {"n": 2})]


def test_drop_breaks_the_stream(server: WireServer) -> None:
    frames = openai_chat_stream(["a", "b"])
    server.enqueue(
        sse_response(*frames[:2], Drop()),
        sse_response(*frames[:2], Drop(reset=True)),
        Response(
            headers={"content-length": "100"}, body=[Chunk(b"partial"), Drop()], chunked=False
        ),
    )
    with httpx.Client(base_url=server.url) as client:
        for _ in range(3):
            received = b""
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):  # noqa: PT012
                with client.stream("POST", "/") as response:
                    for data in response.iter_bytes():
                        received += data
            assert received in (b"".join(frames[:2]), b"partial")
    assert server.disconnects == 0


def test_stall_gives_a_read_timeout_and_counts_the_disconnect(server: WireServer) -> None:
    server.enqueue(sse_response(sse_event({"n": 1}), Stall()))
    with httpx.Client(base_url=server.url, timeout=httpx.Timeout(5, read=0.2)) as client:
        seen = []
        with pytest.raises(httpx.ReadTimeout):  # noqa: PT012
            with httpx_sse.connect_sse(client, "POST", "/") as source:
                for event in source.iter_sse():
                    seen.append(event.data)
    assert seen == ['{"n":1}']
    assert server.wait_for_disconnect()
    assert server.disconnects == 1


async def test_client_closing_mid_stream_is_counted(server: WireServer) -> None:
    gate = Gate()
    server.enqueue(
        sse_response(sse_event("first"), gate, sse_event("never")),
        sse_response(sse_event("first"), Delay(60), sse_event("never")),
    )
    async with httpx.AsyncClient(base_url=server.url) as client:
        for expected in (1, 2):
            async with httpx_sse.aconnect_sse(client, "GET", "/") as source:
                async for event in source.aiter_sse():
                    assert event.data == "first"
                    break
            assert await server.await_disconnect(count=expected)
    assert not gate.is_open


def test_gate_releases_the_rest_of_the_reply(server: WireServer) -> None:
    gate = Gate()
    server.enqueue(sse_response(sse_event("1"), gate, sse_event("2")))
    with (
        httpx.Client(base_url=server.url) as client,
        httpx_sse.connect_sse(client, "GET", "/") as source,
    ):
        stream = source.iter_sse()
        assert next(stream).data == "1"
        gate.open()
        assert [event.data for event in stream] == ["2"]


def test_first_byte_delay(server: WireServer) -> None:
    server.enqueue(Response(first_byte_delay=5), Response(body=b"late", first_byte_delay=0.2))
    with httpx.Client(base_url=server.url, timeout=httpx.Timeout(5, read=0.1)) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get("/")
        assert server.wait_for_disconnect()
        started = time.monotonic()
        assert client.get("/", timeout=5).text == "late"
        assert time.monotonic() - started >= 0.2


async def test_keep_alive_reuses_one_connection(server: WireServer) -> None:
    server.enqueue(*(sse_response(*openai_chat_stream([str(n)])) for n in range(2)))
    server.enqueue(json_response({"ok": True}))
    async with httpx.AsyncClient(base_url=server.url) as client:
        for _ in range(2):
            async with httpx_sse.aconnect_sse(client, "POST", "/v1/chat/completions") as source:
                assert [e.data async for e in source.aiter_sse()][-1] == "[DONE]"
        assert (await client.get("/")).json() == {"ok": True}
    assert server.connections == 1
    assert len(await server.await_requests(3)) == 3


def test_framing_without_chunked_encoding(server: WireServer) -> None:
    server.enqueue(
        Response(body=b"12345", chunked=False),
        Response(body=[Chunk(b"ab"), Delay(0.01), Chunk(b"cd")], chunked=False),
        Response(status=204),
    )
    with httpx.Client(base_url=server.url) as client:
        fixed = client.get("/")
        closing = client.get("/")
        empty = client.get("/")
    assert fixed.headers["content-length"] == "5" and fixed.text == "12345"
    assert closing.headers["connection"] == "close" and closing.text == "abcd"
    assert empty.status_code == 204 and empty.content == b""
    assert server.connections == 2


async def test_a_delayed_reply_does_not_hold_up_others(server: WireServer) -> None:
    gate = Gate()
    server.route("GET", "/slow", sse_response(sse_event("slow"), gate, sse_event("done")))
    server.route("GET", "/fast", Response(body=b"fast"))
    async with httpx.AsyncClient(base_url=server.url) as client:
        slow = asyncio.create_task(client.get("/slow"))
        await server.await_requests(1)
        assert (await client.get("/fast")).text == "fast"
        assert not slow.done()
        gate.open()
        assert "done" in (await slow).text


async def test_stop_is_prompt_with_a_stalled_client() -> None:
    server = WireServer().start()
    server.enqueue(sse_response(sse_event("x"), Stall()))
    async with httpx.AsyncClient(base_url=server.url) as client:
        async with client.stream("GET", "/") as response:
            chunks = response.aiter_bytes()
            assert await anext(chunks) == b"data: x\n\n"
            started = time.monotonic()
            await asyncio.to_thread(server.stop)
            assert time.monotonic() - started < 2
            with pytest.raises(httpx.HTTPError):
                async for _ in chunks:
                    pass
    server.stop()  # twice is fine
    with pytest.raises(RuntimeError):
        _ = server.url


# Builders -------------------------------------------------------------------------------


def test_sse_event_fields() -> None:
    frame = sse_event("a\nb", event="e", id="1", retry=5, comment="hi")
    assert frame == b": hi\nevent: e\nid: 1\nretry: 5\ndata: a\ndata: b\n\n"
    assert sse_event({"k": "é"}, crlf=True) == 'data: {"k":"é"}\r\n\r\n'.encode()
    assert sse_event(comment="") == b":\n\n"
    with pytest.raises(ValueError):
        sse_event()


def test_split_helpers() -> None:
    assert split_bytes(b"abcdef", 4) == [Chunk(b"abcd"), Chunk(b"ef")]
    assert split_bytes(b"abcdef", [1, 2]) == [Chunk(b"a"), Chunk(b"bc"), Chunk(b"d"), Chunk(b"ef")]
    assert split_at(b"abcdef", 4, 1, 1, 99) == [Chunk(b"a"), Chunk(b"bcd"), Chunk(b"ef")]
    with pytest.raises(ValueError):
        split_bytes(b"x", 0)
    response = sse_response(b"abc", Drop(), b"de", chunk_size=2)
    assert response.body == [Chunk(b"ab"), Chunk(b"c"), Drop(), Chunk(b"de")]


def data_of(frames: list[bytes]) -> list[str]:
    return [frame.decode().strip().removeprefix("data: ") for frame in frames]


def test_openai_stream_frames() -> None:
    frames = openai_chat_stream(["Hel", "lo"], reasoning=["think"], usage=(3, 4))
    *chunks, done = data_of(frames)
    assert done == "[DONE]"
    bodies = [json.loads(chunk) for chunk in chunks]
    assert all(
        b["object"] == "chat.completion.chunk" and b["id"] == "chatcmpl-test" for b in bodies
    )
    deltas = [b["choices"][0]["delta"] for b in bodies[:-1]]
    assert deltas[0] == {"role": "assistant", "content": "", "refusal": None}
    assert deltas[1]["reasoning_content"] == "think"
    assert [d["content"] for d in deltas[2:4]] == ["Hel", "lo"]
    assert deltas[4] == {} and bodies[4]["choices"][0]["finish_reason"] == "stop"
    assert bodies[0]["usage"] is None
    assert bodies[-1]["choices"] == []
    assert bodies[-1]["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    bare = openai_chat_stream(["x"], usage=None, done=False, finish_reason="length")
    assert len(bare) == 3 and "usage" not in json.loads(data_of(bare)[-1])
    error = json.loads(data_of([openai_error_event("boom")])[0])
    assert error["error"]["message"] == "boom"


def test_anthropic_stream_events() -> None:
    frames = anthropic_stream(["Hi", "!"], thinking=["hmm"], usage=(5, 6))
    parsed = []
    for frame in frames:
        event_line, data_line = frame.decode().strip().split("\n")
        data = json.loads(data_line.removeprefix("data: "))
        assert event_line == f"event: {data['type']}"
        parsed.append(data)
    assert [p["type"] for p in parsed] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert parsed[0]["message"]["usage"]["input_tokens"] == 5
    assert parsed[1]["content_block"] == {"type": "thinking", "thinking": ""}
    assert parsed[3]["delta"] == {"type": "thinking_delta", "thinking": "hmm"}
    assert parsed[4]["delta"]["type"] == "signature_delta"
    assert parsed[6] == {
        "type": "content_block_start",
        "index": 1,
        "content_block": {"type": "text", "text": ""},
    }
    assert [p["delta"]["text"] for p in parsed[7:9]] == ["Hi", "!"]
    assert parsed[10]["delta"]["stop_reason"] == "end_turn"
    assert parsed[10]["usage"] == {"output_tokens": 6}
    plain = anthropic_stream(["x"], ping=False)
    assert b"ping" not in b"".join(plain) and len(plain) == 6
    assert anthropic_error_event().startswith(b"event: error\ndata: ")


def test_gemini_stream_frames() -> None:
    frames = gemini_stream(["a", "b"], thoughts=["t"])
    assert all(frame.endswith(b"\r\n\r\n") for frame in frames)
    assert b"[DONE]" not in b"".join(frames)
    bodies = [json.loads(text) for text in data_of(frames)]
    parts = [b["candidates"][0]["content"]["parts"] for b in bodies]
    assert parts == [[{"text": "t", "thought": True}], [{"text": "a"}], [{"text": "b"}]]
    assert all(b["candidates"][0]["content"]["role"] == "model" for b in bodies)
    assert "finishReason" not in bodies[0]["candidates"][0]
    assert bodies[-1]["candidates"][0]["finishReason"] == "STOP"
    usage = bodies[-1]["usageMetadata"]
    assert (usage["promptTokenCount"], usage["candidatesTokenCount"]) == (10, 20)
    assert usage["totalTokenCount"] == 31 and usage["thoughtsTokenCount"] == 1
    empty = json.loads(data_of(gemini_stream([], usage=None))[0])
    assert empty["candidates"][0]["finishReason"] == "STOP" and "usageMetadata" not in empty


def test_openai_tool_stream_frames() -> None:
    calls = [("c1", "get_weather", ['{"a"', ": 1}"]), ("c2", "list_files", ["{}"])]
    *chunks, done = data_of(openai_tool_stream(calls, text=["Hm."], interleave=True))
    assert done == "[DONE]"
    bodies = [json.loads(chunk) for chunk in chunks]
    deltas = [b["choices"][0]["delta"] for b in bodies[:-1]]
    assert deltas[0] == {"role": "assistant", "content": "", "refusal": None}
    assert deltas[1] == {"content": "Hm."}
    elements = [d["tool_calls"][0] for d in deltas[2:-1]]
    # Interleaved: both openings, then the pieces of each call in turn.
    assert elements == [
        {
            "index": 0,
            "id": "c1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": ""},
        },
        {
            "index": 1,
            "id": "c2",
            "type": "function",
            "function": {"name": "list_files", "arguments": ""},
        },
        {"index": 0, "function": {"arguments": '{"a"'}},
        {"index": 1, "function": {"arguments": "{}"}},
        {"index": 0, "function": {"arguments": ": 1}"}},
    ]
    assert bodies[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert bodies[-1]["usage"]["total_tokens"] == 30
    one = [json.loads(c) for c in data_of(openai_tool_stream(calls[:1], usage=None))[:-1]]
    assert one[0]["choices"][0]["delta"]["content"] is None
    assert [c["choices"][0]["delta"]["tool_calls"][0]["index"] for c in one[1:-1]] == [0, 0, 0]


def test_anthropic_stream_with_tool_uses_and_redacted_thinking() -> None:
    frames = anthropic_stream(
        [],
        thinking=["hmm"],
        signature="SIG",
        redacted_thinking=["opaque"],
        stop_reason="tool_use",
        tool_uses=[("toolu_1", "f", ['{"x":', " 1}"])],
        ping=False,
    )
    parsed = [json.loads(frame.decode().strip().split("\n")[1][6:]) for frame in frames]
    starts = [p["content_block"] for p in parsed if p["type"] == "content_block_start"]
    # No text block: a reply that only calls a tool has none.
    assert starts == [
        {"type": "thinking", "thinking": ""},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
    ]
    pieces = [
        p["delta"]["partial_json"]
        for p in parsed
        if p["type"] == "content_block_delta" and p["index"] == 2
    ]
    assert pieces == ['{"x":', " 1}"]
    assert parsed[-2]["delta"]["stop_reason"] == "tool_use"


def test_gemini_function_call_stream_frames() -> None:
    frames = gemini_function_call_stream(
        [("fc_1", "f", ['{"x"', ": 1}"]), (None, "g", [])],
        text=["Hm."],
        signature="SIG",
        trailing_signature="TAIL",
    )
    assert all(frame.endswith(b"\r\n\r\n") for frame in frames)
    bodies = [json.loads(text) for text in data_of(frames)]
    parts = [b["candidates"][0]["content"]["parts"] for b in bodies]
    assert parts == [
        [{"text": "Hm."}],
        [
            {
                "functionCall": {"name": "f", "args": {"x": 1}, "id": "fc_1"},
                "thoughtSignature": "SIG",
            },
            {"functionCall": {"name": "g", "args": {}}},
        ],
        [{"text": "", "thoughtSignature": "TAIL"}],
    ]
    assert "finishReason" not in bodies[1]["candidates"][0]
    assert bodies[-1]["candidates"][0]["finishReason"] == "STOP"
    assert bodies[-1]["usageMetadata"]["promptTokenCount"] == 10


def test_tool_call_and_native_helpers() -> None:
    events = [TextDelta("a"), ToolCall("c1", "f"), NativeReply([1]), Finish("tool_calls")]
    assert tool_calls_of(events) == [ToolCall("c1", "f", "{}")]
    assert native_of(events) == NativeReply([1])
    assert native_of([TextDelta("a")]) is None
    with pytest.raises(AssertionError, match="at most one NativeReply"):
        native_of([NativeReply(1), NativeReply(2)])


def test_the_contract_skips_its_tool_cases_for_a_provider_without_tools() -> None:
    class NoTools:
        supports_tools = False

    class WithTools:
        supports_tools = True

    contract = ProviderContract()
    contract.wire = SimpleNamespace(provider_cls=NoTools)  # type: ignore[assignment]
    with pytest.raises(pytest.skip.Exception, match="supports_tools"):
        contract.require_tools()
    contract.wire = SimpleNamespace(provider_cls=WithTools)  # type: ignore[assignment]
    contract.require_tools()


def test_error_builders(server: WireServer) -> None:
    server.enqueue(
        openai_error(
            429, "slow down", "requests", "rate_limit_exceeded", headers={"retry-after": "3"}
        ),
        anthropic_error(529, "overloaded_error", "Overloaded"),
        gemini_error(429, "quota", "RESOURCE_EXHAUSTED", retry_delay="7s"),
    )
    with httpx.Client(base_url=server.url) as client:
        openai, anthropic, gemini = (client.post("/") for _ in range(3))
        openai, anthropic, gemini = list((openai, anthropic, gemini))
    assert openai.status_code == 429 and openai.headers["retry-after"] == "3"
    assert openai.json()["error"] == {
        "message": "slow down",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert anthropic.status_code == 529 and anthropic.headers["request-id"] == "req_test"
    assert anthropic.json()["error"] == {"type": "overloaded_error", "message": "Overloaded"}
    error = gemini.json()["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert error["details"] == [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
    ]


# The pytest plugin and the command ------------------------------------------------------


def test_the_fixture_serves(wire_server: WireServer) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["ok"])))
    with httpx.Client() as client:
        got = events(client, wire_server.url + "/v1beta/models/g:streamGenerateContent?alt=sse")
    assert json.loads(got[0].data)["candidates"][0]["content"]["parts"] == [{"text": "ok"}]


def test_the_fixture_stops_the_server_after_the_test(pytester: pytest.Pytester) -> None:
    # The fixture comes from the installed entry point, as it does for plugin authors.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import httpx
        import pytest

        URLS = []

        def test_one(wire_server):
            URLS.append(wire_server.url)
            assert httpx.get(wire_server.url).status_code == 404

        def test_two():
            with pytest.raises(httpx.ConnectError):
                httpx.get(URLS[0])
        """
    )
    # pytest-textual-snapshot keeps its state in os.environ: keep it out of the inner run.
    result = pytester.runpytest_inprocess("-p", "no:textual-snapshot")
    result.assert_outcomes(passed=2)


def test_the_plugin_import_is_cheap() -> None:
    code = (
        "import sys, tuichat.testing.pytest_plugin\n"
        "print('tuichat.testing.server' in sys.modules, 'httpx' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_serve_command() -> None:
    command = [sys.executable, "-m", "tuichat.testing", "serve", "--openai-reply-tokens", "7"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            with httpx.Client(base_url=url) as client:
                got = events(client, "/v1/chat/completions")
                models = client.get("/v1/models").json()
            deltas = [json.loads(e.data)["choices"] for e in got[:-1]]
            text = "".join(c[0]["delta"].get("content") or "" for c in deltas if c)
            assert len(got) == 1 + 7 + 2 + 1 and text.startswith("## Streaming")
            assert models["object"] == "list" and models["data"][0]["id"]
        finally:
            process.terminate()
        assert process.wait(5) == 0


def test_serve_handlers_for_each_api() -> None:
    from tuichat.testing.__main__ import make_handlers

    with WireServer() as server:
        for (method, path), handler in make_handlers(3, 1000).items():
            server.route(method, path, handler)
        with httpx.Client(base_url=server.url) as client:
            anthropic = events(client, "/v1/messages")
            gemini = events(client, "/v1beta/models/gemini-x:streamGenerateContent?alt=sse")
            listing = client.get("/v1/models", headers={"anthropic-version": "2023-06-01"})
    assert [e.event for e in anthropic][-1] == "message_stop"
    assert json.loads(gemini[-1].data)["modelVersion"] == "gemini-x"
    assert listing.json()["data"][0]["type"] == "model"


@pytest.mark.parametrize("plugin", ["openai", "anthropic", "gemini"])
async def test_serve_handlers_call_the_first_tool_offered_then_answer(plugin: str) -> None:
    """``serve --call-tools``: a real provider asks, gets a call, sends the result back
    and gets the Markdown reply."""
    import tuichat_anthropic
    import tuichat_gemini
    import tuichat_openai

    from tuichat.http import make_client
    from tuichat.testing.__main__ import make_handlers

    classes = {
        "openai": (tuichat_openai.OpenAIProvider, "/v1"),
        "anthropic": (tuichat_anthropic.AnthropicProvider, ""),
        "gemini": (tuichat_gemini.GeminiProvider, ""),
    }
    cls, suffix = classes[plugin]
    tool = ToolSpec("read_file", "Read a file.", {"type": "object", "properties": {}})
    with WireServer() as server:
        handlers = make_handlers(3, 0, call_tools=True, tool_arguments='{"path": "a.txt"}')
        for (method, path), handler in handlers.items():
            server.route(method, path, handler)
        async with make_client() as client:
            settings = cls.Settings.model_validate(
                {"base_url": server.url + suffix, "api_key": "k", "max_retries": 0}
            )
            provider = cls(settings=settings, client=client, instance_name=plugin)
            question = ChatMessage("user", "Read a.txt")
            request = ChatRequest(model="wire-model-1", messages=[question], tools=(tool,))
            first = await collect(provider, request)
            (call,) = tool_calls_of(first)
            assert (call.name, json.loads(call.arguments)) == ("read_file", {"path": "a.txt"})
            assert text_of(first) == "Calling a tool."
            assert first[-1] == Finish("tool_calls", first[-1].raw)
            native = native_of(first)
            reply = ChatMessage(
                "assistant",
                text_of(first),
                tool_calls=(call,),
                native=Native(plugin, native.data) if native is not None else None,
            )
            result = ChatMessage("tool", "", tool_results=(ToolResult(call.id, call.name, "x"),))
            second = await collect(
                provider,
                ChatRequest(
                    model="wire-model-1", messages=[question, reply, result], tools=(tool,)
                ),
            )
    assert not tool_calls_of(second)
    assert text_of(second).startswith("## Streaming")


# Reading replies ------------------------------------------------------------------------


def _fake(*scripts: Script) -> FakeProvider:
    provider = FakeProvider(settings=FakeSettings(), client=None)  # type: ignore[arg-type]
    provider.scripts.extend(scripts)
    return provider


_REQUEST = ChatRequest(model="fake-model", messages=[ChatMessage("user", "hi")])


async def test_collect_keeps_every_event_and_text_of_joins_the_text() -> None:
    provider = _fake(Script(deltas=["Hel", ReasoningDelta("hmm"), "lo"]))
    events = await collect(provider, _REQUEST)
    assert text_of(events) == "Hello"
    assert reasoning_of(events) == "hmm"
    assert events[-1] == Finish("stop", "stop")


async def test_failure_returns_what_came_before_the_error() -> None:
    provider = _fake(Script(deltas=["part"], error=errors.StreamInterrupted("cut")))
    events, error = await failure(provider, _REQUEST)
    assert text_of(events) == "part"
    assert isinstance(error, errors.StreamInterrupted)


async def test_failure_fails_the_test_when_the_reply_succeeds() -> None:
    with pytest.raises(AssertionError, match="expected a ProviderError"):
        await failure(_fake(Script(deltas=["fine"])), _REQUEST)


def test_isolated_env_keeps_the_shell_s_keys_and_settings_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real")
    monkeypatch.setenv("TUICHAT_UI__THEME", "nord")
    env = isolated_env(tmp_path, GEMINI_API_KEY="test-key")
    assert "OPENAI_API_KEY" not in env and "TUICHAT_UI__THEME" not in env
    assert env["GEMINI_API_KEY"] == "test-key"
    assert env["TUICHAT_CONFIG"] == str(tmp_path / "config.toml")
    assert env["TUICHAT_DATA_DIR"] == str(tmp_path / "data")
