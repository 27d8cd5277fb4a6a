"""The files a prompt in the log carries: a line each, under the prompt.

Drawn from the store's records (names, kinds, sizes, pixels), never from the bytes:
a conversation full of images opens as fast as one without.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widgets import Static

from .attachment_chips import Described, describe


class AttachmentLines(Static):
    """``+ name · kind · size · W×H`` for each file, in the order attached."""

    DEFAULT_CSS = """
    AttachmentLines {
        height: auto;
        margin: 0 8 0 0;
        padding: 0 1;
        background: $boost;
        border-left: outer $primary;
        color: $text-muted;
    }
    """

    def __init__(self, files: Sequence[Described], *, classes: str | None = None) -> None:
        """Create it.

        Args:
            files: The prompt's attachments.
            classes: CSS classes.
        """
        lines = "\n".join(f"+ {describe(file)}" for file in files)
        super().__init__(Content(lines), markup=False, classes=classes)
        self.names = [file.name for file in files]
        """The files' names, in order."""
