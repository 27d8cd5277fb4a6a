"""The elements of a JSON array, one at a time: exports can be larger than memory allows.

A ChatGPT export of a few years is hundreds of megabytes; ``json.load`` would hold all of
it, parsed, at once. Only the element being decoded is held here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = ["JSONArrayError", "iter_array"]

_CHUNK = 1 << 20
_WHITESPACE = " \t\n\r"


class JSONArrayError(ValueError):
    """The text is not a JSON array (or ends in the middle of one)."""


def iter_array(stream: TextIO, chunk: int = _CHUNK) -> Iterator[Any]:
    """Yield each element of the JSON array that ``stream`` holds.

    Raises:
        JSONArrayError: The text is not an array, or is cut short or damaged; the elements
            before the damage have been yielded.
    """
    decoder = json.JSONDecoder()
    buffer = stream.read(chunk)
    at_end = not buffer
    index = _skip(buffer, 0)
    if index >= len(buffer) or buffer[index] != "[":
        raise JSONArrayError("expected a JSON array ('[' first)")
    index += 1
    expect_value = True
    first = True
    want = chunk
    while True:
        index = _skip(buffer, index)
        if index >= len(buffer):
            if at_end:
                raise JSONArrayError("the file ends before the array does")
            buffer, index, at_end = _refill(stream, buffer, index, want)
            continue
        char = buffer[index]
        if char == "]" and (first or not expect_value):
            return
        if not expect_value:
            if char != ",":
                raise JSONArrayError(f"expected ',' or ']' at character {index}")
            index += 1
            expect_value = True
            continue
        try:
            value, end = decoder.raw_decode(buffer, index)
        except json.JSONDecodeError as exc:
            if at_end and exc.pos >= len(buffer.rstrip()):
                raise JSONArrayError("the file ends before the array does") from None
            if at_end:
                raise JSONArrayError(f"damaged JSON: {exc.msg}") from None
            # Most likely the element goes on past the buffer: read more and decode it
            # again; reading as much again each time keeps a huge element linear overall.
            buffer, index, at_end = _refill(stream, buffer, index, want)
            want = max(want, len(buffer))
            continue
        # A number cut by the buffer's end decodes as a shorter number: make sure it ended.
        if end >= len(buffer) and not at_end:
            buffer, index, at_end = _refill(stream, buffer, index, want)
            continue
        yield value
        first = False
        expect_value = False
        index = end
        want = chunk


def _skip(buffer: str, index: int) -> int:
    while index < len(buffer) and buffer[index] in _WHITESPACE:
        index += 1
    return index


def _refill(stream: TextIO, buffer: str, index: int, want: int) -> tuple[str, int, bool]:
    more = stream.read(want)
    return buffer[index:] + more, 0, not more
