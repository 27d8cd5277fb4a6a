"""Which tool servers this conversation offers the model: a list to tick.

Remembered with the conversation. Nothing is offered until the person ticks a server:
a tool reads files or the web on the person's behalf, so it is chosen, not assumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from tuichat.sanitize import neutralize, one_line


@dataclass(frozen=True)
class ServerChoice:
    """A server as the picker lists it."""

    name: str
    detail: str
    """How it runs and whether it asks before each call (``stdio · asks``)."""
    enabled: bool
    """False: its table says ``enabled = false``; it cannot be ticked."""


class ToolList(SelectionList[str]):
    """The servers to tick. Space ticks at once (not through a message, as Textual's list
    does) and Enter saves from the list's own queue, so an Enter typed right after a Space
    finds the tick done (a screen-wide priority Enter was read ahead of it)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "tick", "Tick", show=False),
        Binding("enter", "screen.save", "Save", show=False),
    ]

    def action_tick(self) -> None:
        """Tick or untick the highlighted server."""
        if self.highlighted is None:
            return
        option = self.get_option_at_index(self.highlighted)
        if not option.disabled:
            self.toggle(option)


class PickToolsScreen(ModalScreen[list[str] | None]):
    """Dismisses with the ticked servers' names (None: cancelled)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
        # The list takes Space itself once focused; a Space typed right after F9 may reach
        # the screen before the list has the focus: it ticks the highlighted server too.
        Binding("space", "tick", "Tick", show=False),
    ]

    AUTO_FOCUS = "#tools-list"

    def __init__(self, servers: Sequence[ServerChoice], chosen: Sequence[str]) -> None:
        """Create it.

        Args:
            servers: Every configured server.
            chosen: Those this conversation offers now.
        """
        super().__init__()
        self.servers = list(servers)
        self.chosen = set(chosen)

    def compose(self) -> ComposeResult:
        """The list and the keys."""
        with Vertical(id="tools-dialog", classes="dialog"):
            yield Label("Tools offered in this conversation", classes="dialog-heading")
            if not self.servers:
                yield Static(
                    Content(
                        "No tool servers are configured. Add one to config.toml, e.g. "
                        '[mcp.files] command = "npx" args = ["-y", '
                        '"@modelcontextprotocol/server-filesystem", "/path"], then restart.'
                    )
                )
            else:
                yield ToolList(
                    *(
                        Selection(
                            Content(
                                f"{one_line(neutralize(s.name), 40)}  ·  {s.detail}"
                                + ("" if s.enabled else "  ·  disabled in config.toml")
                            ),
                            s.name,
                            s.name in self.chosen and s.enabled,
                            disabled=not s.enabled,
                        )
                        for s in self.servers
                    ),
                    id="tools-list",
                )
            yield Label("Space ticks · Enter saves · Esc cancels", classes="dialog-hint")

    def action_tick(self) -> None:
        """Tick or untick the highlighted server."""
        found = self.query("#tools-list")
        if found:
            tools = found.first(ToolList)
            tools.focus()
            tools.action_tick()

    def action_save(self) -> None:
        """Dismiss with the ticked servers."""
        found = self.query("#tools-list")
        if not found:
            self.dismiss(None)
            return
        selection: SelectionList[str] = found.first(SelectionList)
        self.dismiss([str(value) for value in selection.selected])

    def action_cancel(self) -> None:
        """Dismiss unchanged."""
        self.dismiss(None)
