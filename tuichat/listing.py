"""``tuichat list``: the conversations with their ids, for ``ask --conversation ID`` and
``export ID``.

Titles may come from a model: they are neutralised and cut to one line, in the table and
in the JSON alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TextIO

from tuichat.sanitize import one_line
from tuichat.store import Conversation, Store

#: Untitled conversations read as in the sidebar.
UNTITLED = "New conversation"

#: Conversations read per page from the store.
PAGE = 500


def conversations(store: Store, *, archived: bool = False) -> list[Conversation]:
    """Every conversation (or every archived one), pinned first, then the most recent."""
    found: list[Conversation] = []
    while True:
        page = store.list_conversations(limit=PAGE, offset=len(found), archived=archived)
        found.extend(page)
        if len(page) < PAGE:
            return found


def write_list(
    items: list[Conversation],
    out: TextIO,
    *,
    as_json: bool = False,
    local: Callable[[float], time.struct_time] = time.localtime,
) -> None:
    """Write ``items``: a table (id, title, model, updated) or one JSON array.

    Args:
        items: The conversations, in order.
        out: Where to write.
        as_json: One JSON array of objects instead of the table.
        local: Turns Unix seconds into local time (tests).
    """
    rows = [
        {
            "id": item.id,
            "title": one_line(item.title, 200) or UNTITLED,
            "provider": item.provider,
            "model": item.model,
            "updated": time.strftime("%Y-%m-%d %H:%M", local(item.updated_at)),
            "pinned": item.pinned,
            "archived": item.archived,
        }
        for item in items
    ]
    if as_json:
        out.write(json.dumps(rows, indent=2) + "\n")
        return
    if not rows:
        out.write("No conversations yet.\n")
        return
    table = [("ID", "TITLE", "MODEL", "UPDATED")]
    for row in rows:
        model = "/".join(str(part) for part in (row["provider"], row["model"]) if part)
        table.append(
            (str(row["id"]), one_line(str(row["title"]), 50), model or "-", str(row["updated"]))
        )
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    for line in table:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        out.write("  ".join(cells).rstrip() + "\n")
