"""Reading another program's SQLite database without ever writing to it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["columns", "open_readonly", "tables"]


def open_readonly(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only: an import must leave the other program's file as it was."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def tables(conn: sqlite3.Connection) -> set[str]:
    """The names of the database's tables."""
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """The names of ``table``'s columns (empty when there is no such table)."""
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table!r})")}
