"""The offer made when the next request would not fit: one key for each way on.

Shown when ``[context] when_full = "ask"`` and the next request passes ``[context]
share`` of the model's window. ``s`` summarises the older turns and then sends, ``t``
sends with the oldest turns left out (trimmed, as without this dialog), ``n`` starts a
new conversation seeded with a summary of this one and sends there, ``c`` or Esc goes
back to the prompt, whose text stays.
"""

from __future__ import annotations

import time
from typing import ClassVar, Literal

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

FullChoice = Literal["summarise", "trim", "fork"]
"""What to do with a request that would not fit (None: nothing, the prompt stays)."""


class ContextFullScreen(ModalScreen[FullChoice | None]):
    """Dismisses with the way chosen, or None to cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "answer('summarise')", "Summarise"),
        Binding("t", "answer('trim')", "Trim"),
        Binding("n", "answer('fork')", "New conversation"),
        Binding("c,escape", "answer(None)", "Cancel"),
    ]

    def __init__(self, model: str, used: str) -> None:
        """Create it.

        Args:
            model: The model whose window is full (plain text, shown literally).
            used: How much of it the request would use, as the meter says it.
        """
        super().__init__()
        self._model = model
        self._used = used
        self.shown_at = float("inf")

    def compose(self) -> ComposeResult:
        """The situation, the choices and the keys."""
        with Vertical(id="context-full-dialog", classes="dialog"):
            yield Label("This conversation is too long", classes="dialog-heading")
            yield Static(
                Content(
                    f"The next request would use {self._used} of {self._model}'s context "
                    "window. Your prompt is kept whatever you choose."
                ),
                markup=False,
            )
            yield Static(
                Content(
                    "s  summarise the older turns, then send\n"
                    "t  trim: leave the oldest turns out of this request\n"
                    "n  new conversation, started from a summary of this one\n"
                    "c  cancel (back to the prompt)"
                ),
                markup=False,
                classes="context-full-choices",
            )
            yield Label("s summarise · t trim · n new · c cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        """From now on keys count."""
        self.shown_at = time.monotonic()

    def on_key(self, event: events.Key) -> None:
        """Swallow keys typed before the dialog showed: they were meant for the prompt."""
        if event.time < self.shown_at:
            event.prevent_default()
            event.stop()

    def action_answer(self, choice: FullChoice | None) -> None:
        """Dismiss with the choice."""
        self.dismiss(choice)
