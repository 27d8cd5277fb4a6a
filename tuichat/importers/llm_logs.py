"""Simon Willison's ``llm``: its ``logs.db``.

Each row of ``responses`` is one exchange (``prompt``, ``response``, ``system``, ``model``,
``datetime_utc``) and names its ``conversation_id``; ``conversations`` holds the name and
model. An exchange becomes a prompt and its reply; the first ``system`` prompt becomes the
conversation's. Rows logged before ``llm`` kept conversations (no ``conversation_id``)
each become a conversation of their own.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from tuichat.importers.records import Broken, Imported, ImportedMessage, Item, timestamp
from tuichat.importers.sqlite_source import columns

__all__ = ["count", "default_path", "read_database"]


def default_path(env: dict[str, str], home: Path, platform: str) -> Path:
    """Where ``llm`` keeps ``logs.db``: ``$LLM_USER_PATH``, else click's app dir."""
    if env.get("LLM_USER_PATH"):
        return Path(env["LLM_USER_PATH"]) / "logs.db"
    if platform == "darwin":
        base = home / "Library" / "Application Support"
    elif platform == "win32":
        base = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
    else:
        base = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    return base / "io.datasette.llm" / "logs.db"


def count(conn: sqlite3.Connection) -> int:
    """How many conversations the database holds."""
    row = conn.execute(
        "SELECT COUNT(DISTINCT COALESCE(conversation_id, 'response:' || id)) FROM responses"
    ).fetchone()
    return int(row[0])


def read_database(conn: sqlite3.Connection) -> Iterator[Item]:
    """One record per conversation, oldest first."""
    have = columns(conn, "responses")
    system = "system" if "system" in have else "NULL"
    names: dict[str, tuple[str | None, str | None]] = {}
    if columns(conn, "conversations"):
        names = {
            str(row[0]): (row[1], row[2])
            for row in conn.execute("SELECT id, name, model FROM conversations")
        }
    rows = conn.execute(
        f"SELECT COALESCE(conversation_id, 'response:' || id) AS cid, id, model, prompt, "
        f"response, {system}, datetime_utc FROM responses "
        "ORDER BY cid, datetime_utc, id"
    )
    for cid, group in itertools.groupby(rows, key=lambda row: str(row[0])):
        yield _conversation(cid, list(group), names.get(cid, (None, None)))


def _conversation(
    cid: str, rows: list[tuple[object, ...]], named: tuple[str | None, str | None]
) -> Item:
    title, model = named
    messages: list[ImportedMessage] = []
    system_prompt: str | None = None
    for _, rid, row_model, prompt, response, system, when in rows:
        created = timestamp(when)
        if system_prompt is None and isinstance(system, str) and system:
            system_prompt = system
        parent = messages[-1].key if messages else None
        if isinstance(prompt, str) and prompt:
            messages.append(ImportedMessage(f"{rid}:prompt", parent, "user", prompt, created))
            parent = messages[-1].key
        if isinstance(response, str) and response:
            messages.append(
                ImportedMessage(
                    f"{rid}:response",
                    parent,
                    "assistant",
                    response,
                    created,
                    model=row_model if isinstance(row_model, str) else None,
                )
            )
    name = title or cid
    if not messages:
        return Broken(name, "no prompt or response text")
    first = messages[0]
    return Imported(
        source_id=cid,
        title=title or _title_from(first.content),
        messages=tuple(messages),
        created_at=first.created_at,
        model=model or next((m.model for m in messages if m.model), None),
        system_prompt=system_prompt,
    )


def _title_from(prompt: str) -> str:
    # llm names a conversation after its first prompt too (cut short).
    line = prompt.strip().splitlines()[0] if prompt.strip() else ""
    return line[:60]
