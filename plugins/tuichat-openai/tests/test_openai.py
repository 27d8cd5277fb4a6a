"""Tests of the OpenAI provider: the shared contract suite plus OpenAI's own rules.

Everything runs against the test kit's loopback wire server; no SDK, no network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import tuichat_openai
from tuichat_openai import OpenAIProvider, OpenAISettings, normalize_finish, parse_openai_error

from tuichat import errors
from tuichat.config import LoadedConfig, Settings
from tuichat.plugins import get_plugin_manager, load_providers
from tuichat.provider import (
    ChatMessage,
    ChatRequest,
    Finish,
    ReasoningDelta,
    ResponseInfo,
    Usage,
)
from tuichat.runtime import Runtime
from tuichat.testing import (
    RecordedRequest,
    Response,
    Stall,
    WireServer,
    json_response,
    openai_chat_stream,
    openai_error,
    openai_error_event,
    openai_tool_stream,
    sse_event,
    sse_response,
)
from tuichat.testing.contract import (
    CANARY_KEY,
    ErrorKind,
    ProviderContract,
    ScriptedCall,
    SentResult,
    SentTool,
    WireScript,
)
from tuichat.testing.environment import isolated_env
from tuichat.testing.replies import collect, text_of

MODEL = "gpt-4o-mini"

_FINISH_RAW = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
}


class OpenAIWire(WireScript):
    """How the Chat Completions API streams, as documented."""

    provider_cls = OpenAIProvider
    model: ClassVar[str] = MODEL
    supports_reasoning = True
    # Documented lenient rule: finish_reason then a clean EOF without [DONE] is complete.
    complete_without_terminator = True

    def settings(self, base_url: str) -> dict[str, Any]:
        return {"base_url": f"{base_url}/v1", "api_key": CANARY_KEY}

    def chat_path(self, model: str) -> str:
        return "/v1/chat/completions"

    def stream(
        self,
        deltas: Sequence[str],
        *,
        finish: str = "stop",
        usage: tuple[int, int] | None = (10, 20),
        reasoning: Sequence[str] = (),
    ) -> list[bytes]:
        return openai_chat_stream(
            deltas,
            model=self.model,
            finish_reason=self.finish_raw(finish),
            usage=usage,
            reasoning=reasoning,
        )

    def unterminated(self, deltas: Sequence[str]) -> list[bytes]:
        return openai_chat_stream(deltas, model=self.model, done=False)

    def truncated(self, deltas: Sequence[str]) -> list[bytes]:
        return openai_chat_stream(
            deltas, model=self.model, finish_reason=None, usage=None, done=False
        )

    def error_event(self, message: str, *, kind: ErrorKind = "overloaded") -> bytes:
        if kind == "overloaded":
            # Compatible servers (vLLM, LiteLLM) put the HTTP status in "code".
            return sse_event(
                {"error": {"message": message, "type": "server_error", "param": None, "code": 503}}
            )
        if kind == "rate_limit":
            return openai_error_event(message, type_="requests", code="rate_limit_exceeded")
        return openai_error_event(message, type_="server_error")

    def error_response(
        self, status: int, message: str, *, retry_after: float | None = None
    ) -> Response:
        type_, code = {
            401: ("invalid_request_error", "invalid_api_key"),
            404: ("invalid_request_error", "model_not_found"),
            429: ("requests", "rate_limit_exceeded"),
        }.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else None
        return openai_error(status, message, type_, code, headers=headers)

    def finish_raw(self, finish: str) -> str:
        return _FINISH_RAW[finish]

    def check_request(self, recorded: RecordedRequest, request: ChatRequest) -> None:
        assert recorded.method == "POST"
        assert recorded.headers["authorization"] == f"Bearer {CANARY_KEY}"
        assert recorded.headers["content-type"] == "application/json"
        assert "text/event-stream" in recorded.headers.get("accept", "")
        body = recorded.json()
        assert body["model"] == request.model
        assert body["stream"] is True
        assert body["stream_options"] == {"include_usage": True}
        assert body["messages"][0] == {"role": "system", "content": request.system}
        assert body["messages"][1:] == [
            {"role": m.role, "content": m.content} for m in request.messages
        ]
        assert body["temperature"] == request.temperature
        # A compatible server (not api.openai.com): the long-standing field.
        assert body["max_tokens"] == request.max_tokens
        assert "max_completion_tokens" not in body

    def models_route(self, ids: Sequence[str]) -> tuple[str, str, Response]:
        data = [{"id": i, "object": "model", "created": 1, "owned_by": "openai"} for i in ids]
        return "GET", "/v1/models", json_response({"object": "list", "data": data})

    def tool_call_stream(
        self, calls: Sequence[ScriptedCall], *, text: Sequence[str] = ()
    ) -> list[bytes]:
        # Parallel calls interleave by index, as the streaming reference allows.
        return openai_tool_stream(
            [(c.id, c.name, c.pieces) for c in calls],
            text=text,
            model=self.model,
            interleave=len(calls) > 1,
        )

    def sent_tools(self, body: Any) -> list[SentTool]:
        return [
            SentTool(
                t["function"]["name"], t["function"]["description"], t["function"]["parameters"]
            )
            for t in body.get("tools", [])
        ]

    def sent_tool_calls(self, body: Any) -> list[tuple[str, Any]]:
        return [
            (call["function"]["name"], json.loads(call["function"]["arguments"]))
            for message in body["messages"]
            if message["role"] == "assistant"
            for call in message.get("tool_calls", [])
        ]

    def sent_tool_results(self, body: Any) -> list[SentResult]:
        # Chat Completions has no error flag: the text says it.
        return [SentResult(m["content"], None) for m in body["messages"] if m["role"] == "tool"]


class TestOpenAIContract(ProviderContract):
    """The shared contract, plus OpenAI's own wire rules (reusing its helpers)."""

    wire = OpenAIWire()

    # Body mapping --------------------------------------------------------------------------

    async def test_reasoning_model_body(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        wire_server.enqueue(sse_response(*self.wire.stream(["ok"])))
        request = self.request(model="o3-mini", extra={"reasoning_effort": "low"})
        result = await self.collect(self.build(http_client, wire_server.url).stream_chat(request))
        self.assert_complete(result)
        body = wire_server.requests[0].json()
        assert body["messages"][0] == {"role": "developer", "content": "Be brief."}
        assert "temperature" not in body
        assert "max_tokens" not in body
        assert body["max_completion_tokens"] == 100
        assert body["reasoning_effort"] == "low"

    async def test_no_key_no_authorization(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        wire_server.enqueue(sse_response(*self.wire.stream(["ok"])))
        provider = self.build(http_client, wire_server.url, api_key=None)
        result = await self.collect(provider.stream_chat(self.request()))
        self.assert_complete(result)
        assert "authorization" not in wire_server.requests[0].headers

    async def test_headers_from_settings(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        wire_server.enqueue(sse_response(*self.wire.stream(["ok"])))
        provider = self.build(
            http_client,
            wire_server.url,
            organization="org-1",
            project="proj-1",
            headers={"X-Extra": "yes"},
        )
        self.assert_complete(await self.collect(provider.stream_chat(self.request())))
        headers = wire_server.requests[0].headers
        assert headers["openai-organization"] == "org-1"
        assert headers["openai-project"] == "proj-1"
        assert headers["x-extra"] == "yes"

    # Chunks --------------------------------------------------------------------------------

    async def test_usage_chunk_and_unknown_chunks(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = [
            sse_event({"object": "chat.completion.chunk", "choices": [], "usage": None}),
            sse_event({"choices": [{"index": 0, "delta": {"role": "assistant"}}]}),
            sse_event({"choices": [{"index": 0, "delta": {"content": "A"}, "future": [1]}]}),
            sse_event({"object": "something.new", "payload": {"x": 1}}),
            sse_event([1, 2, 3]),
            sse_event('"a string"'),
            sse_event({"choices": "not a list"}),
            sse_event({"choices": [None, 7, {"index": 0, "delta": None}]}),
            sse_event({"choices": [{"index": 1, "delta": {"content": "other choice"}}]}),
            sse_event({"choices": [{"index": 0, "delta": {"content": "B", "tool_calls": []}}]}),
            sse_event({"choices": [{"index": 0, "delta": {"refusal": " I can't."}}]}),
            sse_event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
            sse_event({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": True}}),
            sse_event({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 7}}),
            sse_event("[DONE]"),
        ]
        result = await self.run(wire_server, http_client, sse_response(*frames))
        self.assert_complete(result)
        assert result.texts == ["A", "B", " I can't."]
        assert result.usages == [Usage(3, None), Usage(5, 7)]
        assert result.events[-2:] == [Usage(5, 7), Finish("stop", "stop")]

    async def test_cached_and_reasoning_tokens_and_the_response_id_and_model(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        usage = {
            "prompt_tokens": 2006,
            "completion_tokens": 300,
            "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 256, "audio_tokens": 0},
        }
        head = {"id": "chatcmpl-AbC", "model": "o4-mini-2025-04-16"}
        frames = [
            sse_event({**head, "choices": [{"index": 0, "delta": {"content": "Hi"}}]}),
            sse_event({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
            sse_event({**head, "choices": [], "usage": usage}),
            sse_event("[DONE]"),
        ]
        result = await self.run(wire_server, http_client, sse_response(*frames))
        self.assert_complete(result)
        assert result.events[0] == ResponseInfo(id="chatcmpl-AbC", model="o4-mini-2025-04-16")
        assert [e for e in result.events if isinstance(e, ResponseInfo)] == [result.events[0]]
        assert result.usages == [Usage(2006, 300, cached_input_tokens=1920, reasoning_tokens=256)]

    async def test_groq_usage(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = [
            sse_event({"choices": [{"index": 0, "delta": {"content": "Hi"}}]}),
            sse_event(
                {
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "x_groq": {"usage": {"prompt_tokens": 4, "completion_tokens": 1}},
                }
            ),
            sse_event("[DONE]"),
        ]
        result = await self.run(wire_server, http_client, sse_response(*frames))
        self.assert_complete(result)
        assert result.usages == [Usage(4, 1)]

    @pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
    async def test_reasoning_fields(
        self, wire_server: WireServer, http_client: httpx.AsyncClient, field: str
    ) -> None:
        frames = [
            sse_event({"choices": [{"index": 0, "delta": {field: "Hmm.", "content": None}}]}),
            # A server in transition sends both fields with the same text: read once.
            sse_event(
                {
                    "choices": [
                        {"index": 0, "delta": {"reasoning_content": " So", "reasoning": " So"}}
                    ]
                }
            ),
            sse_event({"choices": [{"index": 0, "delta": {"content": "Yes."}}]}),
            sse_event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
            sse_event("[DONE]"),
        ]
        result = await self.run(wire_server, http_client, sse_response(*frames))
        self.assert_complete(result)
        assert result.reasoning == ["Hmm.", " So"]
        assert result.texts == ["Yes."]
        assert isinstance(result.events[0], ReasoningDelta)

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            ("stop", "stop"),
            ("length", "length"),
            ("content_filter", "content_filter"),
            ("tool_calls", "tool_calls"),
            ("function_call", "tool_calls"),
            ("error", "error"),
            ("eos_token", "stop"),
        ],
    )
    async def test_finish_reasons(
        self, wire_server: WireServer, http_client: httpx.AsyncClient, raw: str, reason: str
    ) -> None:
        frames = openai_chat_stream(["x"], finish_reason=raw)
        result = await self.run(wire_server, http_client, sse_response(*frames))
        assert self.assert_complete(result, finish=reason) == Finish(reason, raw)  # type: ignore[arg-type]

    async def test_done_without_finish_reason(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = openai_chat_stream(["x"], finish_reason=None, usage=None)
        result = await self.run(wire_server, http_client, sse_response(*frames))
        assert self.assert_complete(result) == Finish("stop", None)

    async def test_finish_then_eof_without_usage_or_done(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = openai_chat_stream(["x"], finish_reason="length", usage=None, done=False)
        result = await self.run(wire_server, http_client, sse_response(*frames))
        assert self.assert_complete(result, finish="length") == Finish("length", "length")

    async def test_server_holding_the_stream_open_after_done(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        wire_server.enqueue(sse_response(*self.wire.stream(["Fine"]), Stall()))
        provider = self.build(http_client, wire_server.url, read_timeout=5.0)
        # Complete well before the read timeout: the drain after [DONE] is bounded.
        result = await self.collect(provider.stream_chat(self.request()), limit=2.0)
        self.assert_complete(result)
        assert result.text == "Fine"

    async def test_connection_reused_across_replies(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        streams: list[object] = []

        async def remember(response: httpx.Response) -> None:
            streams.append(response.extensions["network_stream"])

        http_client.event_hooks["response"].append(remember)
        provider = self.build(http_client, wire_server.url)
        for text in ("one", "two", "three"):
            wire_server.enqueue(sse_response(*self.wire.stream([text])))
            result = await self.collect(provider.stream_chat(self.request()))
            assert result.text == text
        # Each body was read to its end after [DONE], so one connection served all three.
        assert len(streams) == 3
        assert all(stream is streams[0] for stream in streams)

    # Errors inside the stream --------------------------------------------------------------

    async def test_vllm_error_object(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = [
            *self.wire.truncated(["So"]),
            sse_event(
                {
                    "object": "error",
                    "message": "context too long",
                    "type": "BadRequestError",
                    "code": 400,
                }
            ),
        ]
        result = await self.run(wire_server, http_client, sse_response(*frames))
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.BadRequest)
        assert "context too long" in str(error)
        assert result.text == "So"

    async def test_named_error_event_with_text(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = [*self.wire.truncated(["So"]), sse_event("model crashed", event="error")]
        result = await self.run(wire_server, http_client, sse_response(*frames))
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.ServerError)
        assert "model crashed" in str(error)

    async def test_context_length_error_is_bad_request(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = [
            openai_error_event("too long", "invalid_request_error", "context_length_exceeded")
        ]
        result = await self.run(wire_server, http_client, sse_response(*frames))
        assert isinstance(self.assert_clean(result.error), errors.BadRequest)

    async def test_llamacpp_error_line_is_not_lost(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        # llama.cpp's server writes a stream error as a bare "error:" field, then [DONE]:
        # a strict SSE parser drops the field and the failed reply passes for complete.
        frames = [
            *self.wire.truncated(["So"]),
            b'error: {"code":400,"message":"the request exceeds the available context size, '
            b'try increasing it","type":"exceed_context_size_error"}\n\n',
            b"data: [DONE]\n\n",
        ]
        result = await self.run(wire_server, http_client, sse_response(*frames))
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.BadRequest), repr(error)
        assert "exceeds the available context size" in str(error)
        assert result.text == "So"
        assert not result.finishes

    async def test_openrouter_mid_stream_error_chunk(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        # OpenRouter's documented shape: an "error" object beside finish_reason "error".
        frames = [
            b": OPENROUTER PROCESSING\n\n",
            *self.wire.truncated(["Par", "tial"]),
            b": OPENROUTER PROCESSING\n\n",
            sse_event(
                {
                    "id": "gen-1",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "openai/gpt-4o",
                    "provider": "OpenAI",
                    "error": {"code": "server_error", "message": "Provider disconnected"},
                    "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
                }
            ),
        ]
        result = await self.run(wire_server, http_client, sse_response(*frames))
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.ServerError), repr(error)
        assert "Provider disconnected" in str(error)
        assert result.text == "Partial"
        assert not result.finishes

    async def test_finish_reason_error_without_error_object(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = openai_chat_stream(["Par"], finish_reason="error", usage=None)
        result = await self.run(wire_server, http_client, sse_response(*frames))
        # Not a clean stop: the reply is marked as failed, its text kept.
        assert self.assert_complete(result, finish="error") == Finish("error", "error")

    async def test_line_separators_inside_json_are_not_line_ends(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        # JSON may carry U+2028, U+0085 and U+000C unescaped; only CR and LF end SSE lines.
        text = "a\u2028b\x85c\x0cd"
        frames = openai_chat_stream([text, "!"])
        assert "\u2028".encode() in frames[1]
        result = await self.run(wire_server, http_client, sse_response(*frames))
        self.assert_complete(result)
        assert result.texts == [text, "!"]

    async def test_non_event_stream_200_never_shows_the_key(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        body = json.dumps({"error": {"message": f"proxy refused key {CANARY_KEY}"}}).encode()
        page = Response(200, {"content-type": "application/json"}, body, chunked=False)
        result = await self.run(wire_server, http_client, page)
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.MalformedResponse), repr(error)
        assert "proxy refused key" in str(error)

    # stream_options fallback ---------------------------------------------------------------

    async def test_stream_options_rejected_fallback(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        wire_server.enqueue(
            openai_error(400, "Unrecognized request argument supplied: stream_options"),
            sse_response(*self.wire.stream(["one"], usage=None)),
            sse_response(*self.wire.stream(["two"], usage=None)),
        )
        provider = self.build(http_client, wire_server.url)
        first = await self.collect(provider.stream_chat(self.request()))
        self.assert_complete(first)
        assert first.text == "one"
        second = await self.collect(provider.stream_chat(self.request()))
        assert second.text == "two"
        bodies = [r.json() for r in wire_server.requests]
        assert len(bodies) == 3
        assert "stream_options" in bodies[0]
        assert "stream_options" not in bodies[1]
        assert "stream_options" not in bodies[2]  # remembered for the instance

    async def test_fastapi_422_stream_options_fallback(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        detail = {
            "detail": [{"loc": ["body", "stream_options"], "msg": "Extra inputs are not permitted"}]
        }
        wire_server.enqueue(
            json_response(detail, 422), sse_response(*self.wire.stream(["ok"], usage=None))
        )
        result = await self.run(wire_server, http_client)
        self.assert_complete(result)
        assert len(wire_server.requests) == 2

    async def test_other_400_not_retried(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        wire_server.enqueue(openai_error(400, "Invalid value for temperature", param="temperature"))
        wire_server.enqueue(sse_response(*self.wire.stream(["never"])))
        result = await self.run(wire_server, http_client)
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.BadRequest)
        assert "temperature" in str(error)
        assert len(wire_server.requests) == 1

    async def test_stream_usage_off(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        wire_server.enqueue(sse_response(*self.wire.stream(["ok"], usage=None)))
        result = await self.run(wire_server, http_client, stream_usage=False)
        self.assert_complete(result)
        assert "stream_options" not in wire_server.requests[0].json()

    # Models --------------------------------------------------------------------------------

    async def test_models_pagination(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        pages = {
            "": {"data": [{"id": "m-c"}, {"id": "m-a"}], "has_more": True, "last_id": "m-a"},
            "m-a": {"data": [{"id": "m-d", "context_length": 8192}], "has_more": True},
            "m-d": {"data": [{"id": "m-b"}, {"bad": 1}, "m-e"], "has_more": False},
        }

        def handler(request: RecordedRequest) -> Response:
            return json_response({"object": "list", **pages[request.query.get("after", "")]})

        wire_server.route("GET", "/v1/models", handler)
        provider = self.build(http_client, wire_server.url)
        models = await provider.list_models()
        assert [m.id for m in models] == ["m-a", "m-b", "m-c", "m-d", "m-e"]
        assert next(m for m in models if m.id == "m-d").context_window == 8192
        assert [r.query.get("after") for r in wire_server.requests] == [None, "m-a", "m-d"]
        assert all(
            r.headers["authorization"] == f"Bearer {CANARY_KEY}" for r in wire_server.requests
        )

    async def test_models_endless_has_more_stops(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        wire_server.route(
            "GET", "/v1/models", json_response({"data": [{"id": "x"}], "has_more": True})
        )
        models = await self.build(http_client, wire_server.url).list_models()
        assert [m.id for m in models] == ["x"]
        assert len(wire_server.requests) == 2

    async def test_models_fallback_when_no_endpoint(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        wire_server.route("GET", "/v1/models", openai_error(404, "Not found"))
        provider = self.build(http_client, wire_server.url, models=["b-model", "a-model"])
        assert [m.id for m in await provider.list_models()] == ["a-model", "b-model"]
        bare = self.build(http_client, wire_server.url)
        with pytest.raises(errors.NotFound):
            await bare.list_models()

    async def test_models_not_a_list(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        wire_server.route("GET", "/v1/models", json_response({"models": "?"}))
        with pytest.raises(errors.MalformedResponse):
            await self.build(http_client, wire_server.url).list_models()


# Pure mapping (no server) ------------------------------------------------------------------


def _provider(instance: str = "openai", **settings: Any) -> OpenAIProvider:
    return OpenAIProvider(
        settings=OpenAISettings(**settings),
        client=httpx.AsyncClient(),
        instance_name=instance,
    )


def _request(model: str, **changes: Any) -> ChatRequest:
    fields: dict[str, Any] = {
        "model": model,
        "messages": [ChatMessage("user", "Hi")],
        "system": "Sys",
        "temperature": 0.2,
        "max_tokens": 50,
    }
    fields.update(changes)
    return ChatRequest(**fields)


@pytest.mark.parametrize(
    ("model", "reasoning"),
    [
        ("gpt-4o-mini", False),
        ("gpt-4.1", False),
        ("o1", True),
        ("o3-mini", True),
        ("o4-mini-2025-04-16", True),
        ("gpt-5", True),
        ("gpt-5-mini", True),
        ("gpt-5.4-nano", True),
        ("gpt-6-luna", True),
        ("openai/gpt-6.1-sol", True),
        ("openai/o3", True),
        ("ft:o4-mini:acme::abc", True),
        ("llama3.2", False),
    ],
)
def test_reasoning_detection(model: str, reasoning: bool) -> None:
    provider = _provider()
    assert provider.is_reasoning_model(model) is reasoning
    body = provider.build_body(_request(model))
    assert ("temperature" in body) is not reasoning
    assert body["messages"][0]["role"] == ("developer" if reasoning else "system")


def test_max_tokens_field() -> None:
    official = _provider()
    assert official.build_body(_request("gpt-4o-mini"))["max_completion_tokens"] == 50
    local = _provider("ollama", base_url="http://localhost:11434/v1")
    assert local.build_body(_request("llama3.2"))["max_tokens"] == 50
    assert local.build_body(_request("o3-mini"))["max_completion_tokens"] == 50
    forced = _provider("vllm", base_url="http://h/v1", max_tokens_field="max_completion_tokens")
    assert "max_tokens" not in forced.build_body(_request("qwen"))
    assert "max_completion_tokens" not in _provider().build_body(_request("o3", max_tokens=None))


def test_system_role_and_extra() -> None:
    provider = _provider(system_role="system", reasoning_models=["my-r1"])
    body = provider.build_body(
        _request("my-r1-distill", extra={"top_p": 0.9, "stream_options": None, "seed": 1})
    )
    assert body["messages"][0] == {"role": "system", "content": "Sys"}
    assert "temperature" not in body
    assert body["top_p"] == 0.9 and body["seed"] == 1
    assert "stream_options" not in body
    no_system = _provider().build_body(_request("gpt-4o", system=None))
    assert no_system["messages"] == [{"role": "user", "content": "Hi"}]
    assert (
        _provider(system_role="developer").build_body(_request("gpt-4o"))["messages"][0]["role"]
        == "developer"
    )


def test_url_keeps_path_prefix() -> None:
    provider = _provider(base_url="http://host/proxy/openai/v1/")
    assert provider.url("/chat/completions") == "http://host/proxy/openai/v1/chat/completions"
    assert _provider().url("models") == "https://api.openai.com/v1/models"


def test_needs_key() -> None:
    assert _provider().needs_key()
    assert not _provider("ollama", base_url="http://localhost:11434/v1").needs_key()
    assert _provider(
        "openrouter", base_url="https://openrouter.ai/api/v1", api_key_env="OPENROUTER_API_KEY"
    ).needs_key()
    assert _provider("azure", base_url="https://x.openai.com/v1").needs_key()


@pytest.mark.parametrize(
    ("body", "message", "type_"),
    [
        (
            b'{"error": {"message": "Bad key", "type": "invalid_request_error", '
            b'"param": null, "code": "invalid_api_key"}}',
            "Bad key",
            "invalid_api_key",
        ),
        (
            b'{"error": {"message": "Oops", "type": "server_error", "code": null}}',
            "Oops",
            "server_error",
        ),
        (
            b'{"error": "model \\"x\\" not found, try pulling it first"}',
            'model "x" not found, try pulling it first',
            None,
        ),
        (
            b'{"object": "error", "message": "too long", "type": "BadRequestError", "code": 400}',
            "too long",
            "BadRequestError",
        ),
        (
            # Mistral's 422: the FastAPI detail nested under "message".
            b'{"object": "error", "message": {"detail": [{"type": "extra_forbidden", '
            b'"loc": ["body", "stream_options"], "msg": "Extra inputs are not permitted"}]}, '
            b'"type": "invalid_request_error", "param": null, "code": null}',
            "stream_options: Extra inputs are not permitted",
            "invalid_request_error",
        ),
        (b'{"detail": "Not Found"}', "Not Found", None),
        (
            b'{"detail": [{"loc": ["body", "stream_options"], "msg": "Extra inputs"}]}',
            "stream_options: Extra inputs",
            None,
        ),
        (
            b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            "502 Bad Gateway nginx",
            None,
        ),
        (b"plain words", "plain words", None),
        (b"", None, None),
        (b"[]", None, None),
    ],
)
def test_parse_openai_error(body: bytes, message: str | None, type_: str | None) -> None:
    info = parse_openai_error(None, body)
    assert info.message == message
    assert info.type == type_


def test_normalize_finish() -> None:
    assert normalize_finish(None) == "stop"
    assert normalize_finish("function_call") == "tool_calls"


def test_registered_through_entry_point() -> None:
    pm = get_plugin_manager(load_entrypoints=True)
    registry = load_providers(pm)
    assert registry.get("openai") is OpenAIProvider


def test_import_is_cheap() -> None:
    code = (
        "import sys, tuichat_openai; "
        "bad = [m for m in ('textual', 'openai', 'pydantic_settings') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# Runtime: instances, env variables ---------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "TUICHAT_")):
            monkeypatch.delenv(name)
    return monkeypatch


def _runtime(tmp_path: Path, providers: dict[str, Any] | None = None) -> Runtime:
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(tuichat_openai)
    settings = Settings(providers=providers or {})
    return Runtime(
        LoadedConfig(settings, tmp_path / "config.toml", ""),
        load_providers(pm),
        plugin_manager=pm,
        database_path=tmp_path / "tuichat.db",
    )


async def test_named_instance_gets_no_openai_key(
    wire_server: WireServer, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("OPENAI_API_KEY", CANARY_KEY)
    clean_env.setenv("OPENAI_ORG_ID", "org-secret")
    clean_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/should-not-be-used")
    runtime = _runtime(
        tmp_path,
        {
            "ollama": {
                "plugin": "openai",
                "base_url": f"{wire_server.url}/v1",
                "default_model": "llama3.2",
            }
        },
    )
    try:
        provider, model = runtime.resolve("ollama", None)
        assert model == "llama3.2"
        assert not provider.needs_key() and not provider.has_key()
        assert runtime.describe("ollama").usable
        wire_server.enqueue(sse_response(*openai_chat_stream(["local"], model="llama3.2")))
        text = text_of(await collect(provider, ChatRequest(model, [ChatMessage("user", "hi")])))
        assert text == "local"
        recorded = wire_server.requests[0]
        assert recorded.bare_path == "/v1/chat/completions"
        assert "authorization" not in recorded.headers
        assert "openai-organization" not in recorded.headers
        assert CANARY_KEY not in recorded.body.decode()
    finally:
        await runtime.aclose()


async def test_openai_base_url_with_path_prefix(
    wire_server: WireServer, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("OPENAI_API_KEY", CANARY_KEY)
    clean_env.setenv("OPENAI_BASE_URL", f"{wire_server.url}/proxy/openai/v1")
    clean_env.setenv("OPENAI_ORG_ID", "org-123")
    clean_env.setenv("OPENAI_PROJECT_ID", "proj-456")
    runtime = _runtime(tmp_path)
    try:
        provider, model = runtime.resolve("openai", None)
        assert model == "gpt-4o-mini"
        assert provider.needs_key() is False  # a local server via OPENAI_BASE_URL
        assert provider.has_key()
        wire_server.enqueue(sse_response(*openai_chat_stream(["via proxy"])))
        text = text_of(await collect(provider, ChatRequest(model, [ChatMessage("user", "hi")])))
        assert text == "via proxy"
        recorded = wire_server.requests[0]
        assert recorded.bare_path == "/proxy/openai/v1/chat/completions"
        assert recorded.headers["authorization"] == f"Bearer {CANARY_KEY}"
        assert recorded.headers["openai-organization"] == "org-123"
        assert recorded.headers["openai-project"] == "proj-456"
        wire_server.route("GET", "/proxy/openai/v1/models", json_response({"data": [{"id": "m"}]}))
        assert [m.id for m in await provider.list_models()] == ["m"]
    finally:
        await runtime.aclose()


def test_default_instance_needs_key(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    info = _runtime(tmp_path).describe("openai")
    assert info.base_url == "https://api.openai.com/v1"
    assert info.requires_key and not info.has_key and not info.usable


# End to end: python -m tuichat ask ----------------------------------------------------------


def _ask(server: WireServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = isolated_env(tmp_path, OPENAI_API_KEY=CANARY_KEY, OPENAI_BASE_URL=f"{server.url}/v1")
    return subprocess.run(
        [sys.executable, "-m", "tuichat", "ask", "-p", "openai", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_ask_streams_reply(wire_server: WireServer, tmp_path: Path) -> None:
    wire_server.enqueue(sse_response(*openai_chat_stream(["Hello", " from", " the wire"])))
    done = _ask(wire_server, tmp_path, "hi")
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip("\n") == "Hello from the wire"
    assert done.stderr == ""
    body = json.loads(wire_server.requests[0].body)
    assert body["messages"][-1] == {"role": "user", "content": "hi"}
    assert body["model"] == "gpt-4o-mini"
    assert wire_server.requests[0].headers["authorization"] == f"Bearer {CANARY_KEY}"


def test_ask_401_one_line(wire_server: WireServer, tmp_path: Path) -> None:
    wire_server.enqueue(
        openai_error(401, f"Incorrect API key provided: {CANARY_KEY}.", code="invalid_api_key")
    )
    done = _ask(wire_server, tmp_path, "hi")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "OPENAI_API_KEY" in lines[0]
    assert CANARY_KEY not in done.stderr
