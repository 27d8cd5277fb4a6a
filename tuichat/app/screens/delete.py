"""The delete confirmation: y deletes, n or Esc keeps the conversation (or message)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tuichat.sanitize import one_line


class DeleteScreen(ModalScreen[bool]):
    """Ask before deleting a conversation or a message; dismisses with True to delete."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Delete"),
        Binding("n,escape", "answer(False)", "Keep"),
    ]

    def __init__(
        self, title: str, *, heading: str = "Delete conversation?", detail: str | None = None
    ) -> None:
        """Create it.

        Args:
            title: The conversation's title (plain text, shown literally).
            heading: The question.
            detail: What will be deleted (plain text); by default, the conversation.
        """
        super().__init__()
        self._title = one_line(title, 80) or "New conversation"
        self._heading = heading
        self._detail = detail or f"“{self._title}” and all its messages will be deleted."

    def compose(self) -> ComposeResult:
        """The question and the keys."""
        with Vertical(id="delete-dialog", classes="dialog"):
            yield Label(self._heading, classes="dialog-heading")
            # (A Label is as wide as its text and was cut at the dialog's edge: this wraps.)
            yield Static(Content(self._detail))
            yield Label("y delete · n keep", classes="dialog-hint")

    def action_answer(self, delete: bool) -> None:
        """Dismiss with the answer."""
        self.dismiss(delete)
