"""The small form that asks a saved prompt's variables: one field each.

Tab and Shift+Tab move between the fields; Enter goes to the next one, and on the last
fills the prompt; Esc cancels. Dismisses with the values, or None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from tuichat.sanitize import one_line


class VariableFormScreen(ModalScreen[dict[str, str] | None]):
    """One Input per variable, filled with its default."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    VariableFormScreen {
        align: center middle;
    }
    #prompt-form {
        & Input {
            margin: 0 0 1 0;
        }
        & .form-label {
            color: $text-muted;
        }
    }
    """

    def __init__(self, name: str, variables: Sequence[str], defaults: Mapping[str, str]) -> None:
        """Create it.

        Args:
            name: The saved prompt's name (the heading).
            variables: The variables to ask, in order.
            defaults: Values to start from.
        """
        super().__init__()
        self._heading_name = name
        self._variables = list(variables)
        self._defaults = dict(defaults)

    def compose(self) -> ComposeResult:
        """The heading, a labelled field per variable, a hint."""
        with Vertical(id="prompt-form", classes="dialog"):
            yield Label(f"Fill in {one_line(self._heading_name, 50)}", classes="dialog-heading")
            for index, name in enumerate(self._variables):
                yield Label(name, classes="form-label")
                yield Input(self._defaults.get(name, ""), id=f"var-{index}")
            yield Label(
                "Tab moves · Enter on the last fills the prompt · Esc cancels",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        """Start in the first field."""
        self.query_one("#var-0", Input).focus()

    @property
    def values(self) -> dict[str, str]:
        """The variables' values as typed."""
        return {
            name: self.query_one(f"#var-{index}", Input).value
            for index, name in enumerate(self._variables)
        }

    @on(Input.Submitted)
    def next_or_fill(self, event: Input.Submitted) -> None:
        """Enter: the next field, or, on the last, fill the prompt."""
        index = int((event.input.id or "var-0").removeprefix("var-"))
        if index + 1 < len(self._variables):
            self.query_one(f"#var-{index + 1}", Input).focus()
        else:
            self.dismiss(self.values)

    def action_cancel(self) -> None:
        """Close without filling."""
        self.dismiss(None)
