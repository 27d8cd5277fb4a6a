"""What a model is told a tool gave: the MCP result's parts as one text.

Text parts are joined with newlines; other parts are named by their type
(``[image: image/png]``), since the providers' tool results carry text. A result
with no content but ``structuredContent`` gives that as JSON. Everything is
neutralised like model text: a tool's output is untrusted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tuichat.sanitize import neutralize, one_line


def result_text(content: Iterable[Any], structured: Any = None) -> str:
    """The text of an MCP ``CallToolResult``'s ``content`` (and ``structuredContent``)."""
    pieces = [_part_text(part) for part in content]
    if not pieces and structured is not None:
        pieces.append(json.dumps(structured, ensure_ascii=False))
    return neutralize("\n".join(pieces))


def _part_text(part: Any) -> str:
    kind = getattr(part, "type", None)
    if kind == "text":
        return str(part.text)
    if kind in ("image", "audio"):
        return f"[{kind}: {one_line(str(getattr(part, 'mime_type', '') or 'unknown type'))}]"
    if kind == "resource_link":
        return f"[resource link: {one_line(str(getattr(part, 'uri', '')))}]"
    if kind == "resource":
        resource = part.resource
        text = getattr(resource, "text", None)
        if isinstance(text, str):
            return text
        return f"[resource: {one_line(str(getattr(resource, 'uri', '')))}]"
    return f"[{one_line(str(kind or 'unknown part'))}]"


def error_sentence(text: str, *, fallback: str) -> str:
    """A server's error text as one neutralised line, or ``fallback`` when it says nothing."""
    line = one_line(neutralize(text), limit=500)
    return line or fallback
