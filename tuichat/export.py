"""Conversations as Markdown or JSON: for reading, sharing and backups."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tuichat.sanitize import neutralize
from tuichat.store import Conversation, Message

#: How an unfinished reply is marked in a Markdown export.
STATUS_NOTES = {
    "length": "cut short: the reply hit the max tokens limit",
    "cancelled": "stopped by the user",
    "interrupted": "interrupted: the connection dropped",
    "error": "failed",
    "streaming": "still streaming when exported",
}


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def conversation_to_dict(conversation: Conversation, messages: Sequence[Message]) -> dict[str, Any]:
    """A JSON-ready dict of the conversation and its messages (no keys, ever)."""
    return {
        "id": conversation.id,
        "title": conversation.title,
        "created_at": _iso(conversation.created_at),
        "updated_at": _iso(conversation.updated_at),
        "provider": conversation.provider,
        "model": conversation.model,
        "system_prompt": conversation.system_prompt,
        "params": conversation.params,
        "messages": [
            {
                "id": m.id,
                "position": m.position,
                "role": m.role,
                "content": m.content,
                "reasoning": m.reasoning or None,
                "status": m.status,
                "provider": m.provider,
                "model": m.model,
                "finish_reason": m.finish_reason,
                "usage": {"input_tokens": m.input_tokens, "output_tokens": m.output_tokens},
                "ttft_ms": m.ttft_ms,
                "duration_ms": m.duration_ms,
                "error": m.error,
                "created_at": _iso(m.created_at),
            }
            for m in messages
        ],
    }


def to_json(items: Sequence[tuple[Conversation, Sequence[Message]]], *, single: bool) -> str:
    """JSON text: one conversation object, or ``{"conversations": [...]}``."""
    dicts = [conversation_to_dict(c, m) for c, m in items]
    data: Any = dicts[0] if single and dicts else {"conversations": dicts}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def conversation_to_markdown(conversation: Conversation, messages: Sequence[Message]) -> str:
    """A readable Markdown transcript; control characters are neutralised."""
    lines = [f"# {neutralize(conversation.title) or 'Untitled conversation'}", ""]
    created = _iso(conversation.created_at)
    if created:
        lines += [f"_Exported from tuichat; started {created}._", ""]
    if conversation.system_prompt:
        lines += ["## System", "", neutralize(conversation.system_prompt), ""]
    for m in messages:
        if m.role == "user":
            lines += ["## You", ""]
        elif m.role == "assistant":
            who = "/".join(part for part in (m.provider, m.model) if part)
            lines += [f"## Assistant ({who})" if who else "## Assistant", ""]
        else:
            lines += [f"## {m.role.title()}", ""]
        if m.reasoning:
            quoted = "\n".join(f"> {line}" for line in neutralize(m.reasoning).splitlines())
            lines += ["> **Reasoning**", ">", quoted, ""]
        lines += [neutralize(m.content), ""]
        note = STATUS_NOTES.get(m.status)
        if m.role == "assistant" and note:
            error = f": {neutralize(m.error)}" if m.error else ""
            lines += [f"_({note}{error})_", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def to_markdown(items: Sequence[tuple[Conversation, Sequence[Message]]]) -> str:
    """Markdown text of one or more conversations, separated by rules."""
    return "\n---\n\n".join(conversation_to_markdown(c, m) for c, m in items)
