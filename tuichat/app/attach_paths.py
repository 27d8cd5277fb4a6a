"""Paths a person gives the prompt: ``@`` fragments to complete, pasted file paths.

Pure functions over text and the file system, no Textual: the prompt widget and the
chat screen share them, and they are tested on their own.

Terminals paste a dropped file as its path, quoted in the shell's way:
``'/tmp/my shot.png'``, ``/tmp/my\\ shot.png`` or ``file:///tmp/my%20shot.png``
(several files: several such words). A paste becomes attachments only when every word
of it names an existing file; anything else stays text.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = ["AtFragment", "at_fragment", "completions", "pasted_paths", "resolve"]

#: Completions offered at most: the list is a handful of lines above the prompt.
MAX_COMPLETIONS = 50


@dataclass(frozen=True, slots=True)
class AtFragment:
    """An ``@path`` being typed: where it starts in the text and what follows the ``@``."""

    start: int
    """Index of the ``@`` in the text."""
    end: int
    """Index just after the fragment (the cursor)."""
    path: str
    """What was typed after the ``@`` (may be empty)."""


def at_fragment(text: str, cursor: int) -> AtFragment | None:
    """The ``@`` fragment the cursor ends, if any.

    An ``@`` counts at the start of the text or after whitespace (an e-mail address
    is no path), and the fragment runs to the cursor without whitespace.
    """
    start = cursor
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    if start >= cursor or text[start] != "@":
        return None
    return AtFragment(start, cursor, text[start + 1 : cursor])


def resolve(path: str, cwd: Path) -> Path:
    """``path`` as the person means it: ``~`` expanded, relative to ``cwd``."""
    return cwd / os.path.expanduser(path)


def completions(fragment: str, cwd: Path) -> list[str]:
    """The entries that complete ``fragment``, as the person would type them.

    Folders end with ``/`` (choosing one goes on completing inside it); hidden entries
    show only once a ``.`` is typed; folders first, then files, each in name order.
    """
    folder_part, _, prefix = fragment.rpartition("/")
    typed_folder = f"{folder_part}/" if fragment.count("/") else ""
    folder = resolve(typed_folder or ".", cwd)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    found: list[tuple[bool, str]] = []
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        if entry.name.startswith(".") and not prefix.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        found.append((not is_dir, entry.name + ("/" if is_dir else "")))
    found.sort()
    return [typed_folder + name for _, name in found[:MAX_COMPLETIONS]]


def _words(text: str) -> list[str] | None:
    try:
        return shlex.split(text)
    except ValueError:  # an unclosed quote: not a path the terminal pasted
        return None


def _as_path(word: str) -> str | None:
    if word.startswith("file://"):
        return unquote(urlparse(word).path)
    # What a drop pastes is absolute; a bare name ("notes.md") pasted is meant as text.
    if word.startswith(("/", "~", "./", "../")):
        return word
    return None


def pasted_paths(text: str, cwd: Path) -> list[str] | None:
    """The files a paste names, when it is nothing but paths of existing files.

    Only words that look like a path count (absolute, ``~``, ``./``, ``../`` or a
    ``file://`` URL): a bare name pasted into a sentence stays text.

    Returns:
        The paths (``file://`` URLs turned into paths), or None when the paste is text
        (any word that is no existing file, an empty paste, several lines of prose).
    """
    stripped = text.strip()
    if not stripped or len(stripped) > 4096:
        return None
    words = _words(stripped.replace("\r", " ").replace("\n", " "))
    if not words:
        return None
    paths = [_as_path(word) for word in words]
    found = [path for path in paths if path is not None and resolve(path, cwd).is_file()]
    return found if len(found) == len(paths) else None
