"""Tell an Enter that is part of a burst of keys (a paste without bracketed paste) from one
pressed to send.

A terminal or multiplexer that does not support bracketed paste types a pasted text as
keys, its line breaks as Enter; they arrive within microseconds of each other, where a
person's keys are tens of milliseconds apart. An Enter that closely follows a key is
held: if another key follows it as closely, it was a line break of the burst; if none
does within :data:`BURST` seconds, it sends. An Enter after a pause sends at once, so
typing pays no delay.

The decisions use the keys' own timestamps (the time Textual read them from the
terminal), not when the app got round to them: a busy app takes queued keys in late, but
their timestamps stay as close as they arrived.
"""

from __future__ import annotations

from typing import Literal

#: Keys closer than this (seconds) are one burst. A paste's keys are microseconds apart,
#: yet a busy app's input thread stamped some of them up to 5 ms apart (measured in tmux);
#: a person's keys are 50 ms and more apart, even a fast typist's.
BURST = 0.015

Held = Literal["newline", "send"]


class EnterInBurst:
    """Holds an Enter that may be a pasted line break until the next key says which.

    Args:
        window: Keys closer than this many seconds are one burst.
    """

    def __init__(self, window: float = BURST) -> None:
        self.window = window
        self._last: float | None = None
        self._previous: float | None = None
        self.held: float | None = None
        """When the Enter being held arrived, or None."""

    def arrived(self, at: float) -> Held | None:
        """Note a key (Enter or not) read at ``at``; what to do first with a held Enter.

        Returns:
            ``"newline"`` when the held Enter was part of a burst, ``"send"`` when the
            key came too late to be, None when no Enter was held.
        """
        held, self.held = self.held, None
        self._previous, self._last = self._last, at
        if held is None:
            return None
        return "newline" if at - held <= self.window else "send"

    def hold(self, at: float) -> bool:
        """Whether the Enter just :meth:`arrived` at ``at`` must wait for the next key
        (it closely follows another key); if so it is held."""
        if self._previous is None or at - self._previous > self.window:
            return False
        self.held = at
        return True

    def settle(self) -> bool:
        """No key followed the held Enter in time: returns whether one was held (it sends)."""
        held, self.held = self.held, None
        return held is not None
