"""What every tool server (an MCP server or a plugin's Python tools) offers the host."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from tuichat.tool_settings import Approve

State = Literal["stopped", "running", "failed"]
Transport = Literal["stdio", "http", "python"]


@dataclass(frozen=True, slots=True)
class ListedTool:
    """A tool as its server lists it."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    approve: Approve


@dataclass(frozen=True, slots=True)
class Answer:
    """What one call gave: its text (neutralised) and whether it is an error."""

    content: str
    is_error: bool


class ServerUnavailable(Exception):
    """A server could not start or stopped; ``str()`` is one sentence for a person."""


class ToolServer(Protocol):
    """One source of tools the host owns."""

    name: str
    transport: Transport
    timeout: float
    """Seconds one call may take unless the caller says otherwise."""

    @property
    def state(self) -> State: ...

    @property
    def why(self) -> str | None:
        """Why the server is ``failed``: one sentence."""

    async def start(self) -> list[ListedTool]:
        """Start the server unless it runs, and list its tools.

        Raises:
            ServerUnavailable: It cannot start (one sentence saying why).
        """

    async def call(self, tool: str, arguments: dict[str, Any]) -> Answer:
        """Run one tool; a failure of the tool is an error :class:`Answer`.

        Raises:
            ServerUnavailable: The server stopped or cannot start.
        """

    async def close(self) -> None:
        """Stop the server (and its process), if it runs."""
