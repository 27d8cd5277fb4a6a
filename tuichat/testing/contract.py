"""The shared provider contract suite: one set of wire-level tests for every provider.

Every provider plugin, first-party or third-party, proves it speaks its API correctly
by describing that API in a :class:`WireScript` and subclassing
:class:`ProviderContract`; pytest then collects every ``test_*`` method of the base
class in the subclass and runs it against the test kit's loopback
:class:`~tuichat.testing.server.WireServer` (the ``wire_server`` fixture), through a
real ``httpx.AsyncClient``::

    from tuichat.testing.contract import ProviderContract, WireScript

    class FooWire(WireScript):
        provider_cls = FooProvider
        model = "foo-1"

        def settings(self, base_url): ...
        def chat_path(self, model): ...
        def stream(self, deltas, *, finish="stop", usage=(10, 20), reasoning=()): ...
        def unterminated(self, deltas): ...
        def error_event(self, message, *, kind="overloaded"): ...
        def error_response(self, status, message, *, retry_after=None): ...
        def finish_raw(self, finish): ...
        def check_request(self, recorded, request): ...
        def models_route(self, ids): ...

    class TestFooContract(ProviderContract):
        wire = FooWire()

What the suite checks (one method each): the documented event sequence gives the
right ``TextDelta``s, ``Usage`` and exactly one final ``Finish``; reasoning stays apart
from text; CRLF line endings; SSE comments between and inside events; empty deltas
skipped; the whole stream split one byte at a time (inside UTF-8 characters and between
CR and LF); a 100 KB delta; ``length`` normalised with the raw reason kept; in-stream
error events after HTTP 200; HTTP 400/401/403/404/429/500/503/529; ``Retry-After``
parsed and honoured by :func:`~tuichat.http.stream_with_retries`; a slow first byte;
a dropped connection; a stream cut before its terminator (or the provider's
documented lenient rule, see :attr:`WireScript.complete_without_terminator`); a
stalled stream (read timeout); a 200 that is not an event stream; malformed JSON in
an event; a refused connection; cancellation closing the HTTP stream; the API key
never appearing in an error message; ``list_models()``; each kind of file the provider
declares in :meth:`~tuichat.provider.Provider.attachment_limits` reaching the wire (its
bytes base64 in the body, beside the message's text), and each kind it does not declare
refused before sending, never dropped.

A provider that declares ``supports_tools = True`` also proves it speaks tools (the
script then implements the ``tool_*`` and ``sent_*`` methods of :class:`WireScript`; a
provider without tools skips these cases): the tools offered reach the wire (and no
tools field when none are offered, as on the request after the last allowed round);
a call whose arguments stream in pieces cut at awkward places (between ``{`` and
``"``, inside a string, inside a ``\\u00e9`` escape), also one byte at a time, gives one
complete :class:`~tuichat.provider.ToolCall` before a ``tool_calls`` finish, the text
before it kept; two calls in one turn come in order; the calls and results of a tool
round (a result, a failed call, a declined one) reach the next request; what the API
asks back unchanged (a signature) goes back byte for byte in the next request through
:class:`~tuichat.provider.NativeReply` and ``ChatMessage.native``; another plugin's
native form is never sent.

Every frame a script returns is one complete SSE event (``data: ...\\n\\n``) with LF line
endings and no raw newline inside a JSON payload: the suite derives the CRLF, comment
and byte-split variants itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import httpx
import pytest
import pytest_asyncio

from tuichat import errors
from tuichat.attachments import AttachmentError
from tuichat.http import RetryPolicy, make_client, stream_with_retries
from tuichat.provider import (
    BinaryPart,
    ChatEvent,
    ChatMessage,
    ChatRequest,
    Finish,
    Native,
    NativeReply,
    Provider,
    ReasoningDelta,
    Retrying,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
)
from tuichat.testing.files import PDF_MINIMAL, PNG_1X1
from tuichat.testing.server import Chunk, Drop, RecordedRequest, Response, Stall, Step, WireServer

__all__ = [
    "AWKWARD_ARGUMENTS",
    "CANARY_KEY",
    "CONTRACT_TOOLS",
    "ERROR_KINDS",
    "ErrorKind",
    "ProviderContract",
    "Result",
    "ScriptedCall",
    "SentResult",
    "SentTool",
    "WireScript",
    "closed_port_url",
    "json_frame",
    "sse_stream_response",
]

#: The API key every contract test configures; it must never show in an error.
CANARY_KEY = "sk-test-canary-123"

ErrorKind = Literal["overloaded", "server", "rate_limit"]

#: In-stream error kinds a script must be able to render, and the error each maps to.
ERROR_KINDS: dict[str, type[errors.ProviderError]] = {
    "overloaded": errors.Overloaded,
    "server": errors.ServerError,
    "rate_limit": errors.RateLimited,
}

#: Upper bound for any one contract test's stream, so a broken provider fails, not hangs.
_TEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class ScriptedCall:
    """A tool call the scripted server asks for.

    Attributes:
        id: The call's id, as the server gives it.
        name: The tool's name.
        pieces: The JSON text of the arguments, in the pieces the server streams (an
            API that sends arguments whole sends them joined, as an object).
    """

    id: str
    name: str
    pieces: tuple[str, ...]

    @property
    def arguments(self) -> str:
        """The arguments' JSON text, whole."""
        return "".join(self.pieces)


@dataclass(frozen=True)
class SentTool:
    """A tool as a request body offers it, read back by :meth:`WireScript.sent_tools`."""

    name: str
    description: str
    parameters: dict[str, Any]
    """The argument schema as sent (``{}`` when the API leaves it unset)."""


@dataclass(frozen=True)
class SentResult:
    """A tool result as a request body carries it (:meth:`WireScript.sent_tool_results`)."""

    content: str
    is_error: bool | None
    """The API's error flag; ``None`` for an API that has none (the text says it)."""


#: The tools the contract offers: one with a schema as MCP servers publish it (``$schema``,
#: ``title``, ``additionalProperties``), one without arguments.
CONTRACT_TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "get_weather",
        "The weather in a city.",
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "get_weatherArguments",
            "type": "object",
            "properties": {
                "city": {"type": "string", "title": "City", "description": "Where."},
                "days": {"type": "integer", "minimum": 1},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
    ),
    ToolSpec("list_files", "The files of the project.", {"type": "object", "properties": {}}),
)

#: Arguments cut where a reader that parses each piece would break: between ``{`` and
#: ``"``, inside a string, inside a ``\u00e9`` escape, between a backslash and the quote
#: it escapes.
AWKWARD_ARGUMENTS: tuple[str, ...] = (
    "{",
    '"city": "S\\u00',
    "e9o \\",
    '"Paulo\\"", "da',
    'ys": 3}',
)


class WireScript(ABC):
    """How one provider speaks on the wire: the bytes its server sends, the paths it uses.

    Subclass it once per provider; the contract suite asks it for every response it
    plays. Frames are complete SSE events with LF line endings.

    Class attributes:
        provider_cls: The provider class under test.
        model: The model id the suite chats with.
        supports_reasoning: Whether the API streams reasoning ("thinking") text apart
            from the reply; ``False`` skips the reasoning test.
        complete_without_terminator: The provider's documented lenient rule: whether a
            stream that gave its finish reason and then ended cleanly, without its
            terminator, counts as complete (``True``) or as interrupted (``False``).
    """

    provider_cls: ClassVar[type[Provider]]
    model: ClassVar[str]
    supports_reasoning: ClassVar[bool] = True
    complete_without_terminator: ClassVar[bool] = False

    @abstractmethod
    def settings(self, base_url: str) -> dict[str, Any]:
        """The ``[providers.<name>]`` table pointing the provider at the test server.

        Args:
            base_url: The server's root URL (``http://127.0.0.1:PORT``, no trailing slash).

        Returns:
            The table; it should set ``api_key`` to :data:`CANARY_KEY`.
        """

    @abstractmethod
    def chat_path(self, model: str) -> str:
        """The path (without query string) a chat request for ``model`` goes to."""

    @abstractmethod
    def stream(
        self,
        deltas: Sequence[str],
        *,
        finish: str = "stop",
        usage: tuple[int, int] | None = (10, 20),
        reasoning: Sequence[str] = (),
    ) -> list[bytes]:
        """The full documented event sequence of a reply, one SSE event per frame.

        Args:
            deltas: The reply's text pieces, one content event each (empty ones too).
            finish: The normalised finish reason (``stop``, ``length``...); the script
                writes its own word for it (see :meth:`finish_raw`).
            usage: ``(input_tokens, output_tokens)`` to report, or ``None`` for none.
            reasoning: Reasoning pieces, streamed before the text.
        """

    @abstractmethod
    def unterminated(self, deltas: Sequence[str]) -> list[bytes]:
        """The same stream cut just before its terminator (the finish reason included).

        What this means depends on :attr:`complete_without_terminator`.
        """

    def truncated(self, deltas: Sequence[str]) -> list[bytes]:
        """The stream cut right after the last delta: no finish reason, no terminator.

        Always an interrupted reply. Override when :meth:`unterminated` still carries
        the finish reason (the default returns :meth:`unterminated`).
        """
        return self.unterminated(deltas)

    @abstractmethod
    def error_event(self, message: str, *, kind: ErrorKind = "overloaded") -> bytes:
        """An error that arrives inside the stream, after HTTP 200.

        Args:
            message: The server's own words.
            kind: One of :data:`ERROR_KINDS`; the provider must map it to that class.
        """

    @abstractmethod
    def error_response(
        self, status: int, message: str, *, retry_after: float | None = None
    ) -> Response:
        """An HTTP error response with the provider's own error body.

        Args:
            status: The HTTP status.
            message: The server's own words (the provider's error must quote them).
            retry_after: Send a ``Retry-After`` header with these seconds.
        """

    @abstractmethod
    def finish_raw(self, finish: str) -> str:
        """The provider's own word for a normalised finish reason (``length`` -> ...)."""

    @abstractmethod
    def check_request(self, recorded: RecordedRequest, request: ChatRequest) -> None:
        """Assert what the provider sent for ``request`` (headers, body); raise if wrong."""

    @abstractmethod
    def models_route(self, ids: Sequence[str]) -> tuple[str, str, Response]:
        """``(method, path, response)`` of the models endpoint listing ``ids``.

        The suite installs it with :meth:`WireServer.route` and expects
        ``list_models()`` to return exactly these ids.
        """

    def malformed_event(self) -> bytes:
        """An event the provider must read (right event name) whose JSON is broken."""
        return b'data: {"broken": \n\n'

    # Tools: needed only when the provider declares ``supports_tools = True`` -------------

    #: The body field that offers tools: absent when a request offers none.
    tools_field: ClassVar[str] = "tools"
    #: Whether the API gives each call an id (then the ``ToolCall`` must carry it);
    #: ``False``: the provider makes ids, which must only be unique in the reply.
    tool_ids_given: ClassVar[bool] = True

    def tool_call_stream(
        self, calls: Sequence[ScriptedCall], *, text: Sequence[str] = ()
    ) -> list[bytes]:
        """A whole reply that streams ``text``, then asks for ``calls``, and finishes the
        way the API ends a reply that asks for tools (``tool_calls`` normalised).

        Two or more calls are sent as the API sends parallel calls (interleaved, where
        it interleaves them).
        """
        raise NotImplementedError

    def signed_tool_call_stream(self, call: ScriptedCall, *, signature: str) -> list[bytes] | None:
        """A reply asking for ``call`` that carries ``signature``, an opaque value the API
        wants back unchanged in the next request (Anthropic's thinking signature, Gemini's
        ``thoughtSignature``); ``None`` for an API that has none (the case is skipped)."""
        return None

    def sent_tools(self, body: Any) -> list[SentTool]:
        """The tools a request body offers, in order (``[]`` when it offers none)."""
        raise NotImplementedError

    def sent_tool_calls(self, body: Any) -> list[tuple[str, Any]]:
        """The calls the history of a request body holds: ``(name, arguments as a JSON
        value)``, in order."""
        raise NotImplementedError

    def sent_tool_results(self, body: Any) -> list[SentResult]:
        """The tool results the history of a request body holds, in order."""
        raise NotImplementedError


@dataclass
class Result:
    """What a stream produced: its events in order and the error that ended it."""

    events: list[ChatEvent] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def texts(self) -> list[str]:
        """The ``TextDelta`` texts in order."""
        return [e.text for e in self.events if isinstance(e, TextDelta)]

    @property
    def text(self) -> str:
        """The reply text."""
        return "".join(self.texts)

    @property
    def reasoning(self) -> list[str]:
        """The ``ReasoningDelta`` texts in order."""
        return [e.text for e in self.events if isinstance(e, ReasoningDelta)]

    @property
    def usages(self) -> list[Usage]:
        """The ``Usage`` events in order."""
        return [e for e in self.events if isinstance(e, Usage)]

    @property
    def finishes(self) -> list[Finish]:
        """The ``Finish`` events (a correct stream has exactly one, last)."""
        return [e for e in self.events if isinstance(e, Finish)]

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The ``ToolCall`` events in order."""
        return [e for e in self.events if isinstance(e, ToolCall)]

    @property
    def natives(self) -> list[NativeReply]:
        """The ``NativeReply`` events (at most one)."""
        return [e for e in self.events if isinstance(e, NativeReply)]


def sse_stream_response(
    frames: Sequence[bytes | Step], *, first_byte_delay: float = 0.0
) -> Response:
    """A 200 ``text/event-stream`` response sending each frame as one HTTP chunk.

    Args:
        frames: SSE frames (bytes) and server steps (``Drop()``, ``Stall()``...).
        first_byte_delay: Seconds before the status line.
    """
    steps: list[Step] = [Chunk(f) if isinstance(f, bytes) else f for f in frames]
    return Response(
        200,
        {"content-type": "text/event-stream", "cache-control": "no-cache"},
        steps,
        first_byte_delay=first_byte_delay,
    )


def closed_port_url() -> str:
    """``http://127.0.0.1:PORT`` where nothing listens (a port just released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _crlf(frame: bytes) -> bytes:
    return frame.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class ProviderContract:
    """Base class of the contract tests; subclass it and set :attr:`wire`.

    The subclass's name must start with ``Test`` for pytest to collect it. Helpers
    (:meth:`build`, :meth:`request`, :meth:`collect`, :meth:`assert_clean`) are public
    so provider-specific tests in the subclass can reuse them.
    """

    wire: ClassVar[WireScript]
    pytestmark = pytest.mark.asyncio

    # Helpers ---------------------------------------------------------------------------

    @pytest_asyncio.fixture
    async def http_client(self) -> AsyncIterator[httpx.AsyncClient]:
        """The shared client as tuichat makes it, closed after the test."""
        client = make_client()
        try:
            yield client
        finally:
            await client.aclose()

    def build(self, client: httpx.AsyncClient, base_url: str, **overrides: Any) -> Provider:
        """The provider under test, configured by the script and ``overrides``.

        Args:
            client: The HTTP client (the ``http_client`` fixture).
            base_url: The server's root URL (``wire_server.url``).
            **overrides: Settings fields replacing the script's (``read_timeout=0.3``).
        """
        cls = self.wire.provider_cls
        table = {**self.wire.settings(base_url), **overrides}
        settings = cls.Settings.model_validate(table)
        return cls(settings=settings, client=client, instance_name=cls.name)

    def request(self, **changes: Any) -> ChatRequest:
        """A small conversation with a system prompt and parameters."""
        fields: dict[str, Any] = {
            "model": self.wire.model,
            "messages": [
                ChatMessage("user", "Hello"),
                ChatMessage("assistant", "Hi! How can I help?"),
                ChatMessage("user", "Tell me a joke"),
            ],
            "system": "Be brief.",
            "temperature": 0.5,
            "max_tokens": 100,
        }
        fields.update(changes)
        return ChatRequest(**fields)

    async def collect(
        self,
        events: AsyncGenerator[ChatEvent, None],
        *,
        limit: float = _TEST_TIMEOUT,
    ) -> Result:
        """Drain ``events``, keeping every event and the ``ProviderError`` that ended it.

        Any other exception propagates (a provider must only raise ``ProviderError``).
        """
        result = Result()

        async def drain() -> None:
            try:
                async for event in events:
                    result.events.append(event)
            except errors.ProviderError as exc:
                result.error = exc
            finally:
                await events.aclose()

        await asyncio.wait_for(drain(), limit)
        return result

    async def run(
        self,
        server: WireServer,
        client: httpx.AsyncClient,
        *responses: Response,
        request: ChatRequest | None = None,
        **overrides: Any,
    ) -> Result:
        """Queue ``responses``, stream one reply straight from the provider, collect it."""
        server.enqueue(*responses)
        provider = self.build(client, server.url, **overrides)
        return await self.collect(provider.stream_chat(request or self.request()))

    def assert_clean(self, error: BaseException | None) -> errors.ProviderError:
        """Assert ``error`` is a one-sentence ``ProviderError`` free of the key."""
        assert isinstance(error, errors.ProviderError), f"expected a ProviderError, got {error!r}"
        message = str(error)
        assert message.strip(), "the error has no message"
        assert CANARY_KEY not in message, f"the API key leaked into the error: {message!r}"
        assert "\n" not in message, f"the error is not one line: {message!r}"
        assert "\x1b" not in message
        return error

    def assert_complete(self, result: Result, *, finish: str = "stop") -> Finish:
        """Assert a stream ended well: no error, exactly one ``Finish``, and it is last."""
        assert result.error is None, f"the stream failed: {result.error!r}"
        assert len(result.finishes) == 1, f"expected one Finish, got {result.finishes!r}"
        assert result.events[-1] == result.finishes[0], "Finish is not the last event"
        assert result.finishes[0].reason == finish
        assert all(text for text in result.texts), "an empty TextDelta was yielded"
        return result.finishes[0]

    # The documented event sequence -----------------------------------------------------

    async def test_event_sequence(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        deltas = ["Hello", ", ", "world", "!"]
        request = self.request()
        result = await self.run(
            wire_server,
            http_client,
            sse_stream_response(self.wire.stream(deltas)),
            request=request,
        )
        finish = self.assert_complete(result)
        assert result.texts == deltas
        assert finish.raw == self.wire.finish_raw("stop")
        assert result.usages, "no Usage event"
        assert counted(result.usages[-1]) == (10, 20)
        assert not result.reasoning
        assert len(wire_server.requests) == 1
        recorded = wire_server.requests[0]
        assert recorded.bare_path == self.wire.chat_path(request.model)
        self.wire.check_request(recorded, request)

    async def test_no_usage_reported(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        result = await self.run(
            wire_server, http_client, sse_stream_response(self.wire.stream(["Hi"], usage=None))
        )
        self.assert_complete(result)
        assert result.text == "Hi"

    async def test_reasoning_kept_apart(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        if not self.wire.supports_reasoning:
            pytest.skip("this API streams no reasoning")
        thoughts = ["Let me think", " about it."]
        frames = self.wire.stream(["The answer", " is 42."], reasoning=thoughts)
        result = await self.run(wire_server, http_client, sse_stream_response(frames))
        self.assert_complete(result)
        assert result.reasoning == thoughts
        assert result.text == "The answer is 42."
        first_text = next(i for i, e in enumerate(result.events) if isinstance(e, TextDelta))
        last_reasoning = max(
            i for i, e in enumerate(result.events) if isinstance(e, ReasoningDelta)
        )
        assert last_reasoning < first_text

    async def test_crlf_line_endings(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = [_crlf(f) for f in self.wire.stream(["Line one", " and two"])]
        result = await self.run(wire_server, http_client, sse_stream_response(frames))
        self.assert_complete(result)
        assert result.text == "Line one and two"
        assert counted(result.usages[-1]) == (10, 20)

    async def test_comments_ignored(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames: list[bytes] = [b": connected\n\n"]
        for frame in self.wire.stream(["a", "b", "c"]):
            # A keep-alive between events and a comment line inside one.
            frames += [b": keep-alive\n\n", b": note\n" + frame]
        frames.append(b":\n\n")
        result = await self.run(wire_server, http_client, sse_stream_response(frames))
        self.assert_complete(result)
        assert result.texts == ["a", "b", "c"]

    async def test_empty_deltas_skipped(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = self.wire.stream(["", "Hi", "", "!", ""])
        result = await self.run(wire_server, http_client, sse_stream_response(frames))
        self.assert_complete(result)
        assert result.texts == ["Hi", "!"]

    async def test_split_one_byte_at_a_time(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        deltas = ["é", "🙂 ", "中文", " naïve — ok"]
        body = b"".join(_crlf(f) for f in self.wire.stream(deltas))
        # Every byte its own HTTP chunk: splits land inside multi-byte UTF-8 characters
        # and between CR and LF.
        steps = [Chunk(body[i : i + 1]) for i in range(len(body))]
        result = await self.run(wire_server, http_client, sse_stream_response(steps))
        self.assert_complete(result)
        assert result.text == "".join(deltas)
        assert counted(result.usages[-1]) == (10, 20)

    async def test_large_delta(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        big = ("All work and no play makes a long reply. é中🙂\n" * 2400)[:100_000]
        result = await self.run(
            wire_server, http_client, sse_stream_response(self.wire.stream(["start ", big]))
        )
        self.assert_complete(result)
        assert result.text == "start " + big

    async def test_finish_length(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = self.wire.stream(["Cut sh"], finish="length")
        result = await self.run(wire_server, http_client, sse_stream_response(frames))
        finish = self.assert_complete(result, finish="length")
        assert finish.raw == self.wire.finish_raw("length")
        assert result.text == "Cut sh"

    # Errors after HTTP 200 ---------------------------------------------------------------

    @pytest.mark.parametrize("kind", list(ERROR_KINDS))
    async def test_error_event_after_text(
        self, wire_server: WireServer, http_client: httpx.AsyncClient, kind: ErrorKind
    ) -> None:
        message = f"Something went wrong ({kind}); key {CANARY_KEY}"
        frames = [
            *self.wire.truncated(["Partial", " text"]),
            self.wire.error_event(message, kind=kind),
        ]
        result = await self.run(wire_server, http_client, sse_stream_response(frames))
        error = self.assert_clean(result.error)
        assert isinstance(error, ERROR_KINDS[kind]), repr(error)
        assert "Something went wrong" in str(error)
        assert result.texts == ["Partial", " text"]
        assert not result.finishes

    async def test_malformed_json_event(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = [*self.wire.truncated(["Hi"]), self.wire.malformed_event()]
        wire_server.enqueue(sse_stream_response(frames))
        provider = self.build(http_client, wire_server.url)
        result = await self.collect(provider.stream_chat(self.request()))
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.MalformedResponse), repr(error)
        assert provider.label in str(error)
        assert result.text == "Hi"

    async def test_non_sse_200(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        html = Response(
            200,
            {"content-type": "text/html; charset=utf-8"},
            b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>",
            chunked=False,
        )
        result = await self.run(wire_server, http_client, html)
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.MalformedResponse), repr(error)
        assert not result.events

    # HTTP errors ---------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            (400, errors.BadRequest),
            (403, errors.PermissionDenied),
            (404, errors.NotFound),
            (429, errors.RateLimited),
            (500, errors.ServerError),
            (503, errors.Overloaded),
            (529, errors.Overloaded),
        ],
    )
    async def test_http_status_errors(
        self,
        wire_server: WireServer,
        http_client: httpx.AsyncClient,
        status: int,
        expected: type[errors.ProviderError],
    ) -> None:
        response = self.wire.error_response(status, f"The model exploded (key {CANARY_KEY})")
        result = await self.run(wire_server, http_client, response)
        error = self.assert_clean(result.error)
        assert isinstance(error, expected), repr(error)
        assert error.status == status
        assert "The model exploded" in str(error)
        assert not result.events
        if status == 429:
            assert error.retry_after is None

    @pytest.mark.parametrize(
        "part",
        [
            BinaryPart("image", "image/png", PNG_1X1, "dot.png"),
            BinaryPart("document", "application/pdf", PDF_MINIMAL, "paper.pdf"),
        ],
        ids=["image", "pdf"],
    )
    async def test_attachments_reach_the_wire_or_are_refused(
        self, wire_server: WireServer, http_client: httpx.AsyncClient, part: BinaryPart
    ) -> None:
        provider = self.build(http_client, wire_server.url)
        request = self.request(messages=[ChatMessage("user", "What is this?", parts=(part,))])
        if part.kind not in provider.attachment_limits(request.model).kinds:
            # Not declared: refused before sending, never silently dropped.
            with pytest.raises(AttachmentError):
                provider.check_attachments(request)
            return
        provider.check_attachments(request)
        wire_server.enqueue(sse_stream_response(self.wire.stream(["A dot."])))
        self.assert_complete(await self.collect(provider.stream_chat(request)))
        body = wire_server.requests[-1].body.decode()
        assert base64.b64encode(part.data).decode() in body, f"the {part.kind} was not sent"
        assert part.media_type in body, f"the {part.kind}'s media type was not sent"
        assert "What is this?" in body, "the text beside the file was not sent"

    async def test_401_names_the_key_variable(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        response = self.wire.error_response(401, f"Incorrect API key provided: {CANARY_KEY}.")
        wire_server.enqueue(response)
        provider = self.build(http_client, wire_server.url)
        result = await self.collect(provider.stream_chat(self.request()))
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.AuthError), repr(error)
        assert error.status == 401
        names = provider.key_env_names()
        if names:
            assert names[0] in str(error)

    async def test_429_retry_after_parsed(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        response = self.wire.error_response(429, "Slow down", retry_after=7)
        result = await self.run(wire_server, http_client, response)
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.RateLimited), repr(error)
        assert error.retry_after == pytest.approx(7.0)

    async def test_429_retried_then_success(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        wire_server.enqueue(
            self.wire.error_response(429, "Slow down", retry_after=2),
            sse_stream_response(self.wire.stream(["Made", " it"])),
        )
        provider = self.build(http_client, wire_server.url, max_retries=2)
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        events = stream_with_retries(
            provider, self.request(), policy=RetryPolicy(0.0, 30.0), sleep=sleep
        )
        result = await self.collect(events)
        self.assert_complete(result)
        assert result.text == "Made it"
        retrying = [e for e in result.events if isinstance(e, Retrying)]
        assert len(retrying) == 1 and retrying[0].delay == pytest.approx(2.0)
        assert CANARY_KEY not in retrying[0].error
        assert waits == [pytest.approx(2.0)]
        assert len(wire_server.requests) == 2

    # Transport faults ----------------------------------------------------------------------

    async def test_slow_first_byte(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        response = sse_stream_response(self.wire.stream(["Late"]), first_byte_delay=0.25)
        result = await self.run(wire_server, http_client, response, read_timeout=2.0)
        self.assert_complete(result)
        assert result.text == "Late"

    @pytest.mark.parametrize("reset", [False, True], ids=["close", "reset"])
    async def test_dropped_connection(
        self, wire_server: WireServer, http_client: httpx.AsyncClient, reset: bool
    ) -> None:
        frames: list[bytes | Step] = [*self.wire.truncated(["Hel", "lo"]), Drop(reset=reset)]
        result = await self.run(wire_server, http_client, sse_stream_response(frames))
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.StreamInterrupted), repr(error)
        assert result.texts == ["Hel", "lo"]
        assert not result.finishes

    async def test_truncated_stream_is_interrupted(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = self.wire.truncated(["Half a", " reply"])
        result = await self.run(wire_server, http_client, sse_stream_response(frames))
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.StreamInterrupted), repr(error)
        assert result.text == "Half a reply"
        assert not result.finishes

    async def test_stream_without_terminator(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames = self.wire.unterminated(["Almost", " done"])
        result = await self.run(wire_server, http_client, sse_stream_response(frames))
        assert result.text == "Almost done"
        if self.wire.complete_without_terminator:
            self.assert_complete(result)
        else:
            error = self.assert_clean(result.error)
            assert isinstance(error, errors.StreamInterrupted), repr(error)
            assert not result.finishes

    @pytest.mark.parametrize("where", ["before-events", "mid-stream"])
    async def test_stall_read_timeout(
        self, wire_server: WireServer, http_client: httpx.AsyncClient, where: str
    ) -> None:
        before: list[bytes | Step] = (
            [] if where == "before-events" else [*self.wire.truncated(["Stuck"])]
        )
        frames = [*before, Stall()]
        result = await self.run(
            wire_server, http_client, sse_stream_response(frames), read_timeout=0.3
        )
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.ProviderTimeout), repr(error)
        assert result.text == ("" if where == "before-events" else "Stuck")
        assert not result.finishes

    async def test_connection_refused(self, http_client: httpx.AsyncClient) -> None:
        provider = self.build(http_client, closed_port_url(), connect_timeout=2.0)
        result = await self.collect(provider.stream_chat(self.request()))
        error = self.assert_clean(result.error)
        assert isinstance(error, errors.NetworkError), repr(error)
        assert not result.events

    async def test_cancellation_closes_the_stream(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        frames: list[bytes | Step] = [*self.wire.truncated(["First"]), Stall()]
        wire_server.enqueue(sse_stream_response(frames))
        provider = self.build(http_client, wire_server.url)
        events = provider.stream_chat(self.request())
        first = await asyncio.wait_for(anext(events), _TEST_TIMEOUT)
        while not isinstance(first, TextDelta):
            first = await asyncio.wait_for(anext(events), _TEST_TIMEOUT)
        assert first.text == "First"
        await events.aclose()
        assert await wire_server.await_disconnect(timeout=2.0), "the HTTP stream stayed open"

    async def test_task_cancellation_closes_the_stream(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        wire_server.enqueue(sse_stream_response([*self.wire.truncated(["First"]), Stall()]))
        provider = self.build(http_client, wire_server.url)
        got_text = asyncio.Event()

        async def consume() -> None:
            async for event in provider.stream_chat(self.request()):
                if isinstance(event, TextDelta):
                    got_text.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got_text.wait(), _TEST_TIMEOUT)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await wire_server.await_disconnect(timeout=2.0), "the HTTP stream stayed open"

    # Models ---------------------------------------------------------------------------------

    async def test_list_models(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        ids = ["model-b", "model-a", "model-c"]
        wire_server.route(*self.wire.models_route(ids))
        provider = self.build(http_client, wire_server.url)
        models = await asyncio.wait_for(provider.list_models(), _TEST_TIMEOUT)
        assert sorted(m.id for m in models) == sorted(ids)
        assert all(m.provider == provider.instance_name for m in models)

    async def test_list_models_auth_error(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        method, path, _ = self.wire.models_route([])
        wire_server.route(method, path, self.wire.error_response(401, f"Bad key {CANARY_KEY}"))
        provider = self.build(http_client, wire_server.url)
        with pytest.raises(errors.AuthError) as caught:
            await asyncio.wait_for(provider.list_models(), _TEST_TIMEOUT)
        self.assert_clean(caught.value)

    # Tools ---------------------------------------------------------------------------------

    def require_tools(self) -> None:
        """Skip the calling test unless the provider declares ``supports_tools``."""
        if not self.wire.provider_cls.supports_tools:
            pytest.skip("the provider does not declare supports_tools")

    def assert_tool_reply(self, result: Result, calls: Sequence[ScriptedCall]) -> list[ToolCall]:
        """Assert a reply asked for exactly ``calls``, complete, before its one ``tool_calls``
        ``Finish`` (after any ``NativeReply``); return its ``ToolCall`` events."""
        finish = self.assert_complete(result, finish="tool_calls")
        assert finish.raw == self.wire.finish_raw("tool_calls")
        got = result.tool_calls
        assert [call.name for call in got] == [call.name for call in calls], got
        for call, expected in zip(got, calls, strict=True):
            assert json.loads(call.arguments) == json.loads(expected.arguments), call
            if self.wire.tool_ids_given:
                assert call.id == expected.id, call
        assert len({call.id for call in got}) == len(got), f"ids are not unique: {got!r}"
        assert all(call.id for call in got), f"a call has no id: {got!r}"
        last_call = max(i for i, e in enumerate(result.events) if isinstance(e, ToolCall))
        assert last_call < len(result.events) - 1
        assert len(result.natives) <= 1, result.natives
        return got

    def tool_round(
        self,
        calls: Sequence[ToolCall],
        results: Sequence[ToolResult],
        *,
        text: str = "Let me check.",
        native: Native | None = None,
        tools: Sequence[ToolSpec] = CONTRACT_TOOLS,
    ) -> ChatRequest:
        """The request after a tool round: the question, the reply that asked for
        ``calls`` (its ``text`` and ``native`` form), the ``tool`` message with
        ``results``; ``tools`` offered (none: the request after the last allowed round)."""
        return self.request(
            messages=[
                ChatMessage("user", "What is the weather in São Paulo?"),
                ChatMessage("assistant", text, tool_calls=tuple(calls), native=native),
                ChatMessage("tool", "", tool_results=tuple(results)),
            ],
            tools=tuple(tools),
        )

    @pytest.mark.parametrize("delivery", ["events", "bytes"])
    async def test_tool_call_assembled_from_awkward_pieces(
        self, wire_server: WireServer, http_client: httpx.AsyncClient, delivery: str
    ) -> None:
        self.require_tools()
        call = ScriptedCall("call_weather_1", "get_weather", AWKWARD_ARGUMENTS)
        frames: list[bytes] = self.wire.tool_call_stream([call], text=["Let me ", "check."])
        if delivery == "bytes":
            body = b"".join(_crlf(f) for f in frames)
            steps: list[bytes | Step] = [Chunk(body[i : i + 1]) for i in range(len(body))]
            response = sse_stream_response(steps)
        else:
            response = sse_stream_response(frames)
        request = self.request(tools=CONTRACT_TOOLS)
        result = await self.run(wire_server, http_client, response, request=request)
        (got,) = self.assert_tool_reply(result, [call])
        assert json.loads(got.arguments) == {"city": 'Séo "Paulo"', "days": 3}
        # The text that came before the call is kept, as text.
        assert result.texts == ["Let me ", "check."]
        body = wire_server.requests[0].json()
        assert self.wire.tools_field in body
        sent = self.wire.sent_tools(body)
        assert [(t.name, t.description) for t in sent] == [
            (t.name, t.description) for t in CONTRACT_TOOLS
        ]
        for tool, spec in zip(sent, CONTRACT_TOOLS, strict=True):
            # The schema goes as given (an API may leave out an empty one).
            assert set(tool.parameters.get("properties") or {}) == set(
                spec.parameters["properties"]
            )
            if spec.parameters["properties"]:
                assert tool.parameters["required"] == spec.parameters["required"]

    async def test_two_calls_in_one_turn(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        self.require_tools()
        calls = [
            ScriptedCall("call_a", "get_weather", ('{"ci', 'ty": "Lima"', "}")),
            ScriptedCall("call_b", "list_files", ("{", "}")),
        ]
        result = await self.run(
            wire_server,
            http_client,
            sse_stream_response(self.wire.tool_call_stream(calls)),
            request=self.request(tools=CONTRACT_TOOLS),
        )
        got = self.assert_tool_reply(result, calls)
        assert [json.loads(call.arguments) for call in got] == [{"city": "Lima"}, {}]
        assert not result.texts

    @pytest.mark.parametrize(
        "results",
        [
            (("Sunny, 21 °C", False), ("permission denied: /etc", True)),
            (("declined by the user", True), ("declined by the user", True)),
        ],
        ids=["result-and-error", "declined"],
    )
    async def test_tool_round_reaches_the_next_request(
        self,
        wire_server: WireServer,
        http_client: httpx.AsyncClient,
        results: tuple[tuple[str, bool], ...],
    ) -> None:
        self.require_tools()
        calls = (
            ToolCall("call_a", "get_weather", '{"city": "São Paulo"}'),
            ToolCall("call_b", "list_files", "{}"),
        )
        request = self.tool_round(
            calls,
            [
                ToolResult(call.id, call.name, content, is_error=error)
                for call, (content, error) in zip(calls, results, strict=True)
            ],
        )
        result = await self.run(
            wire_server,
            http_client,
            sse_stream_response(self.wire.stream(["It is sunny."])),
            request=request,
        )
        self.assert_complete(result)
        body = wire_server.requests[0].json()
        assert self.wire.sent_tool_calls(body) == [
            ("get_weather", {"city": "São Paulo"}),
            ("list_files", {}),
        ]
        sent = self.wire.sent_tool_results(body)
        assert [r.content for r in sent] == [content for content, _ in results]
        for got, (_, error) in zip(sent, results, strict=True):
            assert got.is_error in (None, error), f"is_error {got.is_error}, expected {error}"
        assert "Let me check." in wire_server.requests[0].body.decode()

    async def test_no_tools_field_when_none_offered(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        """The request after the last allowed tool round: the history keeps its calls and
        results, and the body offers no tools at all (not an empty list)."""
        self.require_tools()
        calls = (ToolCall("call_a", "get_weather", '{"city": "Lima"}'),)
        request = self.tool_round(calls, [ToolResult("call_a", "get_weather", "Foggy.")], tools=())
        result = await self.run(
            wire_server,
            http_client,
            sse_stream_response(self.wire.stream(["Foggy in Lima."])),
            request=request,
        )
        self.assert_complete(result)
        assert not result.tool_calls
        body = wire_server.requests[0].json()
        assert self.wire.tools_field not in body
        assert self.wire.sent_tools(body) == []
        assert [r.content for r in self.wire.sent_tool_results(body)] == ["Foggy."]

    async def test_signature_goes_back_unchanged(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        self.require_tools()
        # Base64, as real signatures are, with the characters a careless encoder changes.
        signature = "EqQBCgIYAhIM1gbcDa9GJwZA2b3h+/Gg0x/sig=="
        call = ScriptedCall("call_sig", "get_weather", ('{"city": ', '"Oslo"}'))
        frames = self.wire.signed_tool_call_stream(call, signature=signature)
        if frames is None:
            pytest.skip("this API asks nothing back unchanged")
        first = await self.run(
            wire_server,
            http_client,
            sse_stream_response(frames),
            request=self.request(tools=CONTRACT_TOOLS),
        )
        got = self.assert_tool_reply(first, [call])
        assert len(first.natives) == 1, "no NativeReply for a reply with a signature"
        native = first.natives[0]
        assert first.events.index(native) < len(first.events) - 1
        # The core stores it as JSON: it must survive that unchanged.
        data = json.loads(json.dumps(native.data))
        assert data == native.data
        provider_name = self.wire.provider_cls.name
        request = self.tool_round(
            got,
            [ToolResult(call.id, call.name, "Cold.") for call in got],
            text=first.text,
            native=Native(provider_name, data),
        )
        second = await self.run(
            wire_server,
            http_client,
            sse_stream_response(self.wire.stream(["Cold in Oslo."])),
            request=request,
        )
        self.assert_complete(second)
        sent = wire_server.requests[1].body
        # Byte for byte: the signature as the server sent it, not re-encoded.
        assert signature.encode() in sent, "the signature did not go back unchanged"
        body = wire_server.requests[1].json()
        assert self.wire.sent_tool_calls(body) == [("get_weather", {"city": "Oslo"})]
        assert [r.content for r in self.wire.sent_tool_results(body)] == ["Cold."]

    async def test_another_plugins_native_form_is_not_sent(
        self, wire_server: WireServer, http_client: httpx.AsyncClient
    ) -> None:
        self.require_tools()
        calls = (ToolCall("call_a", "get_weather", '{"city": "Lima"}'),)
        foreign = Native("some-other-plugin", [{"type": "foreign", "secret": "x-foreign-blob"}])
        request = self.tool_round(
            calls, [ToolResult("call_a", "get_weather", "Foggy.")], native=foreign
        )
        result = await self.run(
            wire_server,
            http_client,
            sse_stream_response(self.wire.stream(["Foggy."])),
            request=request,
        )
        self.assert_complete(result)
        sent = wire_server.requests[0].body.decode()
        assert "x-foreign-blob" not in sent
        body = wire_server.requests[0].json()
        assert self.wire.sent_tool_calls(body) == [("get_weather", {"city": "Lima"})]
        assert [r.content for r in self.wire.sent_tool_results(body)] == ["Foggy."]


def json_frame(data: Any, *, event: str | None = None) -> bytes:
    """One SSE event carrying ``data`` as compact JSON (a helper for scripts)."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


def counted(usage: Usage) -> tuple[int | None, int | None]:
    """The prompt and reply token counts of ``usage`` (the cache and reasoning shares,
    which a provider may or may not report, are checked by its own tests)."""
    return usage.input_tokens, usage.output_tokens
