"""A loopback HTTP/1.1 server that plays scripted responses byte for byte.

The server runs its own asyncio loop in a daemon thread, so sync tests, async tests
(pytest-asyncio, Textual's Pilot) and subprocesses can all talk to it over 127.0.0.1.
Only the standard library is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import http
import inspect
import json
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "Chunk",
    "Delay",
    "Drop",
    "Gate",
    "Handler",
    "RecordedRequest",
    "Response",
    "Stall",
    "Step",
    "WireServer",
]

_MAX_HEAD = 64 * 1024
_POLL = 0.005


@dataclass
class RecordedRequest:
    """One request as the server received it.

    Attributes:
        method: The request method, upper case (``"POST"``).
        path: The request target, including the query string (``"/v1/x?alt=sse"``).
        headers: Header names lower-cased; repeated headers joined with ``", "``.
        body: The request body (de-chunked if it was sent chunked).
    """

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body decoded as JSON.

        Returns:
            The decoded JSON value.
        """
        return json.loads(self.body)

    @property
    def query(self) -> dict[str, str]:
        """The query string parameters (the last value wins for repeated names)."""
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

    @property
    def bare_path(self) -> str:
        """The path without its query string."""
        return urlsplit(self.path).path


@dataclass(frozen=True)
class Chunk:
    """Bytes sent in one write (one HTTP chunk when the response is chunked).

    After the write the server drains and yields to its loop, so the bytes leave
    before the next step runs.
    """

    data: bytes


@dataclass(frozen=True)
class Delay:
    """Pause the response for ``seconds`` (other connections keep being served)."""

    seconds: float


@dataclass(frozen=True)
class Drop:
    """Abort the connection here, without the terminating chunk: a broken stream.

    With a chunked body or a ``Content-Length`` the client sees an incomplete message
    (httpx: ``RemoteProtocolError``). In a close-delimited body (``chunked=False`` without
    a length) a plain close looks like a normal end: use ``reset=True`` there.

    Attributes:
        reset: Send a TCP RST (``SO_LINGER`` 0) instead of a plain close. httpx then
            raises ``ReadError`` (connection reset) instead of ``RemoteProtocolError``.
    """

    reset: bool = False


@dataclass(frozen=True)
class Stall:
    """Send nothing more and keep the connection open until the client goes away.

    The client's disconnect is counted in :attr:`WireServer.disconnects`.
    """


class Gate:
    """A step that holds the response until the test calls :meth:`open`.

    Lets a test decide exactly when the rest of a response is sent, without sleeps.
    Thread-safe; one gate may be used by several responses.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def open(self) -> None:
        """Let every response waiting at this gate continue."""
        self._event.set()

    @property
    def is_open(self) -> bool:
        """Whether :meth:`open` has been called."""
        return self._event.is_set()

    def __repr__(self) -> str:
        return f"Gate(open={self.is_open})"


Step: TypeAlias = Chunk | Delay | Drop | Stall | Gate


@dataclass
class Response:
    """A scripted response.

    Attributes:
        status: The status code.
        headers: Extra headers (``content-type``, ``retry-after``, ...), sent as given.
        body: Plain bytes or text (UTF-8), or a script of steps.
        reason: The reason phrase; the standard one when ``None``.
        chunked: Send ``Transfer-Encoding: chunked``, each :class:`Chunk` as one HTTP chunk.
            When ``False``: ``Content-Length`` if the body is plain bytes or text (or if
            ``headers`` already has one), otherwise ``Connection: close`` and the body
            ends when the server closes the connection.
        first_byte_delay: Seconds to wait before sending the status line.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Sequence[Step] | bytes | str = b""
    reason: str | None = None
    chunked: bool = True
    first_byte_delay: float = 0.0

    def steps(self) -> list[Step]:
        """The body as a list of steps.

        Returns:
            The steps; plain bytes or text become a single :class:`Chunk`.
        """
        if isinstance(self.body, str):
            return [Chunk(self.body.encode())] if self.body else []
        if isinstance(self.body, bytes | bytearray | memoryview):
            return [Chunk(bytes(self.body))] if self.body else []
        return list(self.body)


Handler: TypeAlias = Callable[[RecordedRequest], Response | Awaitable[Response]]
Reply: TypeAlias = Response | Handler


def _not_found() -> Response:
    return Response(
        status=404,
        headers={"content-type": "application/json"},
        body=json.dumps({"error": "no scripted response"}).encode(),
        chunked=False,
    )


class _ClientGone(Exception):
    """The client closed the connection while a response was being sent."""


class _Aborted(Exception):
    """The script dropped the connection."""


class _Connection(asyncio.Protocol):
    """One client connection: parses requests and plays their responses."""

    def __init__(self, server: WireServer) -> None:
        self._server = server
        self._loop = asyncio.get_running_loop()
        self._buffer = bytearray()
        self._eof = False
        self._lost = False
        self._changed = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._transport: asyncio.Transport | None = None
        self._task: asyncio.Task[None] | None = None

    # asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server._connections.add(self)
        self._server._count_connection()
        self._task = self._loop.create_task(self._serve())
        self._server._tasks.add(self._task)
        self._task.add_done_callback(self._server._tasks.discard)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._changed.set()

    def eof_received(self) -> bool:
        self._eof = True
        self._changed.set()
        return True  # keep the transport; the serving task closes it

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._eof = True
        self._changed.set()
        self._writable.set()
        self._server._connections.discard(self)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # Reading ----------------------------------------------------------------------------

    @property
    def _gone(self) -> bool:
        return self._eof or self._lost

    async def _wait_change(self, timeout: float | None = None) -> None:
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def _read_until(self, sep: bytes, limit: int = _MAX_HEAD) -> bytes | None:
        while True:
            index = self._buffer.find(sep)
            if index >= 0:
                end = index + len(sep)
                data = bytes(self._buffer[:end])
                del self._buffer[:end]
                return data
            if self._gone or len(self._buffer) > limit:
                return None
            await self._wait_change()

    async def _read_exactly(self, n: int) -> bytes | None:
        while len(self._buffer) < n:
            if self._gone:
                return None
            await self._wait_change()
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def _read_request(self) -> tuple[RecordedRequest, bool] | None:
        """Read one request; returns it and whether the client wants keep-alive."""
        head = await self._read_until(b"\r\n\r\n")
        if head is None:
            return None
        lines = head[:-4].decode("latin-1").split("\r\n")
        while lines and not lines[0]:  # tolerate stray CRLF between requests
            lines.pop(0)
        if not lines:
            return None
        parts = lines[0].split(" ")
        if len(parts) != 3:
            return None
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._read_chunked_body()
        else:
            body = await self._read_exactly(int(headers.get("content-length", "0") or 0))
        if body is None:
            return None
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection and (
            version == "HTTP/1.1" or "keep-alive" in connection
        )
        return RecordedRequest(method.upper(), target, headers, body), keep_alive

    async def _read_chunked_body(self) -> bytes | None:
        body = bytearray()
        while True:
            size_line = await self._read_until(b"\r\n")
            if size_line is None:
                return None
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # Trailers (if any) end with an empty line.
                while True:
                    trailer = await self._read_until(b"\r\n")
                    if trailer is None:
                        return None
                    if trailer == b"\r\n":
                        return bytes(body)
            data = await self._read_exactly(size + 2)
            if data is None:
                return None
            body += data[:-2]

    # Writing ----------------------------------------------------------------------------

    async def _write(self, data: bytes) -> None:
        if self._gone:
            raise _ClientGone
        assert self._transport is not None
        self._transport.write(data)
        await self._writable.wait()
        await asyncio.sleep(0)
        if self._lost:
            raise _ClientGone

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but stop early (raising) if the client goes away."""
        deadline = self._loop.time() + seconds
        while not self._gone:
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                return
            await self._wait_change(remaining)
        raise _ClientGone

    async def _wait_gate(self, gate: Gate) -> None:
        while not gate.is_open:
            if self._gone:
                raise _ClientGone
            await self._wait_change(_POLL)

    def _abort(self, reset: bool) -> None:
        assert self._transport is not None
        if reset:
            sock = self._transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._transport.abort()

    # Serving ----------------------------------------------------------------------------

    async def _serve(self) -> None:
        assert self._transport is not None
        try:
            while True:
                parsed = await self._read_request()
                if parsed is None:
                    break
                request, keep_alive = parsed
                self._server._record(request)
                response = await self._server._response_for(request)
                try:
                    keep_open = await self._send(request, response)
                except _ClientGone:
                    self._server._count_disconnect()
                    break
                except _Aborted:
                    return
                if not (keep_alive and keep_open):
                    break
        except asyncio.CancelledError:
            self._transport.abort()
            raise
        except Exception as exc:  # pragma: no cover - a bug in the kit itself
            self._server._record_error(exc)
        if not self._transport.is_closing():
            self._transport.close()

    async def _send(self, request: RecordedRequest, response: Response) -> bool:
        """Play one response; returns whether the connection may be kept open."""
        if response.first_byte_delay > 0:
            await self._sleep(response.first_byte_delay)
        steps = response.steps()
        headers = dict(response.headers)
        names = {name.lower() for name in headers}
        no_body = (
            request.method == "HEAD"
            or response.status in (204, 304)
            or (100 <= response.status < 200)
        )
        chunked = response.chunked and not no_body
        keep_open = True
        if no_body:
            steps = []
        elif chunked:
            if "transfer-encoding" not in names:
                headers["Transfer-Encoding"] = "chunked"
        elif "content-length" not in names:
            if isinstance(response.body, bytes | bytearray | memoryview | str):
                length = sum(len(step.data) for step in steps if isinstance(step, Chunk))
                headers["Content-Length"] = str(length)
            else:
                keep_open = False
                if "connection" not in names:
                    headers["Connection"] = "close"
        reason = response.reason
        if reason is None:
            try:
                reason = http.HTTPStatus(response.status).phrase
            except ValueError:
                reason = ""
        head = [f"HTTP/1.1 {response.status} {reason}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        await self._write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        for step in steps:
            if isinstance(step, Chunk):
                if not step.data:
                    continue  # an empty HTTP chunk would end the body
                if chunked:
                    await self._write(b"%x\r\n%b\r\n" % (len(step.data), step.data))
                else:
                    await self._write(step.data)
            elif isinstance(step, Delay):
                await self._sleep(step.seconds)
            elif isinstance(step, Gate):
                await self._wait_gate(step)
            elif isinstance(step, Drop):
                self._abort(step.reset)
                raise _Aborted
            elif isinstance(step, Stall):
                while not self._gone:
                    await self._wait_change()
                raise _ClientGone
            else:
                raise TypeError(f"not a response step: {step!r}")
        if chunked:
            await self._write(b"0\r\n\r\n")
        return keep_open


class WireServer:
    """Loopback HTTP/1.1 server playing scripted responses, for tests.

    It runs in its own daemon thread with its own asyncio loop, so it works from sync
    tests, async tests (pytest-asyncio, Textual Pilot) and for subprocesses (a
    ``tuichat`` run in tmux connects over loopback).

    A request takes, in order: the first matching route, else the next response queued
    with :meth:`enqueue`, else the default (:meth:`set_default`), else a 404 with JSON
    ``{"error": "no scripted response"}``.

    Example:
        >>> with WireServer() as server:
        ...     server.enqueue(Response(body=b"hi"))
        ...     # httpx.get(server.url + "/anything").text == "hi"

    Attributes:
        requests: Every request received, in order.
        disconnects: How many times the client closed a connection while a response was
            still being sent (or delayed, or stalled).
        connections: How many TCP connections were accepted (keep-alive reuses one).
        errors: Exceptions raised by handlers (each also answered with a 500).
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None
    ) -> None:
        """Create a server; call :meth:`start` (or use ``with``) to run it.

        Args:
            host: The address to bind.
            port: The port to bind; 0 picks a free one.
            tls: Serve HTTPS with this server-side context (a test certificate);
                :attr:`url` then starts with ``https://``. A client that rejects the
                certificate never gets a connection counted.
        """
        self.host = host
        self.port = port
        self.tls = tls
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0
        self.connections = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: deque[Reply] = deque()
        self._routes: list[tuple[str, str, Reply]] = []
        self._default: Reply | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    # Lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        if self._thread is None:
            raise RuntimeError("the WireServer is not running; call start() first")
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self) -> WireServer:
        """Start serving in a background thread.

        Returns:
            The server itself, so ``server = WireServer().start()`` works.

        Raises:
            RuntimeError: If already started.
            OSError: If the address cannot be bound.
        """
        if self._thread is not None:
            raise RuntimeError("the WireServer is already running")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="tuichat-wire-server", daemon=True
        )
        self._thread.start()
        ready.wait(10)
        if failure or not ready.is_set():
            self._thread.join(5)
            self._thread = None
            if failure:
                raise failure[0]
            raise RuntimeError("the WireServer did not start")
        return self

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            try:
                self._server = loop.run_until_complete(
                    loop.create_server(
                        lambda: _Connection(self), self.host, self.port, ssl=self.tls
                    )
                )
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            if connection._transport is not None:
                connection._transport.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        """Stop serving: abort open connections, cancel everything, join the thread.

        Safe to call twice, and on a server that never started.
        """
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if thread.is_alive() and not loop.is_closed():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(5)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        self._thread = None
        self._loop = None
        self._server = None

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Scripting -------------------------------------------------------------------------

    def enqueue(self, *responses: Reply) -> None:
        """Queue responses (or handlers): each request takes the next one, FIFO.

        Args:
            *responses: Responses, or handlers called with the request.
        """
        with self._lock:
            self._queue.extend(responses)

    def route(self, method: str, path: str, handler_or_response: Reply) -> None:
        """Answer every ``method`` request to ``path`` with a response or a handler.

        Routes are checked before the queue and are reused; a later route for the same
        method and path replaces the earlier one.

        Args:
            method: The method (case-insensitive), or ``"*"`` for any.
            path: The path, compared without the query string. ``*`` and ``?`` are
                wildcards (``fnmatch``): ``"*/chat/completions"``.
            handler_or_response: A :class:`Response`, or a handler called with the
                :class:`RecordedRequest` that returns one (plain or async function; it
                runs on the server's loop, so it must not block).
        """
        key = (method.upper(), path)
        with self._lock:
            self._routes = [r for r in self._routes if (r[0], r[1]) != key]
            self._routes.append((key[0], key[1], handler_or_response))

    def set_default(self, response_or_handler: Reply | None) -> None:
        """Answer requests nothing else matched (``None`` restores the 404).

        Args:
            response_or_handler: A :class:`Response` or a handler.
        """
        with self._lock:
            self._default = response_or_handler

    def reset(self) -> None:
        """Forget routes, queued responses, the default, recorded requests and counts."""
        with self._lock:
            self._queue.clear()
            self._routes.clear()
            self._default = None
            self.requests.clear()
            self.errors.clear()
            self.disconnects = 0
            self.connections = 0
            self._changed.notify_all()

    # Observing -------------------------------------------------------------------------

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request.

        Raises:
            LookupError: If no request arrived yet.
        """
        with self._lock:
            if not self.requests:
                raise LookupError("no request received")
            return self.requests[-1]

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``n`` requests arrived.

        Do not call this from the event loop the client runs on (it blocks that loop);
        use :meth:`await_requests` there.

        Args:
            n: How many requests to wait for.
            timeout: Seconds to wait at most.

        Returns:
            A copy of all recorded requests.

        Raises:
            TimeoutError: If fewer than ``n`` arrived in time.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.requests) >= n, timeout):
                raise TimeoutError(f"expected {n} request(s), got {len(self.requests)}")
            return list(self.requests)

    def wait_for_disconnect(self, timeout: float = 5.0, *, count: int = 1) -> bool:
        """Block until the client has disconnected mid-response ``count`` times in all.

        Args:
            timeout: Seconds to wait at most.
            count: The total number of disconnects to wait for.

        Returns:
            Whether :attr:`disconnects` reached ``count`` in time.
        """
        with self._changed:
            return self._changed.wait_for(lambda: self.disconnects >= count, timeout)

    async def await_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """:meth:`wait_for_requests` for async code: does not block the running loop.

        Args:
            n: How many requests to wait for.
            timeout: Seconds to wait at most.

        Returns:
            A copy of all recorded requests.

        Raises:
            TimeoutError: If fewer than ``n`` arrived in time.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if len(self.requests) >= n:
                    return list(self.requests)
                got = len(self.requests)
            if time.monotonic() >= deadline:
                raise TimeoutError(f"expected {n} request(s), got {got}")
            await asyncio.sleep(_POLL)

    async def await_disconnect(self, timeout: float = 5.0, *, count: int = 1) -> bool:
        """:meth:`wait_for_disconnect` for async code: does not block the running loop.

        Args:
            timeout: Seconds to wait at most.
            count: The total number of disconnects to wait for.

        Returns:
            Whether :attr:`disconnects` reached ``count`` in time.
        """
        deadline = time.monotonic() + timeout
        while self.disconnects < count:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL)
        return True

    # Internals (server thread) ---------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self.errors.append(exc)

    def _count_connection(self) -> None:
        with self._lock:
            self.connections += 1

    def _count_disconnect(self) -> None:
        with self._changed:
            self.disconnects += 1
            self._changed.notify_all()

    def _pick(self, request: RecordedRequest) -> Reply | None:
        path = request.bare_path
        with self._lock:
            for method, pattern, reply in self._routes:
                if method not in ("*", request.method):
                    continue
                if path == pattern or fnmatch.fnmatchcase(path, pattern):
                    return reply
            if self._queue:
                return self._queue.popleft()
            return self._default

    async def _response_for(self, request: RecordedRequest) -> Response:
        reply = self._pick(request)
        if reply is None:
            return _not_found()
        if isinstance(reply, Response):
            return reply
        try:
            result = reply(request)
            if inspect.isawaitable(result):
                result = await result
            if not isinstance(result, Response):
                raise TypeError(f"handler returned {result!r}, not a Response")
            return result
        except Exception as exc:
            self._record_error(exc)
            return Response(
                status=500,
                headers={"content-type": "application/json"},
                body=json.dumps({"error": f"handler raised {exc!r}"}).encode(),
                chunked=False,
            )
