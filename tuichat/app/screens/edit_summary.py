"""Editing a summary: its text in a box like the prompt's; Enter saves, Esc cancels.

What is saved is what every later request sends in place of the turns it covers, so
the person can fix what the model got wrong or drop what no longer matters.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from ..widgets.prompt import PromptInput


class EditSummaryScreen(ModalScreen[str | None]):
    """Dismisses with the new text (never blank), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, text: str, covers: int | None) -> None:
        """Create it.

        Args:
            text: The summary's text as stored.
            covers: How many messages it stands for, if known.
        """
        super().__init__()
        self._text = text
        self._covers = covers

    def compose(self) -> ComposeResult:
        """A heading, the text and the keys."""
        with Vertical(id="summary-dialog", classes="dialog"):
            what = f"{self._covers} earlier messages" if self._covers else "the earlier messages"
            yield Label(f"Edit the summary sent in place of {what}", classes="dialog-heading")
            yield PromptInput(self._text, id="summary-input")
            yield Label("Enter saves · Ctrl+J new line · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        """Type straight into the text."""
        self.query_one("#summary-input", PromptInput).focus()

    @on(PromptInput.Submitted, "#summary-input")
    def save(self, event: PromptInput.Submitted) -> None:
        """Dismiss with the text (the box refuses to submit a blank one)."""
        event.stop()
        self.dismiss(event.text.strip())

    def action_cancel(self) -> None:
        """Dismiss without changing the summary."""
        self.dismiss(None)
