"""The fault matrix: every fault a provider connection meets, scripted for every provider.

One :class:`Fault` per row of the table in ``docs/faults.md``; one :class:`Wire` per
provider plugin. ``fault.arrange(server, wire)`` scripts the test kit's server (or picks
an endpoint that fails before any server: a closed port, an unresolvable name, an
untrusted certificate) and :class:`Fault` says what must follow: the retries, the exit
code of ``tuichat ask``, the status and text the store keeps, and the words of the one
sentence the person reads (who, what went wrong, what to do).

Both ``test_ask_matrix.py`` (real ``tuichat ask`` processes) and ``test_tui_matrix.py``
(the app under Pilot, real provider plugins) run every (fault, provider) cell.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tuichat.testing.server import Drop, RecordedRequest, Response, Stall, Step, WireServer
from tuichat.testing.sse import sse_event, sse_response
from tuichat.testing.wire import (
    anthropic_error,
    anthropic_error_event,
    anthropic_stream,
    gemini_error,
    gemini_stream,
    openai_chat_stream,
    openai_error,
)

#: The API key of every cell: it must show up nowhere tuichat writes.
CANARY = "sk-canary-7f3a9c1e5b2d4f60"

#: What the person asks in every cell.
PROMPT = "hello"

#: A reply cut by a mid-stream fault: the store and stdout must keep exactly this.
PARTIAL = ("Partial", " text")
#: A reply that arrives whole.
FULL = ("Hello", " there")

#: A host that never resolves (RFC 2606). The cells run it without network: see
#: ``test_ask_matrix.py`` (a private network namespace) and ``test_tui_matrix.py``.
UNRESOLVABLE = "nonexistent.invalid"

#: Retries in every cell: enough to see one, few enough to stay fast.
MAX_RETRIES = 1

#: Provider settings of every cell unless the fault says otherwise.
BASE_SETTINGS: dict[str, Any] = {"max_retries": MAX_RETRIES, "connect_timeout": 2.0}

#: ``[retry]`` of every cell: a short backoff (a ``Retry-After`` still wins).
RETRY_SETTINGS: dict[str, float] = {"base_delay": 0.05, "max_delay": 30.0}


@dataclass(frozen=True)
class Wire:
    """How one provider plugin speaks, for scripting the kit server."""

    name: str
    """The plugin and instance name (``openai``)."""
    key_env: str
    """Its standard key variable."""
    base_env: str
    """Its standard base URL variable."""
    chat_path: str
    """The chat endpoint, as a route pattern."""
    suffix: str
    """Appended to the server's URL to make the base URL (``/v1`` for OpenAI)."""
    reply: Callable[[Sequence[str]], list[bytes]]
    """The complete stream of a reply."""
    truncated: Callable[[Sequence[str]], list[bytes]]
    """The stream cut right after the text: no finish reason, no terminator."""
    error_event: Callable[[str], bytes]
    """An "overloaded" error event inside a stream (after HTTP 200)."""
    error_response: Callable[[int, str, float | None], Response]
    """An HTTP error with the provider's own body (and ``Retry-After`` when given)."""
    malformed: bytes
    """An event the provider reads whose JSON is broken."""

    def base_url(self, server_url: str) -> str:
        """The base URL pointing this provider at ``server_url``."""
        return server_url + self.suffix


def _retry_after(seconds: float | None) -> dict[str, str] | None:
    return {"retry-after": f"{seconds:g}"} if seconds is not None else None


_OPENAI_TYPES = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    529: "overloaded_error",
}
_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    529: "UNAVAILABLE",
}

WIRES: dict[str, Wire] = {
    "openai": Wire(
        name="openai",
        key_env="OPENAI_API_KEY",
        base_env="OPENAI_BASE_URL",
        chat_path="*/chat/completions",
        suffix="/v1",
        reply=lambda deltas: openai_chat_stream(deltas),
        truncated=lambda deltas: openai_chat_stream(
            deltas, finish_reason=None, usage=None, done=False
        ),
        # Compatible servers (vLLM, LiteLLM) put the HTTP status in "code".
        error_event=lambda message: sse_event(
            {"error": {"message": message, "type": "server_error", "param": None, "code": 503}}
        ),
        error_response=lambda status, message, retry_after: openai_error(
            status,
            message,
            "server_error" if status >= 500 else "invalid_request_error",
            _OPENAI_TYPES.get(status),
            headers=_retry_after(retry_after),
        ),
        malformed=b'data: {"broken": \n\n',
    ),
    "anthropic": Wire(
        name="anthropic",
        key_env="ANTHROPIC_API_KEY",
        base_env="ANTHROPIC_BASE_URL",
        chat_path="*/v1/messages",
        suffix="",
        reply=lambda deltas: anthropic_stream(deltas),
        truncated=lambda deltas: anthropic_stream(deltas, stop_reason=None),
        error_event=lambda message: anthropic_error_event("overloaded_error", message),
        error_response=lambda status, message, retry_after: anthropic_error(
            status,
            _ANTHROPIC_TYPES.get(status, "api_error"),
            message,
            headers=_retry_after(retry_after),
        ),
        malformed=b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n',
    ),
    "gemini": Wire(
        name="gemini",
        key_env="GEMINI_API_KEY",
        base_env="GEMINI_BASE_URL",
        chat_path="*:streamGenerateContent",
        suffix="",
        reply=lambda deltas: gemini_stream(deltas),
        truncated=lambda deltas: gemini_stream(deltas, finish_reason=None),
        error_event=lambda message: sse_event(
            {"error": {"code": 503, "message": message, "status": "UNAVAILABLE"}}, crlf=True
        ),
        # Google says when to retry in google.rpc.RetryInfo; proxies add the header.
        error_response=lambda status, message, retry_after: gemini_error(
            status,
            message,
            _GEMINI_STATUS.get(status, "UNKNOWN"),
            f"{retry_after:g}s" if retry_after is not None else None,
            headers=_retry_after(retry_after),
        ),
        malformed=b'data: {"broken": \n\n',
    ),
}


class Script:
    """A route handler playing responses in order (the last one again and again).

    Attributes:
        times: When each request arrived (``time.monotonic()``).
    """

    def __init__(self, *responses: Response) -> None:
        self.responses = list(responses)
        self.times: list[float] = []

    def __call__(self, request: RecordedRequest) -> Response:
        self.times.append(time.monotonic())
        index = min(len(self.times), len(self.responses)) - 1
        return self.responses[index]


def stream(frames: Sequence[bytes | Step], *, first_byte_delay: float = 0.0) -> Response:
    """A 200 event stream sending each frame as one HTTP chunk."""
    response = sse_response(*frames)
    response.first_byte_delay = first_byte_delay
    return response


def serve(server: WireServer, wire: Wire, *responses: Response) -> Script:
    """Answer ``wire``'s chat endpoint on ``server`` with ``responses``."""
    script = Script(*responses)
    server.route("POST", wire.chat_path, script)
    return script


#: Where a cell's base URL points.
KIT, REFUSED, DNS, TLS = "kit", "refused", "dns", "tls"


@dataclass(frozen=True)
class Fault:
    """One row of the fault matrix and what every provider must do about it."""

    id: str
    """Short id, used in test ids and in the docs' table."""
    title: str
    """The fault, as the docs name it."""
    arrange: Callable[[WireServer, Wire], Script | None]
    """Script the kit server for ``wire`` (nothing for faults before any server)."""
    exit_code: int
    """``tuichat ask``'s exit code."""
    status: str
    """The stored reply's final status."""
    text: str
    """The reply text kept (stdout of ``ask``, the stored content, the app's view)."""
    requests: int | None
    """Requests the kit server sees (None: it is never reached)."""
    retries: int
    """Retries announced (a ``Retrying`` line on stderr, a note in the app)."""
    cause: str
    """Regex of the cause in the error sentence ('' when the reply succeeds)."""
    fix: str
    """Regex of the fix in the error sentence."""
    endpoint: str = KIT
    """Where the base URL points: the kit server, a closed port, a bad name, TLS."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Provider settings of this cell, over :data:`BASE_SETTINGS`."""
    min_gap: float = 0.0
    """Seconds that must separate the first two requests (an honoured Retry-After)."""

    @property
    def fails(self) -> bool:
        """Whether the reply ends in an error the person is told about."""
        return self.exit_code != 0


def _errors(status: int, retry_after: float | None = None) -> Callable[..., Script]:
    return lambda server, wire: serve(
        server, wire, wire.error_response(status, f"Server says no (HTTP {status})", retry_after)
    )


def _mid_stream(tail: Sequence[bytes | Step]) -> Callable[..., Script]:
    return lambda server, wire: serve(server, wire, stream([*wire.truncated(PARTIAL), *tail]))


FAULTS: list[Fault] = [
    Fault(
        "refused",
        "connection refused",
        lambda server, wire: None,
        1,
        "error",
        "",
        None,
        MAX_RETRIES,
        r"Cannot reach {p} at 127\.0\.0\.1",
        r"check that the server runs and that base_url is right",
        endpoint=REFUSED,
    ),
    Fault(
        "dns",
        "DNS failure",
        lambda server, wire: None,
        1,
        "error",
        "",
        None,
        MAX_RETRIES,
        r"Cannot resolve nonexistent\.invalid for {p}",
        r"check base_url and your DNS",
        endpoint=DNS,
    ),
    Fault(
        "tls",
        "TLS error (untrusted certificate)",
        lambda server, wire: serve(server, wire, stream(wire.reply(FULL))),
        1,
        "error",
        "",
        0,
        0,
        r"{p} at 127\.0\.0\.1 sent a TLS certificate that is not trusted",
        r"set ca_bundle in \[http\]",
        endpoint=TLS,
    ),
    Fault(
        "401",
        "401 unauthorized",
        _errors(401),
        1,
        "error",
        "",
        1,
        0,
        r"{p} rejected the API key \(HTTP 401",
        r"check [A-Z]+_API_KEY",
    ),
    Fault(
        "403",
        "403 forbidden",
        _errors(403),
        1,
        "error",
        "",
        1,
        0,
        r"{p} refused access \(HTTP 403",
        r"check that your key may use this model",
    ),
    Fault(
        "404",
        "404 unknown model",
        _errors(404),
        1,
        "error",
        "",
        1,
        0,
        r"{p} does not know that model or endpoint \(HTTP 404",
        r"run 'tuichat models -p {p}'",
    ),
    Fault(
        "400",
        "400 bad request",
        _errors(400),
        1,
        "error",
        "",
        1,
        0,
        r"{p} rejected the request \(HTTP 400",
        r"check the model name and its parameters",
    ),
    Fault(
        "429-retry-after",
        "429 with Retry-After, then success",
        lambda server, wire: serve(
            server,
            wire,
            wire.error_response(429, "Slow down", 1.0),
            stream(wire.reply(FULL)),
        ),
        0,
        "complete",
        "".join(FULL),
        2,
        1,
        r"{p} is rate limiting requests \(HTTP 429",
        r"wait 1 s",
        min_gap=1.0,
    ),
    Fault(
        "429-long-retry-after",
        "429 with a Retry-After beyond [retry] max_delay",
        _errors(429, 120.0),
        1,
        "error",
        "",
        1,
        0,
        r"{p} is rate limiting requests \(HTTP 429",
        r"wait 120 s",
    ),
    Fault(
        "429",
        "429 without Retry-After",
        _errors(429),
        1,
        "error",
        "",
        1 + MAX_RETRIES,
        MAX_RETRIES,
        r"{p} is rate limiting requests \(HTTP 429",
        r"wait a moment or check your plan's limits",
    ),
    Fault(
        "500",
        "500 server error",
        _errors(500),
        1,
        "error",
        "",
        1 + MAX_RETRIES,
        MAX_RETRIES,
        r"{p} had a server error \(HTTP 500",
        r"try again later",
    ),
    Fault(
        "503",
        "503 unavailable",
        _errors(503),
        1,
        "error",
        "",
        1 + MAX_RETRIES,
        MAX_RETRIES,
        r"{p} is overloaded \(HTTP 503",
        r"try again in a moment",
    ),
    Fault(
        "529",
        "529 overloaded",
        _errors(529),
        1,
        "error",
        "",
        1 + MAX_RETRIES,
        MAX_RETRIES,
        r"{p} is overloaded \(HTTP 529",
        r"try again in a moment",
    ),
    Fault(
        "error-event",
        "error event mid-stream",
        lambda server, wire: serve(
            server, wire, stream([*wire.truncated(PARTIAL), wire.error_event("Overloaded")])
        ),
        1,
        "error",
        "".join(PARTIAL),
        1,
        0,
        r"{p} is overloaded",
        r"try again in a moment",
    ),
    Fault(
        "drop",
        "connection dropped mid-stream",
        _mid_stream([Drop()]),
        1,
        "interrupted",
        "".join(PARTIAL),
        1,
        0,
        r"{p}\b.*(dropped in the middle of the reply|stream ended)",
        r"the partial reply is kept, try again for the rest",
    ),
    Fault(
        "no-terminator",
        "stream ending without its terminator",
        _mid_stream([]),
        1,
        "interrupted",
        "".join(PARTIAL),
        1,
        0,
        r"{p}\b.*(ended the reply without finishing it|stream ended)",
        r"the partial reply is kept, try again for the rest",
    ),
    Fault(
        "stall",
        "stall mid-stream (no bytes for longer than read_timeout)",
        _mid_stream([Stall()]),
        1,
        "interrupted",
        "".join(PARTIAL),
        1,
        0,
        r"{p} stopped sending for 0\.5 s in the middle of the reply",
        r"raise read_timeout",
        settings={"read_timeout": 0.5},
    ),
    Fault(
        "slow-first-byte",
        "slow first byte (within read_timeout)",
        lambda server, wire: serve(server, wire, stream(wire.reply(FULL), first_byte_delay=0.4)),
        0,
        "complete",
        "".join(FULL),
        1,
        0,
        "",
        "",
        settings={"read_timeout": 3.0},
    ),
    Fault(
        "malformed",
        "malformed JSON in one event",
        lambda server, wire: serve(
            server, wire, stream([*wire.truncated(PARTIAL), wire.malformed])
        ),
        1,
        "error",
        "".join(PARTIAL),
        1,
        0,
        r"{p} sent a[^;]* (event|frame) that is not (valid JSON|a JSON object)",
        r"check base_url if a proxy sits in between",
    ),
    Fault(
        "not-sse",
        "non-SSE body with status 200",
        lambda server, wire: serve(
            server,
            wire,
            Response(
                200,
                {"content-type": "text/html; charset=utf-8"},
                b"<html><body><h1>Welcome to nginx!</h1></body></html>",
                chunked=False,
            ),
        ),
        1,
        "error",
        "",
        1,
        0,
        r"{p} answered with text/html; charset=utf-8 instead of an event stream",
        r"check base_url",
    ),
]

FAULTS_BY_ID = {fault.id: fault for fault in FAULTS}

#: Every (fault, provider) cell, as pytest parameters.
CELLS = [(fault.id, provider) for fault in FAULTS for provider in WIRES]


def cell_settings(fault: Fault, wire: Wire, base_url: str) -> dict[str, Any]:
    """The ``[providers.<name>]`` table of a cell."""
    return {
        **BASE_SETTINGS,
        **fault.settings,
        "base_url": wire.base_url(base_url),
        "api_key": CANARY,
    }


def check_sentence(sentence: str, fault: Fault, provider: str) -> None:
    """Assert ``sentence`` is one clean line naming the provider, the cause and the fix."""
    assert sentence, "no error sentence"
    assert "\n" not in sentence and "\x1b" not in sentence, repr(sentence)
    assert "Traceback" not in sentence
    assert CANARY not in sentence
    cause = fault.cause.format(p=re.escape(provider))
    fix = fault.fix.format(p=re.escape(provider))
    assert re.search(cause, sentence), f"cause {cause!r} not in {sentence!r}"
    assert re.search(fix, sentence), f"fix {fix!r} not in {sentence!r}"
