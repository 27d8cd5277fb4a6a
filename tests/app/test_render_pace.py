"""The pace of a reply's rendering: slices of closed blocks leave gaps for keys and frames,
and a reply is redrawn (a frame that scrolls the log) at most ``fps`` times a second."""

from __future__ import annotations

import itertools
import time

import pytest

from tests.app.support import ReplyApp, until
from tuichat.app.render import MarkdownDocument
from tuichat.app.widgets.markdown_text import (
    CATCH_UP_GAP,
    CATCH_UP_GAP_TYPING,
    MarkdownText,
)
from tuichat.app.widgets.message import ReplyView

FPS = 20


def long_reply(blocks: int) -> str:
    parts = []
    for n in range(blocks):
        parts.append(f"Paragraph {n}: " + "some words to wrap " * 12)
        if n % 10 == 5:
            parts.append("```python\n" + "\n".join(f"x{i} = {i}" for i in range(8)) + "\n```")
    return "\n\n".join(parts) + "\n\n"


class Recorder:
    """Times of each rendering slice (``MarkdownDocument.advance``) and each redraw."""

    def __init__(self, monkeypatch, body: MarkdownText) -> None:  # type: ignore[no-untyped-def]
        self.slices: list[tuple[float, float]] = []
        self.redraws: list[float] = []
        advance = MarkdownDocument.advance
        redraw = MarkdownText._redraw

        def timed_advance(document, width, context):  # type: ignore[no-untyped-def]
            start = time.monotonic()
            try:
                return advance(document, width, context)
            finally:
                if document is body.document:
                    self.slices.append((start, time.monotonic()))

        def noted_redraw(text: MarkdownText) -> None:
            if text is body:
                self.redraws.append(time.monotonic())
            redraw(text)

        monkeypatch.setattr(MarkdownDocument, "advance", timed_advance)
        monkeypatch.setattr(MarkdownText, "_redraw", noted_redraw)


@pytest.mark.parametrize(("typing", "gap"), [(False, CATCH_UP_GAP), (True, CATCH_UP_GAP_TYPING)])
async def test_the_blocks_left_after_a_fast_reply_are_drawn_in_spaced_slices(
    monkeypatch, typing: bool, gap: float
) -> None:
    """While the person types, slices are shorter and further apart."""
    view = ReplyView(streaming=True, status="streaming", fps=FPS, typing=lambda since: typing)
    async with ReplyApp(view).run_test(size=(80, 24)) as pilot:
        body = view.body
        assert body is not None
        await pilot.pause()
        recorder = Recorder(monkeypatch, body)
        await view.append(long_reply(300))
        await view.finish(status="complete", meta="done")
        await until(pilot, lambda: not body.document.backlog, "every block drawn")
        await pilot.pause(2 / FPS)

        assert len(recorder.slices) > 3, "a burst this long takes several slices"
        gaps = [b[0] - a[1] for a, b in itertools.pairwise(recorder.slices)]
        # Timers never fire early: a slice never follows another without the gap (before
        # the catch-up chains were guarded, four ran back to back).
        assert min(gaps) >= gap * 0.9, gaps
        spacing = [b - a for a, b in itertools.pairwise(recorder.redraws)]
        assert spacing and min(spacing) >= 0.9 / FPS, spacing
        assert len(recorder.redraws) < len(recorder.slices), "slices are not each a frame"
        assert body.document.lines(80, body._render_context())[-1].text.strip()


async def test_a_streaming_reply_is_redrawn_at_most_fps_times_a_second(monkeypatch) -> None:
    view = ReplyView(streaming=True, status="streaming", fps=FPS)
    async with ReplyApp(view).run_test(size=(80, 24)) as pilot:
        body = view.body
        assert body is not None
        await pilot.pause()
        recorder = Recorder(monkeypatch, body)
        text = long_reply(120)
        started = time.monotonic()
        for start in range(0, len(text), 40):
            await view.append(text[start : start + 40])
        await view.flush()
        seconds = time.monotonic() - started
        spacing = [b - a for a, b in itertools.pairwise(recorder.redraws)]
        # (flush() draws at once: the last one may come sooner.)
        assert all(gap >= 0.9 / FPS for gap in spacing[:-1]), spacing
        assert len(recorder.redraws) <= FPS * seconds + 2
        assert body.source == text
