"""A small list dialog: choose one of a few items (a code block to copy...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tuichat.sanitize import one_line


class PickScreen(ModalScreen[int | None]):
    """Up/Down and Enter (or the item's number) choose; Esc cancels. Dismisses with the index."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        *[Binding(str(n), f"pick({n - 1})", show=False) for n in range(1, 10)],
    ]

    def __init__(self, heading: str, items: Sequence[str]) -> None:
        """Create it.

        Args:
            heading: What is being chosen.
            items: One line per item (untrusted text is fine: shown literally).
        """
        super().__init__()
        self._heading = heading
        self._items = [one_line(item, 100) for item in items]

    def compose(self) -> ComposeResult:
        """The heading, the items and a hint."""
        with Vertical(id="pick-dialog", classes="dialog"):
            yield Label(self._heading, classes="dialog-heading")
            yield OptionList(
                *[
                    Option(Content(f"{n}. {item}" if n < 10 else f"   {item}"), id=f"p{n}")
                    for n, item in enumerate(self._items, start=1)
                ],
                id="pick-list",
            )
            yield Label("Enter or 1-9 chooses · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        """Focus the list on its first item."""
        options = self.query_one("#pick-list", OptionList)
        options.focus()
        options.highlighted = 0

    @on(OptionList.OptionSelected, "#pick-list")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        """Dismiss with the chosen index."""
        self.dismiss(event.option_index)

    def action_pick(self, index: int) -> None:
        """A digit chooses that item."""
        if 0 <= index < len(self._items):
            self.dismiss(index)

    def action_cancel(self) -> None:
        """Close without choosing."""
        self.dismiss(None)
