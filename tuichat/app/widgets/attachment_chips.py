"""The files attached to the next message, as chips above the prompt.

The row is hidden while there is none. Shift+Tab from the prompt focuses it; Left and
Right choose a chip, Delete or Backspace asks the screen to remove it (the keys come
from :mod:`tuichat.keymap`, scope ``attachments``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from textual.binding import BindingType
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tuichat.attachments import human_size
from tuichat.sanitize import neutralize

from ..bindings import bindings_for

__all__ = ["AttachmentChips", "Described", "describe"]


class Described(Protocol):
    """What a chip or a log line shows of a file (an attachment, or its stored record)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def width(self) -> int | None: ...
    @property
    def height(self) -> int | None: ...


_KIND = {"image": "image", "document": "PDF", "text": "text"}


def describe(file: Described) -> str:
    """``name · kind · size`` and, for an image whose header said, ``W×H`` (one line,
    control characters of the name made visible)."""
    name = neutralize(file.name.replace("\n", " "))
    parts = [name, _KIND.get(file.kind, file.kind), human_size(file.size)]
    if file.width and file.height:
        parts.append(f"{file.width}×{file.height}")
    return " · ".join(parts)


class AttachmentChips(Widget, can_focus=True):
    """A row of chips, one per attached file, in the order attached."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings_for("attachments"))

    DEFAULT_CSS = """
    AttachmentChips {
        height: auto;
        display: none;
        padding: 0 1;
    }
    AttachmentChips.-some { display: block; }
    """

    chosen: reactive[int] = reactive(0)
    """The chip Delete removes (highlighted while the row has the focus)."""

    @dataclass
    class Remove(Message):
        """The person asked to remove the chip at ``index``."""

        chips: AttachmentChips
        index: int

        @property
        def control(self) -> AttachmentChips:
            """The row (for ``@on(..., selector)``)."""
            return self.chips

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._files: list[Described] = []

    @property
    def count(self) -> int:
        """How many chips are shown."""
        return len(self._files)

    def show(self, files: list[Described]) -> None:
        """Show these files (an empty list hides the row)."""
        self._files = list(files)
        self.set_class(bool(self._files), "-some")
        self.chosen = min(self.chosen, max(0, len(self._files) - 1))
        self.refresh(layout=True)

    def render(self) -> Content:
        """``[name · kind · size · W×H]`` chips, separated by a space."""
        pieces: list[Content] = []
        for index, file in enumerate(self._files):
            style = "reverse" if self.has_focus and index == self.chosen else "$accent"
            pieces.append(Content.styled(f"[{describe(file)}]", style))
        hint = " Del removes · Esc back" if self.has_focus else ""
        return Content(" ").join(pieces) + Content.styled(hint, "dim")

    def on_focus(self) -> None:
        """Highlight the chosen chip."""
        self.refresh()

    def on_blur(self) -> None:
        """No chip is highlighted without the focus."""
        self.refresh()

    def watch_chosen(self) -> None:
        """Move the highlight."""
        self.refresh()

    def action_move(self, step: int) -> None:
        """Choose the chip ``step`` places away (stops at the ends)."""
        if self._files:
            self.chosen = max(0, min(len(self._files) - 1, self.chosen + step))

    def action_remove(self) -> None:
        """Ask the screen to remove the chosen chip."""
        if self._files:
            self.post_message(self.Remove(self, self.chosen))
