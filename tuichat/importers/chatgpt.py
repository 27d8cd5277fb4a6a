"""ChatGPT's data export (``conversations.json``): a tree of messages per conversation.

Each conversation holds a ``mapping`` of nodes (``id``, ``parent``, ``children``,
``message``) and ``current_node``, the last message of the branch on show. Editing a
prompt or regenerating a reply gives a node several children: each becomes a tuichat
branch, and the head is set on the ``current_node`` path.

Left out (counted in :attr:`Imported.skipped`, never an error):

- nodes without a message (the tree's root) and messages of roles other than user and
  assistant (``system``: the hidden preamble; ``tool``: browsing, code and plugin output);
- messages marked hidden (``metadata.is_visually_hidden_from_conversation``) or with
  ``weight`` 0, and assistant messages addressed to a tool (``recipient`` other than
  ``all``: the code it ran, the searches it made);
- content that is not text (``content_type`` other than ``text`` and ``multimodal_text``:
  custom instructions, browsing displays, execution output, "thoughts"); in
  ``multimodal_text`` the image and file parts are left out and the text parts kept;
- messages left with no text at all.

What follows a left-out message follows its nearest kept ancestor, so no branch is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tuichat.importers.records import Broken, Imported, ImportedMessage, Item, timestamp

__all__ = ["read_conversations", "to_imported"]

_TEXT_TYPES = frozenset({"text", "multimodal_text"})


def read_conversations(items: Iterable[Any]) -> Iterator[Item]:
    """One record per element of ``conversations.json`` (a :class:`Broken` passes as is)."""
    for index, raw in enumerate(items):
        yield raw if isinstance(raw, Broken) else to_imported(raw, index)


def to_imported(raw: Any, index: int = 0) -> Item:
    """The conversation ``raw`` (one element of the export), or why it cannot be read."""
    if not isinstance(raw, dict):
        return Broken(f"conversation #{index + 1}", "not a JSON object")
    title = _string(raw.get("title"))
    source_id = raw.get("conversation_id") or raw.get("id")
    name = title or (str(source_id) if source_id else f"conversation #{index + 1}")
    if not isinstance(source_id, str) or not source_id:
        return Broken(name, "no conversation id")
    mapping = raw.get("mapping")
    if not isinstance(mapping, dict) or not mapping:
        return Broken(name, "no messages ('mapping' is missing or empty)")
    try:
        messages, head, skipped, model = _flatten(mapping, raw.get("current_node"))
    except _Malformed as exc:
        return Broken(name, str(exc))
    return Imported(
        source_id=source_id,
        title=title,
        messages=tuple(messages),
        created_at=timestamp(raw.get("create_time")),
        updated_at=timestamp(raw.get("update_time")),
        model=model,
        head=head,
        skipped=skipped,
    )


class _Malformed(Exception):
    pass


def _flatten(
    mapping: dict[str, Any], current: Any
) -> tuple[list[ImportedMessage], str | None, int, str | None]:
    nodes: dict[str, dict[str, Any]] = {}
    for key, node in mapping.items():
        if not isinstance(node, dict):
            raise _Malformed(f"node {key!r} is not a JSON object")
        nodes[str(node.get("id") or key)] = node
    children: dict[str | None, list[str]] = {}
    for key, node in nodes.items():
        parent = node.get("parent")
        # A parent that is not in the mapping makes the node a root, as the root is.
        parent_key = str(parent) if isinstance(parent, str) and parent in nodes else None
        children.setdefault(parent_key, []).append(key)
    for siblings in children.values():
        # Oldest first, so the newest alternative is the newest message, as in tuichat.
        siblings.sort(key=lambda k: _created(nodes[k]))

    kept: list[ImportedMessage] = []
    kept_key: dict[str, str | None] = {}  # source node -> the kept message it stands for
    skipped = 0
    model: str | None = None
    stack: list[tuple[str, str | None]] = [(k, None) for k in reversed(children.get(None, []))]
    seen: set[str] = set()
    while stack:
        key, parent = stack.pop()
        if key in seen:
            raise _Malformed("its message tree has a cycle")
        seen.add(key)
        node = nodes[key]
        message = _message(key, parent, node.get("message"))
        if message is None:
            if node.get("message") is not None:
                skipped += 1
            kept_key[key] = parent
        else:
            kept.append(message)
            kept_key[key] = key
            if message.model:
                model = message.model
        for child in reversed(children.get(key, [])):
            stack.append((child, kept_key[key]))
    if len(seen) != len(nodes):
        raise _Malformed("its message tree has a cycle")
    if not kept:
        raise _Malformed("no user or assistant text")
    head = kept_key.get(current) if isinstance(current, str) else None
    return kept, head, skipped, model


def _created(node: dict[str, Any]) -> float:
    message = node.get("message")
    created = timestamp(message.get("create_time")) if isinstance(message, dict) else None
    return created if created is not None else float("-inf")


def _message(key: str, parent: str | None, raw: Any) -> ImportedMessage | None:
    if not isinstance(raw, dict):
        return None
    author = raw.get("author")
    role = author.get("role") if isinstance(author, dict) else None
    if role not in ("user", "assistant"):
        return None
    metadata = raw.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    if metadata.get("is_visually_hidden_from_conversation") or raw.get("weight") == 0:
        return None
    if raw.get("recipient", "all") != "all":
        return None
    content = raw.get("content")
    if not isinstance(content, dict) or content.get("content_type") not in _TEXT_TYPES:
        return None
    parts = content.get("parts")
    if not isinstance(parts, list):
        return None
    text = "\n\n".join(part for part in parts if isinstance(part, str) and part)
    if not text.strip():
        return None
    slug = metadata.get("model_slug")
    return ImportedMessage(
        key=key,
        parent=parent,
        role=role,
        content=text,
        created_at=timestamp(raw.get("create_time")),
        model=slug if isinstance(slug, str) and role == "assistant" else None,
    )


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""
