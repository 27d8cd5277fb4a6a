"""When a screen paints: at most ``TEXTUAL_FPS`` frames a second, each as soon as allowed,
and a key press read from the terminal rides in the frame about to be painted.

Textual paints a screen from an interval timer that is paused while nothing changed and
ticks on a fixed grid (1/60 s). After a tick that ran late and long (a frame that
scrolls a growing reply: 10-15 ms), Textual 8's timer skips one grid point too many, so
the next frame, the one carrying a key press, came up to two periods later (33 ms).
The frame timer here spaces frames by the same period measured from the last frame's
start: a change made after a quiet moment is painted at once, and never more than 60
frames a second.

A frame due while a key has been read by the terminal's input thread but not taken in
by the app yet waits for it a few milliseconds: painted first, the reply's frame (10 ms)
would keep the key out until the next one, a whole period later.

(Tried and not kept: painting a frame that carries a key press at once, without the
period. The key's own frame is cheap, but the reply's next frame came sooner too, and
the 95th percentile of key-to-screen grew from about 50 ms to 70.)
"""

from __future__ import annotations

from textual.timer import Timer, TimerCallback

from .patches.frame_timer import KEY_WAIT, FrameTimer
from .patches.writer_backlog import output_pending

__all__ = ["KEY_WAIT", "SCREEN_UPDATE", "FrameTimer", "PromptFrames"]

#: The name Textual gives a screen's update timer.
SCREEN_UPDATE = "screen_update"


class PromptFrames:
    """Mixed into a screen where replies stream: its update timer is a
    :class:`FrameTimer`, told about keys in transit by the app's input-first gate, and
    the gate's two questions for the replies it streams."""

    def input_pending(self) -> bool:
        """Whether an input has not reached the screen yet (a stream lets it go first)."""
        gate = getattr(getattr(self, "app", None), "input_first", None)
        return gate is not None and gate.pending

    def typing(self, since: float = 0.0) -> bool:
        """Whether the person is typing, since the monotonic time ``since`` (a stream then
        renders in shorter slices)."""
        gate = getattr(getattr(self, "app", None), "input_first", None)
        return gate is not None and gate.typing(since)

    def set_interval(
        self,
        interval: float,
        callback: TimerCallback | None = None,
        *,
        name: str | None = None,
        repeat: int = 0,
        pause: bool = False,
    ) -> Timer:
        """As Textual's, but the screen's own update timer is a :class:`FrameTimer`."""
        timer: Timer = super().set_interval(  # type: ignore[misc]
            interval, callback, name=name, repeat=repeat, pause=pause
        )
        if name == SCREEN_UPDATE and type(timer) is Timer:
            # Its task has not started yet: it runs this class's loop from the start.
            timer.__class__ = FrameTimer
            assert isinstance(timer, FrameTimer)
            gate = getattr(getattr(self, "app", None), "input_first", None)
            if gate is not None:
                timer.key_in_transit = lambda: gate.in_transit
            app = getattr(self, "app", None)
            if app is not None:
                timer.output_pending = lambda: output_pending(app._driver)
        return timer
