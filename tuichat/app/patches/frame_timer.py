"""The screen's update timer, paced from the last frame (replaces ``Timer._run``).

Textual 8's interval timer keeps a fixed grid (1/60 s) and, after a tick that ran late
and long, skips one grid point too many: the next frame, often the one carrying a key
press, came up to two periods late. :class:`FrameTimer` spaces ticks by the same period
measured from the last tick's start, and a tick due while a key is in transit waits a
few milliseconds for it (:mod:`tuichat.app.frames` explains the measurements).

A frame also waits while the terminal has not taken the last one
(:mod:`.writer_backlog`): on a thin link the frame rate follows what it drains.

Reaches into ``Timer``'s private ``_run``, ``_tick``, ``_active``, ``_interval`` and
``_repeat`` (Textual 8.2.8): ``tests/app/test_patches.py`` fails when they change, and
``tests/app/test_frames.py`` checks the behaviour. Upstream: see ``docs/upstream.md``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.timer import EventTargetGone, Timer

#: Longest a due frame waits for a key the input thread has read to be taken in.
KEY_WAIT = 0.004

#: How often it looks meanwhile.
KEY_POLL = 0.0005

#: Longest a due frame waits for the terminal to take the last one (then it is drawn:
#: a terminal that stopped reading must not stop the app).
DRAIN_WAIT = 0.5

#: How often it looks meanwhile.
DRAIN_POLL = 0.004

#: Then once more, for the widget the key went to to handle it and ask for its repaint.
KEY_SETTLE = 0.001


class FrameTimer(Timer):
    """A screen's update timer: ticks when resumed, and one interval after the previous
    tick started at the earliest (Textual's timer keeps a fixed grid)."""

    key_in_transit: Callable[[], bool] | None = None
    """Says whether a key was read from the terminal and not taken in by the app yet."""

    output_pending: Callable[[], bool] | None = None
    """Says whether the last frame is still on its way to the terminal."""

    async def _run(self) -> None:
        interval = self._interval
        active: asyncio.Event = self._active
        last = -interval
        count = 0
        while self._repeat is None or count < self._repeat:
            await active.wait()
            wait = last + interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                await active.wait()
            await self._let_keys_in()
            await self._let_output_drain()
            last = time.monotonic()
            count += 1
            try:
                await self._tick(next_timer=last, count=count)
            except EventTargetGone:
                break

    async def _let_output_drain(self) -> None:
        pending = self.output_pending
        if pending is None or not pending():
            return
        # The terminal has not taken the last frame: drawing now would queue a frame
        # that is stale before it is sent. What changes meanwhile goes in the next one.
        until = time.monotonic() + DRAIN_WAIT
        while pending() and time.monotonic() < until:
            await asyncio.sleep(DRAIN_POLL)
        await self._active.wait()

    async def _let_keys_in(self) -> None:
        in_transit = self.key_in_transit
        if in_transit is None or not in_transit():
            return
        until = time.monotonic() + KEY_WAIT
        while in_transit() and time.monotonic() < until:
            await asyncio.sleep(KEY_POLL)
        await asyncio.sleep(KEY_SETTLE)
        await self._active.wait()
