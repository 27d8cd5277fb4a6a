"""Export the conversation from the app: Markdown or JSON, to a file the person names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tuichat.export import format_for  # (one rule with `tuichat export -o`)

_SLUG = re.compile(r"[^a-z0-9]+")


def default_export_path(directory: Path, conversation_id: int, title: str) -> Path:
    """``<directory>/<id>-<title-slug>.md``: a name that says what it holds (``directory``
    may be ``Path()``: the name alone)."""
    slug = _SLUG.sub("-", title.lower()).strip("-")[:40] or "conversation"
    return directory / f"{conversation_id}-{slug}.md"


class ExportScreen(ModalScreen[Path | None]):
    """Ask where to write the export; Enter writes (``.json`` for JSON), Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+t", "toggle_format", "Markdown/JSON", priority=True),
    ]

    def __init__(self, path: Path, *, directory: Path | None = None) -> None:
        """Create it.

        Args:
            path: The suggested file (relative: in ``directory``).
            directory: Where a relative name is written (default: the current directory,
                where tuichat was started).
        """
        super().__init__()
        self._path = path
        self._directory = directory or Path.cwd()

    def compose(self) -> ComposeResult:
        """The path and a hint."""
        with Vertical(id="export-dialog", classes="dialog"):
            yield Label("Export the conversation", classes="dialog-heading")
            yield Input(str(self._path), id="export-path")
            yield Static(
                Content(f"A name alone is written in {self._directory}; any path works too."),
                id="export-where",
                classes="dialog-hint",
            )
            yield Label("", id="export-error", classes="dialog-error")
            yield Label(
                "Enter writes · .md Markdown, .json JSON (Ctrl+T switches) · Esc cancels",
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        """Focus the path, cursor at its end."""
        self.query_one("#export-path", Input).focus()

    def action_toggle_format(self) -> None:
        """Switch the file's suffix between .md and .json."""
        field = self.query_one("#export-path", Input)
        path = Path(field.value.strip() or str(self._path))
        field.value = str(path.with_suffix(".md" if format_for(path) == "json" else ".json"))
        field.cursor_position = len(field.value)

    @on(Input.Submitted, "#export-path")
    def write(self, event: Input.Submitted) -> None:
        """Dismiss with the path (expanded); an empty one is refused."""
        text = event.value.strip()
        if not text:
            self.query_one("#export-error", Label).update("Give a file name.")
            return
        self.dismiss(self._directory / Path(text).expanduser())

    def action_cancel(self) -> None:
        """Close without writing."""
        self.dismiss(None)
