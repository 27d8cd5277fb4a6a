"""Bring other tools' saved prompts into the library: llm's templates, Fabric's patterns.

- llm keeps templates as ``NAME.yaml`` in ``templates/`` of its user directory
  (``$LLM_USER_PATH``, else click's app dir for ``io.datasette.llm``:
  ``~/.config/io.datasette.llm`` on Linux, ``~/Library/Application Support/io.datasette.llm``
  on macOS). A file is a mapping (``prompt``, ``system``, ``model``, ``defaults``,
  ``options``...) or a plain string, the prompt. Its variables are ``$name`` or ``${name}``
  (Python's ``string.Template``; ``$$`` is a dollar sign, ``$input`` the piped text).
- Fabric keeps a pattern as a folder: ``patterns/NAME/system.md`` and, for some,
  ``user.md``. Its variables are already ``{{name}}``.

Each source file becomes ``NAME.toml`` in the library. Importing again writes nothing
for a prompt already there unchanged; a prompt changed since is left alone unless
``replace`` is asked. Every file gets a line of report; a bad one never stops the rest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tuichat.errors import UsageError
from tuichat.prompts.library import read_template, to_toml
from tuichat.prompts.template import PromptTemplate

Outcome = Literal["added", "updated", "unchanged", "kept", "failed"]

#: llm options that tuichat carries; any other is named in the report.
_OPTIONS = ("temperature", "max_tokens")

#: llm template keys that carry no meaning here (fragments, tools, schemas...).
_LLM_KEYS = {"name", "prompt", "system", "model", "defaults", "options"}


@dataclass(frozen=True)
class ImportLine:
    """What happened to one source file."""

    source: str
    outcome: Outcome
    note: str = ""

    def __str__(self) -> str:
        note = f": {self.note}" if self.note else ""
        return f"{self.outcome} {self.source}{note}"


def llm_user_dir() -> Path:
    """llm's user directory, found the way llm finds it."""
    explicit = os.environ.get("LLM_USER_PATH")
    if explicit:
        return Path(explicit).expanduser()
    # click.get_app_dir("io.datasette.llm"), without importing click.
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "io.datasette.llm"
    if sys.platform.startswith("win"):
        return Path(os.environ.get("APPDATA", Path.home())) / "io.datasette.llm"
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "io.datasette.llm"


def llm_templates_dir() -> Path:
    """Where llm saves templates (``llm templates path``)."""
    return llm_user_dir() / "templates"


def fabric_patterns_dir() -> Path:
    """Where Fabric keeps its patterns (``fabric -U`` writes them there)."""
    return Path.home() / ".config" / "fabric" / "patterns"


def dollar_to_braces(text: str) -> tuple[str, list[str]]:
    """llm's ``$name`` / ``${name}`` as ``{{name}}``; ``$$`` becomes ``$``.

    Returns:
        The text, and the names met.
    """
    out: list[str] = []
    names: list[str] = []
    i = 0
    while True:
        found = text.find("$", i)
        if found < 0:
            out.append(text[i:])
            break
        out.append(text[i:found])
        rest = found + 1
        if text.startswith("$", rest):
            out.append("$")
            i = rest + 1
            continue
        braced = text.startswith("{", rest)
        start = rest + 1 if braced else rest
        end = start
        while end < len(text) and (
            text[end].isascii() and (text[end].isalnum() or text[end] == "_")
        ):
            end += 1
        name = text[start:end]
        valid = bool(name) and not name[0].isdigit()
        if valid and braced and not text.startswith("}", end):
            valid = False
        if not valid:
            out.append("$")
            i = rest
            continue
        names.append(name)
        out.append("{{" + name + "}}")
        i = end + 1 if braced else end
    return "".join(out), list(dict.fromkeys(names))


def from_llm(name: str, loaded: Any, source: str) -> tuple[PromptTemplate, list[str]]:
    """An llm template (the parsed YAML) as a prompt, with notes on what was left out.

    Raises:
        UsageError: Not a template (a list, a number...).
    """
    if isinstance(loaded, str):
        loaded = {"prompt": loaded}
    if not isinstance(loaded, dict):
        raise UsageError("not an llm template (neither a mapping nor a prompt)")
    notes = [f"{key} left out" for key in sorted(set(loaded) - _LLM_KEYS)]
    texts: dict[str, str | None] = {}
    for key in ("prompt", "system"):
        value = loaded.get(key)
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{key!r} is not text")
        texts[key] = dollar_to_braces(value)[0] if value is not None else None
    options = loaded.get("options") or {}
    if not isinstance(options, dict):
        raise UsageError("'options' is not a mapping")
    notes.extend(f"option {key} left out" for key in sorted(set(options) - set(_OPTIONS)))
    defaults = loaded.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise UsageError("'defaults' is not a mapping")
    model = loaded.get("model")
    template = PromptTemplate(
        name=name,
        prompt=texts["prompt"] or "",
        system=texts["system"],
        model=str(model) if model else None,
        temperature=_number(options.get("temperature"), float),
        max_tokens=_number(options.get("max_tokens"), int),
        description="imported from llm",
        defaults={str(key): str(value) for key, value in defaults.items()},
        source=source,
    )
    return template, notes


def _number(value: Any, kind: type) -> Any:
    if value is None or isinstance(value, bool):
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


def import_llm(folder: Path, library: Path, *, replace: bool = False) -> Iterator[ImportLine]:
    """Import every ``*.yaml`` of llm's templates folder into the library folder."""
    import yaml  # type: ignore[import-untyped]  # only this command reads YAML

    if not folder.is_dir():
        raise UsageError(
            f"{folder} is not a folder; give llm's templates folder (llm templates path)."
        )
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    for path in paths:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
            template, notes = from_llm(path.stem, loaded, str(path))
        except (OSError, UnicodeDecodeError, yaml.YAMLError, UsageError) as exc:
            yield ImportLine(str(path), "failed", _reason(exc))
            continue
        yield _write(template, library, str(path), notes, replace=replace)


def import_fabric(folder: Path, library: Path, *, replace: bool = False) -> Iterator[ImportLine]:
    """Import every pattern folder (``NAME/system.md``) of ``folder`` into the library."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder; give Fabric's patterns folder.")
    for pattern in sorted(p for p in folder.iterdir() if p.is_dir()):
        system_path = pattern / "system.md"
        if not system_path.is_file():
            continue  # not a pattern (Fabric's own notes, a raw folder)
        try:
            system = system_path.read_text(encoding="utf-8")
            user_path = pattern / "user.md"
            user = user_path.read_text(encoding="utf-8") if user_path.is_file() else ""
        except (OSError, UnicodeDecodeError) as exc:
            yield ImportLine(str(pattern), "failed", _reason(exc))
            continue
        template = PromptTemplate(
            name=pattern.name,
            prompt=user.strip(),
            system=system.strip() or None,
            description="Fabric pattern",
            source=str(pattern),
        )
        yield _write(template, library, str(pattern), [], replace=replace)


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _write(
    template: PromptTemplate, library: Path, source: str, notes: list[str], *, replace: bool
) -> ImportLine:
    note = "; ".join(notes)
    if not _safe_name(template.name):
        return ImportLine(source, "failed", f"{template.name!r} cannot be a file name")
    target = library / f"{template.name}.toml"
    text = to_toml(template)
    try:
        exists = target.exists()
        if exists and target.read_text(encoding="utf-8") == text:
            return ImportLine(source, "unchanged", note)
        if exists and not replace:
            return ImportLine(source, "kept", f"{target} differs; --replace overwrites it")
        library.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".toml.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
        read_template(target)  # what was written reads back
    except (OSError, UsageError) as exc:
        return ImportLine(source, "failed", _reason(exc))
    return ImportLine(source, "updated" if exists else "added", note)


def _safe_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name
