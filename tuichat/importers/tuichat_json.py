"""tuichat's own JSON export (``tuichat export --format json``), for moving a history.

The export holds one object per conversation (or ``{"conversations": [...]}``) with the
messages on show; each message's status, provider, model, usage, timings and error come
back as they were. A conversation exported from one store has an id another store also
uses, so the source id is the id and the creation time together.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tuichat.importers.records import Broken, Imported, ImportedMessage, Item, timestamp
from tuichat.store import MESSAGE_STATUSES, ROLES

__all__ = ["read_export"]


def read_export(data: Any) -> Iterator[Item]:
    """One record per conversation of the export."""
    items = (
        data.get("conversations") if isinstance(data, dict) and "messages" not in data else [data]
    )
    if not isinstance(items, list):
        items = []
    for index, raw in enumerate(items):
        yield to_imported(raw, index)


def to_imported(raw: Any, index: int = 0) -> Item:
    """The conversation ``raw``, or why it cannot be read."""
    if not isinstance(raw, dict):
        return Broken(f"conversation #{index + 1}", "not a JSON object")
    title = _text(raw.get("title")) or ""
    name = title or f"conversation {raw.get('id', f'#{index + 1}')}"
    if "id" not in raw or not isinstance(raw.get("messages"), list):
        return Broken(name, "no id or no 'messages' list")
    messages: list[ImportedMessage] = []
    for number, item in enumerate(raw["messages"]):
        if not isinstance(item, dict) or item.get("role") not in ROLES:
            return Broken(name, f"message {number + 1} has no valid role")
        content = item.get("content")
        if not isinstance(content, str):
            return Broken(name, f"message {number + 1} has no text")
        status = item.get("status")
        # A reply exported while still streaming will never finish.
        status = "interrupted" if status == "streaming" else status
        messages.append(
            ImportedMessage(
                key=f"#{number}",
                parent=messages[-1].key if messages else None,
                role=item["role"],
                content=content,
                created_at=timestamp(item.get("created_at")),
                model=_text(item.get("model")),
                reasoning=_text(item.get("reasoning")) or "",
                status=status if status in MESSAGE_STATUSES else "complete",
                provider=_text(item.get("provider")),
                details=_details(item),
            )
        )
    params = raw.get("params")
    return Imported(
        source_id=f"{raw['id']}@{raw.get('created_at')}",
        title=title,
        messages=tuple(messages),
        created_at=timestamp(raw.get("created_at")),
        updated_at=timestamp(raw.get("updated_at")),
        model=_text(raw.get("model")),
        provider=_text(raw.get("provider")),
        system_prompt=_text(raw.get("system_prompt")),
        params=params if isinstance(params, dict) else {},
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _details(item: dict[str, Any]) -> dict[str, Any]:
    # Only values of the column's own type: SQLite would keep a string in a number column.
    details: dict[str, Any] = {
        name: item[name] for name in ("finish_reason", "error") if isinstance(item.get(name), str)
    }
    for name in ("ttft_ms", "duration_ms"):
        value = item.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            details[name] = float(value)
    usage = item.get("usage")
    if isinstance(usage, dict):
        for name in ("input_tokens", "output_tokens"):
            value = usage.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                details[name] = value
    return details
