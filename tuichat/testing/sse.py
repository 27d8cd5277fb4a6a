"""Helpers that build server-sent event bodies and responses for the wire server."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from tuichat.testing.server import Chunk, Response, Step

__all__ = [
    "SSE_HEADERS",
    "json_response",
    "split_at",
    "split_bytes",
    "sse_event",
    "sse_response",
]

SSE_HEADERS: dict[str, str] = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
}
"""The headers :func:`sse_response` sends (typical of LLM APIs)."""

_NEWLINE = re.compile(r"\r\n|\r|\n")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def sse_event(
    data: str | dict[str, Any] | list[Any] | None = None,
    *,
    event: str | None = None,
    id: str | None = None,
    retry: int | None = None,
    comment: str | None = None,
    crlf: bool = False,
) -> bytes:
    """One SSE frame, ending with a blank line.

    Fields come in this order: comment, ``event``, ``id``, ``retry``, ``data``.

    Args:
        data: The data; a dict or list is sent as compact JSON (UTF-8, not escaped).
            Text with line breaks becomes several ``data:`` lines. ``None``: no data line.
        event: The ``event:`` field.
        id: The ``id:`` field.
        retry: The ``retry:`` field (milliseconds).
        comment: A comment (``: text``), e.g. a keep-alive; one line per line of text.
        crlf: End lines with CRLF instead of LF.

    Returns:
        The encoded frame.

    Raises:
        ValueError: If no field is given at all.
    """
    lines: list[str] = []
    if comment is not None:
        lines += [f": {line}" if line else ":" for line in _NEWLINE.split(comment)]
    if event is not None:
        lines.append(f"event: {event}")
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    if data is not None:
        text = data if isinstance(data, str) else _dumps(data)
        lines += [f"data: {line}" for line in _NEWLINE.split(text)]
    if not lines:
        raise ValueError("an SSE frame needs at least one field")
    newline = "\r\n" if crlf else "\n"
    return (newline.join(lines) + newline + newline).encode()


def split_bytes(data: bytes, sizes: int | Sequence[int]) -> list[Chunk]:
    """Cut bytes into chunks of fixed sizes.

    ``split_bytes(body, 1)`` sends one byte per write, which splits UTF-8 characters
    and CRLF pairs.

    Args:
        data: The bytes to cut.
        sizes: One size for every chunk, or sizes used in turn (cycled).

    Returns:
        The chunks, in order; the last one may be shorter.

    Raises:
        ValueError: If a size is not positive.
    """
    cycle = [sizes] if isinstance(sizes, int) else list(sizes)
    if not cycle or any(size <= 0 for size in cycle):
        raise ValueError("chunk sizes must be positive")
    chunks: list[Chunk] = []
    position = 0
    for size in itertools.cycle(cycle):
        if position >= len(data):
            break
        chunks.append(Chunk(data[position : position + size]))
        position += size
    return chunks


def split_at(data: bytes, *offsets: int) -> list[Chunk]:
    """Cut bytes at the given offsets.

    Args:
        data: The bytes to cut.
        *offsets: Positions to cut at (any order; out-of-range and repeated ones ignored).

    Returns:
        The non-empty chunks, in order.
    """
    cuts = sorted({offset for offset in offsets if 0 < offset < len(data)})
    bounds = [0, *cuts, len(data)]
    return [Chunk(data[a:b]) for a, b in itertools.pairwise(bounds) if b > a]


def _steps(frames: Iterable[bytes | Step], chunk_size: int | None) -> list[Step]:
    steps: list[Step] = []
    pending = bytearray()

    def flush() -> None:
        if pending:
            steps.extend(split_bytes(bytes(pending), chunk_size or len(pending)))
            pending.clear()

    for frame in frames:
        if isinstance(frame, bytes | bytearray | memoryview):
            if chunk_size is None:
                if frame:
                    steps.append(Chunk(bytes(frame)))
            else:
                pending += frame
        else:
            flush()
            steps.append(frame)
    flush()
    return steps


def sse_response(
    *frames: bytes | Step,
    status: int = 200,
    headers: dict[str, str] | None = None,
    chunk_size: int | None = None,
) -> Response:
    """An ``text/event-stream`` response.

    Args:
        *frames: SSE frames (bytes, one write each), optionally mixed with steps:
            ``sse_response(*frames[:2], Drop())`` breaks the stream after two frames.
        status: The status code.
        headers: Headers added to (or overriding) :data:`SSE_HEADERS`.
        chunk_size: Re-cut the bytes between steps into chunks of this size, ignoring
            frame boundaries (``1`` sends one byte per write).

    Returns:
        The response, sent with chunked transfer encoding.
    """
    return Response(
        status=status,
        headers={**SSE_HEADERS, **(headers or {})},
        body=_steps(frames, chunk_size),
    )


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with a ``Content-Length`` (not chunked).

    Args:
        obj: The value to encode.
        status: The status code.
        headers: Extra headers.

    Returns:
        The response.
    """
    return Response(
        status=status,
        headers={"content-type": "application/json", **(headers or {})},
        body=json.dumps(obj).encode(),
        chunked=False,
    )
