"""The saved prompts, picked with ``/`` at the start of an empty prompt.

Dismisses with a :class:`Picked`: the prompt chosen, or none and the text typed in the
filter, which goes back into the prompt after the ``/`` (so ``/etc/hosts is...`` typed
with no saved prompt matching still becomes the message; Esc does the same).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.content import Content

from tuichat.prompts.template import PromptTemplate
from tuichat.sanitize import one_line

from .fuzzy_list import FuzzyListScreen


@dataclass(frozen=True)
class Picked:
    """What the picker ended with."""

    template: PromptTemplate | None
    """The prompt chosen; None: none, the filter's text goes back into the prompt."""
    typed: str
    """The filter's text."""


class PromptPickerScreen(FuzzyListScreen[PromptTemplate, Picked]):
    """Type to filter the saved prompts; Enter picks; Esc gives the text back."""

    heading = "Saved prompts"
    placeholder = "Type to filter (fuzzy): name or what it does"
    hint = "Enter picks · ↑↓ move · Esc keeps what you typed"
    empty = "No saved prompt matches: Enter or Esc keeps /{typed} in the prompt."

    def __init__(self, templates: Iterable[PromptTemplate], *, query: str = "") -> None:
        """Create it.

        Args:
            templates: The library, in the order shown without a filter.
            query: What was typed after the ``/`` already.
        """
        rows = []
        for template in templates:
            kind = _kind(template)
            line = Content.assemble(
                (one_line(template.name, 40), "bold"),
                (f"  {kind}" if kind else "", "italic"),
                (f"  {one_line(template.summary, 90)}", "dim"),
            )
            rows.append((template, f"{template.name} {template.description}", line))
        super().__init__(rows, query=query, dialog_id="prompt-picker")

    def status(self, query: str, matched: bool) -> str:
        """Say what Enter does when nothing matches."""
        return "" if matched else self.empty.format(typed=one_line(query, 40))

    def choose(self, item: PromptTemplate) -> None:
        """Dismiss with the prompt."""
        self.dismiss(Picked(item, self.filter.value))

    def choose_nothing(self) -> None:
        """Nothing matched: the text typed is a message, not a search."""
        self.dismiss(Picked(None, self.filter.value))

    def action_close(self) -> None:
        """Esc: back to the prompt, with what was typed."""
        self.dismiss(Picked(None, self.filter.value))


def _kind(template: PromptTemplate) -> str:
    """``{topic}, {reader}`` for a prompt with variables, ``sets system prompt``..."""
    variables = [name for name in template.variables if name != "input"]
    if variables:
        return ", ".join("{" + name + "}" for name in variables)
    if template.settings_only:
        return "sets the system prompt" if template.system else "sets parameters"
    return ""
