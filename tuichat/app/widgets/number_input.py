"""A number field whose keystroke check cannot freeze the app.

Textual's number and integer ``Input`` types check each keystroke with a
pattern that backtracks exponentially: 26 digits and a letter froze tuichat for good
(issue #21; the report for Textual is in ``docs/upstream.md``). This field is a plain
text ``Input`` that refuses the same keystrokes with a check linear in the text
(:mod:`tuichat.partial_numbers`) and validates with Textual's own ``Number`` and
``Integer`` validators (``float``/``int``: linear), so what a person sees is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.validation import Integer, Number
from textual.widgets import Input

from tuichat.partial_numbers import is_partial_integer, is_partial_number


class NumberInput(Input):
    """A field for a number (``integer=True``: a whole number)."""

    def __init__(
        self,
        value: str | None = None,
        *,
        integer: bool = False,
        placeholder: str = "",
        id: str | None = None,
    ) -> None:
        """Create it.

        Args:
            value: The text it starts with (not checked, as ``Input``'s own).
            integer: Whole numbers only.
            placeholder: Shown while it is empty.
            id: The widget's id.
        """
        super().__init__(
            value,
            placeholder=placeholder,
            type="text",
            validators=[Integer() if integer else Number()],
            id=id,
        )
        self.integer = integer
        self._allowed: Callable[[str], bool] = is_partial_integer if integer else is_partial_number

    def replace(self, text: str, start: int, end: int) -> None:
        """Replace ``start:end`` with ``text``, unless the result cannot be a number."""
        # Typing, pasting and deleting all come through here, as in Input.replace.
        value = self.value
        start, end = sorted((max(0, start), min(len(value), end)))
        if not self._allowed(f"{value[:start]}{text}{value[end:]}"):
            self.restricted()
            return
        super().replace(text, start, end)
