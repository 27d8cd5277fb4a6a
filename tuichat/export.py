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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any, TextIO
from urllib.parse import quote

from tuichat import costs
from tuichat.attachments import Attachment, fenced, human_size, text_block
from tuichat.costs import SideCost
from tuichat.sanitize import neutralize
from tuichat.store import Conversation, Message, Store

#: Attachments by message id (see :meth:`tuichat.store.Store.message_attachments`).
Files = Mapping[int, Sequence[Attachment]]

#: Requests beyond the replies (titles, summaries) by conversation id.
SideCosts = Mapping[int, Sequence[SideCost]]


@dataclass(frozen=True, slots=True)
class Bundle:
    """What an export of some conversations holds, read from the store at once."""

    items: list[tuple[Conversation, list[Message]]]
    """Each conversation with the messages of its branch on show."""
    files: Files
    side: SideCosts


def collect(store: Store, conversations: Sequence[Conversation]) -> Bundle:
    """Read what exporting ``conversations`` needs: messages, attachments, side costs."""
    items = [(c, store.messages(c.id)) for c in conversations]
    files = store.message_attachments(m.id for _, messages in items for m in messages)
    return Bundle(items, files, {c.id: store.side_costs(c.id) for c in conversations})


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
    conversation: Conversation,
    messages: Sequence[Message],
    attachments: Files | None = None,
    side: Sequence[SideCost] = (),
) -> dict[str, Any]:
    """A JSON-ready dict of the conversation and its messages (no keys, ever).

    Each message lists its ``attachments``: name, kind, media type, size, SHA-256,
    pixel size of an image, and ``data`` in base64. ``cost`` is the total of the
    replies and of the ``side`` requests (titles, summaries), listed in it.
    """
    files = attachments or {}
    spent = costs.total(messages, side)
    replies = costs.total(messages)
    return {
        "id": conversation.id,
        "title": conversation.title,
        "created_at": _iso(conversation.created_at),
        "updated_at": _iso(conversation.updated_at),
        "provider": conversation.provider,
        "model": conversation.model,
        "system_prompt": conversation.system_prompt,
        "params": conversation.params,
        # The replies exported (the branch on show) and the requests beyond them:
        # dollars known, and how many replies not (a request's own cost says it).
        "cost": {
            "total": spent.known,
            "unknown_replies": replies.unknown,
            "other_requests": [request.to_json() for request in side],
        },
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
    side: SideCosts | None = None,
) -> str:
    """JSON text: one conversation object, or ``{"conversations": [...]}``."""
    dicts = [conversation_to_dict(c, m, attachments, (side or {}).get(c.id, ())) for c, m in items]
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


def write_file(path: Path, bundle: Bundle, *, fmt: str, single: bool = True) -> None:
    """Write an export to ``path`` (its folders made, an existing file replaced): JSON
    whole, or Markdown with its images and PDFs in ``<stem>-files/`` beside it, linked.

    Raises:
        OSError: ``path``, its folder or a file beside it cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        text = to_json(bundle.items, single=single, attachments=bundle.files, side=bundle.side)
    else:
        links = write_beside(path, bundle.files)
        text = to_markdown(bundle.items, bundle.files, links, side=bundle.side)
    path.write_text(text, encoding="utf-8")


def write(out: TextIO, bundle: Bundle, *, fmt: str, single: bool = True) -> None:
    """Print an export to ``out``: Markdown names each image and PDF and says how to have
    it written (there is no place for its bytes), JSON carries them."""
    if fmt == "json":
        out.write(to_json(bundle.items, single=single, attachments=bundle.files, side=bundle.side))
    else:
        out.write(to_markdown(bundle.items, bundle.files, side=bundle.side))


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


def _cost_line(messages: Sequence[Message], side: Sequence[SideCost]) -> list[str]:
    spent = costs.total(messages, side)
    if spent.known is None:  # (no line at all for a local model nobody prices)
        return []
    what = "these replies"
    if side:
        purposes = sorted({request.purpose for request in side})
        many = "requests" if len(side) > 1 else "request"
        what += f" and of the {' and '.join(purposes)} {many}"
    return [f"_Cost of {what}: {spent.label()}._", ""]


def conversation_to_markdown(
    conversation: Conversation,
    messages: Sequence[Message],
    attachments: Files | None = None,
    links: Mapping[str, str] | None = None,
    side: Sequence[SideCost] = (),
) -> str:
    """A readable Markdown transcript; control characters are neutralised. An image or
    PDF whose SHA-256 ``links`` holds is a link to it (see :func:`write_beside`); the
    cost adds the ``side`` requests (titles, summaries) to the replies'."""
    files = attachments or {}
    lines = [f"# {neutralize(conversation.title) or 'Untitled conversation'}", ""]
    created = _iso(conversation.created_at)
    if created:
        lines += [f"_Exported from tuichat; started {created}._", ""]
    lines += _cost_line(messages, side)
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
    *,
    side: SideCosts | None = None,
) -> str:
    """Markdown text of one or more conversations, separated by rules."""
    return "\n---\n\n".join(
        conversation_to_markdown(c, m, attachments, links, (side or {}).get(c.id, ()))
        for c, m in items
    )
