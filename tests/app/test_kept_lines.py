"""A growing reply paints only the lines that changed, and what it shows is always what a
paint from scratch would show (lines kept through a growth are never stale)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.strip import Strip

from tests.app.support import ReplyApp
from tuichat.app.widgets.markdown_text import MarkdownText
from tuichat.app.widgets.message import ReplyView

CSS = Path(__file__).resolve().parents[2] / "tuichat" / "app" / "tuichat.tcss"

#: A reply with every kind of block: lines of its open block change as it streams.
MIXED = (
    "# A heading\n\n"
    + "A paragraph that wraps over a few lines of the narrow screen, word after word. " * 3
    + "\n\n- one item\n- two items that wrap a little further than the first\n- three\n\n"
    + "```python\n"
    + "\n".join(f"value_{n} = compute({n}) + {n * 3}  # a comment" for n in range(25))
    + "\n```\n\n"
    + "| name | value |\n|---|---|\n"
    + "\n".join(f"| row {n} | {n * n} |" for n in range(8))
    + "\n\n"
    + "\n\n".join(f"Paragraph {n}: closing words, *some emphasis* and `code`." for n in range(12))
    + "\n\nThe end."
)


#: A reply whose first line is still changing as the next ones come.
PROSE = "A reply that opens with one long paragraph, " + "word after word, " * 60 + "The end."


#: Pieces after which the open block changes shape: a paragraph becomes a heading, then
#: a table grows from its header.
RESHAPED = [
    "Some opening words.\n\n",
    "A title that is long enough to wrap over two lines of a rather narrow screen\n",
    "===\n\n",
    "after\n\n",
    "| a | b |\n",
    "|---|---|\n",
    "| 1 | 2 |\n\n",
    "more text\n\nThe end.",
]


class StyledReplyApp(ReplyApp):
    """The reply with the app's own styles (its left edge, padding, selection)."""

    CSS_PATH = CSS
    CSS = "ReplyView.-selected { background: $boost; border-left: thick $accent; }"


def on_screen(app: ReplyApp) -> list[list[object]]:
    """The segments (text and style) of every line a paint now would send."""
    return [list(strip) for strip in app.screen._compositor.render_strips()]


def painted_afresh(app: ReplyApp) -> list[list[object]]:
    """The same with every widget's kept lines dropped, then put back (a staleness that
    builds up over several growths is not wiped out by the check itself)."""
    kept = {}
    for widget in app.screen.walk_children(with_self=True):
        cache = widget._styles_cache
        kept[widget] = (dict(cache._cache), set(cache._dirty_lines))
        cache.clear()
    fresh = on_screen(app)
    for widget, (lines, dirty) in kept.items():
        cache = widget._styles_cache
        cache.clear()
        cache._cache.update(lines)
        cache._dirty_lines.update(dirty)
    return fresh


def pieces(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)]


@pytest.mark.parametrize("reply", [MIXED, PROSE], ids=["mixed", "prose"])
async def test_what_a_growing_reply_shows_is_what_a_fresh_paint_shows(reply: str) -> None:
    view = ReplyView(streaming=True, status="streaming", fps=200)
    app = StyledReplyApp(view)
    async with app.run_test(size=(60, 120)) as pilot:
        await pilot.pause()
        for piece in pieces(reply, 23):
            await view.append(piece)
            await pilot.pause(0.006)
            assert on_screen(app) == painted_afresh(app)
        await view.finish(status="complete", meta="done")
        body = view.body
        assert body is not None
        while body.document.backlog:
            await pilot.pause(0.01)
        await pilot.pause(0.02)
        assert on_screen(app) == painted_afresh(app)
        assert "The end." in "\n".join(line.text for line in app.screen._compositor.render_strips())


@pytest.mark.parametrize("event", ["resize", "theme", "select", "error", "scroll"])
async def test_lines_are_never_stale_across_what_happens_mid_stream(event: str) -> None:
    view = ReplyView(streaming=True, status="streaming", fps=200)
    app = StyledReplyApp(view)
    async with app.run_test(size=(60, 40)) as pilot:
        await pilot.pause()
        for n, piece in enumerate(pieces(MIXED, 23)):
            await view.append(piece)
            await pilot.pause(0.006)
            if n == 20:
                if event == "resize":
                    await pilot.resize_terminal(50, 40)
                elif event == "theme":
                    app.theme = "textual-light"
                elif event == "select":
                    view.add_class("-selected")
                elif event == "error":
                    view.show_error("Something broke.")
                elif event == "scroll":
                    app.query_one(VerticalScroll).scroll_home(animate=False)
                await pilot.pause(0.02)
            if n == 30 and event in ("resize", "select"):
                await pilot.resize_terminal(60, 40)
                view.remove_class("-selected")
                await pilot.pause(0.02)
            assert on_screen(app) == painted_afresh(app), (event, n)
        await view.finish(status="complete", meta="done")
        await pilot.pause(0.1)
        assert on_screen(app) == painted_afresh(app), (event, "end")


async def test_lines_are_never_stale_when_the_open_block_changes_shape() -> None:
    view = ReplyView(streaming=True, status="streaming", fps=200)
    app = StyledReplyApp(view)
    async with app.run_test(size=(40, 40)) as pilot:
        await pilot.pause()
        for n, piece in enumerate(RESHAPED):
            await view.append(piece)
            await pilot.pause(0.02)
            assert on_screen(app) == painted_afresh(app), n


async def test_a_reply_growing_line_by_line_paints_only_its_new_lines(monkeypatch) -> None:
    painted = {"body": 0, "edge": 0}
    body_line, edge_line = MarkdownText.render_line, ReplyView.render_line

    def count_body(text: MarkdownText, y: int) -> Strip:
        painted["body"] += 1
        return body_line(text, y)

    def count_edge(reply: ReplyView, y: int) -> Strip:
        painted["edge"] += 1
        return edge_line(reply, y)

    monkeypatch.setattr(MarkdownText, "render_line", count_body)
    monkeypatch.setattr(ReplyView, "render_line", count_edge)
    view = ReplyView(streaming=True, status="streaming", fps=200)
    app = StyledReplyApp(view)
    growths = 60
    async with app.run_test(size=(60, 100)) as pilot:
        await pilot.pause()
        for n in range(growths):
            await view.append(f"Paragraph {n} of the reply.\n\n")
            await pilot.pause(0.006)
        body = view.body
        assert body is not None
        lines = body.size.height
    # Each growth paints the open block and the new line or two, not every line again
    # (before, each growth painted the whole reply on screen: about 60 * 60 / 2 lines).
    assert lines >= 2 * growths - 2
    assert painted["body"] <= 5 * lines, painted
    assert painted["edge"] <= 5 * lines, painted
