"""Input first: a streaming reply steps aside until a key press is on screen.

A fast stream never waits for the network (its bytes are already buffered), so the
worker taking deltas in and the frames drawing them keep the event loop busy; a key
press then queues behind several stream slices and renders, and the character shows
50-200 ms late. With the gate, the app notes each key press (and paste, click or
scroll); the reply worker, before taking the next delta, waits until that input has
been handled *and* painted (or at most :data:`HOLD` seconds). The stream loses a few
milliseconds per key; the key's frame comes next. A flood of input (key repeat, a paste
in a terminal without bracketed paste, a trackpad's scrolling) slows a stream but never
stops it: after :data:`HOLD` seconds held, the stream gets as long again.

"Painted" is known without reaching into Textual: ``call_after_refresh`` on the widget
the key went to queues behind the key itself, and runs once the screen has refreshed.

The gate closes as soon as the terminal's input thread has *read* the key
(:meth:`InputFirst.incoming`), not only once the app's task takes it in: a key posted
from that thread waits for every task already queued in the event loop, and a stream
slice or a reply's redraw (10-20 ms each) starting meanwhile put ~30 ms before the key
was even looked at, and its frame behind a scrolled log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

#: Longest a stream waits for one input to be shown (a safety net: a key whose
#: widget went away never reports back).
HOLD = 0.1

#: Input within this many seconds means the person is typing (or scrolling): a streaming
#: reply then renders in shorter, more spaced slices.
TYPING = 0.5

#: How often a waiting stream looks whether the app has taken a read key in (the input
#: thread cannot wake an asyncio event itself; this lasts a few milliseconds at most).
POLL = 0.001


class InputFirst:
    """Tells streaming work to wait while an input has not reached the screen yet.

    Args:
        hold: Longest :meth:`wait` waits, in seconds.
        clock: Monotonic clock (tests).
    """

    def __init__(self, *, hold: float = HOLD, clock: Callable[[], float] = time.monotonic) -> None:
        self._hold = hold
        self._clock = clock
        self._latest = 0
        self._shown = 0
        self._since = 0.0
        self._held_since = 0.0
        self._incoming = 0.0
        self._created = clock()
        self._event: asyncio.Event | None = None
        self.waits = 0
        """How many times a stream waited (for tests and benchmarks)."""

    @property
    def in_transit(self) -> bool:
        """Whether an input was read from the terminal that the app has not taken in yet."""
        return self._incoming > self._since

    @property
    def pending(self) -> bool:
        """Whether an input is not on screen yet (and it was not given up on)."""
        read = self.in_transit
        if self._shown == self._latest and not read:
            return False
        now = self._clock()
        if now - (self._incoming if read else self._since) >= self._hold:
            return False
        held = now - self._held_since
        if held < self._hold:
            return True
        if held < 2 * self._hold:
            return False  # held for a whole hold: the stream's turn
        self._held_since = now
        return True

    def typing(self, since: float = 0.0) -> bool:
        """Whether input came within the last :data:`TYPING` seconds, and after ``since``
        (a monotonic time: the key that sent a prompt is not typing during its reply)."""
        last = max(self._since, self._incoming)
        return last > since and self._clock() - last < TYPING

    def idle_for(self) -> float:
        """Seconds since the last input was read from the terminal or taken in (or,
        before any, since the gate was made: the app's start)."""
        return self._clock() - max(self._since, self._incoming, self._created)

    def incoming(self) -> None:
        """Note that input was read from the terminal (called from the input thread).

        Only plain assignments: the event loop reads them in :attr:`pending` and
        :meth:`wait` (a stale read there costs a millisecond, never a lost key).
        """
        now = self._clock()
        if not self.pending:
            self._held_since = now  # the gate closes now (it was open)
        self._incoming = now

    def arrived(self) -> Callable[[], None]:
        """Note an input; returns the callback to run once it is on screen."""
        now = self._clock()
        if self._shown == self._latest or now - self._since >= self._hold:
            self._held_since = now  # the gate closes now (it was open)
        self._latest += 1
        token = self._latest
        self._since = now
        if self._event is not None:
            self._event.clear()

        def shown() -> None:
            # An older input's frame does not release a newer one.
            if token == self._latest:
                self._shown = token
                if self._event is not None:
                    self._event.set()

        return shown

    async def wait(self) -> None:
        """Return once the latest input is on screen, or after the hold at most."""
        if not self.pending:
            return
        self.waits += 1
        while self.in_transit and self.pending:
            # Read, not taken in yet: the app's task is queued and runs within a few ms.
            await asyncio.sleep(POLL)
        if not self.pending:
            return
        if self._event is None:
            self._event = asyncio.Event()
        left = self._hold - (self._clock() - self._since)
        if left <= 0:
            return
        try:
            await asyncio.wait_for(self._event.wait(), left)
        except TimeoutError:
            pass
