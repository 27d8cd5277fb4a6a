"""A streaming reply in an anchored log: the view follows it until the person scrolls away.

Scrolling back to the end follows again, and the end of the reply is never lost.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot

from tuichat.app.widgets.markdown_text import MarkdownText, reserved_height
from tuichat.app.widgets.message import ReplyView

SIZE = (80, 24)


class LogApp(App[None]):
    """A chat log holding one streaming reply, anchored like the chat screen's."""

    def __init__(self) -> None:
        super().__init__()
        self.view = ReplyView(streaming=True, status="streaming", fps=120, meta="streaming…")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log"):
            yield self.view

    def on_mount(self) -> None:
        self.query_one("#log").anchor()


def screen_text(pilot: Pilot[None]) -> str:
    return "\n".join(strip.text for strip in pilot.app.screen._compositor.render_strips())


async def stream(pilot: Pilot[None], view: ReplyView, first: int, count: int) -> None:
    for n in range(first, first + count):
        await view.append(f"Paragraph {n} says something about item {n}.\n\n")
        if n % 10 == 0:
            await view.flush()
            await pilot.pause()
    await view.flush()
    await pilot.pause()


async def test_the_view_follows_until_scrolled_away_and_again_at_the_end() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one("#log", VerticalScroll)
        view = app.view
        await stream(pilot, view, 0, 60)
        assert log.max_scroll_y > 0
        assert log.scroll_y == log.max_scroll_y
        assert "Paragraph 59 says" in screen_text(pilot)

        # The person scrolls up: the view stays where they put it while text arrives.
        log.scroll_to(y=5, animate=False, immediate=True)
        await pilot.pause()
        await stream(pilot, view, 60, 40)
        assert log.scroll_y == 5
        assert "Paragraph 99 says" not in screen_text(pilot)

        # Back at the end: following again.
        log.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        await stream(pilot, view, 100, 40)
        assert log.scroll_y == log.max_scroll_y
        assert "Paragraph 139 says" in screen_text(pilot)

        # The end is never lost: the last line is on screen once the reply is sealed.
        await view.append("The very END.")
        await view.finish(status="complete", meta="done")
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y
        shown = screen_text(pilot)
        assert "The very END." in shown and "done" in shown


async def test_scrolling_with_the_keys_unfollows_and_follows_again() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one("#log", VerticalScroll)
        log.focus()
        view = app.view
        await stream(pilot, view, 0, 40)
        await pilot.press("up", "up", "up")
        await pilot.pause()
        assert log.scroll_y < log.max_scroll_y
        at = log.scroll_y
        await stream(pilot, view, 40, 10)
        assert log.scroll_y == at
        # Line by line back to the bottom: reaching it follows again.
        while log.scroll_y < log.max_scroll_y:
            await pilot.press("down")
            await pilot.pause()
        await stream(pilot, view, 50, 20)
        assert log.scroll_y == log.max_scroll_y
        assert "Paragraph 69 says" in screen_text(pilot)
        # Page up, then End: following again.
        await pilot.press("pageup")
        await stream(pilot, view, 70, 5)
        assert log.scroll_y < log.max_scroll_y
        await pilot.press("end")
        await stream(pilot, view, 75, 5)
        assert log.scroll_y == log.max_scroll_y


async def test_a_reply_stays_one_body_widget_while_streaming_and_after() -> None:
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        view = app.view
        await stream(pilot, view, 0, 30)
        await view.append("```python\nx = 1\n")
        await view.flush()
        await pilot.pause()
        assert len(view.query(MarkdownText)) == 1
        assert len(list(view.query("*"))) == 2  # the body and the meta line
        await view.finish(status="complete", meta="done")
        await pilot.pause()
        assert len(list(view.query("*"))) == 2
        assert "x = 1" in screen_text(pilot)


def test_a_streaming_body_makes_room_in_steps() -> None:
    assert [reserved_height(lines, 10) for lines in (0, 3, 9, 10, 11, 20, 21)] == [
        0,
        3,
        9,
        10,
        20,
        20,
        30,
    ]
    assert reserved_height(57, 0) == 57  # not laid out yet: no steps


async def test_the_log_following_a_reply_scrolls_once_per_step_not_once_per_line() -> None:
    """A log that scrolls at every new line re-sends every cell of itself each time (over
    SSH most of the bytes); the reply makes room a step at a time, and the room goes
    when it ends."""
    app = LogApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one("#log", VerticalScroll)
        view = app.view
        positions: list[float] = []
        for n in range(60):
            await view.append(f"Line {n} of the reply.\n\n")
            await view.flush()
            await pilot.pause()
            if log.max_scroll_y > 0:  # (before, the reply fits: nothing scrolls)
                positions.append(log.scroll_y)
        body = view.body
        assert body is not None
        scrolls = sum(1 for a, b in zip(positions, positions[1:], strict=False) if b != a)
        lines = body.document.height(body.size.width, body._render_context())
        step = body._step
        assert step >= 4 and lines >= 110
        # (A line at a time, 110 lines in a 24-line view scrolled ~90 times.)
        assert scrolls <= lines // step + 1, (scrolls, lines, step)
        assert "Line 59 of the reply." in screen_text(pilot)

        await view.finish(status="complete", meta="done")
        await pilot.pause(0.1)
        assert body.size.height == lines  # the room made ahead is gone
        assert log.scroll_y == log.max_scroll_y
        assert "Line 59 of the reply." in screen_text(pilot) and "done" in screen_text(pilot)
