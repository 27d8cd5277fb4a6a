"""One pending call on a widget, made later and made once: arming it again replaces it.

Built on the event loop's ``call_later``, not on Textual's ``set_timer``. Textual 8's
one-shot timer (``Timer._run``) reads the clock twice as its task starts and, when the
second read is already past the delay, "skips" the missed tick; a one-shot timer has
only the one, so its call never comes. A short delay (a redraw due in 0.1 ms) and a
thread switch or a busy machine between the two reads were enough: the reply's redraw
stayed "pending" forever and the screen stopped showing the stream (a rare end-to-end
failure, caught by dumping the app's state when it happened). A loop handle also costs
no task per call, and cancelling it is final: a cancelled call never runs, even one
already due.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.message_pump import MessagePump

#: While ``hold`` says an input waits to be shown, the call is put off by this long.
HOLD_RETRY = 0.004


class Later:
    """One pending call of ``callback`` for ``owner``.

    Args:
        owner: The widget (or screen) the call belongs to: the call is dropped while it
            is not running (before it is mounted, once it is removed) and once the app
            is exiting.
        callback: What to call.
        hold: When it says True at the time of the call (an input is not on screen yet),
            the call is put off by :data:`HOLD_RETRY`, again and again.
    """

    def __init__(
        self,
        owner: MessagePump,
        callback: Callable[[], object],
        hold: Callable[[], bool] | None = None,
    ) -> None:
        self._owner = owner
        self._callback = callback
        self._hold = hold
        self._handle: asyncio.TimerHandle | None = None

    @property
    def armed(self) -> bool:
        """Whether a call is pending."""
        return self._handle is not None

    def arm(self, delay: float) -> None:
        """Call in ``delay`` seconds, instead of any call pending."""
        self.cancel()
        # The arming code's context goes with the call (Textual's active app and pump).
        self._handle = asyncio.get_running_loop().call_later(max(0.0, delay), self._fire)

    def now(self) -> None:
        """Call now, instead of any call pending (unless ``hold`` puts it off)."""
        self.cancel()
        self._fire()

    def cancel(self) -> None:
        """Drop the pending call."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fire(self) -> None:
        self._handle = None
        owner = self._owner
        if not owner.is_running:
            return
        try:
            app = owner.app
            if app._exit:
                return  # as Textual's timers: nothing more once the app is leaving
            if self._hold is not None and self._hold():
                self.arm(HOLD_RETRY)
                return
            self._callback()
        except Exception as error:  # as in Textual's timers: the app reports it and exits
            owner.app._handle_exception(error)
