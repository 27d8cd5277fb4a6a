"""Messages in the chat log: the person's prompt and the assistant's reply.

:class:`ReplyView` keeps a deliberately small API (``append``, ``flush``, ``finish``,
``show_error``, ``set_meta``) so that its renderer can be replaced without touching the
screen. A reply's body is ONE :class:`MarkdownText` widget, streaming or finished: it
renders each closed Markdown block once and paints with the line API (only visible
lines), because both the number of live widgets and re-rendering the whole reply per
frame are what made stock Markdown widgets slow (DESIGN.md section 9).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from rich.style import Style
from textual.app import ComposeResult
from textual.content import Content
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widgets import Static

from tuichat.sanitize import neutralize, one_line

from .. import heap
from ..later import Later
from ..patches.kept_lines import KeptLines
from ..patches.relayout import relayout

if TYPE_CHECKING:
    from ..render import MarkdownDocument, RenderContext

#: Most seconds of one slice of Markdown rendering while a reply streams.
RENDER_BUDGET = 0.008

#: The same while the person is typing: a key press never waits behind more than this.
RENDER_BUDGET_TYPING = 0.004

#: Most seconds a streaming reply takes deltas in before letting other work run.
YIELD_EVERY = 0.004

#: Between two slices of the closed blocks still to draw (after the frames and keys
#: already waiting).
CATCH_UP_GAP = 0.001

#: The same while the person is typing: as long as a slice, so the keys and frames get at
#: least half the time (the rest of a fast 20k reply shows ~0.7 s later).
CATCH_UP_GAP_TYPING = RENDER_BUDGET_TYPING

#: How each final status of a reply is put to the person.
STATUS_LABELS: dict[str, str] = {
    "streaming": "streaming…",
    "complete": "complete",
    "length": "stopped by max tokens",
    "cancelled": "cancelled",
    "interrupted": "interrupted",
    "error": "failed",
}


def reply_meta(
    *,
    provider: str | None,
    model: str | None,
    status: str,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    ttft_ms: float | None = None,
    note: str | None = None,
) -> str:
    """The dim line under a reply: who wrote it, its figures and how it ended.

    Args:
        provider: Provider instance name.
        model: Model name.
        status: A message status (``complete``, ``cancelled``...).
        input_tokens: Prompt tokens, if reported.
        output_tokens: Reply tokens, if reported.
        ttft_ms: Time to first token in milliseconds, if known.
        note: Shown instead of the status (``retrying in 2 s (attempt 2 of 3)``).

    Returns:
        One line of plain text, e.g. ``openai · gpt-4o-mini · 12 in / 80 out tokens ·
        first token 0.4 s · complete``.
    """
    parts = [one_line(" · ".join(p for p in (provider, model) if p), 120)]
    if input_tokens is not None or output_tokens is not None:
        shown_in = "?" if input_tokens is None else str(input_tokens)
        shown_out = "?" if output_tokens is None else str(output_tokens)
        parts.append(f"{shown_in} in / {shown_out} out tokens")
    if ttft_ms is not None:
        parts.append(f"first token {ttft_ms / 1000:.2f} s")
    parts.append(one_line(note, 200) if note else STATUS_LABELS.get(status, status))
    return " · ".join(part for part in parts if part)


class UserMessage(Static):
    """The person's prompt, shown as plain text (never as markup or Markdown)."""

    def __init__(self, text: str, *, id: str | None = None, classes: str | None = None) -> None:
        """Create it.

        Args:
            text: The prompt as typed.
            id: The widget id.
            classes: CSS classes.
        """
        super().__init__(Content(neutralize(text)), markup=False, id=id, classes=classes)
        self.text = text
        """The prompt as typed."""


class SummaryView(Static):
    """A summary of older turns (sent in their place), folded to its first line."""

    def __init__(self, text: str, meta: Mapping[str, object], *, id: str | None = None) -> None:
        """Create it.

        Args:
            text: The summary the model wrote.
            meta: Its meta (``covers``: how many messages, ``by``: which model).
            id: The widget id.
        """
        covers, by = meta.get("covers"), meta.get("by")
        first = one_line(text, 100)
        head = f"Summary of {covers} earlier messages" if isinstance(covers, int) else "Summary"
        if isinstance(by, str):
            head += f" (by {by})"
        if meta.get("edited") is True:
            head += ", edited"
        super().__init__(
            Content(neutralize(f"{head}, sent in their place: {first}")),
            markup=False,
            id=id,
            classes="summary",
        )
        self.text = text


class InlineError(Static):
    """A one-sentence error shown in the chat log outside any reply."""

    def __init__(self, sentence: str, *, id: str | None = None, classes: str | None = None) -> None:
        """Create it.

        Args:
            sentence: The error, one human sentence (neutralised here again).
            id: The widget id.
            classes: CSS classes.
        """
        super().__init__(Content(neutralize(sentence)), markup=False, id=id, classes=classes)


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
        return behind

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
        changed = Region(0, first, width, max(1, old - first))
        if document.height(width, context) == old:
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
        """The number of lines at ``width`` (closed blocks are measured once per width)."""
        return self.document.height(width, self._render_context())

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


class ReplyView(KeptLines):
    """One assistant reply: its text, an optional error line, and a dim meta line.

    A history reply is built finished (``ReplyView(text, meta=...)``): one body widget and
    the meta line (plus an error line when it failed). A live reply (``streaming=True``) is
    fed with :meth:`append`, redrawn at most ``fps`` times a second, and sealed by
    :meth:`finish`. The body is a :class:`MarkdownText` either way.
    """

    DEFAULT_CSS = """
    ReplyView {
        height: auto;
    }
    """

    def __init__(
        self,
        content: str = "",
        *,
        meta: str = "",
        status: str = "complete",
        error: str | None = None,
        streaming: bool = False,
        fps: int = 30,
        hold: Callable[[], bool] | None = None,
        typing: Callable[[float], bool] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Create it.

        Args:
            content: The reply's text so far (Markdown).
            meta: The dim line under the reply (see :func:`reply_meta`).
            status: The message status; shown as a ``-<status>`` CSS class.
            error: An error sentence to show under the text.
            streaming: Whether more text will arrive through :meth:`append`.
            fps: Most redraws per second while streaming.
            hold: Says when drawing more should wait a moment (an input is not on
                screen yet: its frame goes first, then this text).
            typing: Says whether the person is typing (rendering leaves keys more room).
            id: The widget id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes)
        text = neutralize(content)
        # Pieces, joined on demand: `self._text += delta` would copy the whole reply
        # on every delta (attribute targets miss CPython's in-place concatenation).
        self._parts: list[str] = [text] if text else []
        self._meta = neutralize(meta)
        self._error = neutralize(error) if error else ""
        self._status = status
        self._streaming = streaming
        self._fps = fps
        self._interval = 1.0 / max(1, fps)
        self._hold = hold
        self._typing = typing
        self._last_flush = 0.0
        self._flush = Later(self, self._commit, hold)
        self._froze = False
        self._yield_at = 0.0
        self._body: MarkdownText | None = None
        self.add_class(f"-{status}")
        self.set_class(bool(self._error), "-has-error")

    def lines_unchanged(self) -> int:
        """The reply's own lines (its edge) are alike from top to bottom; all but the last
        (where a bottom edge would be) stay as they are when it grows."""
        return self.size.height - 1

    @property
    def text(self) -> str:
        """Everything received so far (neutralised)."""
        parts = self._parts
        if not parts:
            return ""
        if len(parts) > 1:
            self._parts = parts = ["".join(parts)]
        return parts[0]

    @property
    def status(self) -> str:
        """The status the reply was last given."""
        return self._status

    @property
    def body(self) -> MarkdownText | None:
        """The Markdown body (None for an empty finished reply)."""
        return self._body

    def _make_body(self) -> MarkdownText | None:
        if self._body is None and (self._streaming or self._parts):
            self._body = MarkdownText(
                self.text,
                streaming=self._streaming,
                fps=self._fps,
                hold=self._hold,
                typing=self._typing,
                classes="reply-body",
            )
        return self._body

    def prepare(self, width: int, context: RenderContext, budget: float) -> bool:
        """Before it is mounted: parse and render the body at ``width`` for about
        ``budget`` seconds; returns whether it is ready (its layout will cost nothing)."""
        body = self._make_body()
        return body is None or body.prepare(width, context, budget)

    def compose(self) -> ComposeResult:
        """The body (one widget, live or finished), the error and the meta line."""
        body = self._make_body()
        if body is not None:
            yield body
        if self._error:
            yield Static(Content(self._error), markup=False, classes="reply-error")
        yield Static(Content(self._meta), markup=False, classes="reply-meta")

    def on_mount(self) -> None:
        """A live reply keeps the garbage collector off the rest of the app meanwhile."""
        if self._streaming and not self._froze:
            self._froze = True
            heap.stream_started()

    def on_unmount(self) -> None:
        """Removed while streaming (another conversation opened): thaw the heap."""
        self._thaw()

    def _thaw(self) -> None:
        if self._froze:
            self._froze = False
            heap.stream_ended()

    async def append(self, text: str) -> None:
        """Add a piece of the reply; it is drawn within one frame interval.

        Args:
            text: The new text (neutralised here again; control characters never pass).
        """
        text = neutralize(text)
        if not text:
            return
        self._parts.append(text)
        now = time.monotonic()
        if now >= self._yield_at:
            # A fast stream hands over deltas without ever waiting (they are already
            # buffered): let key presses and frames in every few milliseconds.
            await asyncio.sleep(0)
            self._yield_at = time.monotonic() + YIELD_EVERY
        body = self._body
        if body is None or not self._streaming:
            return
        body.append(text)
        if self._flush.armed:
            return
        wait = self._last_flush + self._interval - time.monotonic()
        if wait <= 0:
            # (Unless a key press waits to be shown: a frame with only its change is
            # cheap, one that also scrolls the reply is not. Its frame first.)
            self._flush.now()
        else:
            self._flush.arm(wait)

    def _commit(self) -> None:
        self._last_flush = time.monotonic()
        if self._body is not None:
            self._body.commit()

    async def flush(self) -> None:
        """Draw everything received so far now, and wait until it is drawn."""
        self._flush.cancel()
        self._commit()
        if self._body is not None:
            await self._body.drawn()

    async def finish(self, *, status: str, meta: str) -> None:
        """Seal the reply: the last block is closed and kept; show how it ended.

        Args:
            status: The final message status (``complete``, ``cancelled``...).
            meta: The new meta line.
        """
        self._flush.cancel()
        self._streaming = False
        body = self._body
        if body is not None:
            if self._parts:
                # Blocks still waiting to be drawn (a burst at the end) are drawn by the
                # catch-up timer, a slice per frame with input first: awaited here, they
                # kept the screen busy, so a key pressed as the reply ended waited for
                # all of them (100+ ms after a fast 20k reply).
                body.finish()
            else:
                # Nothing arrived: a history of replies stays a few widgets each.
                self._body = None
                await body.remove()
        self._set_status(status)
        self.set_meta(meta)
        self._thaw()

    def show_error(self, sentence: str) -> None:
        """Show one human sentence about what went wrong, under the text received.

        Args:
            sentence: The error (neutralised here again).
        """
        self._error = neutralize(sentence)
        shown = self.query(".reply-error")
        if shown:
            shown.first(Static).update(Content(self._error))
        else:
            # Mounted only when needed: a history of replies stays a few widgets each.
            error = Static(Content(self._error), markup=False, classes="reply-error")
            self.mount(error, before=self.query_one(".reply-meta"))
        self.add_class("-has-error")

    def set_meta(self, meta: str) -> None:
        """Replace the dim line under the reply.

        Args:
            meta: The new line (see :func:`reply_meta`).
        """
        self._meta = neutralize(meta)
        self.query_one(".reply-meta", Static).update(Content(self._meta))

    def _set_status(self, status: str) -> None:
        self.remove_class(f"-{self._status}")
        self._status = status
        self.add_class(f"-{status}")
