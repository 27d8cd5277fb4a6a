"""The one-line status bar above the prompt: which provider and model answer."""

from __future__ import annotations

from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label

from tuichat.sanitize import one_line

#: The badge shown while the offline demo provider answers.
DEMO_BADGE = "DEMO — offline, no key needed"


class Note(Label):
    """A note shown whole or not at all: the longest of its wordings that fits its width
    (a note cut at the edge left a stray letter, or lost its last words)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._wordings: tuple[str, ...] = ()

    def set_wordings(self, wordings: tuple[str, ...]) -> None:
        """Longest first; plain text."""
        self._wordings = tuple(one_line(text, 120) for text in wordings if text)
        self.refresh()

    def render(self) -> RenderResult:
        """The first wording that fits, or nothing."""
        width = self.content_region.width
        return Content(next((text for text in self._wordings if len(text) <= width), ""))


class StatusBar(Horizontal):
    """Shows ``provider · model`` and, for the demo provider, a visible badge."""

    def compose(self) -> ComposeResult:
        """The model label, the demo badge and a free note on the right."""
        yield Label(id="status-model")
        yield Label(DEMO_BADGE, id="demo-badge")
        yield Note(id="status-note")

    def show_model(self, provider: str, model: str, *, demo: bool) -> None:
        """Show who answers the next prompt.

        Args:
            provider: Provider instance name.
            model: Model name.
            demo: Whether it is the offline demo provider (shows the badge).
        """
        text = one_line(f"{provider} · {model}", 120)
        self.query_one("#status-model", Label).update(Content(text))
        self.set_class(demo, "-demo")

    def show_note(self, note: str, *shorter: str) -> None:
        """Show a short note on the right (``responding…``), or clear it with ''.

        Args:
            note: Plain text.
            shorter: Shorter wordings, for when the note does not fit (the note is shown
                whole or not at all).
        """
        self.query_one("#status-note", Note).set_wordings((note, *shorter))
