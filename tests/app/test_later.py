"""A pending call on a widget (:class:`tuichat.app.later.Later`): made once, replaced when
armed again, dropped when cancelled or when its widget goes, put off while an input
waits; and never lost, even on a machine that stalls between two reads of the clock."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from textual import _time
from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.app.support import ReplyApp, until, visible_text
from tuichat.app.later import HOLD_RETRY, Later
from tuichat.app.widgets.message import ReplyView


class OneWidget(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("x", id="owner")


async def test_an_armed_call_runs_once_after_its_delay() -> None:
    async with OneWidget().run_test() as pilot:
        calls: list[float] = []
        later = Later(pilot.app.query_one("#owner"), lambda: calls.append(time.monotonic()))
        armed_at = time.monotonic()
        later.arm(0.03)
        assert later.armed
        await until(pilot, lambda: bool(calls))
        await pilot.pause(0.05)
        assert len(calls) == 1
        assert calls[0] - armed_at >= 0.029
        assert not later.armed


async def test_arming_again_replaces_the_pending_call() -> None:
    async with OneWidget().run_test() as pilot:
        calls: list[str] = []
        later = Later(pilot.app.query_one("#owner"), lambda: calls.append("call"))
        later.arm(0.01)
        later.arm(0.05)
        await pilot.pause(0.03)
        assert calls == []
        await until(pilot, lambda: bool(calls))
        await pilot.pause(0.05)
        assert calls == ["call"]


async def test_a_cancelled_call_never_runs_even_when_already_due() -> None:
    async with OneWidget().run_test() as pilot:
        calls: list[str] = []
        later = Later(pilot.app.query_one("#owner"), lambda: calls.append("call"))
        later.arm(0)
        time.sleep(0.01)  # the loop is busy: the call is due, not run yet
        later.cancel()
        await pilot.pause(0.03)
        assert calls == []
        assert not later.armed


async def test_a_hold_puts_the_call_off_until_it_lets_go() -> None:
    async with OneWidget().run_test() as pilot:
        calls: list[float] = []
        held = True
        later = Later(
            pilot.app.query_one("#owner"), lambda: calls.append(time.monotonic()), lambda: held
        )
        later.now()
        await pilot.pause(HOLD_RETRY * 5)
        assert calls == [] and later.armed
        held = False
        released = time.monotonic()
        await until(pilot, lambda: bool(calls))
        assert calls[0] - released < 0.5
        assert not later.armed


async def test_a_removed_widget_gets_no_call() -> None:
    async with OneWidget().run_test() as pilot:
        calls: list[str] = []
        owner = pilot.app.query_one("#owner")
        later = Later(owner, lambda: calls.append("call"))
        later.arm(0.02)
        await owner.remove()
        await pilot.pause(0.05)
        assert calls == []


async def test_a_reply_keeps_showing_its_stream_when_the_machine_stalls_between_clock_reads(
    monkeypatch,
) -> None:
    """Textual's one-shot timer skips its only tick when its task's two reads of the clock
    are further apart than its delay (a thread switch, a busy machine): a reply's next
    redraw then stayed pending forever and the screen stopped following the stream. Here
    every read of Textual's clock is 3 ms after the last, and the reply redraws up to
    1000 times a second (every call it arms is due in under 1 ms)."""
    ahead = itertools.count()
    real = _time.get_time
    monkeypatch.setattr(_time, "get_time", lambda: real() + 0.003 * next(ahead))
    view = ReplyView(streaming=True, status="streaming", fps=1000)
    async with ReplyApp(view).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for n in range(60):
            await view.append(f"w{n:04d} ")
            if n % 10 == 9:
                await asyncio.sleep(0.002)
        await until(pilot, lambda: "w0059" in visible_text(pilot), "the last word on screen")


async def test_a_failing_hold_is_reported_like_a_failing_call() -> None:
    def hold() -> bool:
        raise RuntimeError("hold failed")

    # The app reports it and exits, as with an error in a Textual timer's callback (not
    # a call silently lost, and a reply that never draws again).
    with pytest.raises(RuntimeError, match="hold failed"):
        async with OneWidget().run_test() as pilot:
            Later(pilot.app.query_one("#owner"), lambda: None, hold).arm(0)
            await pilot.pause(0.02)


async def test_no_call_once_the_app_is_exiting() -> None:
    calls: list[str] = []
    app = OneWidget()
    async with app.run_test() as pilot:
        later = Later(pilot.app.query_one("#owner"), lambda: calls.append("call"))
        later.arm(0.01)
        app._exit = True  # what App.exit() sets first
        await asyncio.sleep(0.03)
        app._exit = False
    assert calls == []
