"""Conversations as Markdown or JSON: for reading, sharing and backups.

Attachments, given by message id: JSON carries each one whole (base64 with its media
type), so a backup loses nothing; Markdown shows a text file in its fence, and an image
or PDF as a link to a file written beside the export (:func:`write_beside`) when it is
written to a file, else names it with its type and size and says how to have it written
(the bytes are in the JSON export too). :func:`write_file` is the one way an export
reaches a file: the app's export dialog and ``tuichat export -o`` both use it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from tuichat import costs
from tuichat.attachments import Attachment, fenced, human_size, text_block
from tuichat.sanitize import neutralize
from tuichat.store import Conversation, Message

#: Attachments by message id (see :meth:`tuichat.store.Store.message_attachments`).
Files = Mapping[int, Sequence[Attachment]]

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


def _attachment_dict(attachment: Attachment) -> dict[str, Any]:
    return {
        "name": attachment.name,
        "kind": attachment.kind,
        "media_type": attachment.media_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "width": attachment.width,
        "height": attachment.height,
        "data": base64.b64encode(attachment.data).decode("ascii"),
    }


def conversation_to_dict(
    conversation: Conversation, messages: Sequence[Message], attachments: Files | None = None
) -> dict[str, Any]:
    """A JSON-ready dict of the conversation and its messages (no keys, ever).

    Each message lists its ``attachments``: name, kind, media type, size, SHA-256,
    pixel size of an image, and ``data`` in base64.
    """
    files = attachments or {}
    spent = costs.total(messages)
    return {
        "id": conversation.id,
        "title": conversation.title,
        "created_at": _iso(conversation.created_at),
        "updated_at": _iso(conversation.updated_at),
        "provider": conversation.provider,
        "model": conversation.model,
        "system_prompt": conversation.system_prompt,
        "params": conversation.params,
        # The replies exported (the branch on show): dollars known, and how many not.
        "cost": {"total": spent.known, "unknown_replies": spent.unknown},
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
                "cost": costs.reply_cost(m),
                "ttft_ms": m.ttft_ms,
                "duration_ms": m.duration_ms,
                "error": m.error,
                "created_at": _iso(m.created_at),
                "attachments": [_attachment_dict(a) for a in files.get(m.id, ())],
                "tool_calls": _tool_calls(m),
            }
            for m in messages
        ],
    }


def _tool_calls(message: Message) -> list[dict[str, Any]]:
    """The calls a reply made, in order, with their results (see :mod:`tuichat.tool_loop`)."""
    from tuichat.tool_loop import call_records, rounds_of

    return [
        {
            "id": record.call.id,
            "name": record.tool,
            "server": record.server,
            "arguments": record.call.arguments,
            "status": record.status,
            "result": record.result,
            "seconds": record.seconds,
        }
        for record in call_records(rounds_of(message.meta))
    ]


def _tool_lines(message: Message) -> list[str]:
    """A reply's calls in a transcript: the tool, how it ended, its arguments and result,
    each in a fence (a result may hold any text)."""
    lines: list[str] = []
    for call in _tool_calls(message):
        took = f" · {call['seconds']:.2f} s" if call["seconds"] is not None else ""
        server = f" ({neutralize(call['server'])})" if call["server"] else ""
        status = "did not finish" if call["status"] == "running" else call["status"]
        lines += [f"**Tool** `{neutralize(call['name'])}`{server} · {status}{took}", ""]
        lines += [fenced(neutralize(call["arguments"]), "json"), ""]
        if call["result"]:
            lines += [fenced(neutralize(call["result"])), ""]
    return lines


def to_json(
    items: Sequence[tuple[Conversation, Sequence[Message]]],
    *,
    single: bool,
    attachments: Files | None = None,
) -> str:
    """JSON text: one conversation object, or ``{"conversations": [...]}``."""
    dicts = [conversation_to_dict(c, m, attachments) for c, m in items]
    data: Any = dicts[0] if single and dicts else {"conversations": dicts}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _safe_name(name: str) -> str:
    """``name`` for any file system: ASCII letters, digits, ``.``, ``_`` and ``-`` kept,
    each run of anything else one ``-`` (a loop, not a pattern: no regex to audit)."""
    out: list[str] = []
    for char in name:
        keep = char.isascii() and (char.isalnum() or char in "._-")
        if keep:
            out.append(char)
        elif not out or out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


def write_beside(export: Path, attachments: Files) -> dict[str, str]:
    """Write the images and PDFs of ``attachments`` into ``<export stem>-files/`` beside
    the export, each file once; returns their links, relative to the export, by SHA-256.

    Raises:
        OSError: The folder or a file cannot be written.
    """
    links: dict[str, str] = {}
    folder = export.with_name(f"{export.stem}-files")
    for attachment in (a for files in attachments.values() for a in files):
        if attachment.kind == "text" or attachment.sha256 in links:
            continue
        base = _safe_name(PurePath(attachment.name).name) or "attachment"
        name = f"{len(links) + 1}-{base}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(attachment.data)
        links[attachment.sha256] = f"{quote(folder.name)}/{quote(name)}"
    return links


#: How to have an image or PDF written, said where a Markdown export printed only its name.
UNWRITTEN_HINT = "'tuichat export -o FILE.md' writes it into FILE-files/ beside FILE.md"


def format_for(path: Path) -> str:
    """``json`` for a ``.json`` file, else ``md``."""
    return "json" if path.suffix.lower() == ".json" else "md"


def write_file(
    path: Path,
    items: Sequence[tuple[Conversation, Sequence[Message]]],
    attachments: Files,
    *,
    fmt: str,
    single: bool = True,
) -> None:
    """Write an export to ``path`` (its folders made, an existing file replaced): JSON
    whole, or Markdown with its images and PDFs in ``<stem>-files/`` beside it, linked.

    Raises:
        OSError: ``path``, its folder or a file beside it cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        text = to_json(items, single=single, attachments=attachments)
    else:
        text = to_markdown(items, attachments, write_beside(path, attachments))
    path.write_text(text, encoding="utf-8")


def _attachment_lines(
    attachments: Sequence[Attachment], links: Mapping[str, str] | None = None
) -> list[str]:
    lines: list[str] = []
    for a in attachments:
        link = (links or {}).get(a.sha256)
        label = neutralize(a.name).replace("]", "\\]").replace("[", "\\[")
        if a.kind == "text":
            lines += [neutralize(text_block(a)), ""]
        elif link is not None:
            mark = "!" if a.kind == "image" else ""
            lines += [f"{mark}[{label}]({link})", ""]
        else:
            # Printed, not written to a file: nowhere to put the bytes, so say how to get them.
            lines += [
                f"_(attached: {neutralize(a.name)}, {a.media_type}, {human_size(a.size)}; "
                f"not in this text: {UNWRITTEN_HINT})_",
                "",
            ]
    return lines


def conversation_to_markdown(
    conversation: Conversation,
    messages: Sequence[Message],
    attachments: Files | None = None,
    links: Mapping[str, str] | None = None,
) -> str:
    """A readable Markdown transcript; control characters are neutralised. An image or
    PDF whose SHA-256 ``links`` holds is a link to it (see :func:`write_beside`)."""
    files = attachments or {}
    lines = [f"# {neutralize(conversation.title) or 'Untitled conversation'}", ""]
    created = _iso(conversation.created_at)
    if created:
        lines += [f"_Exported from tuichat; started {created}._", ""]
    spent = costs.total(messages)
    if spent.known is not None:  # (no line at all for a local model nobody prices)
        lines += [f"_Cost of these replies: {spent.label()}._", ""]
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
        lines += _attachment_lines(files.get(m.id, ()), links)
        lines += _tool_lines(m)
        lines += [neutralize(m.content), ""]
        note = STATUS_NOTES.get(m.status)
        if m.role == "assistant" and note:
            error = f": {neutralize(m.error)}" if m.error else ""
            lines += [f"_({note}{error})_", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def to_markdown(
    items: Sequence[tuple[Conversation, Sequence[Message]]],
    attachments: Files | None = None,
    links: Mapping[str, str] | None = None,
) -> str:
    """Markdown text of one or more conversations, separated by rules."""
    return "\n---\n\n".join(conversation_to_markdown(c, m, attachments, links) for c, m in items)
