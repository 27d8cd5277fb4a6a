"""Reading another program's SQLite database without ever writing to it."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from tuichat.importers.records import Broken, Item

__all__ = ["columns", "conversations", "open_readonly", "tables"]

Row = tuple[object, ...]


def open_readonly(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only: an import must leave the other program's file as it was."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def tables(conn: sqlite3.Connection) -> set[str]:
    """The names of the database's tables."""
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """The names of ``table``'s columns (empty when there is no such table)."""
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table!r})")}


def conversations(
    chats: Mapping[int, Row],
    rows: Iterable[Row],
    build: Callable[[int, Row, list[Row]], Item],
) -> Iterator[Item]:
    """One record per chat from message ``rows`` sorted by chat id (their first column):
    ``build(chat_id, chat, its_rows)``; rows of no known chat are skipped, and a chat
    with no message is reported by its name (its first column) as :class:`Broken`."""
    seen: set[int] = set()
    for chat_id, group in itertools.groupby(rows, key=lambda row: row[0]):
        if not isinstance(chat_id, int) or chat_id not in chats:
            continue
        seen.add(chat_id)
        yield build(chat_id, chats[chat_id], list(group))
    for chat_id in sorted(set(chats) - seen):
        name = chats[chat_id][0]
        yield Broken(name if isinstance(name, str) and name else f"chat {chat_id}", "no messages")
