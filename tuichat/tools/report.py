"""``tuichat tools``: the servers, their state and their tools, as plain text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from tuichat.tools.host import ServerStatus


def write_status(statuses: Sequence[ServerStatus], out: TextIO, *, config: Path) -> None:
    """One line per server (name, transport, enabled, state, tool count), then its tools
    indented, or why it failed. With no server, one sentence saying how to add one."""
    if not statuses:
        out.write(
            f"No tool servers are configured. Add an MCP server to {config}: "
            '[mcp.NAME] with command = "..." (and args = [...]) for one run over stdio, '
            'or url = "..." for a streamable HTTP one.\n'
        )
        return
    rows = [("NAME", "TRANSPORT", "ENABLED", "STATE", "TOOLS")]
    for status in statuses:
        count = str(len(status.tools)) if status.state == "running" else "-"
        enabled = "yes" if status.enabled else "no"
        rows.append((status.name, status.transport, enabled, status.state, count))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out.write(line(rows[0]) + "\n")
    for status, row in zip(statuses, rows[1:], strict=True):
        out.write(line(row) + "\n")
        if status.why:
            out.write(f"    {status.why}\n")
        width = max((len(tool.name) for tool in status.tools), default=0)
        for tool in status.tools:
            out.write(f"    {tool.name.ljust(width)}  {tool.summary}".rstrip() + "\n")
