"""One column of compare mode: which model, its live figures, and its reply scrolling below.

The reply is an ordinary :class:`~.message.ReplyView` (its body one streaming
:class:`~.markdown_text.MarkdownText`, redrawn at most once a frame), so three fast streams
cost three coalesced redraws per frame, as one does in the chat log.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tuichat.sanitize import one_line

from .message import ReplyView


class CompareColumn(Vertical):
    """A model's column: a border titled ``n · provider · model``, a stats line and the reply.

    The screen feeds it: :meth:`show_reply` puts the (live or finished) reply in, and
    :meth:`show_stats` replaces the figures line.
    """

    def __init__(
        self,
        number: int,
        label: str,
        *,
        stats: str = "",
        reply: ReplyView | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Create it.

        Args:
            number: The column's number as shown (1-based; its pick key).
            label: ``provider · model`` (neutralised and shortened here).
            stats: The first figures line.
            reply: A reply to show from the start (a stored comparison).
            id: The widget id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self.number = number
        """The column's number (1-based)."""
        self._stats = stats
        self._reply = reply
        self.border_title = Content(f"{number} · {one_line(label, 80)}")

    def compose(self) -> ComposeResult:
        """The stats line, then the reply in its own scrolling area."""
        yield Static(Content(self._stats), markup=False, classes="column-stats")
        with VerticalScroll(classes="column-body"):
            if self._reply is not None:
                yield self._reply

    @property
    def body(self) -> VerticalScroll:
        """The scrolling area holding the reply."""
        return self.query_one(".column-body", VerticalScroll)

    @property
    def reply(self) -> ReplyView | None:
        """The reply shown, if any."""
        return self._reply

    async def show_reply(self, reply: ReplyView) -> None:
        """Show ``reply`` (a live one is then fed by the screen)."""
        self._reply = reply
        body = self.body
        await body.remove_children()
        await body.mount(reply)

    def follow(self) -> None:
        """Keep the end of a growing reply in view, once it is taller than the column.

        Anchoring earlier would draw a short reply at the bottom of the column; once
        anchored, scrolling up lets go until the end is reached again (Textual's anchor).
        """
        body = self.body
        if not body.is_anchored and body.max_scroll_y > 0:
            body.anchor()

    def show_stats(self, text: str) -> None:
        """Replace the figures line."""
        if text != self._stats:
            self._stats = text
            self.query_one(".column-stats", Static).update(Content(text))

    def set_label(self, label: str, *, mark: str = "") -> None:
        """Retitle the column (``mark``: a word after the label, like ``on show``)."""
        title = f"{self.number} · {one_line(label, 80)}"
        self.border_title = Content(f"{title} · {mark}" if mark else title)
