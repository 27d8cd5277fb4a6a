"""Elia (darrenburns/elia): its ``elia.sqlite``.

Tables ``chat`` (``id``, ``model``, ``title``, ``started_at``, ``archived``) and
``message`` (``id``, ``chat_id``, ``role``, ``content``, ``timestamp``, ``model``). A
``system`` message becomes the conversation's system prompt; messages are taken in the
order Elia wrote them, as one branch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from tuichat.importers.records import Broken, Imported, ImportedMessage, Item, timestamp
from tuichat.importers.sqlite_source import conversations

__all__ = ["count", "default_path", "read_database"]


def default_path(env: dict[str, str], home: Path, platform: str) -> Path:
    """Where Elia keeps its database: ``$XDG_DATA_HOME/elia/elia.sqlite`` (xdg-base-dirs)."""
    return Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "elia" / "elia.sqlite"


def count(conn: sqlite3.Connection) -> int:
    """How many conversations the database holds."""
    return int(conn.execute("SELECT COUNT(*) FROM chat").fetchone()[0])


def read_database(conn: sqlite3.Connection, source: str) -> Iterator[Item]:
    """One record per chat; ``source`` (the file) makes the ids unique across databases."""
    chats = {
        int(row[0]): row[1:]
        for row in conn.execute("SELECT id, title, model, started_at FROM chat")
    }
    rows = conn.execute(
        "SELECT chat_id, id, role, content, timestamp, model FROM message "
        "ORDER BY chat_id, timestamp, id"
    )
    yield from conversations(
        chats, rows, lambda chat_id, chat, group: _conversation(source, chat_id, chat, group)
    )


def _conversation(
    source: str, chat_id: int, chat: tuple[object, ...], rows: list[tuple[object, ...]]
) -> Item:
    title, model, started = chat
    name = title if isinstance(title, str) and title else f"chat {chat_id}"
    messages: list[ImportedMessage] = []
    system_prompt: str | None = None
    skipped = 0
    for _, mid, role, content, when, row_model in rows:
        if not isinstance(content, str) or not content.strip():
            skipped += 1
        elif role == "system":
            system_prompt = system_prompt or content
        elif role in ("user", "assistant"):
            messages.append(
                ImportedMessage(
                    str(mid),
                    messages[-1].key if messages else None,
                    str(role),
                    content,
                    timestamp(when),
                    model=row_model if role == "assistant" and isinstance(row_model, str) else None,
                )
            )
        else:
            skipped += 1
    if not messages:
        return Broken(name, "no user or assistant messages")
    return Imported(
        source_id=f"{source}#{chat_id}",
        title=title if isinstance(title, str) else "",
        messages=tuple(messages),
        created_at=timestamp(started),
        model=model if isinstance(model, str) else None,
        system_prompt=system_prompt,
        skipped=skipped,
    )
