"""One saved prompt and how its ``{{variables}}`` are filled.

The syntax is the one Fabric patterns use: ``{{name}}`` (spaces inside the braces are
allowed). Anything else between double braces (``{{#each}}``, ``{{ a.b }}``) is left as
written, so a prompt that talks about templates is not mangled. Read with ``str.find``,
not a regular expression: linear in the text, whatever it holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tuichat.errors import UsageError

#: The variable ``tuichat ask -t`` fills with its PROMPT argument or stdin (llm's ``$input``).
INPUT = "input"


class TemplateError(UsageError):
    """A saved prompt cannot be filled: values missing, or given for no variable."""


def is_variable_name(text: str) -> bool:
    """Whether ``text`` is a variable's name: ASCII letters, digits, ``_`` and ``-``,
    not starting with a digit or ``-``."""
    if not text or not text.isascii() or text[0].isdigit() or text[0] == "-":
        return False
    return text.replace("_", "a").replace("-", "a").isalnum()


def _placeholders(text: str) -> Iterator[tuple[int, int, str]]:
    """Each ``{{name}}`` in ``text``: its start, its end and the name."""
    start = text.find("{{")
    while start >= 0:
        end = text.find("}}", start + 2)
        if end < 0:
            return
        name = text[start + 2 : end].strip()
        if is_variable_name(name):
            yield start, end + 2, name
            start = text.find("{{", end + 2)
        else:
            start = text.find("{{", start + 1)


def variables_in(text: str) -> list[str]:
    """The variables ``text`` names, in order of first use."""
    return list(dict.fromkeys(name for _, _, name in _placeholders(text)))


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{{name}}`` replaced by ``values[name]`` (unknown names stay)."""
    pieces: list[str] = []
    last = 0
    for start, end, name in _placeholders(text):
        if name in values:
            pieces.append(text[last:start])
            pieces.append(values[name])
            last = end
    pieces.append(text[last:])
    return "".join(pieces)


@dataclass(frozen=True)
class Rendered:
    """A saved prompt filled in: what to send, and what applies to the turn."""

    text: str
    """The prompt's text ('' for a template that only sets the system prompt)."""
    system: str | None
    """The system prompt, or None to leave the conversation's as it is."""
    model: str | None
    """``provider/model`` or a model id, or None."""
    params: dict[str, Any]
    """``temperature`` and ``max_tokens`` where the template sets them."""


@dataclass(frozen=True)
class PromptTemplate:
    """A saved prompt: text with ``{{variables}}``, and what it sets for the turn."""

    name: str
    prompt: str = ""
    """The text that goes in the prompt box (or to ``ask``)."""
    system: str | None = None
    """The system prompt it sets, or None."""
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    description: str = ""
    defaults: Mapping[str, str] = field(default_factory=dict)
    """Values for variables not given."""
    source: str = ""
    """Where it was read from (a file's path, or ``config.toml [presets]``)."""

    @property
    def variables(self) -> list[str]:
        """Every variable of the prompt and the system prompt, in order of first use."""
        return list(dict.fromkeys(variables_in(self.prompt) + variables_in(self.system or "")))

    @property
    def settings_only(self) -> bool:
        """Whether it has no text of its own (a preset: system prompt and parameters)."""
        return not self.prompt.strip()

    @property
    def summary(self) -> str:
        """One line to show beside the name: the description, else the text's start."""
        for text in (self.description, self.prompt, self.system or ""):
            if text.strip():
                return " ".join(text.split())
        return ""

    def render(self, values: Mapping[str, str], *, input_text: str | None = None) -> Rendered:
        """Fill the variables.

        Args:
            values: A value per variable (``-v key=value``, the app's form).
            input_text: ``ask``'s PROMPT or stdin: the ``{{input}}`` variable's value, or,
                for a template that does not use it, added after its text (a template
                with no text of its own sends it as the prompt, as Fabric does).

        Raises:
            TemplateError: A value for no variable, or a variable with no value.
        """
        wanted = self.variables
        unknown = [key for key in values if key not in wanted]
        if unknown:
            known = ", ".join(wanted) if wanted else "none"
            raise TemplateError(
                f"The prompt {self.name!r} has no variable {', '.join(map(repr, unknown))}; "
                f"its variables: {known}."
            )
        filled = {**self.defaults, **values}
        if input_text is not None and INPUT in wanted:
            filled.setdefault(INPUT, input_text)
        missing = [name for name in wanted if name not in filled]
        if missing:
            raise TemplateError(
                f"The prompt {self.name!r} needs a value for {', '.join(missing)}; "
                "give each as -v NAME=VALUE."
            )
        text = fill(self.prompt, filled)
        if input_text and INPUT not in wanted:
            text = f"{text}\n\n{input_text}" if text.strip() else input_text
        params: dict[str, Any] = {}
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        system = fill(self.system, filled) if self.system is not None else None
        return Rendered(text=text, system=system, model=self.model, params=params)
