"""The prompt library: a folder of TOML files, one per prompt, plus ``[presets.*]``.

A file ``prompts/NAME.toml`` beside ``config.toml``::

    description = "Explain code to a newcomer"
    prompt = "Explain this {{language}} code to someone new to it:\\n\\n{{input}}"
    system = "You are a patient teacher."
    model = "openai/gpt-4o-mini"
    temperature = 0.3
    max_tokens = 1024

    [defaults]
    language = "Python"

Every key is optional (a prompt without ``prompt`` only sets the turn's system prompt and
parameters, like a preset). The config's presets are listed as prompts of the same name,
so the person sees one list; a file named like a preset is reported and left out.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuichat.errors import UsageError
from tuichat.prompts.template import PromptTemplate

#: Where presets come from, as the library lists it.
PRESETS_SOURCE = "config.toml [presets]"

_KEYS = {"description", "prompt", "system", "model", "temperature", "max_tokens", "defaults"}


@dataclass
class Library:
    """Every saved prompt, by name, and the files that could not be read."""

    templates: dict[str, PromptTemplate] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """One sentence per file left out."""

    def get(self, name: str) -> PromptTemplate:
        """The prompt called ``name``.

        Raises:
            UsageError: No such prompt (the sentence names the ones there are).
        """
        template = self.templates.get(name)
        if template is None:
            known = ", ".join(sorted(self.templates)) or "none yet (see tuichat prompts)"
            raise UsageError(f"No saved prompt is called {name!r}; the prompts: {known}.")
        return template

    def __iter__(self) -> Iterator[PromptTemplate]:
        return iter(sorted(self.templates.values(), key=lambda t: t.name.casefold()))

    def __len__(self) -> int:
        return len(self.templates)


def load_library(folder: Path, presets: Mapping[str, Any] | None = None) -> Library:
    """Read the folder's ``*.toml`` files and the config's presets.

    Args:
        folder: The library's folder (absent: no files).
        presets: ``Settings.presets`` (objects with ``model``, ``system_prompt``,
            ``temperature``, ``max_tokens``).

    Returns:
        The library; a file that cannot be read is a problem, never an exception.
    """
    library = Library()
    for name, preset in (presets or {}).items():
        library.templates[name] = from_preset(name, preset)
    try:
        paths = sorted(folder.glob("*.toml"))
    except OSError:
        paths = []
    for path in paths:
        name = path.stem
        if name in library.templates:
            library.problems.append(
                f"{path}: a preset in config.toml has the name {name!r}; rename one of them."
            )
            continue
        try:
            library.templates[name] = read_template(path)
        except UsageError as exc:
            library.problems.append(str(exc))
    return library


def from_preset(name: str, preset: Any) -> PromptTemplate:
    """A preset of ``config.toml`` as a prompt with no text of its own."""
    return PromptTemplate(
        name=name,
        system=preset.system_prompt,
        model=preset.model,
        temperature=preset.temperature,
        max_tokens=preset.max_tokens,
        description="preset",
        source=PRESETS_SOURCE,
    )


def read_template(path: Path) -> PromptTemplate:
    """One prompt file.

    Raises:
        UsageError: Unreadable, not TOML, or a key of the wrong kind (one sentence naming
            the file).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read ({exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML ({exc}).") from None
    return template_from(path.stem, data, source=str(path))


def template_from(name: str, data: Mapping[str, Any], *, source: str) -> PromptTemplate:
    """A prompt from a file's table.

    Raises:
        UsageError: An unknown key, or a value of the wrong kind.
    """
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise UsageError(
            f"{source}: unknown key {unknown[0]!r}; the keys are {', '.join(sorted(_KEYS))}."
        )
    for key in ("description", "prompt", "system", "model"):
        if key in data and not isinstance(data[key], str):
            raise UsageError(f"{source}: {key!r} must be a string.")
    temperature = data.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not 0 <= temperature <= 2
    ):
        raise UsageError(f"{source}: 'temperature' must be a number from 0 to 2.")
    max_tokens = data.get("max_tokens")
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0
    ):
        raise UsageError(f"{source}: 'max_tokens' must be a whole number above 0.")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict) or not all(
        isinstance(value, str | int | float) and not isinstance(value, bool)
        for value in defaults.values()
    ):
        raise UsageError(f"{source}: [defaults] must map each variable to a string.")
    return PromptTemplate(
        name=name,
        prompt=data.get("prompt", ""),
        system=data.get("system"),
        model=data.get("model"),
        temperature=float(temperature) if temperature is not None else None,
        max_tokens=max_tokens,
        description=data.get("description", ""),
        defaults={key: str(value) for key, value in defaults.items()},
        source=source,
    )


def to_toml(template: PromptTemplate) -> str:
    """The file that :func:`read_template` reads back as ``template``."""
    lines: list[str] = []
    for key in ("description", "prompt", "system", "model"):
        value = getattr(template, key)
        if value:
            lines.append(f"{key} = {_string(value)}")
    if template.temperature is not None:
        lines.append(f"temperature = {template.temperature!r}")
    if template.max_tokens is not None:
        lines.append(f"max_tokens = {template.max_tokens}")
    if template.defaults:
        lines.append("")
        lines.append("[defaults]")
        lines.extend(f"{_key(key)} = {_string(value)}" for key, value in template.defaults.items())
    return "\n".join(lines) + "\n"


def _string(text: str) -> str:
    """A TOML string: a literal multi-line one where it can be (readable, editable),
    else a basic one (JSON's escapes are TOML's)."""
    plain = all(ch in "\n\t" or (ch >= " " and ch != "\x7f") for ch in text)
    if "\n" in text and plain and "'''" not in text and not text.endswith("'"):
        return "'''\n" + text + "'''"
    return json.dumps(text, ensure_ascii=False)


def _key(key: str) -> str:
    bare = key.replace("_", "a").replace("-", "a")
    return key if key and bare.isascii() and bare.isalnum() else json.dumps(key)


def presets_of(library: Library) -> dict[str, Any]:
    """The prompts that set a system prompt, a model or parameters, as the options
    dialog's presets (``tuichat.config.PresetSettings``): one list in both places."""
    from tuichat.config import PresetSettings

    return {
        template.name: PresetSettings(
            model=template.model,
            system_prompt=template.system,
            temperature=template.temperature,
            max_tokens=template.max_tokens,
        )
        for template in library
        if template.system is not None
        or template.model
        or template.temperature is not None
        or template.max_tokens is not None
    }
