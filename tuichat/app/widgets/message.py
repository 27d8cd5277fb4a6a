"""Messages in the chat log: the person's prompt and the assistant's reply.

:class:`ReplyView` keeps a deliberately small API (``append``, ``flush``, ``finish``,
``show_error``, ``set_meta``) so that its renderer can be replaced without touching the
screen. A reply's body is ONE :class:`~.markdown_text.MarkdownText` widget, streaming or
finished (its own module: how a body renders and paces itself).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from tuichat.sanitize import neutralize, one_line

from .. import heap
from ..later import Later
from ..patches.kept_lines import KeptLines
from .markdown_text import MarkdownText

if TYPE_CHECKING:
    from ..render import RenderContext

#: Most seconds a streaming reply takes deltas in before letting other work run.
YIELD_EVERY = 0.004

#: Seconds between a finished reply's last redraw and the full collection then due: the
#: log scrolls to the new lines and paints them over the next frames (run right after
#: the redraw, the collection still came before them).
DRAWN_SETTLE = 0.25

#: Most seconds a due full collection waits after a reply ended for its last lines.
DRAWN_AFTER = 2.0

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

    def _thaw(self, *, drawn: bool = True) -> None:
        if self._froze:
            self._froze = False
            heap.stream_ended(drawn=drawn)

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
        if self._body is None:
            self._thaw()
        else:
            # A due full collection (a second with a long history open) waits until the
            # last lines are on screen, not before they are drawn.
            self._thaw(drawn=False)
            self._body.when_drawn(lambda: self.set_timer(DRAWN_SETTLE, heap.reply_drawn))
            # (And whatever happens: a body never laid out, behind another screen.)
            self.set_timer(DRAWN_AFTER, heap.reply_drawn)

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
