"""The one built-in tool: ``read_file``, read-only, confined to a folder the person
chose (``[tools] read_folder``); it does not exist until that is set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuichat.tools.plugin_tool import Tool

#: The name of the built-in server that offers it (an ``[mcp.NAME]`` table of the same
#: name hides it).
SERVER = "folder"

#: The most of a file the model gets; the rest is cut, and it is told so.
MAX_BYTES = 256 * 1024

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "description": "The file's path, relative to the folder."}
    },
    "required": ["path"],
    "additionalProperties": False,
}


def read_file_tool(folder: Path) -> Tool:
    """``read_file`` for the files below ``folder`` (symbolic links that lead out of it
    are refused, like ``..``)."""
    root = folder.expanduser().resolve()

    def read_file(arguments: dict[str, Any]) -> str:
        given = arguments.get("path")
        if not isinstance(given, str) or not given.strip():
            raise ValueError("give the file's path, relative to the folder")
        target = (root / given).resolve()
        if not target.is_relative_to(root):
            raise PermissionError(f"{given!r} is outside the folder this tool may read")
        if not target.is_file():
            raise FileNotFoundError(f"there is no file {given!r} in the folder")
        with open(target, "rb") as file:
            data = file.read(MAX_BYTES + 1)
        text = data[:MAX_BYTES].decode("utf-8", errors="replace")
        if len(data) > MAX_BYTES:
            text += f"\n[cut: the file is longer than {MAX_BYTES // 1024} KB]"
        return text

    return Tool(
        "read_file",
        f"Read a text file in the folder {root} (give its path relative to that folder). "
        "Read-only; nothing outside the folder can be read.",
        PARAMETERS,
        read_file,
        approve="ask",
    )
