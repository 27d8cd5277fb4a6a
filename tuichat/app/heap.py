"""The garbage collector, kept out of the moments a person waits for the screen.

A full collection walks every object the app holds. With a long conversation open (its
window of mounted messages, their rendered lines, Textual's caches) that is some 300,000
objects: 130-250 ms with the event loop stopped. Python starts one whenever enough
objects have survived the younger generations, that is while the person scrolls, types
or watches a reply stream; scrolling up through a 2,000-message conversation, every
freeze over 100 ms was one of them. So, while the app runs:

* Python starts no full collection itself; the young generations are still collected
  as usual (about a millisecond each);
* a full collection runs once the person has left the keyboard and mouse alone for
  :data:`IDLE` seconds and no reply streams, if the young generations were collected
  :data:`DUE` times since the last one (the count at which Python would have started it);
* whatever the activity, at :data:`FORCE` such collections it runs anyway, at most
  once every :data:`FORCE_AFTER` seconds and never while a reply streams: memory stays
  bounded in a session that never pauses;
* when the last reply stops streaming, a due collection runs if the last one is
  :data:`AFTER_REPLY` seconds old: someone who sends the next prompt as soon as a reply
  ends leaves the periodic tick no gap, and a long sitting's garbage (the messages the
  log let go, frozen with the heap while each reply streamed) grew by gigabytes. It
  waits until the reply's last lines are on screen (:func:`reply_drawn`), or the next
  reply starts, whichever comes first: run inside the reply's end, it held back the last
  lines by a second with a long conversation open;
* while a reply streams (:func:`streaming`) the heap is frozen (``gc.freeze``): a
  collection, forced or young, skips everything that existed before the reply.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Seconds without input after which a due full collection runs.
IDLE = 1.0

#: Young-generation collections after which a full one is due (Python's own threshold).
DUE = 10

#: Young-generation collections after which a full one runs, idle or not, ...
FORCE = 100

#: ... once this many seconds passed since the last full collection.
FORCE_AFTER = 60.0

#: Seconds since the last full collection after which a due one runs when a reply ends.
AFTER_REPLY = 10.0

#: The GIL switch interval while a reply streams (Python's default is 5 ms): with the
#: event loop busy, the terminal's input thread got the GIL back only every 5 ms, once
#: per key it passed on, so a burst of typed keys reached the app over tens of ms.
SWITCH_INTERVAL = 0.001

#: A third threshold no count reaches: Python never starts a full collection itself.
_NEVER = 1 << 30

_streams = 0
_switch_interval = 0.0
_on_quiet: list[Callable[[], object]] = []
"""Called when the last streaming reply ends (the collectors' checks)."""
_quiet_held = False
"""The last reply ended, its checks wait until it is drawn (:func:`reply_drawn`)."""
_carried = 0
"""Young-generation collections counted before the heap was last frozen."""


def pending_collections() -> int:
    """Young-generation collections since the last full one, across freezes.

    ``gc.freeze`` sets Python's own counts back to 0: with every reply freezing the heap,
    a sitting of short replies never had a full collection due (none in 100 turns, RSS
    330 MB at turn 100, 990 MB at turn 300), so what freezing forgets is carried here.
    """
    return _carried + gc.get_count()[2]


def streaming_replies() -> int:
    """How many replies stream now (inside :func:`streaming`)."""
    return _streams


def stream_started() -> None:
    """A reply starts streaming: freeze the heap and hand the GIL over more often."""
    global _streams, _switch_interval, _carried
    if _streams == 0:
        if _quiet_held:
            _quiet()  # the last reply's checks before this one freezes the heap
        _carried += gc.get_count()[2]
        gc.freeze()
        _switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(_switch_interval, SWITCH_INTERVAL))
    _streams += 1


def stream_ended(*, drawn: bool = True) -> None:
    """A reply stopped streaming; after the last one, thaw the heap.

    Args:
        drawn: Whether its text is all on screen; if not, the collectors' checks wait
            for :func:`reply_drawn` (or the next reply's start).
    """
    global _streams, _quiet_held
    if _streams == 0:
        return
    _streams -= 1
    if _streams == 0:
        gc.unfreeze()
        if _switch_interval:
            sys.setswitchinterval(_switch_interval)
        if drawn:
            _quiet()
        else:
            _quiet_held = True


def reply_drawn() -> None:
    """The reply that ended last is on screen: run the checks held back for it."""
    if _quiet_held and _streams == 0:
        _quiet()


def _quiet() -> None:
    global _quiet_held
    _quiet_held = False
    for callback in list(_on_quiet):
        callback()


@contextmanager
def streaming() -> Iterator[None]:
    """:func:`stream_started` and :func:`stream_ended` around a block."""
    stream_started()
    try:
        yield
    finally:
        stream_ended()


class IdleCollector:
    """Runs full collections when the person is idle (see the module doc).

    Args:
        idle_for: Seconds since the last input.
        busy: Whether something must not be interrupted (a reply streams, or has
            ended with its last lines not drawn yet).
        pending: Young-generation collections since the last full one.
        collect: Runs a full collection.
        clock: Monotonic clock.
    """

    def __init__(
        self,
        idle_for: Callable[[], float],
        *,
        busy: Callable[[], bool] = lambda: _streams > 0 or _quiet_held,
        pending: Callable[[], int] = pending_collections,
        collect: Callable[[], object] = gc.collect,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._idle_for = idle_for
        self._clock = clock
        self._last = clock()
        self._busy = busy
        self._pending = pending
        self._collect = collect
        self._thresholds: tuple[int, int, int] | None = None
        self.collections = 0
        """Full collections run so far."""
        self.longest = 0.0
        """The longest of them, in seconds."""

    def install(self) -> None:
        """Stop Python from starting full collections itself."""
        if self._thresholds is None:
            self._thresholds = gc.get_threshold()
            young, middle, _ = self._thresholds
            gc.set_threshold(young, middle, _NEVER)
            _on_quiet.append(self.after_reply)

    def uninstall(self) -> None:
        """Give Python its own thresholds back (the app is leaving)."""
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
            if self.after_reply in _on_quiet:
                _on_quiet.remove(self.after_reply)

    def tick(self) -> bool:
        """Run a full collection if one is due now; returns whether it ran."""
        pending = self._pending()
        if pending < DUE or self._busy():
            return False
        if self._idle_for() < IDLE:
            forced = pending >= FORCE and self._clock() - self._last >= FORCE_AFTER
            if not forced:
                return False
        return self._run()

    def after_reply(self) -> bool:
        """The last reply stopped streaming: run a due collection if the last one is
        :data:`AFTER_REPLY` seconds old (or as :meth:`tick` would); returns whether it ran."""
        if self._pending() < DUE or self._busy():
            return False
        if self._clock() - self._last < AFTER_REPLY:
            return self.tick()
        return self._run()

    def _run(self) -> bool:
        global _carried
        started = time.perf_counter()
        self._collect()
        _carried = 0
        self._last = self._clock()
        self.longest = max(self.longest, time.perf_counter() - started)
        self.collections += 1
        return True
