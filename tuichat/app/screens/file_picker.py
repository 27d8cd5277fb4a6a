"""The file picker: Textual's ``DirectoryTree`` from the directory tuichat was started in.

Enter on a file attaches it (the dialog dismisses with its path); Enter on a folder
opens or closes it; Esc cancels. Hidden files are left out of the tree.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Label


class VisibleTree(DirectoryTree):
    """A directory tree without hidden entries (``.git`` would fill it)."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        """Leave out names starting with a dot."""
        return [path for path in paths if not path.name.startswith(".")]


class FilePickerScreen(ModalScreen[Path | None]):
    """Choose one file to attach; dismisses with its path, or None when cancelled."""

    DEFAULT_CSS = """
    FilePickerScreen { align: center middle; }
    #file-picker-dialog { width: 90%; max-width: 110; height: 90%; }
    #file-picker-tree { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, root: Path) -> None:
        """Create it.

        Args:
            root: The folder the tree starts from.
        """
        super().__init__()
        self._root = root

    def compose(self) -> ComposeResult:
        """A heading, the tree and a hint."""
        with Vertical(id="file-picker-dialog", classes="dialog"):
            yield Label(f"Attach a file from {self._root}", classes="dialog-heading")
            yield VisibleTree(self._root, id="file-picker-tree")
            yield Label(
                "Enter attaches a file or opens a folder · Esc cancels", classes="dialog-hint"
            )

    @on(DirectoryTree.FileSelected)
    def chosen(self, event: DirectoryTree.FileSelected) -> None:
        """Dismiss with the file chosen."""
        event.stop()
        self.dismiss(event.path)

    def action_cancel(self) -> None:
        """Dismiss without a file."""
        self.dismiss(None)
