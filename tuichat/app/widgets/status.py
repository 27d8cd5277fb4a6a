"""The one-line status bar above the prompt: which provider and model answer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label

from tuichat.sanitize import one_line

#: The badge shown while the offline demo provider answers.
DEMO_BADGE = "DEMO — offline, no key needed"


class StatusBar(Horizontal):
    """Shows ``provider · model`` and, for the demo provider, a visible badge."""

    def compose(self) -> ComposeResult:
        """The model label, the demo badge and a free note on the right."""
        yield Label(id="status-model")
        yield Label(DEMO_BADGE, id="demo-badge")
        yield Label(id="status-note")

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

    def show_note(self, note: str) -> None:
        """Show a short note on the right (``responding…``), or clear it with ''.

        Args:
            note: Plain text.
        """
        self.query_one("#status-note", Label).update(Content(one_line(note, 120)))
