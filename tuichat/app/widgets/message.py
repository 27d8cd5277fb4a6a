"""Messages in the chat log: the person's prompt and the assistant's reply.

:class:`ReplyView` keeps a deliberately small API (``append``, ``flush``, ``finish``,
``show_error``, ``set_meta``) so that its renderer can be replaced without touching the
screen. Today a reply streams into one live :class:`~textual.widgets.Markdown` (many
block widgets) and becomes a single widget when it ends, because the number of live
widgets is what makes long conversations slow (DESIGN.md section 9).
"""

from __future__ import annotations

import asyncio
import time

from rich.console import RenderableType
from rich.markdown import Markdown as RichMarkdown
from textual.app import ComposeResult
from textual.content import Content
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from tuichat.sanitize import neutralize, one_line

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


class MarkdownText(Widget):
    """A finished Markdown text drawn by Rich as ONE widget, however many blocks it has."""

    def __init__(self, source: str, *, id: str | None = None, classes: str | None = None) -> None:
        """Create it.

        Args:
            source: Markdown text, already neutralised.
            id: The widget id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self.source = source
        """The Markdown source."""

    def render(self) -> RenderableType:
        """Render with a code theme that suits the app's light or dark theme."""
        dark = self.app.current_theme.dark
        # hyperlinks=False prints each link's address next to its text, so a reply
        # cannot disguise where a link goes.
        return RichMarkdown(
            self.source,
            code_theme="monokai" if dark else "default",
            hyperlinks=False,
        )


class ReplyView(Widget):
    """One assistant reply: its text, an optional error line, and a dim meta line.

    A history reply is built finished (``ReplyView(text, meta=...)``): one body widget and
    the meta line (plus an error line when it failed). A live reply (``streaming=True``) is
    fed with :meth:`append`, redrawn at most ``fps`` times a second, and sealed by
    :meth:`finish`.
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
            id: The widget id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self._text = neutralize(content)
        self._meta = neutralize(meta)
        self._error = neutralize(error) if error else ""
        self._status = status
        self._streaming = streaming
        self._interval = 1.0 / max(1, fps)
        self._pending: list[str] = []
        self._last_flush = 0.0
        self._timer: Timer | None = None
        self._stream: MarkdownStream | None = None
        self._live: Markdown | None = None
        self.add_class(f"-{status}")
        self.set_class(bool(self._error), "-has-error")

    @property
    def text(self) -> str:
        """Everything received so far (neutralised)."""
        return self._text

    @property
    def status(self) -> str:
        """The status the reply was last given."""
        return self._status

    def compose(self) -> ComposeResult:
        """The body (live Markdown or one finished widget), the error and the meta line."""
        if self._streaming:
            self._live = Markdown(self._text, open_links=False, classes="reply-live")
            yield self._live
        elif self._text:
            yield MarkdownText(self._text, classes="reply-body")
        if self._error:
            yield Static(Content(self._error), markup=False, classes="reply-error")
        yield Static(Content(self._meta), markup=False, classes="reply-meta")

    def on_mount(self) -> None:
        """Open the Markdown stream of a live reply."""
        if self._live is not None:
            self._stream = Markdown.get_stream(self._live)

    async def append(self, text: str) -> None:
        """Add a piece of the reply; it is drawn within one frame interval.

        Args:
            text: The new text (neutralised here again; control characters never pass).
        """
        text = neutralize(text)
        if not text:
            return
        self._text += text
        if self._stream is None:
            return
        self._pending.append(text)
        if self._timer is not None:
            return
        wait = self._last_flush + self._interval - time.monotonic()
        if wait <= 0:
            await self._flush()
        else:
            self._timer = self.set_timer(wait, self._flush, name="reply-flush")

    async def _flush(self) -> None:
        self._timer = None
        if not self._pending or self._stream is None:
            return
        chunk = "".join(self._pending)
        self._pending.clear()
        self._last_flush = time.monotonic()
        await self._stream.write(chunk)

    async def flush(self) -> None:
        """Draw everything received so far now, and wait until it is drawn."""
        if self._timer is not None:
            self._timer.stop()
        await self._flush()
        if self._stream is not None and self._live is not None:
            # Stopping a MarkdownStream waits for its last append; start a fresh one.
            await self._stop_stream()
            self._stream = Markdown.get_stream(self._live)

    async def finish(self, *, status: str, meta: str) -> None:
        """Seal the reply: replace the live Markdown by one widget and show how it ended.

        Args:
            status: The final message status (``complete``, ``cancelled``...).
            meta: The new meta line.
        """
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._pending.clear()
        await self._stop_stream()
        live, self._live = self._live, None
        with self.app.batch_update():
            if self._text:
                await self.mount(MarkdownText(self._text, classes="reply-body"), before=0)
            if live is not None:
                await live.remove()
        self._set_status(status)
        self.set_meta(meta)

    async def _stop_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            await stream.stop()
        except asyncio.CancelledError:
            # MarkdownStream.stop() cancels its task; a task cancelled before it first ran
            # re-raises that here (Textual 8.2.8). Only our own cancellation must go on.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise

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
