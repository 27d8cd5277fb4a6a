"""A reply's Markdown body: one widget drawn with Textual's line API.

It renders each closed Markdown block once and paints only visible lines, because both
the number of live widgets and re-rendering the whole reply per frame are what made
stock Markdown widgets slow (DESIGN.md section 9). :class:`~.message.ReplyView` holds
one, streaming or finished.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.style import Style
from textual.containers import ScrollableContainer
from textual.geometry import Region, Size
from textual.strip import Strip

from ..later import Later
from ..patches.kept_lines import KeptLines
from ..patches.relayout import relayout

if TYPE_CHECKING:
    from ..render import MarkdownDocument, RenderContext

#: Most seconds of one slice of Markdown rendering while a reply streams.
RENDER_BUDGET = 0.008

#: The same while the person is typing: a key press never waits behind more than this.
RENDER_BUDGET_TYPING = 0.004

#: Between two slices of the closed blocks still to draw (after the frames and keys
#: already waiting).
CATCH_UP_GAP = 0.001

#: The same while the person is typing: as long as a slice, so the keys and frames get at
#: least half the time (the rest of a fast 20k reply shows ~0.7 s later).
CATCH_UP_GAP_TYPING = RENDER_BUDGET_TYPING

#: A streaming body taller than this share of the height of the log it scrolls in grows
#: by steps of that many lines (blank until the text reaches them), not line by line.
RESERVE_SHARE = 0.6

#: Never steps smaller than this.
RESERVE_MIN = 4


def reserved_height(lines: int, step: int) -> int:
    """The height a streaming body of ``lines`` takes: rounded up to a multiple of
    ``step`` once it is that tall (0: no steps).

    Why: a log that follows a reply growing a line at a time scrolls at every line, and
    a scroll changes every cell of the log (re-sent to the terminal: most of the bytes
    over SSH, and most of the compositor's work). Room made ``step`` lines at a time
    (as a terminal's jump scroll does) scrolls once per ``step`` lines; in between,
    only the new text is painted.
    """
    if step <= 0 or lines < step:
        return lines
    return -(-lines // step) * step


class MarkdownText(KeptLines):
    """Markdown drawn with Textual's line API as ONE widget, finished or still streaming.

    The text is split into top-level blocks; closed blocks are rendered once per width
    and kept, the open block is re-rendered at most once a frame (see
    :mod:`tuichat.app.render`), and only the lines on screen are ever produced, so the
    work per frame does not grow with the length of the reply.
    """

    DEFAULT_CSS = """
    MarkdownText {
        height: auto;
    }
    """

    def __init__(
        self,
        source: str = "",
        *,
        streaming: bool = False,
        fps: int = 30,
        hold: Callable[[], bool] | None = None,
        typing: Callable[[float], bool] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Create it.

        Args:
            source: Markdown text, already neutralised.
            streaming: Whether more text will come through :meth:`append`.
            fps: Most redraws per second while streaming (sets the render budget).
            hold: Says when drawing more should wait a moment (an input is not on
                screen yet: its frame goes first).
            typing: Says whether the person has been typing since a monotonic time (this
                body's start): rendering then goes in shorter, more spaced slices.
            id: The widget id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self._typing = typing
        self._born = time.monotonic()
        self._interval = 1.0 / max(1, fps)
        # While streaming, rendering closed blocks gets a third of a frame at a time: a
        # burst of text is drawn over the next frames instead of freezing the keys.
        budget = min(RENDER_BUDGET, self._interval / 3) if streaming else None
        # (markdown-it, rich.markdown, Pygments: only once a message is shown, so that
        # the app's first frame does not wait for them.)
        from ..render import MarkdownDocument

        self.document: MarkdownDocument = MarkdownDocument(
            source, finished=not streaming, budget=budget
        )
        """The blocks and their rendered lines."""
        self.frames = 0
        """How many times the reply was redrawn with new text (at most ``fps`` a second)."""
        self._catch_up = Later(self, self.commit, hold)
        self._redraw_later = Later(self, self._redraw_now, hold)
        self._last_redraw = 0.0
        self._slice_end = 0.0
        self._draining = False
        self._final_lines = 0
        self._final_width = 0
        self._unchanged = 0
        self._style_cache: Style | None = None
        self._context_cache: RenderContext | None = None
        # The step of the room made for a streaming body (set at its first layout, from
        # the terminal's height; 0 until then, and once the text is finished).
        self._step = 0
        self._lines = 0  # the text's lines at the last redraw
        self._on_drawn: Callable[[], object] | None = None

    @property
    def source(self) -> str:
        """The Markdown source."""
        return self.document.source

    def _render_context(self) -> RenderContext:
        # Kept until the styles change (a theme may switch the code theme): building it
        # for every line painted showed in profiles.
        context = self._context_cache
        if context is None:
            from ..render import RenderContext

            app = self.app
            # hyperlinks are off in TokenMarkdown: each link's address is printed next to
            # its text, so a reply cannot disguise where it goes, and nothing opens on click.
            context = self._context_cache = RenderContext(
                app.console,
                app.console_options,
                "monokai" if app.current_theme.dark else "default",
            )
        return context

    def append(self, text: str) -> None:
        """Queue more text (already neutralised); it shows at the next :meth:`commit`."""
        self.document.feed(text)

    def commit(self) -> bool:
        """Take in the queued text and draw what the render budget allows.

        Called at most once a frame by the reply (which batches deltas); when rendering
        falls behind, the rest is drawn on the following frames.

        Returns:
            Whether some of the text is still waiting to be drawn.
        """
        changed = self.document.update()
        shown = self.document.backlog
        behind = self._advance()
        if changed or self.document.backlog != shown:
            self._want_redraw()
        if not self._redraw_later.armed:
            self._check_drawn()
        return behind

    def when_drawn(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once the finished text is all drawn (its last redraw done),
        or at once if it is already."""
        self._on_drawn = callback
        if not self._redraw_later.armed:
            self._check_drawn()

    def _check_drawn(self) -> None:
        callback = self._on_drawn
        if callback is None or not self.document.finished:
            return
        if self.is_mounted and (not self.size.width or self.document.backlog):
            return  # (not laid out yet: its first layout renders it all, see on_resize)
        self._on_drawn = None
        callback()

    def on_resize(self) -> None:
        """Laid out (the first time: with all its lines rendered)."""
        self._check_drawn()

    def _want_redraw(self) -> None:
        """Redraw now, or once an interval has passed since the last redraw: slices of
        rendering come often, and each redraw of a growing reply is a frame that
        scrolls the whole log (10 ms)."""
        if self.document.budget is None:
            self._redraw_now()
            return
        if self._redraw_later.armed:
            return
        wait = self._last_redraw + self._interval - time.monotonic()
        if wait <= 0:
            self._redraw_now()
        else:
            self._redraw_later.arm(wait)

    def _redraw_now(self) -> None:
        self._redraw_later.cancel()
        self._last_redraw = time.monotonic()
        self.frames += 1
        self._redraw()
        self._check_drawn()

    def _advance(self) -> bool:
        """Render within budget; returns whether closed blocks are still waiting."""
        document = self.document
        if not document.backlog:
            return False
        width = self.size.width
        if not (width and self.is_mounted):
            # Not laid out yet: the first layout renders everything (no budget).
            document.budget = None
            return False
        typing = self._typing is not None and self._typing(self._born)
        gap = CATCH_UP_GAP_TYPING if typing else CATCH_UP_GAP
        early = self._slice_end + gap - time.monotonic()
        if early > 0 and not self._draining:
            # A slice just ran (a flush and the reply's end come together): the gap first.
            if not self._catch_up.armed:
                self._catch_up.arm(early)
            return True
        if not self._draining:
            document.budget = min(
                RENDER_BUDGET_TYPING if typing else RENDER_BUDGET, self._interval / 3
            )
        caught_up = document.advance(width, self._render_context())
        self._slice_end = time.monotonic()
        if caught_up:
            self._catch_up.cancel()
        else:
            # The next slice comes after the gap, whoever made this one (the reply's
            # flush or the catch-up itself); redraws keep their own pace
            # (:meth:`_want_redraw`).
            self._catch_up.arm(gap)
        return not caught_up

    def finish(self) -> None:
        """No more text will come: the last block is closed and kept too."""
        if self.document.finished:
            return
        self.document.finish()
        # Drawn in a slice of its own, not inside the caller's handler (the screen's, as
        # the reply ends: with the rest of that handler, 10 ms no key got between).
        self._catch_up.arm(CATCH_UP_GAP)
        if self._step:
            # The room made ahead goes (the text's own height from now on), at the
            # redraws' own pace.
            self._step = 0
            self._want_redraw()

    async def drawn(self) -> None:
        """Wait until every block received is drawn (the event loop runs meanwhile)."""
        self._draining = True
        try:
            while self.document.backlog and self.is_mounted and self.size.width:
                self.commit()
                await asyncio.sleep(0)
        finally:
            self._draining = False
        if self._redraw_later.armed:
            self._redraw_now()
        if self.document.backlog:
            self.document.budget = None
            self.refresh(layout=True)

    def _redraw(self) -> None:
        width = self.size.width
        if not (width and self.is_mounted):
            self.refresh(layout=True)
            return
        context = self._render_context()
        document = self.document
        # Lines of closed blocks never change: only those from the first line that was
        # not final at the last redraw are painted again (and kept through a growth).
        first = self._final_lines if width == self._final_width else 0
        self._unchanged = first
        self._final_lines = document.final_height(width, context)
        self._final_width = width
        old = self.size.height
        # (The room made ahead is blank before and after: not painted again.)
        lines = document.height(width, context)
        bottom = min(old, max(lines, self._lines))
        self._lines = lines
        changed = Region(0, first, width, max(1, bottom - first))
        if self._height(width, context) == old:
            # Same height: repaint only.
            if first < old:
                self.refresh(changed)
            return
        # Otherwise the layout must make room (measured again: see relayout).
        relayout(self, changed)

    def lines_unchanged(self) -> int:
        """Lines above those changed since the last redraw (see :class:`KeptLines`)."""
        return self._unchanged if self.size.width == self._final_width else 0

    def get_content_width(self, container: Size, viewport: Size) -> int:
        """As wide as the container: the text wraps to it."""
        return container.width

    def measure(self) -> tuple[int, RenderContext] | None:
        """The width and rendering context this (mounted) body draws at, to prepare
        others like it (:meth:`prepare`); None before it is laid out."""
        width = self.size.width
        if not width or not self.is_mounted:
            return None
        return width, self._render_context()

    def prepare(self, width: int, context: RenderContext, budget: float) -> bool:
        """Render the text at ``width`` ahead of its first layout, for about ``budget``
        seconds; returns whether it is all rendered (see ``MarkdownDocument.prepare``)."""
        return self.document.prepare(width, context, budget)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """The number of lines at ``width`` (closed blocks are measured once per width);
        while streaming, rounded up to the next step (see :func:`reserved_height`)."""
        if not self.document.finished:
            self._step = max(RESERVE_MIN, int(self._scroller_height(viewport) * RESERVE_SHARE))
        return self._height(width, self._render_context())

    def _scroller_height(self, viewport: Size) -> int:
        """The height of the view this body scrolls in (the terminal's, outside one)."""
        for node in self.ancestors:
            if isinstance(node, ScrollableContainer) and node.size.height:
                return node.scrollable_content_region.height
        return viewport.height

    def _height(self, width: int, context: RenderContext) -> int:
        lines = self.document.height(width, context)
        if self.document.finished:
            return lines
        return reserved_height(lines, self._step)

    def render_line(self, y: int) -> Strip:
        """Line ``y``, from the kept lines of its block."""
        # `rich_style` walks every ancestor's styles: once per style change, not per line
        # (it was most of the cost of painting a frame).
        style = self._style_cache
        if style is None:
            style = self._style_cache = self.rich_style
        width = self.size.width
        line = self.document.line(y, width, self._render_context())
        if line is None:
            return Strip.blank(width, style)
        return line.apply_style(style).extend_cell_length(width, style)

    def notify_style_update(self) -> None:
        """A theme change may change the code theme: render again (lazily)."""
        super().notify_style_update()
        self._style_cache = None
        self._context_cache = None
        self._final_width = 0
        self.refresh(layout=True)
