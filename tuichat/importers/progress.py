"""A progress bar on a terminal: one line on stderr, redrawn in place a few times a second."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress"]

_WIDTH = 30
_INTERVAL = 0.1


class Progress:
    """Draws ``[#####     ]  42%  1234 conversations`` while an import runs.

    Drawn only when ``enabled`` (the command enables it when stderr is a terminal), so a
    log or a pipe never receives carriage returns.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._enabled = enabled
        self._clock = clock
        self._last = float("-inf")
        self._drawn = False

    def update(self, done: int, fraction: float | None, *, force: bool = False) -> None:
        """Show ``done`` conversations read and how far through the source that is."""
        if not self._enabled:
            return
        now = self._clock()
        if not force and now - self._last < _INTERVAL:
            return
        self._last = now
        count = f"{done} conversation{'' if done == 1 else 's'}"
        if fraction is None:
            line = count
        else:
            filled = round(fraction * _WIDTH)
            bar = "#" * filled + " " * (_WIDTH - filled)
            line = f"[{bar}] {fraction:4.0%}  {count}"
        self._stream.write("\r" + line + "\x1b[K")
        self._stream.flush()
        self._drawn = True

    def clear(self) -> None:
        """Remove the bar, so the lines that follow start clean."""
        if self._drawn:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._drawn = False
