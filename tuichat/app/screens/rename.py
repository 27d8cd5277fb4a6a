"""The rename dialog: an input prefilled with the title; Enter saves, Esc cancels."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from tuichat.sanitize import one_line


class RenameScreen(ModalScreen[str | None]):
    """Ask for a conversation's new title.

    Dismisses with the new title (stripped, never empty), or None when cancelled.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str) -> None:
        """Create it.

        Args:
            title: The current title, shown in the input.
        """
        super().__init__()
        self._title = one_line(title, 200)

    def compose(self) -> ComposeResult:
        """A heading, the input and a hint."""
        with Vertical(id="rename-dialog", classes="dialog"):
            yield Label("Rename conversation", classes="dialog-heading")
            yield Input(self._title, placeholder="Title", id="rename-input")
            yield Label("Enter saves · Esc cancels", classes="dialog-hint")

    @on(Input.Submitted, "#rename-input")
    def save(self, event: Input.Submitted) -> None:
        """Dismiss with the new title; an empty one is refused."""
        title = one_line(event.value, 200)
        if title:
            self.dismiss(title)
        else:
            self.notify("A title cannot be empty.", severity="warning", markup=False)

    def action_cancel(self) -> None:
        """Dismiss without renaming."""
        self.dismiss(None)
