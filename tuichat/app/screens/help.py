"""The help screen (F1, or ? outside the prompt): every key, as rebound by ``[keymap]``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tuichat.keymap import ACTIONS, SCOPE_TITLES, effective_keys

from ..bindings import keys_label
from ..multiplexer import taken_by, usable_key

#: Keys that are not actions of the table: the prompt's own and the app's.
FIXED_KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "Send the prompt"),
    ("Ctrl+J / Shift+Enter", "New line in the prompt"),
    ("/", "Pick a saved prompt (empty prompt)"),
    ("Up / Down", "Earlier prompts (empty prompt)"),
    ("Tab / Shift+Tab", "Next / previous pane"),
    ("Ctrl+P", "Command palette: any action by name"),
    ("Ctrl+C", "Copy the text selected with the mouse"),
)


def help_content(keymap: Mapping[str, str]) -> Content:
    """The help text: one section per scope, each line ``keys  description``."""
    width = 22
    parts: list[str | tuple[str, str]] = []
    for scope, title in SCOPE_TITLES.items():
        parts.append((f"{title}\n", "bold underline"))
        rows = [
            (keys_label(effective_keys(s, keymap)), s.description)
            for s in ACTIONS
            if s.scope == scope
        ]
        if scope == "global":
            rows = list(FIXED_KEYS) + rows
        seen: set[str] = set()
        for keys, description in rows:
            if description in seen:
                continue
            seen.add(description)
            parts.append((f"  {keys:<{width}}", "bold"))
            parts.append(f" {description}\n")
        parts.append("\n")
    parts.append(
        ('Keys are rebound in config.toml: [keymap] new-conversation = "ctrl+k"', "italic")
    )
    taken = taken_by()
    if taken is not None:
        name, prefix = taken
        instead = []
        for spec in ACTIONS:
            keys = effective_keys(spec, keymap)
            if prefix in [key.strip() for key in keys.split(",")]:
                instead.append((keys_label(usable_key(keys)), spec.description.lower()))
        if instead:
            uses = "; ".join(f"{key} to {what}" for key, what in instead)
            parts.append(
                (f"\nInside {name}, {keys_label(prefix)} is {name}'s prefix: use {uses}.", "bold")
            )
    return Content.assemble(*parts)


class HelpScreen(ModalScreen[None]):
    """Every key of the app; Esc, F1, ? or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,question_mark,q", "close", "Close"),
    ]

    def __init__(self, keymap: Mapping[str, str]) -> None:
        """Create it.

        Args:
            keymap: The ``[keymap]`` table (rebound keys are shown as rebound).
        """
        super().__init__()
        self._keymap = dict(keymap)

    def compose(self) -> ComposeResult:
        """A heading and the scrolling list of keys."""
        with Vertical(id="help-dialog", classes="dialog"):
            yield Label("Keys", classes="dialog-heading")
            with VerticalScroll(id="help-scroll"):
                yield Static(help_content(self._keymap), id="help-text")
            yield Label("↑↓ scroll · Esc closes", classes="dialog-hint")

    def on_mount(self) -> None:
        """Let the arrows scroll the list."""
        self.query_one("#help-scroll", VerticalScroll).focus()

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
