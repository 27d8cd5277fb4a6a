"""The tools offered in one conversation (or one ``ask``), and running one of them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tuichat.protocol import ToolSpec
from tuichat.sanitize import one_line
from tuichat.tool_settings import Approve
from tuichat.tools.servers import ServerUnavailable, ToolServer


@dataclass(frozen=True)
class OfferedTool:
    """A tool as offered to the model, and where it comes from."""

    spec: ToolSpec
    """What the model sees: ``spec.name`` is the tool's own name when unique among those
    offered, else ``SERVER__TOOL``, cut to ``[A-Za-z0-9_-]{1,64}`` and unique."""
    server: str
    """The ``[mcp.NAME]`` table's name, or the plugin's for Python tools."""
    tool: str
    """The tool's name as its server lists it (what ``ask`` prints on stderr); it holds
    no control character (a server's tool whose name does is never offered)."""
    approve: Approve
    """``ask``: the call needs a yes; ``always``: it runs without asking."""


@dataclass(frozen=True)
class ToolOutcome:
    """What one call gave, ready to send back to the model."""

    content: str
    """The result's text parts joined (other parts named by type), neutralised; for an
    error, one sentence."""
    is_error: bool
    seconds: float


class Toolbox:
    """The tools offered together, by the names the model sees."""

    def __init__(
        self,
        tools: Sequence[OfferedTool],
        notes: Sequence[str],
        servers: Mapping[str, ToolServer],
    ) -> None:
        self.tools: tuple[OfferedTool, ...] = tuple(tools)
        self.notes: tuple[str, ...] = tuple(notes)
        """One sentence per server that could not start (the others' tools are offered)."""
        self._servers = dict(servers)
        self._by_name = {tool.spec.name: tool for tool in self.tools}

    def specs(self) -> list[ToolSpec]:
        """The tools as a request offers them."""
        return [tool.spec for tool in self.tools]

    def find(self, model_name: str) -> OfferedTool | None:
        """The offered tool the model calls ``model_name``, if any."""
        return self._by_name.get(model_name)

    def __bool__(self) -> bool:
        return bool(self.tools)

    async def call(
        self, model_name: str, arguments: str, *, timeout: float | None = None
    ) -> ToolOutcome:
        """Run the tool the model called ``model_name`` with the JSON ``arguments`` it wrote.

        Whatever goes wrong (arguments that are no JSON object, a tool not offered, a
        server that stopped, a timeout, an error result) is an error outcome of one
        sentence; this never raises for those. Cancellation (Esc) propagates at once and
        stops the call: the server is told (an MCP ``notifications/cancelled``).

        Args:
            timeout: Seconds the call may take; the server's ``timeout`` (else ``[tools]
                timeout``) when None.
        """
        started = time.monotonic()

        def outcome(content: str, is_error: bool) -> ToolOutcome:
            return ToolOutcome(content, is_error, time.monotonic() - started)

        offered = self.find(model_name)
        if offered is None:
            shown = one_line(model_name, limit=80)
            return outcome(
                f"There is no tool named {shown!r} here; use one of those offered.", True
            )
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except ValueError as exc:
            return outcome(f"The arguments are not valid JSON ({exc}); send a JSON object.", True)
        if not isinstance(parsed, dict):
            kind = type(parsed).__name__.replace("NoneType", "null")
            return outcome(f"The arguments must be a JSON object, not a {kind}.", True)
        server = self._servers[offered.server]
        limit = timeout if timeout is not None else server.timeout
        try:
            async with asyncio.timeout(limit):
                answer = await server.call(offered.tool, parsed)
        except TimeoutError:
            return outcome(
                f"The tool {offered.tool!r} did not finish within {limit:g} seconds and was "
                "stopped.",
                True,
            )
        except ServerUnavailable as exc:
            return outcome(str(exc), True)
        return outcome(answer.content, answer.is_error)
