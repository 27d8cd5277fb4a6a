"""A reply's reasoning ("thinking"), collapsed to one line until the person opens it.

One widget, not a :class:`~textual.widgets.Collapsible` (three widgets and a focusable
title): the chat log stays a few widgets per message, and the screen toggles it with a key.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from tuichat.sanitize import neutralize


class ReasoningView(Static):
    """The reasoning text of one reply: a summary line, or the whole text when expanded."""

    expanded: reactive[bool] = reactive(False)
    """Whether the whole text is shown."""

    def __init__(
        self,
        text: str = "",
        *,
        live: bool = False,
        toggle_key: str = "t",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Create it.

        Args:
            text: The reasoning so far (untrusted: neutralised here).
            live: Whether more is arriving (the summary says "thinking…").
            toggle_key: The key shown in the summary line.
            id: The widget id.
            classes: CSS classes.
        """
        super().__init__(markup=False, id=id, classes=classes)
        # Pieces, joined on demand: the reasoning of a long reply arrives in thousands of
        # deltas, and the collapsed line only needs a running word count.
        self._parts: list[str] = []
        self._words = 0
        self.live = live
        self.toggle_key = toggle_key
        if text:
            self._add(neutralize(text))

    @property
    def text(self) -> str:
        """The reasoning received so far."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def append(self, text: str) -> None:
        """Add reasoning text as it streams."""
        self._add(neutralize(text))
        self._show()

    def _add(self, text: str) -> None:
        if not text:
            return
        words = len(text.split())
        # A word split across two deltas is one word.
        if self._parts and words and not self._parts[-1][-1:].isspace() and not text[0].isspace():
            words -= 1
        self._words += words
        self._parts.append(text)

    def finish(self) -> None:
        """No more reasoning will arrive."""
        self.live = False
        self._show()

    def on_mount(self) -> None:
        """Draw the first state."""
        self._show()

    def watch_expanded(self) -> None:
        """Redraw when opened or closed."""
        self._show()

    def _show(self) -> None:
        words = self._words
        state = "thinking…" if self.live else f"{words} word{'s' if words != 1 else ''}"
        marker = "▼" if self.expanded else "▶"
        verb = "hides" if self.expanded else "shows"
        summary = f"{marker} Reasoning ({state}) · {self.toggle_key} {verb}"
        if self.expanded:
            self.update(Content.assemble((summary, "bold"), "\n", self.text))
        else:
            self.update(Content(summary))
        self.set_class(self.expanded, "-expanded")
