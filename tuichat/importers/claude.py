"""Claude.ai's data export (``conversations.json``): a list of linear conversations.

Each conversation has ``uuid``, ``name``, ``created_at`` and ``chat_messages``, each
message a ``sender`` (``human`` or ``assistant``), ``text`` and/or ``content`` blocks and
``created_at``. The text blocks are joined; ``thinking`` blocks become the reply's
reasoning; tool use, tool results and attachments are left out (counted as skipped when a
message holds nothing else). The export keeps no alternatives: the conversation is one
branch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tuichat.importers.records import Broken, Imported, ImportedMessage, Item, timestamp

__all__ = ["read_conversations", "to_imported"]

_ROLES = {"human": "user", "user": "user", "assistant": "assistant"}


def read_conversations(items: Iterable[Any]) -> Iterator[Item]:
    """One record per element of ``conversations.json`` (a :class:`Broken` passes as is)."""
    for index, raw in enumerate(items):
        yield raw if isinstance(raw, Broken) else to_imported(raw, index)


def to_imported(raw: Any, index: int = 0) -> Item:
    """The conversation ``raw`` (one element of the export), or why it cannot be read."""
    if not isinstance(raw, dict):
        return Broken(f"conversation #{index + 1}", "not a JSON object")
    title = _field(raw, "name")
    source_id = raw.get("uuid")
    name = title or (str(source_id) if source_id else f"conversation #{index + 1}")
    if not isinstance(source_id, str) or not source_id:
        return Broken(name, "no uuid")
    chat = raw.get("chat_messages")
    if not isinstance(chat, list):
        return Broken(name, "no 'chat_messages' list")
    messages: list[ImportedMessage] = []
    skipped = 0
    for number, item in enumerate(chat):
        role = _ROLES.get(_field(item, "sender")) if isinstance(item, dict) else None
        if role is None:
            skipped += 1
            continue
        text, reasoning = _text(item)
        if not text.strip():
            skipped += 1
            continue
        key = item.get("uuid") if isinstance(item.get("uuid"), str) else f"#{number}"
        messages.append(
            ImportedMessage(
                key=key,
                parent=messages[-1].key if messages else None,
                role=role,
                content=text,
                created_at=timestamp(item.get("created_at")),
                reasoning=reasoning,
            )
        )
    if not messages:
        return Broken(name, "no messages with text")
    return Imported(
        source_id=source_id,
        title=title,
        messages=tuple(messages),
        created_at=timestamp(raw.get("created_at")),
        updated_at=timestamp(raw.get("updated_at")),
        skipped=skipped,
    )


def _text(item: dict[str, Any]) -> tuple[str, str]:
    blocks = item.get("content")
    if isinstance(blocks, list) and blocks:
        texts = [_field(b, "text") for b in blocks if _kind(b) == "text"]
        thoughts = [_field(b, "thinking") for b in blocks if _kind(b) == "thinking"]
        text = "\n\n".join(t for t in texts if t)
        if text:
            return text, "\n\n".join(t for t in thoughts if t)
    # Older exports carry only ``text``; newer ones carry both, alike for plain replies.
    return _field(item, "text"), ""


def _kind(block: Any) -> Any:
    return block.get("type") if isinstance(block, dict) else None


def _field(block: dict[str, Any], name: str) -> str:
    value = block.get(name)
    return value if isinstance(value, str) else ""
