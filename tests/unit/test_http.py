"""Error mapping, Retry-After and the shared retry policy."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from tests.unit.conftest import scripted_provider
from tuichat import errors
from tuichat.http import (
    RetryPolicy,
    error_for_event,
    error_for_status,
    parse_retry_after,
    stream_with_retries,
    transport_error,
)
from tuichat.provider import ChatRequest, Finish, Retrying, TextDelta

REQUEST = ChatRequest(model="m", messages=())


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (400, errors.BadRequest, "rejected the request"),
        (401, errors.AuthError, "check OPENAI_API_KEY"),
        (403, errors.PermissionDenied, "refused access"),
        (404, errors.NotFound, "tuichat models -p openai"),
        (422, errors.BadRequest, "rejected the request"),
        (429, errors.RateLimited, "rate limiting"),
        (500, errors.ServerError, "server error"),
        (502, errors.ServerError, "server error"),
        (503, errors.Overloaded, "overloaded"),
        (529, errors.Overloaded, "overloaded"),
    ],
)
def test_each_status_becomes_one_sentence_naming_provider_status_and_fix(
    status: int, kind: type[errors.ProviderError], words: str
) -> None:
    error = error_for_status(
        status, provider="openai", detail="server words", key_hint="OPENAI_API_KEY"
    )
    assert type(error) is kind
    text = str(error)
    assert text.startswith("openai ") and f"HTTP {status}" in text and words in text
    assert "server words" in text and text.endswith(".") and "\n" not in text
    assert error.status == status


def test_retryable_errors_are_exactly_the_transient_ones() -> None:
    retryable = {
        s
        for s in (400, 401, 403, 404, 429, 500, 503, 529)
        if error_for_status(s, provider="p").retryable
    }
    assert retryable == {429, 500, 503, 529}


def test_server_text_is_neutralised_and_keys_redacted() -> None:
    error = error_for_status(
        401,
        provider="openai",
        detail="bad key sk-canary-1234\x1b]52;c;AAAA\x07 end",
        secrets=["sk-canary-1234"],
    )
    assert "sk-canary-1234" not in str(error)
    assert "\x1b" not in str(error) and "\x07" not in str(error)
    assert "***" in str(error)


def test_stream_error_types_map_to_the_same_tree() -> None:
    assert isinstance(
        error_for_event(provider="a", raw_type="overloaded_error", detail="x"), errors.Overloaded
    )
    assert isinstance(
        error_for_event(provider="a", raw_type="rate_limit_error", detail="x"), errors.RateLimited
    )
    assert isinstance(
        error_for_event(provider="a", raw_type="weird", detail="x"), errors.ServerError
    )


def test_an_error_in_a_200_stream_says_what_the_provider_said_not_http_500() -> None:
    error = error_for_event(
        provider="OpenAI", raw_type="server_error", detail="The model crashed mid-reply"
    )
    assert "HTTP" not in str(error)
    assert str(error).startswith(
        "OpenAI had a server error (server_error in the reply's stream: "
        "The model crashed mid-reply)"
    )


def test_retry_after_comes_in_seconds_milliseconds_or_a_date() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    when = datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_retry_after(
        {"retry-after": format_datetime(when, usegmt=True)}, now=when.timestamp() - 12
    ) == pytest.approx(12)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_transport_faults_say_whether_the_reply_had_begun() -> None:
    url = "http://127.0.0.1:9/v1/chat/completions"
    refused = transport_error(
        httpx.ConnectError("[Errno 111] Connection refused"),
        provider="openai",
        url=url,
        streaming=False,
        read_timeout=60,
    )
    assert isinstance(refused, errors.NetworkError) and "Cannot reach openai at 127.0.0.1" in str(
        refused
    )
    dropped = transport_error(
        httpx.RemoteProtocolError("peer closed"),
        provider="openai",
        url=url,
        streaming=True,
        read_timeout=60,
    )
    assert isinstance(dropped, errors.StreamInterrupted)
    stalled = transport_error(
        httpx.ReadTimeout("timed out"), provider="openai", url=url, streaming=True, read_timeout=5
    )
    assert isinstance(stalled, errors.ProviderTimeout) and "5 s" in str(stalled)
    tls = transport_error(
        httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]"),
        provider="openai",
        url="https://x.test/v1",
        streaming=False,
        read_timeout=60,
    )
    assert "TLS" in str(tls)


def test_backoff_doubles_with_jitter_and_retry_after_wins() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    assert policy.delay(2, None, 1.0) == 1.0
    assert policy.delay(3, None, 1.0) == 2.0
    assert policy.delay(3, None, 0.0) == 1.0
    assert policy.delay(9, None, 1.0) == 8.0
    assert policy.delay(2, 4.5, 0.3) == 4.5


async def test_retries_wait_as_told_and_report_each_attempt() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    provider = scripted_provider(
        [errors.RateLimited("busy", provider="p", retry_after=3.0)],
        [errors.ServerError("boom", provider="p")],
        [TextDelta("ok"), Finish("stop")],
    )
    events = [
        e
        async for e in stream_with_retries(
            provider, REQUEST, policy=RetryPolicy(1.0, 30.0), sleep=sleep, rand=lambda: 1.0
        )
    ]
    assert waits == [3.0, 2.0]
    assert [e for e in events if isinstance(e, Retrying)] == [
        Retrying(2, 3, 3.0, "busy"),
        Retrying(3, 3, 2.0, "boom"),
    ]


async def test_a_retry_after_longer_than_the_cap_is_not_waited_for() -> None:
    provider = scripted_provider(
        [errors.RateLimited("wait an hour", provider="p", retry_after=3600)]
    )
    with pytest.raises(errors.RateLimited):
        [e async for e in stream_with_retries(provider, REQUEST, policy=RetryPolicy(1, 30))]
    assert len(provider.requests) == 1


async def test_zero_max_retries_disables_retrying() -> None:
    provider = scripted_provider(
        [errors.ServerError("x", provider="p")], settings={"max_retries": 0}
    )
    with pytest.raises(errors.ServerError):
        [e async for e in stream_with_retries(provider, REQUEST)]
    assert len(provider.requests) == 1


async def test_the_client_makes_its_transport_at_the_first_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pool and TLS context (~60 ms) wait for the first request, not the first frame;
    a CA bundle or a proxy makes the whole client at once (their errors show at start)."""
    from tuichat import http
    from tuichat.testing import Response, WireServer

    for name in [key for key in os.environ if key.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    client = http.make_client()
    lazy = http._LAZY[client]
    assert lazy._transport is None
    with WireServer() as server:
        server.enqueue(Response(body=b"hello"))
        response = await client.get(f"{server.url}/x")
    assert response.text == "hello"
    assert lazy._transport is not None
    await client.aclose()

    warmed = http.make_client()
    http.warm_up(warmed)
    assert http._LAZY[warmed]._transport is not None
    await warmed.aclose()

    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert http.make_client() not in http._LAZY
    monkeypatch.delenv("HTTPS_PROXY")
    with pytest.raises(errors.ConfigError, match="not a usable PEM"):
        http.make_client(ca_bundle=__file__)
