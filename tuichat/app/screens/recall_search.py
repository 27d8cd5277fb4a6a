"""Ctrl+R: every prompt ever sent, newest first, filtered fuzzily as a shell's history.

Dismisses with the prompt's text (it goes into the prompt box, not sent) or None.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from tuichat.sanitize import one_line

from .fuzzy_list import FuzzyListScreen

#: Characters of a prompt matched against the filter: its start is what one remembers,
#: and a pasted file must not make every key press slow.
MATCHED = 120


class RecallSearchScreen(FuzzyListScreen[str, "str | None"]):
    """Type to filter; Enter puts the prompt in the box; Esc closes."""

    heading = "Prompts sent (newest first)"
    placeholder = "Type to search every prompt you sent (fuzzy)"
    hint = "Enter puts it in the prompt · ↑↓ move · Esc closes"
    empty = "No prompt sent matches."

    def __init__(self, prompts: Sequence[str], *, query: str = "") -> None:
        """Create it.

        Args:
            prompts: The prompts, newest first, each once.
            query: The filter's text at the start (what was in the prompt box).
        """
        rows = []
        for prompt in prompts:
            # Only the start is read: a prompt may hold a whole pasted file.
            start = prompt[: MATCHED * 4]
            rows.append((prompt, one_line(start, MATCHED), Content(one_line(start, 104))))
        super().__init__(rows, query=query, dialog_id="recall-search")
        if not prompts:
            self.empty = "No prompt sent yet."

    def choose(self, item: str) -> None:
        """Dismiss with the prompt's text."""
        self.dismiss(item)
