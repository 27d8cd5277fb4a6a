"""Server-sent events, and answers that stop the moment the client goes away.

:class:`EventStreamResponse` sends an async generator of ready-made SSE frames while
another task watches for the client's disconnect: when it comes, the task iterating
the generator is cancelled at once and the generator closed, which closes the
provider's HTTP stream upstream (the generators underneath close theirs with
``aclosing``). Starlette's own ``StreamingResponse`` watches for disconnects only on
ASGI spec < 2.4, never closes its iterator and writes once per item, so we do not use
it. :func:`cancel_on_disconnect` does the same for answers that are not streamed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = [
    "ClientGone",
    "EventStreamResponse",
    "SSE_HEADERS",
    "cancel_on_disconnect",
    "sse_comment",
    "sse_frame",
]

T = TypeVar("T")

#: Headers of every event stream: no caching, and no buffering by nginx-style proxies,
#: which would otherwise hold deltas back until a buffer fills.
SSE_HEADERS: dict[str, str] = {
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
}


class ClientGone(Exception):
    """The client disconnected before the answer was ready."""


def sse_frame(data: Any, *, event: str | None = None) -> bytes:
    """One SSE frame: an optional ``event:`` line, ``data:`` line(s), a blank line.

    Args:
        data: A string sent as is (one ``data:`` line per line), or a value sent as
            compact JSON (which never holds a raw newline, so it is one line).
        event: The event name; ``None`` leaves it out (the client sees ``message``).

    Returns:
        The encoded frame.
    """
    if isinstance(data, str):
        text = data
    else:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in text.splitlines() or [""]]
    return ("\n".join(lines) + "\n\n").encode()


def sse_comment(text: str) -> bytes:
    """An SSE comment frame (``: text``), ignored by clients; used as a keep-alive."""
    return f": {text}\n\n".encode()


async def _wait_for_disconnect(receive: Receive) -> None:
    # The body was read before the answer began, so the next message the server
    # delivers is the disconnect (uvicorn: as soon as the socket closes).
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def cancel_on_disconnect(receive: Receive, work: Awaitable[T]) -> T:
    """Await ``work``, cancelling it the moment the client disconnects.

    Args:
        receive: The ASGI receive callable of the request (its body already read).
        work: What to await (a non-streaming chat turn).

    Returns:
        What ``work`` returned.

    Raises:
        ClientGone: The client left first; ``work`` was cancelled and awaited.
    """
    task = asyncio.ensure_future(work)
    watcher = asyncio.create_task(_wait_for_disconnect(receive))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
        await asyncio.gather(task, watcher, return_exceptions=True)
    if task.cancelled():
        raise ClientGone
    return task.result()


@dataclass(frozen=True, slots=True)
class _Failed:
    """The frame generator raised; carried through the queue to the sending task."""

    error: Exception


_END = object()

#: Frames buffered between the generator and the socket. A slow client fills it and
#: then holds the generator, and with it the provider's stream: backpressure, not memory.
QUEUE_FRAMES = 256

#: Longest time, in seconds, frames wait in the queue while a burst is being parsed.
FLUSH_INTERVAL = 0.001


class EventStreamResponse(Response):
    """A ``text/event-stream`` answer that stops when the client disconnects.

    Three tasks share the answer: a *pump* iterates ``frames`` into a bounded queue, a
    *sender* writes whatever the queue holds as one write (frames that arrived together
    upstream leave together: one syscall instead of one per delta, while a lone frame
    leaves at once), and a *watcher* waits for the client's disconnect. When the
    watcher fires, the pump is cancelled at once, which closes the provider's stream.

    Args:
        frames: An async generator of encoded frames; it is closed whatever happens.
        keepalive: Seconds of silence before a ``: keep-alive`` comment (0: never).
        headers: Extra headers.
        early_error: When given, the first frame is awaited *before* the status line is
            sent; if the generator raises instead, ``early_error(exc)`` is sent (a plain
            JSON error with a real HTTP status, as OpenAI clients expect). Otherwise
            ``frames`` must report failures itself.
        headers_wait: Without ``early_error``: seconds the status line may wait for the
            first frame, so that a quick first delta leaves with it in one write (the
            client wakes once, not twice); after that it goes out alone, so a client
            sees the stream open while a slow model thinks.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        frames: AsyncGenerator[bytes, None],
        *,
        keepalive: float = 0.0,
        headers: Mapping[str, str] | None = None,
        early_error: Callable[[Exception], Response] | None = None,
        headers_wait: float = 0.0,
    ) -> None:
        self.frames = frames
        self.headers_wait = headers_wait
        self.keepalive = keepalive
        self.early_error = early_error
        self.status_code = 200
        self.background = None
        self.init_headers({**SSE_HEADERS, **(headers or {})})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        queue: asyncio.Queue[object] = asyncio.Queue(QUEUE_FRAMES)
        loop = asyncio.get_running_loop()

        async def pump() -> None:
            handed_over = loop.time()
            try:
                async for frame in self.frames:
                    await queue.put(frame)
                    # A burst (many events in one upstream read) is parsed without ever
                    # suspending; hand over to the sender now and then so the first frames
                    # leave at once instead of after the whole burst.
                    if loop.time() - handed_over >= FLUSH_INTERVAL:
                        await asyncio.sleep(0)
                        handed_over = loop.time()
            except Exception as exc:  # noqa: BLE001 - handed to the sender
                await queue.put(_Failed(exc))
            else:
                await queue.put(_END)

        async def next_item() -> object:
            if self.keepalive <= 0:
                return await queue.get()
            try:
                return await asyncio.wait_for(queue.get(), self.keepalive)
            except TimeoutError:
                return sse_comment("keep-alive")

        async def sender() -> None:
            front: object | None = None
            if self.early_error is not None:
                front = await queue.get()  # no keep-alives: nothing is sent yet
                if isinstance(front, _Failed):
                    await self.early_error(front.error)(scope, receive, send)
                    return
            elif self.headers_wait > 0:
                with contextlib.suppress(TimeoutError):
                    front = await asyncio.wait_for(queue.get(), self.headers_wait)
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            ended = False
            while not ended:
                item = front if front is not None else await next_item()
                front = None
                batch: list[bytes] = []
                while True:
                    if item is _END:
                        ended = True
                        break
                    if isinstance(item, _Failed):
                        raise item.error
                    assert isinstance(item, bytes)
                    batch.append(item)
                    if queue.empty():
                        break
                    item = queue.get_nowait()
                if batch:
                    body = b"".join(batch)
                    await send({"type": "http.response.body", "body": body, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        pumping = asyncio.create_task(pump())
        sending = asyncio.create_task(sender())
        watcher = asyncio.create_task(_wait_for_disconnect(receive))
        try:
            await asyncio.wait({sending, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Disconnected (or we are being cancelled): stop now. Cancelling the pump
            # raises CancelledError inside the frame generator if it waits upstream;
            # aclose() covers a generator paused at a yield.
            for task in (pumping, sending, watcher):
                task.cancel()
            await asyncio.gather(pumping, sending, watcher, return_exceptions=True)
            await self.frames.aclose()
        if not sending.cancelled() and sending.exception() is not None:
            raise sending.exception()  # type: ignore[misc]
