"""The tool host: one per process, it owns the tool servers and builds toolboxes.

Servers start lazily, the first time a toolbox that includes them is built, and run
until :meth:`ToolHost.aclose`. The servers' tasks belong to the event loop that
started them: build toolboxes and call tools from that loop only.

Which servers a toolbox may include:

- ``[mcp.NAME]`` tables with ``enabled = true`` (the default), and the plugins named
  in ``[tools] plugins`` (their Python tools; none by default);
- ``"all"`` is all of those; a name given explicitly must be one of those too: a
  disabled server is refused with a sentence saying how to enable it (it never
  starts), and so is an unknown name, with the known ones listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tuichat.errors import UsageError
from tuichat.protocol import ToolSpec
from tuichat.sanitize import neutralize, one_line
from tuichat.tools import read_file
from tuichat.tools.box import OfferedTool, Toolbox
from tuichat.tools.naming import model_names
from tuichat.tools.plugin_tool import Tool
from tuichat.tools.servers import ListedTool, ServerUnavailable, State, ToolServer, Transport

if TYPE_CHECKING:
    import pluggy

    from tuichat.config import Settings


@dataclass(frozen=True)
class ToolInfo:
    """A tool as ``tuichat tools`` lists it."""

    name: str
    """Its name as its server lists it (control characters dropped)."""
    summary: str
    """The first line of its description."""


@dataclass(frozen=True)
class ServerStatus:
    """A tool server as ``tuichat tools`` shows it."""

    name: str
    transport: Transport
    enabled: bool
    state: State
    why: str | None
    """Why it is ``failed`` (one sentence), or how to enable a disabled one."""
    tools: tuple[ToolInfo, ...]


class ToolHost:
    """Owns the MCP sessions and the plugins' Python tools; builds :class:`Toolbox` es."""

    def __init__(
        self,
        settings: Settings,
        plugin_manager: pluggy.PluginManager | None = None,
        *,
        log_dir: Path | None = None,
    ) -> None:
        """
        Args:
            settings: The ``[mcp.*]`` and ``[tools]`` tables are read from them.
            plugin_manager: Where the ``register_tools`` hook is called; no Python
                tools without one.
            log_dir: Where each server's stderr goes (``NAME.log``); ``mcp/`` in the
                data directory by default.
        """
        self._settings = settings
        self._pm = plugin_manager
        self._log_dir = log_dir
        self._servers: dict[str, ToolServer] = {}
        self._python: dict[str, list[Tool]] | None = None

    def servers(self) -> list[str]:
        """Every server's name: the ``[mcp.NAME]`` tables (enabled or not), then
        ``folder`` when ``[tools] read_folder`` is set, then the plugins that register
        Python tools (a name already taken hides the later one)."""
        names = list(self._settings.mcp)
        if self._settings.tools.read_folder is not None and read_file.SERVER not in names:
            names.append(read_file.SERVER)
        names += [name for name in self._python_tools() if name not in names]
        # A plugin named in [tools] plugins that registers no tool: said, not ignored.
        names += [name for name in self._settings.tools.plugins if name not in names]
        return names

    def enabled(self, name: str) -> bool:
        """Whether the server ``name`` may be offered."""
        table = self._settings.mcp.get(name)
        if table is not None:
            return table.enabled
        if name == read_file.SERVER and self._settings.tools.read_folder is not None:
            return True
        return name in self._settings.tools.plugins

    async def toolbox(self, names: Sequence[str] | Literal["all"]) -> Toolbox:
        """The tools of the servers ``names`` (``"all"``: every enabled one), starting
        the servers that are not running yet (together).

        A server that cannot start is left out with a sentence in ``notes``.

        Raises:
            UsageError: A name is unknown or disabled (one sentence).
        """
        chosen = self._chosen(names)
        servers = [self._server(name) for name in chosen]
        listed = await asyncio.gather(
            *(server.start() for server in servers), return_exceptions=True
        )
        notes: list[str] = []
        found: list[tuple[str, ListedTool]] = []
        for server, tools in zip(servers, listed, strict=True):
            if isinstance(tools, ServerUnavailable):
                notes.append(str(tools))
                continue
            if isinstance(tools, BaseException):
                raise tools
            found += [(server.name, tool) for tool in tools]
        offered = []
        names = model_names([(server, tool.name) for server, tool in found])
        for name, (server_name, tool) in zip(names, found, strict=True):
            spec = ToolSpec(name, neutralize(tool.description), tool.parameters)
            offered.append(OfferedTool(spec, server_name, tool.name, tool.approve))
        return Toolbox(offered, notes, {server.name: server for server in servers})

    async def status(self, *, start: bool = True) -> list[ServerStatus]:
        """Every server, its state and tools; ``start`` starts the enabled ones first
        (each within its timeout) so that their tools can be listed."""
        names = self.servers()
        if start:
            enabled = [self._server(name) for name in names if self.enabled(name)]
            await asyncio.gather(*(server.start() for server in enabled), return_exceptions=True)
        statuses = []
        for name in names:
            server = self._server(name)
            tools: tuple[ToolInfo, ...] = ()
            if server.state == "running":
                tools = tuple(
                    ToolInfo(one_line(t.name, 80), _first_line(t.description))
                    for t in await server.start()
                )
            why = server.why if self.enabled(name) else self._how_to_enable(name)
            statuses.append(
                ServerStatus(name, server.transport, self.enabled(name), server.state, why, tools)
            )
        return statuses

    async def aclose(self) -> None:
        """Stop every server that runs (their processes end; none is left behind)."""
        servers = list(self._servers.values())
        await asyncio.gather(*(server.close() for server in servers), return_exceptions=True)

    def _chosen(self, names: Sequence[str] | Literal["all"]) -> list[str]:
        known = self.servers()
        if names == "all":
            return [name for name in known if self.enabled(name)]
        chosen: list[str] = []
        for name in names:
            if name not in known:
                raise UsageError(self._unknown(name, known))
            if not self.enabled(name):
                raise UsageError(self._how_to_enable(name))
            if name not in chosen:
                chosen.append(name)
        return chosen

    def _unknown(self, name: str, known: list[str]) -> str:
        shown = one_line(name, limit=80)
        if not known:
            return (
                f"There is no tool server {shown!r}: none is configured; add an [mcp.NAME] "
                'table to the config file (command = "..." or url = "...").'
            )
        return (
            f"There is no tool server {shown!r}; the known ones are {', '.join(known)} "
            "('tuichat tools' lists them)."
        )

    def _how_to_enable(self, name: str) -> str:
        if name in self._settings.mcp:
            return (
                f"The MCP server {name!r} is disabled; set enabled = true in [mcp.{name}] "
                "to offer its tools."
            )
        return (
            f"The Python tools of plugin {name!r} are off; add {name!r} to plugins in "
            "[tools] to offer them."
        )

    def _server(self, name: str) -> ToolServer:
        server = self._servers.get(name)
        if server is not None:
            return server
        table = self._settings.mcp.get(name)
        timeout = self._settings.tools.timeout
        if table is not None:
            from tuichat import locations
            from tuichat.tools.mcp_client import McpServer, quiet_mcp_logging

            log_dir = self._log_dir or locations.data_dir() / "mcp"
            quiet_mcp_logging(log_dir / "mcp-client.log")
            server = McpServer(
                name,
                table,
                timeout=table.timeout or timeout,
                start_timeout=timeout,
                log_dir=log_dir,
            )
        else:
            from tuichat.tools.python_server import MissingPlugin, PythonServer

            folder = self._settings.tools.read_folder
            if name == read_file.SERVER and folder is not None:
                server = PythonServer(name, [read_file.read_file_tool(folder)], timeout=timeout)
            elif name in self._python_tools():
                server = PythonServer(name, self._python_tools()[name], timeout=timeout)
            else:
                server = MissingPlugin(name, timeout=timeout)
        self._servers[name] = server
        return server

    def _python_tools(self) -> dict[str, list[Tool]]:
        if self._python is None:
            if self._pm is None:
                self._python = {}
            else:
                from tuichat.tools.registry import load_tools

                self._python = load_tools(self._pm)
        return self._python


def _first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return one_line(lines[0], limit=100) if lines else ""
