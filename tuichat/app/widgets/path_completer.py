"""The ``@`` path completer: a short list of paths above the prompt.

It never takes the focus: the prompt keeps it and hands the completer the keys it
answers while open (Up, Down, Tab, Enter, Esc; see :meth:`PathCompleter.answer_key`),
so typing goes on narrowing the list.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.widgets import OptionList


class PathCompleter(OptionList, can_focus=False):
    """Paths completing the ``@`` fragment being typed; hidden when there is none."""

    DEFAULT_CSS = """
    PathCompleter {
        display: none;
        height: auto;
        max-height: 8;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    PathCompleter.-open { display: block; }
    """

    @dataclass
    class Chosen(Message):
        """Tab or Enter chose ``path`` (a folder ends with ``/``)."""

        completer: PathCompleter
        path: str

        @property
        def control(self) -> PathCompleter:
            """The completer (for ``@on(..., selector)``)."""
            return self.completer

    @dataclass
    class Dismissed(Message):
        """Esc closed the list: it stays closed for this fragment."""

        completer: PathCompleter

        @property
        def control(self) -> PathCompleter:
            """The completer (for ``@on(..., selector)``)."""
            return self.completer

    @property
    def is_open(self) -> bool:
        """Whether the list is on show."""
        return self.has_class("-open")

    def show_paths(self, paths: list[str]) -> None:
        """Offer ``paths`` (none closes the list), the first one highlighted."""
        self.clear_options()
        if paths:
            self.add_options(paths)
            self.highlighted = 0
        self.set_class(bool(paths), "-open")

    def close(self) -> None:
        """Hide the list until the next ``@``."""
        self.show_paths([])

    def answer_key(self, key: str) -> bool:
        """Answer a key typed in the prompt while open; False lets the prompt have it."""
        if not self.is_open:
            return False
        if key in ("up", "down"):
            count = self.option_count
            current = self.highlighted or 0
            self.highlighted = (current + (1 if key == "down" else -1)) % count
            return True
        if key in ("tab", "enter"):
            index = self.highlighted or 0
            self.post_message(self.Chosen(self, str(self.get_option_at_index(index).prompt)))
            return True
        if key == "escape":
            self.close()
            self.post_message(self.Dismissed(self))
            return True
        return False
