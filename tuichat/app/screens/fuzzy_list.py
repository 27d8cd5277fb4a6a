"""A filter over a list, matched fuzzily as one types: the base of the prompt pickers.

Rows are (label to match, line to show); Up/Down/PageUp/PageDown move while typing,
Enter chooses, Esc closes. Subclasses say what a choice dismisses with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ..fuzzy import BoundedMatcher

T = TypeVar("T")
R = TypeVar("R")

#: Most rows shown: the filter narrows the rest.
MOST_ROWS = 200


class FuzzyListScreen(ModalScreen[R], Generic[T, R]):
    """Type to filter; Up/Down choose; Enter picks; Esc closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
    ]

    # Sized with the other list dialogs in tuichat.tcss (#prompt-picker, #recall-search).
    DEFAULT_CSS = """
    FuzzyListScreen {
        align: center middle;
    }
    """

    heading = ""
    placeholder = "Type to filter (fuzzy)"
    hint = "Enter chooses · ↑↓ move · Esc closes"
    empty = "Nothing matches."

    def __init__(
        self, rows: Sequence[tuple[T, str, Content]], *, query: str = "", dialog_id: str = ""
    ) -> None:
        """Create it.

        Args:
            rows: (item, text matched, line shown), in the order shown without a filter.
            query: The filter's text at the start.
            dialog_id: The dialog's DOM id (styles, tests).
        """
        super().__init__()
        self._rows = list(rows)
        self._query = query
        self._dialog_id = dialog_id or None
        self._shown: list[T] = []

    def compose(self) -> ComposeResult:
        """The heading, the filter, the rows and a hint."""
        with Vertical(id=self._dialog_id, classes="dialog fuzzy-dialog"):
            yield Label(self.heading, classes="dialog-heading")
            yield Input(self._query, placeholder=self.placeholder, classes="fuzzy-filter")
            yield OptionList(classes="fuzzy-rows")
            yield Static("", classes="dialog-hint fuzzy-status")
            yield Label(self.hint, classes="dialog-hint")

    def on_mount(self) -> None:
        """Focus the filter and show the rows."""
        self.filter.focus()
        self._show()

    @property
    def filter(self) -> Input:
        """The filter box."""
        return self.query_one(".fuzzy-filter", Input)

    @property
    def shown(self) -> list[T]:
        """The items shown, in order."""
        return list(self._shown)

    @on(Input.Changed, ".fuzzy-filter")
    def _filtered(self) -> None:
        self._show()

    def _show(self) -> None:
        query = self.filter.value.strip()
        matcher = BoundedMatcher(query) if query else None
        scored: list[tuple[float, int, T, Content]] = []
        for order, (item, text, line) in enumerate(self._rows):
            if matcher is None:
                scored.append((0.0, order, item, line))
                if len(scored) >= MOST_ROWS:
                    break
                continue
            score = matcher.match(text)
            if score > 0:
                scored.append((score, order, item, line))
        scored.sort(key=lambda row: (-row[0], row[1]))
        scored = scored[:MOST_ROWS]
        self._shown = [row[2] for row in scored]
        options = self.query_one(".fuzzy-rows", OptionList)
        options.clear_options()
        options.add_options([Option(row[3]) for row in scored])
        if scored:
            options.highlighted = 0
        self.query_one(".fuzzy-status", Static).update(Content(self.status(query, bool(scored))))

    def status(self, query: str, matched: bool) -> str:
        """The line under the rows."""
        return "" if matched else self.empty

    def action_move(self, step: int) -> None:
        """Move the highlighted row while typing."""
        options = self.query_one(".fuzzy-rows", OptionList)
        if self._shown:
            current = options.highlighted or 0
            options.highlighted = max(0, min(len(self._shown) - 1, current + step))

    @on(Input.Submitted, ".fuzzy-filter")
    def _enter(self) -> None:
        index = self.query_one(".fuzzy-rows", OptionList).highlighted
        if self._shown and index is not None and 0 <= index < len(self._shown):
            self.choose(self._shown[index])
        else:
            self.choose_nothing()

    @on(OptionList.OptionSelected, ".fuzzy-rows")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.choose(self._shown[event.option_index])

    def choose(self, item: T) -> None:
        """An item was picked."""
        raise NotImplementedError

    def choose_nothing(self) -> None:
        """Enter with nothing matching (the default: nothing happens)."""

    def action_close(self) -> None:
        """Esc."""
        self.dismiss(None)
