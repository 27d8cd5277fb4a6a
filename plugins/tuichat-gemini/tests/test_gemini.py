"""The Gemini provider against the test kit's loopback wire server.

The shared contract suite covers what every provider must do; the tests below cover
what is Gemini's own: the key only in ``x-goog-api-key``, the request shape, thought
parts, blocked prompts, error frames, ``RetryInfo`` and the models pages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from tuichat_gemini import (
    GeminiProvider,
    GeminiSettings,
    map_finish_reason,
    parse_duration,
)

from tuichat import errors
from tuichat.http import make_client
from tuichat.provider import (
    ChatMessage,
    ChatRequest,
    Finish,
    NativeReply,
    ResponseInfo,
    ToolCall,
    Usage,
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
from tuichat.testing.replies import collect, failure, reasoning_of, text_of
from tuichat.testing.server import Delay, Drop, RecordedRequest, Response, WireServer
from tuichat.testing.sse import json_response, sse_event, sse_response
from tuichat.testing.wire import gemini_error, gemini_function_call_stream, gemini_stream

KEY = "AIzaSyTest-9d8c7b6a5f4e"
MODEL = "gemini-3.8-flash"
CHAT_PATH = f"/v1beta/models/{MODEL}:streamGenerateContent"


# The shared contract suite ------------------------------------------------------------

# Gemini ends a reply that calls functions with STOP, like any other.
_FINISH_WORDS = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "tool_calls": "STOP",
}
_ERROR_FRAMES = {
    "overloaded": (503, "UNAVAILABLE"),
    "server": (500, "INTERNAL"),
    "rate_limit": (429, "RESOURCE_EXHAUSTED"),
}
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    529: "UNAVAILABLE",
}


def model_item(
    name: str, methods: Sequence[str] = ("generateContent",), **extra: Any
) -> dict[str, Any]:
    return {
        "name": f"models/{name}",
        "version": "001",
        "displayName": name.replace("-", " ").title(),
        "supportedGenerationMethods": list(methods),
        **extra,
    }


class GeminiWire(WireScript):
    """``streamGenerateContent?alt=sse`` as Google documents it, from the kit's builders."""

    provider_cls = GeminiProvider
    model = MODEL
    # Gemini has no terminator: the candidate carrying finishReason ends the reply.
    complete_without_terminator = True

    def settings(self, base_url: str) -> dict[str, Any]:
        return {"base_url": base_url, "api_key": CANARY_KEY, "max_retries": 0}

    def chat_path(self, model: str) -> str:
        return f"/v1beta/models/{model}:streamGenerateContent"

    def stream(
        self,
        deltas: Sequence[str],
        *,
        finish: str = "stop",
        usage: tuple[int, int] | None = (10, 20),
        reasoning: Sequence[str] = (),
    ) -> list[bytes]:
        # LF endings: the suite derives the CRLF variants Google's servers send.
        return gemini_stream(
            deltas,
            model=MODEL,
            finish_reason=self.finish_raw(finish),
            usage=usage,
            thoughts=reasoning,
            crlf=False,
        )

    def unterminated(self, deltas: Sequence[str]) -> list[bytes]:
        # There is nothing after the finishReason to cut: this is the whole stream.
        return self.stream(deltas)

    def truncated(self, deltas: Sequence[str]) -> list[bytes]:
        return gemini_stream(deltas, model=MODEL, finish_reason=None, crlf=False)

    def error_event(self, message: str, *, kind: ErrorKind = "overloaded") -> bytes:
        code, status = _ERROR_FRAMES[kind]
        return sse_event({"error": {"code": code, "message": message, "status": status}})

    def error_response(
        self, status: int, message: str, *, retry_after: float | None = None
    ) -> Response:
        # Gemini says when to retry in google.rpc.RetryInfo, not in a header.
        delay = f"{retry_after:g}s" if retry_after is not None else None
        return gemini_error(status, message, _STATUS_NAMES.get(status, "UNKNOWN"), delay)

    def finish_raw(self, finish: str) -> str:
        return _FINISH_WORDS[finish]

    def check_request(self, recorded: RecordedRequest, request: ChatRequest) -> None:
        assert recorded.method == "POST"
        assert recorded.query == {"alt": "sse"}
        assert recorded.headers["x-goog-api-key"] == CANARY_KEY
        assert CANARY_KEY not in recorded.path
        roles = {"user": "user", "assistant": "model"}
        assert recorded.json() == {
            "contents": [
                {"role": roles[m.role], "parts": [{"text": m.content}]} for m in request.messages
            ],
            "systemInstruction": {"parts": [{"text": request.system}]},
            "generationConfig": {
                "temperature": request.temperature,
                "maxOutputTokens": request.max_tokens,
            },
        }

    def models_route(self, ids: Sequence[str]) -> tuple[str, str, Response]:
        return "GET", "/v1beta/models", json_response({"models": [model_item(i) for i in ids]})

    def tool_call_stream(
        self, calls: Sequence[ScriptedCall], *, text: Sequence[str] = ()
    ) -> list[bytes]:
        return gemini_function_call_stream(
            [(c.id, c.name, c.pieces) for c in calls], text=text, model=MODEL, crlf=False
        )

    def signed_tool_call_stream(self, call: ScriptedCall, *, signature: str) -> list[bytes]:
        return gemini_function_call_stream(
            [(call.id, call.name, call.pieces)], signature=signature, model=MODEL, crlf=False
        )

    def sent_tools(self, body: Any) -> list[SentTool]:
        return [
            SentTool(d["name"], d["description"], d.get("parametersJsonSchema", {}))
            for tool in body.get("tools", [])
            for d in tool["functionDeclarations"]
        ]

    def sent_tool_calls(self, body: Any) -> list[tuple[str, Any]]:
        return [
            (part["functionCall"]["name"], part["functionCall"]["args"])
            for content in body["contents"]
            if content["role"] == "model"
            for part in content["parts"]
            if "functionCall" in part
        ]

    def sent_tool_results(self, body: Any) -> list[SentResult]:
        results = []
        for content in body["contents"]:
            for part in content["parts"]:
                if "functionResponse" in part:
                    response = part["functionResponse"]["response"]
                    error = "error" in response
                    results.append(SentResult(response["error" if error else "output"], error))
        return results


class TestGeminiContract(ProviderContract):
    wire = GeminiWire()


# Fixtures and helpers -----------------------------------------------------------------


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as shared:
        yield shared


def make_provider(server: WireServer, client: httpx.AsyncClient, **settings: Any) -> GeminiProvider:
    values: dict[str, Any] = {
        "base_url": server.url,
        "api_key": KEY,
        "max_retries": 0,
        "read_timeout": 5.0,
        **settings,
    }
    return GeminiProvider(settings=GeminiSettings(**values), client=client)


def ask(text: str = "hi", **fields: Any) -> ChatRequest:
    return ChatRequest(model=MODEL, messages=[ChatMessage("user", text)], **fields)


def frame(**data: Any) -> bytes:
    return sse_event(data, crlf=True)


def candidate(*parts: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        body["finishReason"] = finish
    return body


# The request ---------------------------------------------------------------------------


async def test_key_only_in_the_header_never_in_the_url(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["ok"])))
    provider = make_provider(wire_server, client)

    await collect(provider, ask())

    sent = wire_server.last_request
    assert sent.headers["x-goog-api-key"] == KEY
    assert sent.bare_path == CHAT_PATH
    assert sent.query == {"alt": "sse"}  # no key= parameter
    assert KEY not in sent.path
    assert "authorization" not in sent.headers
    assert sent.headers["accept"] == "text/event-stream"


async def test_request_body(wire_server: WireServer, client: httpx.AsyncClient) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["ok"])))
    provider = make_provider(wire_server, client)
    request = ChatRequest(
        model=f"models/{MODEL}",  # the prefix of the models list is accepted
        messages=[
            ChatMessage("system", "Answer in French."),
            ChatMessage("user", "Hi"),
            ChatMessage("assistant", "Hello!"),
            ChatMessage("assistant", "  "),  # an interrupted, empty reply
            ChatMessage("user", "More"),
        ],
        system="Be brief.",
    )

    await collect(provider, request)

    sent = wire_server.last_request
    assert sent.bare_path == CHAT_PATH
    assert sent.json() == {
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Hello!"}]},
            {"role": "user", "parts": [{"text": "More"}]},
        ],
        "systemInstruction": {"parts": [{"text": "Be brief.\n\nAnswer in French."}]},
    }


@pytest.mark.parametrize(
    ("settings", "extra", "config"),
    [
        ({"include_thoughts": True}, {}, {"thinkingConfig": {"includeThoughts": True}}),
        (
            {"include_thoughts": True, "thinking_level": "low"},
            {},
            {"thinkingConfig": {"includeThoughts": True, "thinkingLevel": "low"}},
        ),
        ({"thinking_budget": 0}, {}, {"thinkingConfig": {"thinkingBudget": 0}}),
        (
            {},
            {"generationConfig": {"topP": 0.5}, "safetySettings": []},
            {"maxOutputTokens": 64, "topP": 0.5},
        ),
    ],
)
async def test_generation_config(
    wire_server: WireServer,
    client: httpx.AsyncClient,
    settings: dict[str, Any],
    extra: dict[str, Any],
    config: dict[str, Any],
) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["ok"])))
    provider = make_provider(wire_server, client, **settings)

    await collect(provider, ask(max_tokens=64 if extra else None, extra=extra))

    body = wire_server.last_request.json()
    assert body["generationConfig"] == config
    if extra:
        assert body["safetySettings"] == []


@pytest.mark.parametrize(
    ("base", "path"),
    [
        ("/proxy/gemini", f"/proxy/gemini{CHAT_PATH}"),
        ("/proxy/gemini/", f"/proxy/gemini{CHAT_PATH}"),
        ("/proxy/v1beta", f"/proxy/v1beta/models/{MODEL}:streamGenerateContent"),
    ],
)
async def test_base_url_path_prefix_is_kept(
    wire_server: WireServer, client: httpx.AsyncClient, base: str, path: str
) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["ok"])))
    provider = make_provider(wire_server, client, base_url=wire_server.url + base)

    await collect(provider, ask())

    assert wire_server.last_request.bare_path == path


async def test_a_model_name_cannot_change_the_path(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["ok"])))
    provider = make_provider(wire_server, client)

    await collect(provider, ChatRequest(model="../files?x=1", messages=[ChatMessage("user", "hi")]))

    sent = wire_server.last_request
    assert sent.bare_path == "/v1beta/models/..%2Ffiles%3Fx%3D1:streamGenerateContent"
    assert sent.query == {"alt": "sse"}


@pytest.mark.parametrize(
    "table",
    [
        {"thinking_level": "low", "thinking_budget": 1024},
        {"thinking_level": "extreme"},
        {"thinking_budget": -2},
        {"base_url": "generativelanguage.googleapis.com"},
        {"include_thought": True},  # a typo is an unknown key
    ],
)
def test_settings_reject_bad_values(table: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        GeminiSettings.model_validate(table)


def test_settings_defaults() -> None:
    settings = GeminiSettings()

    assert settings.base_url == "https://generativelanguage.googleapis.com"
    assert settings.default_model.startswith("gemini-")
    assert settings.include_thoughts is False
    assert GeminiProvider.key_env == ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    assert GeminiProvider.base_url_env == ("GEMINI_BASE_URL",)
    assert GeminiProvider.display_name == "Google Gemini"


# The stream ----------------------------------------------------------------------------


async def test_thought_parts_are_kept_apart(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            frame(candidates=[candidate({"text": "Weighing it", "thought": True})]),
            frame(
                candidates=[
                    candidate(
                        {"text": " up.", "thought": True, "thoughtSignature": "c2ln"},
                        {"text": "The answer"},
                    )
                ]
            ),
            frame(
                candidates=[
                    candidate(
                        {"functionCall": {"name": "f", "args": {}}},
                        {"inlineData": {"mimeType": "image/png", "data": "AA=="}},
                        {"text": " is 42.", "brandNewField": 1},
                        finish="STOP",
                    )
                ],
                usageMetadata={
                    "promptTokenCount": 9,
                    "candidatesTokenCount": 5,
                    "thoughtsTokenCount": 30,
                    "totalTokenCount": 44,
                },
                modelVersion=MODEL,
                brandNewTopLevel={"x": 1},
            ),
        )
    )
    provider = make_provider(wire_server, client)

    events = await collect(provider, ask())

    assert reasoning_of(events) == "Weighing it up."
    assert text_of(events) == "The answer is 42."
    # Thinking tokens are billed as output, so they count with the reply.
    assert events[-4:] == [
        ToolCall("call_0", "f", "{}"),
        # Every part goes back as it came, in its place; only plain text parts without
        # a signature are merged.
        NativeReply(
            [
                {"text": "Weighing it", "thought": True},
                {"text": " up.", "thought": True, "thoughtSignature": "c2ln"},
                {"text": "The answer"},
                {"functionCall": {"name": "f", "args": {}}},
                {"inlineData": {"mimeType": "image/png", "data": "AA=="}},
                {"text": " is 42.", "brandNewField": 1},
            ]
        ),
        Usage(input_tokens=9, output_tokens=35, reasoning_tokens=30),
        Finish("tool_calls", "STOP"),
    ]


async def test_usage_from_an_earlier_frame_is_kept(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            frame(candidates=[candidate({"text": "a"})], usageMetadata={"promptTokenCount": 4}),
            frame(candidates=[candidate({"text": "b"}, finish="MAX_TOKENS")]),
        )
    )
    provider = make_provider(wire_server, client)

    events = await collect(provider, ask())

    assert events[-2:] == [Usage(input_tokens=4), Finish("length", "MAX_TOKENS")]


async def test_the_finish_reason_ends_the_reply(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    # Gemini sends no [DONE]; a server that keeps the connection open after the
    # finishReason is waited for only until the read timeout, and the reply is complete.
    wire_server.enqueue(sse_response(*gemini_stream(["done"]), Delay(30)))
    provider = make_provider(wire_server, client, read_timeout=0.5)

    events = await collect(provider, ask())

    assert events[-1] == Finish("stop", "STOP")


async def test_a_finish_reason_on_every_chunk_does_not_cut_the_reply(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    # Gemini once stamped "STOP" on every chunk, and proxies still do: the stream is
    # read to its end, and the last finishReason is the reply's.
    wire_server.enqueue(
        sse_response(
            frame(candidates=[candidate({"text": "One"}, finish="STOP")]),
            frame(candidates=[candidate({"text": " two"}, finish="STOP")]),
            frame(
                candidates=[candidate({"text": " three."}, finish="MAX_TOKENS")],
                usageMetadata={"promptTokenCount": 3, "candidatesTokenCount": 4},
            ),
        )
    )
    provider = make_provider(wire_server, client)

    events = await collect(provider, ask())

    assert text_of(events) == "One two three."
    assert [e for e in events if isinstance(e, Finish)] == [Finish("length", "MAX_TOKENS")]
    assert events[-2:] == [Usage(3, 4), Finish("length", "MAX_TOKENS")]


async def test_usage_in_a_frame_after_the_finish_reason_is_kept(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            frame(candidates=[candidate({"text": "Done."}, finish="STOP")]),
            frame(
                candidates=[{"finishReason": "STOP", "index": 0}],
                usageMetadata={"promptTokenCount": 6, "candidatesTokenCount": 2},
            ),
        )
    )
    provider = make_provider(wire_server, client)

    events = await collect(provider, ask())

    assert text_of(events) == "Done."
    assert events[-2:] == [Usage(6, 2), Finish("stop", "STOP")]


async def test_usage_on_every_frame_keeps_the_final_counts(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    frames = gemini_stream(["a", "b", "c"], usage=(7, 3), usage_every_frame=True)
    assert b"usageMetadata" in frames[0]
    wire_server.enqueue(sse_response(*frames))
    provider = make_provider(wire_server, client)

    events = await collect(provider, ask())

    assert [e for e in events if isinstance(e, Usage)] == [Usage(7, 3)]
    assert events[-1] == Finish("stop", "STOP")


async def test_a_drop_after_the_finish_reason_loses_nothing(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["All", " here"]), Drop(reset=True)))
    provider = make_provider(wire_server, client)

    events = await collect(provider, ask())

    assert text_of(events) == "All here"
    assert events[-1] == Finish("stop", "STOP")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("UNEXPECTED_TOOL_CALL", "error"),
        ("OTHER", "stop"),
        ("LANGUAGE", "content_filter"),
        ("SOMETHING_NEW", "stop"),
        (None, "stop"),
    ],
)
def test_map_finish_reason(raw: str | None, reason: str) -> None:
    assert map_finish_reason(raw) == reason


async def test_safety_finish_keeps_the_raw_reason(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["Some"], finish_reason="SAFETY")))
    provider = make_provider(wire_server, client)

    events = await collect(provider, ask())

    assert text_of(events) == "Some"
    assert events[-1] == Finish("content_filter", "SAFETY")


async def test_a_blocked_prompt_is_a_clear_error(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            frame(
                promptFeedback={
                    "blockReason": "PROHIBITED_CONTENT",
                    "safetyRatings": [],
                },
                usageMetadata={"promptTokenCount": 8, "totalTokenCount": 8},
            )
        )
    )
    provider = make_provider(wire_server, client)

    events, error = await failure(provider, ask())

    assert events == []
    assert isinstance(error, errors.BadRequest)
    assert not error.retryable
    assert "blocked the prompt" in str(error) and "PROHIBITED_CONTENT" in str(error)
    assert error.raw_type == "PROHIBITED_CONTENT"


async def test_a_stream_with_no_finish_reason_is_interrupted(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["Half", " a reply"], finish_reason=None)))
    provider = make_provider(wire_server, client)

    events, error = await failure(provider, ask())

    assert text_of(events) == "Half a reply"
    assert isinstance(error, errors.StreamInterrupted)
    assert "finishReason" in str(error)


async def test_an_empty_stream_is_interrupted(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(sse_event(comment="nothing")))
    provider = make_provider(wire_server, client)

    events, error = await failure(provider, ask())

    assert events == []
    assert isinstance(error, errors.StreamInterrupted)


async def test_a_frame_that_is_not_json_names_the_provider(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(*gemini_stream(["a"], finish_reason=None), frame_raw(b"[1, 2]"))
    )
    provider = make_provider(wire_server, client)

    _, error = await failure(provider, ask())

    assert isinstance(error, errors.MalformedResponse)
    assert "gemini" in str(error) and "JSON" in str(error)


def frame_raw(data: bytes) -> bytes:
    return b"data: " + data + b"\r\n\r\n"


# Errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delay", "seconds"), [("7s", 7.0), ("1.5s", 1.5), ("0.250s", 0.25), ("30s", 30.0)]
)
async def test_429_retry_info_becomes_retry_after(
    wire_server: WireServer, client: httpx.AsyncClient, delay: str, seconds: float
) -> None:
    wire_server.enqueue(
        gemini_error(
            429, "Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED", delay
        )
    )
    provider = make_provider(wire_server, client)

    _, error = await failure(provider, ask())

    assert isinstance(error, errors.RateLimited)
    assert error.retry_after == pytest.approx(seconds)
    assert error.raw_type == "RESOURCE_EXHAUSTED"


async def test_retry_info_among_other_details(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    body = {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [{"quotaMetric": "generate_content_free_tier_requests"}],
                },
                {"@type": "type.googleapis.com/google.rpc.Help", "links": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "41s"},
            ],
        }
    }
    wire_server.enqueue(json_response(body, status=429))
    provider = make_provider(wire_server, client)

    _, error = await failure(provider, ask())

    assert isinstance(error, errors.RateLimited)
    assert error.retry_after == 41
    assert "41" in str(error)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7s", 7.0),
        ("1.5s", 1.5),
        (" 2s ", 2.0),
        ({"seconds": 3, "nanos": 500_000_000}, 3.5),
        ("7", None),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_duration(value: Any, seconds: float | None) -> None:
    assert parse_duration(value) == seconds


async def test_a_bad_key_is_reported_as_a_key_problem(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    # Gemini answers an invalid key with HTTP 400 INVALID_ARGUMENT + reason API_KEY_INVALID.
    body = {
        "error": {
            "code": 400,
            "message": f"API key not valid. Please pass a valid API key. ({KEY})",
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                }
            ],
        }
    }
    wire_server.route("*", "*", json_response(body, status=400))
    provider = make_provider(wire_server, client, api_key=None)
    os.environ["GEMINI_API_KEY"] = KEY
    try:
        _, error = await failure(provider, ask())
        with pytest.raises(errors.AuthError) as from_models:
            await provider.list_models()
    finally:
        del os.environ["GEMINI_API_KEY"]

    for problem in (error, from_models.value):
        assert isinstance(problem, errors.AuthError)
        assert "GEMINI_API_KEY" in str(problem)
        assert KEY not in str(problem)


async def test_google_api_key_is_the_fallback(
    wire_server: WireServer, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", "google-key-123")
    wire_server.enqueue(sse_response(*gemini_stream(["ok"])))
    provider = make_provider(wire_server, client, api_key=None)

    await collect(provider, ask())

    assert wire_server.last_request.headers["x-goog-api-key"] == "google-key-123"


async def test_error_frame_after_http_200(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            *gemini_stream(["Partial"], finish_reason=None),
            frame(
                error={"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}
            ),
        )
    )
    provider = make_provider(wire_server, client)

    events, error = await failure(provider, ask())

    assert text_of(events) == "Partial"
    assert isinstance(error, errors.Overloaded)
    assert "The model is overloaded." in str(error)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("RESOURCE_EXHAUSTED", errors.RateLimited),
        ("UNAVAILABLE", errors.Overloaded),
        ("INVALID_ARGUMENT", errors.BadRequest),
        ("DEADLINE_EXCEEDED", errors.ServerError),
    ],
)
async def test_error_frame_without_a_code_is_mapped_by_its_status(
    wire_server: WireServer,
    client: httpx.AsyncClient,
    status: str,
    expected: type[errors.ProviderError],
) -> None:
    wire_server.enqueue(
        sse_response(
            *gemini_stream(["Partial"], finish_reason=None),
            frame(error={"message": "It failed.", "status": status}),
        )
    )
    provider = make_provider(wire_server, client)

    events, error = await failure(provider, ask())

    assert text_of(events) == "Partial"
    assert type(error) is expected, repr(error)
    assert "It failed." in str(error)


async def test_non_event_stream_200_never_shows_the_key(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        Response(
            200,
            {"content-type": "application/json"},
            (
                '[{"error": {"code": 400, "message": "API key not valid: '
                + KEY
                + '", "status": "INVALID_ARGUMENT"}}]'
            ).encode(),
            chunked=False,
        )
    )
    provider = make_provider(wire_server, client)

    _, error = await failure(provider, ask())

    assert isinstance(error, errors.MalformedResponse)
    assert "API key not valid" in str(error)
    assert KEY not in str(error)


async def test_http_error_quotes_the_server_and_never_the_key(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        gemini_error(
            404, f"models/nope is not found for API version v1beta, key {KEY}", "NOT_FOUND"
        )
    )
    provider = make_provider(wire_server, client)

    _, error = await failure(provider, ask())

    assert isinstance(error, errors.NotFound)
    assert "models/nope is not found" in str(error)
    assert KEY not in str(error)


async def test_dropped_connection_is_interrupted(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["cut"], finish_reason=None), Drop(reset=True)))
    provider = make_provider(wire_server, client)

    _, error = await failure(provider, ask())

    assert isinstance(error, errors.StreamInterrupted)


# Models --------------------------------------------------------------------------------


async def test_models_follow_every_page_and_keep_only_chat_models(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        json_response(
            {
                "models": [
                    model_item(
                        "gemini-3.8-flash",
                        ("generateContent", "countTokens", "createCachedContent"),
                        inputTokenLimit=1_048_576,
                        outputTokenLimit=65_536,
                    ),
                    model_item("gemini-embedding-001", ("embedContent",)),
                ],
                "nextPageToken": "page-2",
            }
        ),
        json_response(
            {
                "models": [
                    model_item("gemini-3.1-pro-preview"),
                    {"name": "models/no-methods"},
                    "junk",
                ]
            }
        ),
    )
    provider = make_provider(wire_server, client)

    models = await provider.list_models()

    assert [m.id for m in models] == ["gemini-3.8-flash", "gemini-3.1-pro-preview"]
    assert (models[0].context_window, models[0].max_output_tokens) == (1_048_576, 65_536)
    assert models[0].name == "Gemini 3.8 Flash"
    assert models[0].provider == "gemini"
    first, second = wire_server.requests
    assert first.bare_path == second.bare_path == "/v1beta/models"
    assert "pageToken" not in first.query
    assert second.query["pageToken"] == "page-2"
    for sent in (first, second):
        assert sent.headers["x-goog-api-key"] == KEY
        assert KEY not in sent.path


async def test_models_stop_when_the_token_does_not_move(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    page = {"models": [model_item("gemini-x")], "nextPageToken": "same"}
    wire_server.route("GET", "/v1beta/models", json_response(page))
    provider = make_provider(wire_server, client)

    models = await provider.list_models()

    assert [m.id for m in models] == ["gemini-x"]
    assert len(wire_server.requests) == 2


# Packaging and the command line -------------------------------------------------------


def test_importing_the_plugin_is_cheap() -> None:
    probe = "import sys, tuichat_gemini; print('httpx' in sys.modules, 'textual' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["False", "False"]


def test_ask_streams_the_reply_configured_only_by_env(
    wire_server: WireServer, tmp_path: Path
) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["Hello", " from", " Gemini"])))
    env = isolated_env(tmp_path, GEMINI_API_KEY=KEY, GEMINI_BASE_URL=wire_server.url + "/gemini")

    done = subprocess.run(
        [sys.executable, "-m", "tuichat", "ask", "-p", "gemini", "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Hello from Gemini"
    sent = wire_server.last_request
    model = GeminiSettings().default_model
    assert sent.bare_path == f"/gemini/v1beta/models/{model}:streamGenerateContent"
    assert sent.query == {"alt": "sse"}
    assert sent.headers["x-goog-api-key"] == KEY
    assert KEY not in sent.path
    assert sent.json()["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]


def test_ask_reports_a_blocked_prompt_in_one_line(wire_server: WireServer, tmp_path: Path) -> None:
    wire_server.enqueue(sse_response(frame(promptFeedback={"blockReason": "SAFETY"})))
    env = isolated_env(tmp_path, GEMINI_API_KEY=KEY, GEMINI_BASE_URL=wire_server.url)

    done = subprocess.run(
        [sys.executable, "-m", "tuichat", "ask", "-p", "gemini", "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "blocked the prompt" in lines[0] and "SAFETY" in lines[0]


async def test_the_response_id_model_version_and_cached_tokens_are_reported(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    wire_server.enqueue(
        sse_response(
            frame(
                candidates=[candidate({"text": "Hi"}, finish="STOP")],
                usageMetadata={
                    "promptTokenCount": 5000,
                    "candidatesTokenCount": 4,
                    "cachedContentTokenCount": 4096,
                },
                responseId="resp-42",
                modelVersion="gemini-3.8-flash-001",
            )
        )
    )
    events = await collect(make_provider(wire_server, client), ask())
    assert events[0] == ResponseInfo(id="resp-42", model="gemini-3.8-flash-001")
    assert events[-2] == Usage(5000, 4, cached_input_tokens=4096)
