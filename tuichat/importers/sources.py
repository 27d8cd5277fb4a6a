"""Which format a file is in, where the other programs keep theirs, and opening them.

Detection reads the file's first bytes: a SQLite header (then the tables tell llm, Elia
and oterm apart), a zip (a ChatGPT or Claude export: its ``conversations.json``) or JSON
(an array whose first conversation has ``mapping``: ChatGPT; ``chat_messages``: Claude;
an object: tuichat's own export).
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tuichat.errors import UsageError
from tuichat.importers import chatgpt, claude, elia, llm_logs, oterm, tuichat_json
from tuichat.importers.jsonstream import JSONArrayError, iter_array
from tuichat.importers.records import Broken, Item
from tuichat.importers.sqlite_source import columns, open_readonly, tables

__all__ = ["DATABASES", "FORMATS", "Opened", "default_path", "open_source"]

#: The formats ``--format`` takes (``auto`` aside).
FORMATS = ("chatgpt", "claude", "llm", "elia", "oterm", "tuichat")
#: The programs whose database is found without a path (``--from``).
DATABASES = ("elia", "oterm", "llm")

_SQLITE_MAGIC = b"SQLite format 3\x00"
_ZIP_MAGIC = b"PK\x03\x04"
_EXPORT_MEMBER = "conversations.json"


@dataclass
class Opened:
    """A source being read.

    Attributes:
        format: Its format, one of :data:`FORMATS`.
        items: One record per conversation.
        total: How many conversations it holds, when known before reading.
        fraction: How much of it has been read, 0 to 1 (None: unknown).
        close: Releases the file.
    """

    format: str
    items: Iterator[Item]
    total: int | None
    fraction: Callable[[], float | None]
    close: Callable[[], None]


def default_path(program: str) -> Path:
    """Where ``program`` (one of :data:`DATABASES`) keeps its database on this machine."""
    readers = {"elia": elia.default_path, "oterm": oterm.default_path, "llm": llm_logs.default_path}
    return readers[program](dict(os.environ), Path.home(), sys.platform)


def open_source(path: Path, wanted: str = "auto") -> Opened:
    """Open ``path`` as ``wanted`` (``auto``: detect it).

    Raises:
        UsageError: The file cannot be read, or is in no format tuichat imports (or not in
            the one asked for).
    """
    try:
        with path.open("rb") as file:
            head = file.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if head.startswith(_SQLITE_MAGIC):
        return _open_database(path, wanted)
    if wanted in DATABASES:
        raise UsageError(f"{path} is not a SQLite database, so not {_NAMES[wanted]}'s.")
    if head.startswith(_ZIP_MAGIC):
        return _open_json(path, wanted, *_zip_opener(path))
    return _open_json(path, wanted, lambda: path.open("rb"), path.stat().st_size)


_NAMES = {"llm": "llm", "elia": "Elia", "oterm": "oterm"}


def _unknown(path: Path) -> UsageError:
    return UsageError(
        f"{path} is in no format tuichat imports: expected a ChatGPT or Claude export "
        "(conversations.json or its zip), tuichat's JSON export, or an llm, Elia or oterm "
        "database; --format names one."
    )


def _open_database(path: Path, wanted: str) -> Opened:
    try:
        conn = open_readonly(path)
        names = tables(conn)
        found = _database_format(conn, names)
    except sqlite3.Error as exc:
        raise UsageError(f"Cannot read the database {path}: {exc}.") from None
    if found is None or (wanted != "auto" and wanted != found):
        conn.close()
        if wanted not in ("auto", *DATABASES):
            raise UsageError(f"{path} is a SQLite database, not a {wanted} export.")
        raise (
            _unknown(path)
            if found is None
            else UsageError(
                f"{path} looks like {_NAMES[found]}'s database, not {_NAMES.get(wanted, wanted)}'s."
            )
        )
    source = str(path.resolve())
    readers: dict[str, Callable[[], Iterator[Item]]] = {
        "llm": lambda: llm_logs.read_database(conn),
        "elia": lambda: elia.read_database(conn, source),
        "oterm": lambda: oterm.read_database(conn, source),
    }
    counters = {"llm": llm_logs.count, "elia": elia.count, "oterm": oterm.count}
    try:
        total = counters[found](conn)
    except sqlite3.Error as exc:
        conn.close()
        raise UsageError(f"Cannot read the database {path}: {exc}.") from None
    return Opened(found, _guarded(readers[found](), path), total, lambda: None, conn.close)


def _database_format(conn: sqlite3.Connection, names: set[str]) -> str | None:
    if "responses" in names:
        return "llm"
    if {"chat", "message"} <= names:
        message = columns(conn, "message")
        if "author" in message:
            return "oterm"
        if "role" in message:
            return "elia"
    return None


def _guarded(items: Iterator[Item], path: Path) -> Iterator[Item]:
    # A database damaged halfway still gives the conversations read before the damage.
    try:
        yield from items
    except sqlite3.Error as exc:
        yield Broken(str(path), f"the rest of the database could not be read: {exc}")


def _zip_opener(path: Path) -> tuple[Callable[[], IO[bytes]], int]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UsageError(f"Cannot read the zip file {path}: {exc}.") from None
    with archive:
        members = [
            info for info in archive.infolist() if Path(info.filename).name == _EXPORT_MEMBER
        ]
    if not members:
        raise UsageError(f"{path} holds no {_EXPORT_MEMBER}: is it a ChatGPT or Claude export?")
    # The shallowest one: the export's own, not one a folder inside happens to hold.
    chosen = min(members, key=lambda info: info.filename.count("/"))
    member = chosen.filename

    def opener() -> IO[bytes]:
        archive = zipfile.ZipFile(path)
        inner = archive.open(member)
        # Closing the member closes the archive too.
        inner_close = inner.close

        def close() -> None:
            inner_close()
            archive.close()

        inner.close = close  # type: ignore[method-assign]
        return inner

    return opener, chosen.file_size


def _open_json(path: Path, wanted: str, opener: Callable[[], IO[bytes]], size: int) -> Opened:
    found = wanted if wanted != "auto" else _json_format(path, opener)
    if found == "tuichat":
        try:
            with io.TextIOWrapper(opener(), encoding="utf-8-sig") as text:
                data = json.load(text)
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path} is not readable JSON: {exc}.") from None
        return Opened("tuichat", tuichat_json.read_export(data), None, lambda: None, lambda: None)
    raw = opener()
    text = io.TextIOWrapper(raw, encoding="utf-8-sig")
    readers = {"chatgpt": chatgpt.read_conversations, "claude": claude.read_conversations}

    def fraction() -> float | None:
        try:
            return min(1.0, raw.tell() / size) if size else None
        except (OSError, ValueError):
            return None

    return Opened(found, readers[found](_array(text, path)), None, fraction, text.close)


def _array(text: IO[str], path: Path) -> Iterator[Any]:
    count = 0
    try:
        for item in iter_array(text):  # type: ignore[arg-type]
            count += 1
            yield item
    except JSONArrayError as exc:
        yield Broken(f"{path} after {count} conversations", str(exc))
    except UnicodeDecodeError:
        yield Broken(f"{path} after {count} conversations", "not UTF-8 text")


def _json_format(path: Path, opener: Callable[[], IO[bytes]]) -> str:
    try:
        with io.TextIOWrapper(opener(), encoding="utf-8-sig") as text:
            start = text.read(1024).lstrip()
            if start.startswith("{"):
                return "tuichat"
            if not start.startswith("["):
                raise _unknown(path)
        with io.TextIOWrapper(opener(), encoding="utf-8-sig") as text:
            first = next(iter_array(text), None)
    except (OSError, UnicodeDecodeError, JSONArrayError):
        raise _unknown(path) from None
    if first is None:
        return "chatgpt"  # An empty export: nothing to do, whichever it is.
    if isinstance(first, dict) and "mapping" in first:
        return "chatgpt"
    if isinstance(first, dict) and "chat_messages" in first:
        return "claude"
    raise _unknown(path)
