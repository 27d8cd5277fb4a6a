"""``.env`` files: keys kept beside the config file, read into the environment.

A ``.env`` in the directory of the config file in use (beside ``config.toml``, or beside
``$TUICHAT_CONFIG``) is read at every start; one in the working directory only when
``TUICHAT_DOTENV_IN_CWD`` is set (in the environment, or in that first ``.env``): a
project folder must not hand its keys to a tool by surprise. A variable already set is
never overridden. :func:`source_of` tells ``tuichat doctor`` which file a variable came
from (never its value).

The format is the common one: ``NAME=value`` lines, an optional ``export``, ``#``
comments, values in single quotes (taken as they are) or double quotes (``\\n``, ``\\"``
and ``\\\\`` escapes), unquoted values cut at `` #``. Parsed without a regular
expression and without a new dependency.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

#: Name of the variable that lets the working directory's ``.env`` be read.
IN_CWD = "TUICHAT_DOTENV_IN_CWD"

#: Variables this process took from a ``.env`` file, and which.
_SOURCES: dict[str, Path] = {}


def parse(text: str) -> dict[str, str]:
    """The variables of a ``.env`` text (later lines win; malformed lines are skipped)."""
    found: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.replace("_", "a").isalnum() or name[0].isdigit():
            continue
        found[name] = _value(value.strip())
    return found


def _value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        inner = value[1:-1]
        out: list[str] = []
        i = 0
        while i < len(inner):
            char = inner[i]
            if char == "\\" and i + 1 < len(inner):
                nxt = inner[i + 1]
                out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
                i += 2
                continue
            out.append(char)
            i += 1
        return "".join(out)
    comment = value.find(" #")
    return (value[:comment] if comment >= 0 else value).rstrip()


def load(path: Path, environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Read ``path`` into ``environ`` (default: the process's), never overriding.

    Returns:
        The names it set. A missing or unreadable file sets nothing.
    """
    environ = os.environ if environ is None else environ
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    set_here = []
    for name, value in parse(text).items():
        if name in environ:
            continue
        environ[name] = value
        _SOURCES[name] = path
        set_here.append(name)
    return set_here


def load_for(config_path: Path, environ: MutableMapping[str, str] | None = None) -> None:
    """Load the ``.env`` beside ``config_path``, then the working directory's if allowed."""
    environ = os.environ if environ is None else environ
    beside = config_path.parent / ".env"
    load(beside, environ)
    if environ.get(IN_CWD, "").strip().lower() in ("1", "true", "yes", "on"):
        here = Path.cwd() / ".env"
        if here.resolve() != beside.resolve():
            load(here, environ)


def source_of(name: str) -> Path | None:
    """The ``.env`` file variable ``name`` came from, if one did."""
    return _SOURCES.get(name)
