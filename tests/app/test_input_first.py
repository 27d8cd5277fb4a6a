"""Input first: while a key press is not on screen yet, a streaming reply waits for it.

The gate itself (:class:`InputFirst`), the app noting terminal input and releasing it
once painted, and a live reply putting off drawing while an input waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import events
from textual.app import App, ComposeResult

from tests.app.support import chat_screen
from tuichat.app.input_first import InputFirst
from tuichat.app.widgets.message import ReplyView


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_input_is_pending_until_its_frame_reports_back() -> None:
    gate = InputFirst(clock=Clock())
    assert not gate.pending
    shown = gate.arrived()
    assert gate.pending
    shown()
    assert not gate.pending


def test_an_older_input_shown_does_not_release_a_newer_one() -> None:
    gate = InputFirst(clock=Clock())
    first = gate.arrived()
    second = gate.arrived()
    first()
    assert gate.pending
    second()
    assert not gate.pending


def test_an_input_that_never_reports_back_is_given_up_after_the_hold() -> None:
    clock = Clock()
    gate = InputFirst(hold=0.1, clock=clock)
    gate.arrived()
    clock.now += 0.099
    assert gate.pending
    clock.now += 0.002
    assert not gate.pending


def test_a_key_read_by_the_input_thread_closes_the_gate_before_the_app_takes_it() -> None:
    clock = Clock()
    gate = InputFirst(hold=0.1, clock=clock)
    gate.incoming()
    assert gate.pending, "read, not taken in yet: the stream already waits"
    clock.now += 0.01
    shown = gate.arrived()
    assert gate.pending, "taken in, not painted yet"
    shown()
    assert not gate.pending


def test_a_read_key_the_app_never_takes_is_given_up_after_the_hold() -> None:
    clock = Clock()
    gate = InputFirst(hold=0.1, clock=clock)
    gate.incoming()
    clock.now += 0.101
    assert not gate.pending


async def test_wait_follows_a_read_key_until_it_is_shown() -> None:
    gate = InputFirst(hold=5.0)
    gate.incoming()
    waiting = asyncio.create_task(gate.wait())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    shown = gate.arrived()
    await asyncio.sleep(0.01)
    assert not waiting.done(), "taken in but not painted: still waiting"
    shown()
    await asyncio.wait_for(waiting, 1.0)


async def test_wait_returns_when_the_input_is_shown() -> None:
    gate = InputFirst(hold=5.0)
    shown = gate.arrived()
    waiting = asyncio.create_task(gate.wait())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    shown()
    await asyncio.wait_for(waiting, 1.0)
    assert gate.waits == 1


async def test_wait_gives_up_after_the_hold() -> None:
    gate = InputFirst(hold=0.05)
    gate.arrived()
    await asyncio.wait_for(gate.wait(), 1.0)
    assert not gate.pending


async def test_wait_does_not_wait_with_nothing_pending() -> None:
    gate = InputFirst()
    await asyncio.wait_for(gate.wait(), 0.01)
    assert gate.waits == 0


async def test_the_app_notes_a_key_and_releases_it_once_painted(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        chat_screen(pilot)
        gate = app.input_first
        app.post_message(events.Key("x", "x"))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert gate.pending, "the key is noted as soon as the app takes it"
        await pilot.pause()
        assert not gate.pending, "once handled and painted, the stream may go on"
        assert chat_screen(pilot).prompt.text == "x"

        # Mouse moves come in floods: they never hold a stream up.
        app.post_message(events.MouseMove(None, 1, 1, 0, 0, 0, False, False, False))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert not gate.pending


async def test_the_gate_opens_only_once_the_key_is_painted(make_app) -> None:
    """The screen runs "after refresh" callbacks at its next idle moment; the prompt asks
    for its repaint only once its own queue is empty. Released at the first of those, the
    gate opened before the key's frame, and a reply's work went ahead of it."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        prompt = chat_screen(pilot).prompt
        await pilot.pause()
        painted: list[str] = []
        render_line = prompt.render_line

        def spy(y: int):  # type: ignore[no-untyped-def]
            painted.append(prompt.text)
            return render_line(y)

        prompt.render_line = spy  # type: ignore[method-assign]
        gate = app.input_first
        arrived = gate.arrived
        painted_when_released: list[bool] = []

        def noting() -> Callable[[], None]:
            shown = arrived()

            def released() -> None:
                painted_when_released.append("x" in painted)
                shown()

            return released

        gate.arrived = noting  # type: ignore[method-assign]
        app.post_message(events.Key("x", "x"))
        await pilot.pause()
        await pilot.pause()
        assert painted_when_released == [True], "released only after the frame with the key"
        assert not gate.pending


class HeldApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.holding = False
        self.view = ReplyView(streaming=True, status="streaming", hold=lambda: self.holding)

    def compose(self) -> ComposeResult:
        yield self.view


async def test_a_live_reply_puts_off_drawing_while_an_input_waits() -> None:
    app = HeldApp()
    async with app.run_test(size=(60, 10)) as pilot:
        body = app.view.body
        assert body is not None
        app.holding = True
        await app.view.append("First words.\n\n")
        await pilot.pause(0.1)
        assert body.frames == 0, "nothing drawn while an input waits to be shown"
        app.holding = False
        await pilot.pause(0.1)
        assert body.frames == 1
        assert "First words." in body.source


def test_a_flood_of_input_slows_a_stream_but_never_stops_it() -> None:
    """Key repeat or an unbracketed paste: inputs keep coming before their frames.
    The gate holds for one hold, then lets the stream run as long, and so on."""
    clock = Clock()
    gate = InputFirst(hold=0.1, clock=clock)
    states = []
    for _ in range(40):  # an input every 10 ms for 0.4 s, none shown yet
        gate.arrived()
        states.append(gate.pending)
        clock.now += 0.01
    held = sum(states) / len(states)
    assert 0.3 <= held <= 0.7, states
    assert states[:10] == [True] * 10, "a single burst is held at first"


def test_idle_time_counts_from_the_last_input_or_the_start() -> None:
    now = [10.0]
    gate = InputFirst(clock=lambda: now[0])
    now[0] = 12.0
    assert gate.idle_for() == 2.0
    gate.arrived()
    now[0] = 12.5
    assert gate.idle_for() == 0.5
    gate.incoming()
    assert gate.idle_for() == 0.0


def test_typing_is_input_within_half_a_second_and_after_a_given_time() -> None:
    clock = Clock()
    gate = InputFirst(clock=clock)
    assert not gate.typing(), "no input yet"
    gate.arrived()
    sent = clock.now
    assert gate.typing()
    assert not gate.typing(since=sent), "the key that sent the prompt does not count"
    clock.now += 0.1
    gate.incoming()
    assert gate.typing(since=sent)
    clock.now += 0.6
    assert not gate.typing(since=sent)
