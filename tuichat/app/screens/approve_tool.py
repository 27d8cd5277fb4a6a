"""Asking the person before a tool runs: the tool, its server and the exact arguments.

A call runs only on a key pressed while the question shows: a key typed before it
appeared (the person was writing, or pressing Enter to send) is ignored, so it cannot
approve a call nobody read. ``y`` runs it once, ``a`` runs this tool without asking for
the rest of the conversation, ``n`` or Esc declines (the model is told so).
"""

from __future__ import annotations

import time
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tuichat.protocol import ToolCall
from tuichat.sanitize import neutralize
from tuichat.tool_loop import Decision
from tuichat.tty_approval import arguments_shown


class ApproveToolScreen(ModalScreen[Decision]):
    """Dismisses with ``"yes"``, ``"always"`` or ``"no"``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer('yes')", "Run once"),
        Binding("a", "answer('always')", "Always"),
        Binding("n,escape", "answer('no')", "Decline"),
    ]

    def __init__(self, tool: str, server: str, call: ToolCall) -> None:
        """Create it.

        Args:
            tool: The tool's name as its server lists it.
            server: The server (its ``[mcp.NAME]`` table) or plugin offering it.
            call: The call, with the arguments the model wrote.
        """
        super().__init__()
        self.tool = tool
        self.server = server
        self.call = call
        self.shown_at = float("inf")

    def compose(self) -> ComposeResult:
        """The question, the arguments and the keys."""
        with Vertical(id="approve-dialog", classes="dialog"):
            yield Label(
                Content(f"Run {neutralize(self.tool)}?"), classes="dialog-heading", markup=False
            )
            yield Static(
                Content(f"The model calls this tool of {neutralize(self.server)} with:"),
                markup=False,
            )
            with VerticalScroll(id="approve-arguments"):
                yield Static(Content(arguments_shown(self.call.arguments)), markup=False)
            yield Label(
                "y run once · a always, this conversation · n decline", classes="dialog-hint"
            )

    def on_mount(self) -> None:
        """From now on keys count."""
        self.shown_at = time.monotonic()

    def on_key(self, event: events.Key) -> None:
        """Swallow keys pressed before the question showed (queued type-ahead)."""
        if event.time < self.shown_at:
            event.prevent_default()
            event.stop()

    def action_answer(self, decision: Decision) -> None:
        """Dismiss with the answer."""
        self.dismiss(decision)
