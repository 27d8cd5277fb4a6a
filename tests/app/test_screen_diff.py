"""What the far end shows is always what Textual's own output, and a full repaint, show.

The app's frames are encoded as :class:`ScreenDiff` writes them (scrolls of the rows that
moved, then the cells that changed) and fed to a terminal emulator (pyte) standing in for
the far end of the link. At every frame its screen is compared, cell by cell (character,
colours, attributes), with a second emulator fed Textual's own output of the same frames;
and whenever the app is idle, with a fresh emulator fed a full repaint of the screen.
Through a reply that scrolls the log, the log scrolled back and forth, the sidebar hidden
and shown, a resize, a theme change and the help screen opened over the chat and closed.

(A full repaint is compared when the app is idle only: between two frames Textual may
hold a change for the next one, so a repaint taken in the middle of a stream can be a
frame ahead of what any output has drawn yet.)
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pyte
import pytest
from rich.color import ColorSystem
from textual._compositor import ChopsUpdate, CompositorUpdate, LayoutUpdate
from textual.app import App
from textual.pilot import Pilot

from tests.app.support import SIZE, chat_screen, send, settle_reply
from tests.fakes import FakeProvider, Script
from tuichat.app.patches.screen_diff import SCROLL_COST, ScreenDiff, Sgr, _scrolled
from tuichat.app.patches.thin_output import erases_in_colour, output_mode
from tuichat.app.screens.help import HelpScreen

#: A reply long enough to scroll the log many times, with every kind of block.
REPLY = [
    "# A long reply\n\n",
    *[
        f"Paragraph {n}: words about item {n}, " + "and more words " * (n % 5) + "\n\n"
        for n in range(40)
    ],
    "```python\n",
    *[f"value_{n} = compute({n})  # a comment\n" for n in range(30)],
    "```\n\n",
    *[f"- item {n} of a list\n" for n in range(20)],
    "\n| name | value |\n|---|---|\n",
    *[f"| row {n} | {n * n} |\n" for n in range(10)],
    "\nThe end, with a wide character: 漢字 and more.\n",
]


class FarEnd:
    """The far end of the link: an emulator fed each frame as the app encodes it."""

    def __init__(self, app: App[Any], *, scroll: bool = True, erase: bool = True) -> None:
        self.app = app
        self.scroll = scroll
        self.width, self.height = app.size
        self.diff = ScreenDiff(app.console._color_system, scroll=scroll, erase=erase)
        self.screen = pyte.Screen(self.width, self.height)
        self.stream = pyte.Stream(self.screen)
        self.today = pyte.Screen(self.width, self.height)
        self.today_stream = pyte.Stream(self.today)
        self.repaints = 0
        self.frames = 0
        self.encoded = 0
        self.scrolls = 0
        self.bytes = 0
        self.textual_bytes = 0
        self.mismatches: list[str] = []

    def display(self, screen: Any, update: Any) -> None:
        """Instead of ``App._display`` (which writes nothing in a headless app)."""
        if not isinstance(update, CompositorUpdate) or self.app._batch_count:
            return
        width, height = self.app.size
        if (width, height) != (self.width, self.height):
            self.width, self.height = width, height
            self.screen.resize(height, width)
            self.today.resize(height, width)
        console = self.app.console
        text = self.diff.encode(update, width, height)
        textual = update.render_segments(console)
        if text is None:
            text = textual
            if self.diff.rows is None:
                screen.refresh()
        else:
            self.encoded += 1
            self.scrolls += "\x1b[r" in text
        self.frames += 1
        self.bytes += len(text.encode())
        self.textual_bytes += len(textual.encode())
        self.stream.feed(text)
        self.today_stream.feed(textual)
        self.compare(self.today, f"frame {self.frames}")

    async def idle(self, pilot: Pilot[None]) -> None:
        """Let the app draw what it holds, then compare with a full repaint."""
        await pilot.pause()
        await pilot.pause()
        screen = self.app.screen
        strips = screen._compositor.render_strips()
        full = LayoutUpdate([[strip] for strip in strips], screen._compositor.size.region)
        reference = pyte.Screen(self.width, self.height)
        pyte.Stream(reference).feed(full.render_segments(self.app.console))
        self.repaints += 1
        self.compare(reference, f"repaint {self.repaints} after frame {self.frames}")

    def compare(self, reference: pyte.Screen, when: str) -> None:
        """The far end's screen against ``reference``, cell by cell."""
        for y in range(self.height):
            shown, wanted = self.screen.buffer[y], reference.buffer[y]
            for x in range(self.width):
                if looks(shown[x]) != looks(wanted[x]):
                    self.mismatches.append(
                        f"{when}, row {y}, column {x}: {shown[x]} != {wanted[x]}"
                    )
                    return


def looks(char: Any) -> Any:
    """A cell as it looks: a blank's foreground colour does not show (an erased cell has
    the terminal's, a written one the one it was written with), unless something is drawn
    with it (underline, strike-through, reverse)."""
    if char.data == " " and not (char.underscore or char.strikethrough or char.reverse):
        return char._replace(fg="default")
    return char


async def stream_reply(pilot: Pilot[None], far: FarEnd, text: str) -> None:
    await send(pilot, text)
    await settle_reply(pilot)
    await far.idle(pilot)


@pytest.fixture
def paced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake provider sends a delta every 5 ms: the reply grows over many frames."""
    play = FakeProvider.stream_chat

    async def stream_chat(self: FakeProvider, request: Any) -> Any:
        async for event in play(self, request):
            yield event
            await asyncio.sleep(0.005)

    monkeypatch.setattr(FakeProvider, "stream_chat", stream_chat)


@pytest.mark.usefixtures("paced")
async def test_the_far_end_always_shows_a_full_repaint(make_app: Any) -> None:
    app = make_app(Script(deltas=REPLY), Script(deltas=REPLY))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        chat_screen(pilot).prompt.cursor_blink = False  # a blink is a frame of its own
        far = FarEnd(app)
        app._display = far.display  # type: ignore[method-assign]
        chat_screen(pilot).refresh()  # the far end starts from a full repaint
        await pilot.pause()

        await stream_reply(pilot, far, "a long reply please")
        log = chat_screen(pilot).chat_log
        for _ in range(6):  # scrolled back up a page at a time, and down again
            log.scroll_page_up(animate=False)
            await far.idle(pilot)
        for _ in range(3):
            log.scroll_page_down(animate=False)
            await far.idle(pilot)
        log.scroll_end(animate=False)
        await far.idle(pilot)

        chat_screen(pilot).action_toggle_sidebar()
        await far.idle(pilot)
        await stream_reply(pilot, far, "another one")  # streamed with the sidebar toggled
        chat_screen(pilot).action_toggle_sidebar()
        await far.idle(pilot)

        await pilot.resize_terminal(100, 30)
        await far.idle(pilot)
        log.scroll_page_up(animate=False)
        await far.idle(pilot)
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await far.idle(pilot)
        log.scroll_end(animate=False)
        await far.idle(pilot)

        await pilot.press("f1")  # a screen over the chat, and back
        await far.idle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await far.idle(pilot)
        assert not isinstance(app.screen, HelpScreen)

    assert far.mismatches == []
    assert far.frames > 20
    # The diff did the work (not a pass-through of Textual's output), and scrolled.
    assert far.encoded > far.frames // 2
    assert far.scrolls > 5
    assert far.bytes * 4 < far.textual_bytes


@pytest.mark.usefixtures("paced")
async def test_cells_only_for_a_terminal_without_scroll_regions(make_app: Any) -> None:
    app = make_app(Script(deltas=REPLY))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        far = FarEnd(app, scroll=False, erase=False)
        app._display = far.display  # type: ignore[method-assign]
        chat_screen(pilot).refresh()
        await pilot.pause()
        await stream_reply(pilot, far, "a long reply please")
    assert far.mismatches == []
    assert far.scrolls == 0
    assert far.encoded > far.frames // 2


def test_the_terminal_decides_what_it_gets() -> None:
    assert output_mode({"TERM": "xterm-256color"}) == "scroll"
    assert output_mode({"TERM": "tmux-256color"}) == "scroll"
    assert output_mode({"TERM": "screen"}) == "scroll"
    assert output_mode({"TERM": "dumb"}) == "cells"
    assert output_mode({}) == "cells"
    assert output_mode({"TERM": "xterm", "TUICHAT_OUTPUT": "full"}) == "full"
    assert output_mode({"TERM": "xterm", "TUICHAT_OUTPUT": "cells"}) == "cells"
    assert erases_in_colour({"TERM": "xterm-256color"})
    assert erases_in_colour({"TERM": "tmux-256color"})
    assert not erases_in_colour({"TERM": "screen-256color"})  # GNU screen: only if set
    assert not erases_in_colour({"TERM": "dumb"})
    assert not erases_in_colour({"TERM": "xterm", "TUICHAT_OUTPUT": "noerase"})


def test_a_chops_update_before_any_full_repaint_is_left_to_textual() -> None:
    diff = ScreenDiff(ColorSystem.TRUECOLOR)
    assert diff.encode(ChopsUpdate([], [(0, 0, 1)], []), 10, 2) is None
    assert diff.rows is None


def test_the_scrolled_region_is_the_one_that_saves_the_most() -> None:
    """The one-pass search finds what trying every region finds."""
    rng = random.Random(7)
    width, height = 12, 10
    diff = ScreenDiff(ColorSystem.TRUECOLOR)
    diff.width, diff.height = width, height
    cells = [("a", "\x00"), ("b", "\x00"), (" ", "\x00")]
    for _ in range(300):
        old = [[rng.choice(cells) for _ in range(width)] for _ in range(height)]
        lines = rng.choice([1, 2, 3, -1, -2])
        new = [
            list(old[y + lines])
            if 0 <= y + lines < height and rng.random() < 0.8
            else [rng.choice(cells) for _ in range(width)]
            for y in range(height)
        ]
        found = diff._best_region(old, new, lines)
        assert brute_force_gain(old, new, found, width) == best_gain(old, new, lines, width)


def cost(old: list[Any], new: list[Any], top: int, bottom: int, lines: int, width: int) -> int:
    shown = _scrolled(old, top, bottom, lines, width)
    return sum(a != b for y in range(len(new)) for a, b in zip(shown[y], new[y], strict=True))


def brute_force_gain(old: list[Any], new: list[Any], region: Any, width: int) -> int:
    unscrolled = sum(a != b for y in range(len(new)) for a, b in zip(old[y], new[y], strict=True))
    if region is None:
        return 0
    return unscrolled - cost(old, new, *region, width)


def best_gain(old: list[Any], new: list[Any], lines: int, width: int) -> int:
    unscrolled = sum(a != b for y in range(len(new)) for a, b in zip(old[y], new[y], strict=True))
    best = 0
    size = abs(lines)
    for bottom in range(len(new)):
        for top in range(0, bottom - size + 1):
            saved = unscrolled - cost(old, new, top, bottom, lines, width)
            if saved > SCROLL_COST:
                best = max(best, saved)
    return best


def test_an_sgr_delta_sets_what_a_full_sgr_sets() -> None:
    """From any state to any other, the delta draws a cell as the full SGR would."""
    rng = random.Random(3)
    attributes = ["1", "2", "3", "4", "7", "9"]
    colours = ["", "31", "38;2;1;2;3", "38;5;200", "97"]
    backgrounds = ["", "41", "48;2;9;8;7", "48;5;17", "107"]

    def state() -> Sgr:
        chosen = [a for a in attributes if rng.random() < 0.3]
        return Sgr(";".join(chosen), rng.choice(colours), rng.choice(backgrounds))

    for _ in range(400):
        before, after = state(), state()
        delta = pyte.Screen(4, 1)
        pyte.Stream(delta).feed(f"\x1b[0;{before.codes()}m" + before.to(after) + "x")
        full = pyte.Screen(4, 1)
        pyte.Stream(full).feed(f"\x1b[0;{after.codes()}m" + "x")
        assert delta.buffer[0][0] == full.buffer[0][0], (before, after, before.to(after))
