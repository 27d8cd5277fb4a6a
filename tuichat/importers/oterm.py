"""oterm (ggozad/oterm): its ``store.db``.

Tables ``chat`` (``id``, ``name``, ``model``, ``system``, ``parameters``...) and
``message`` (``id``, ``chat_id``, ``author``, ``text``, ``images``); ``author`` is ``me``
for the person and ``ollama`` for the model. oterm keeps no timestamps: the messages keep
their order, and take the time of the import. Images are left out.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from tuichat.importers.records import Broken, Imported, ImportedMessage, Item
from tuichat.importers.sqlite_source import conversations

__all__ = ["count", "default_path", "read_database"]

_ROLES = {"me": "user", "user": "user", "ollama": "assistant", "assistant": "assistant"}


def default_path(env: dict[str, str], home: Path, platform: str) -> Path:
    """Where oterm keeps ``store.db``: ``$OTERM_DATA_DIR``, else its platform data dir."""
    if env.get("OTERM_DATA_DIR"):
        return Path(env["OTERM_DATA_DIR"]) / "store.db"
    if platform == "win32":
        return home / "AppData" / "Roaming" / "oterm" / "store.db"
    default = home / ("Library/Application Support" if platform == "darwin" else ".local/share")
    return Path(env.get("XDG_DATA_HOME") or default) / "oterm" / "store.db"


def count(conn: sqlite3.Connection) -> int:
    """How many conversations the database holds."""
    return int(conn.execute("SELECT COUNT(*) FROM chat").fetchone()[0])


def read_database(conn: sqlite3.Connection, source: str) -> Iterator[Item]:
    """One record per chat; ``source`` (the file) makes the ids unique across databases."""
    chats = {
        int(row[0]): row[1:] for row in conn.execute("SELECT id, name, model, system FROM chat")
    }
    rows = conn.execute("SELECT chat_id, id, author, text FROM message ORDER BY chat_id, id")
    yield from conversations(
        chats, rows, lambda chat_id, chat, group: _conversation(source, chat_id, chat, group)
    )


def _conversation(
    source: str, chat_id: int, chat: tuple[object, ...], rows: list[tuple[object, ...]]
) -> Item:
    title, model, system = chat
    name = title if isinstance(title, str) and title else f"chat {chat_id}"
    messages: list[ImportedMessage] = []
    skipped = 0
    for _, mid, author, text in rows:
        role = _ROLES.get(str(author))
        if role is None or not isinstance(text, str) or not text.strip():
            skipped += 1
            continue
        messages.append(
            ImportedMessage(
                str(mid),
                messages[-1].key if messages else None,
                role,
                text,
                model=model if role == "assistant" and isinstance(model, str) else None,
            )
        )
    if not messages:
        return Broken(name, "no messages with text")
    return Imported(
        source_id=f"{source}#{chat_id}",
        title=title if isinstance(title, str) else "",
        messages=tuple(messages),
        model=model if isinstance(model, str) else None,
        system_prompt=system if isinstance(system, str) and system else None,
        skipped=skipped,
    )
