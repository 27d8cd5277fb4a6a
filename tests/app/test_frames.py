"""The screens' frame timer: paced from the last frame, not a grid, and keys in transit ride
in the frame about to be painted (tuichat.app.frames)."""

from __future__ import annotations

import asyncio
import time

from textual.app import App
from textual.screen import Screen
from textual.timer import Timer

from tests.app.support import chat_screen
from tuichat.app.frames import KEY_WAIT, SCREEN_UPDATE, FrameTimer, PromptFrames
from tuichat.app.patches.frame_timer import DRAIN_WAIT

INTERVAL = 0.05


class FramedScreen(PromptFrames, Screen[None]):
    pass


class Frames:
    """Ticks of a timer driven like Textual drives a screen's: paused at each tick,
    resumed by the test; the first tick takes ``long`` seconds (a frame that scrolls)."""

    def __init__(self, long: float = 0.0) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.long = long
        self.timer: Timer | None = None
        self.ticked = asyncio.Event()

    def tick(self) -> None:
        assert self.timer is not None
        self.timer.pause()
        self.starts.append(time.monotonic())
        if len(self.starts) == 1 and self.long:
            time.sleep(self.long)
        self.ends.append(time.monotonic())
        self.ticked.set()

    async def next(self) -> None:
        self.ticked.clear()
        assert self.timer is not None
        self.timer.resume()
        await asyncio.wait_for(self.ticked.wait(), 2.0)


async def run_frames(frames: Frames, *, key_in_transit=None, output_pending=None) -> None:  # type: ignore[no-untyped-def]
    app: App[None] = App()
    async with app.run_test() as pilot:
        screen = FramedScreen()
        await app.push_screen(screen)
        await pilot.pause()
        timer = screen.set_interval(INTERVAL, frames.tick, name=SCREEN_UPDATE, pause=True)
        assert isinstance(timer, FrameTimer)
        if key_in_transit is not None:
            timer.key_in_transit = key_in_transit
        timer.output_pending = output_pending
        frames.timer = timer
        await frames.next()
        await frames.next()
        timer.stop()


async def test_after_a_long_frame_the_next_one_comes_at_once() -> None:
    """Textual's grid timer skipped a period too many after a late, long tick: the frame
    with a key press came up to two periods later."""
    frames = Frames(long=INTERVAL * 1.6)
    await run_frames(frames)
    assert frames.starts[1] - frames.ends[0] < INTERVAL / 3


async def test_frames_are_never_closer_than_the_interval() -> None:
    frames = Frames()
    await run_frames(frames)
    assert frames.starts[1] - frames.starts[0] >= INTERVAL * 0.95


async def test_a_due_frame_waits_a_moment_for_a_key_in_transit() -> None:
    frames = Frames(long=INTERVAL * 1.2)
    read_until = [0.0]

    def in_transit() -> bool:
        # The input thread read a key right as the first frame ended; the app takes it
        # in 2 ms later.
        if not read_until[0] and frames.ends:
            read_until[0] = time.monotonic() + 0.002
        return time.monotonic() < read_until[0]

    await run_frames(frames, key_in_transit=in_transit)
    assert frames.starts[1] >= read_until[0], "the frame waited for the key to be taken in"
    assert frames.starts[1] - frames.ends[0] < KEY_WAIT + 0.02


async def test_a_frame_waits_while_the_terminal_has_not_taken_the_last_one() -> None:
    """Behind a slow link, drawing would queue a stale frame: the next frame is drawn when
    the last one has left (what changed meanwhile goes into it)."""
    frames = Frames()
    drained_at = [0.0]

    def pending() -> bool:
        # The first frame takes 30 ms to leave.
        if not drained_at[0] and frames.ends:
            drained_at[0] = frames.ends[0] + 0.03
        return time.monotonic() < drained_at[0]

    await run_frames(frames, output_pending=pending)
    assert frames.starts[1] >= drained_at[0]


async def test_a_terminal_that_never_drains_holds_frames_back_only_half_a_second() -> None:
    frames = Frames()
    await run_frames(frames, output_pending=lambda: True)
    assert DRAIN_WAIT <= frames.starts[1] - frames.ends[0] < DRAIN_WAIT + 0.1


async def test_a_key_never_taken_in_holds_a_frame_back_only_briefly() -> None:
    frames = Frames(long=INTERVAL * 1.2)
    await run_frames(frames, key_in_transit=lambda: True)
    assert frames.starts[1] - frames.ends[0] < KEY_WAIT + 0.02


async def test_the_chat_screen_paints_with_the_frame_timer(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("x")
        await pilot.pause()
        timers = [timer for timer in screen._timers if timer.name == SCREEN_UPDATE]
        assert timers and all(isinstance(timer, FrameTimer) for timer in timers)
        assert timers[0].key_in_transit is not None
