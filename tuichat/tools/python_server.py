"""The Python tools of one plugin, served like an MCP server's."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from typing import Any

from tuichat.sanitize import neutralize, one_line
from tuichat.tools.plugin_tool import Tool
from tuichat.tools.servers import Answer, ListedTool, ServerUnavailable, State, Transport


class PythonServer:
    """A plugin's tools: "running" from the first time they are offered (nothing has to
    start), "stopped" until then and after :meth:`close`."""

    transport: Transport = "python"

    def __init__(self, name: str, tools: Sequence[Tool], *, timeout: float) -> None:
        self.name = name
        self.timeout = timeout
        self._tools = {tool.name: tool for tool in tools}
        self._state: State = "stopped"

    @property
    def state(self) -> State:
        return self._state

    @property
    def why(self) -> str | None:
        return None

    async def start(self) -> list[ListedTool]:
        self._state = "running"
        return [
            ListedTool(tool.name, tool.description, tool.parameters, tool.approve)
            for tool in self._tools.values()
        ]

    async def call(self, tool: str, arguments: dict[str, Any]) -> Answer:
        found = self._tools.get(tool)
        if found is None:
            raise ServerUnavailable(f"The plugin {self.name!r} has no tool {tool!r}.")
        try:
            if inspect.iscoroutinefunction(found.run):
                result: Any = await found.run(arguments)
            else:
                # A plain function may block: a thread keeps the loop (and Esc) answering.
                result = await asyncio.to_thread(found.run, arguments)
                if inspect.isawaitable(result):
                    result = await result
        except Exception as exc:  # the plugin's bug is the tool's error, not ours
            detail = one_line(str(exc)) or "no message"
            return Answer(f"The tool {tool!r} failed: {type(exc).__name__}: {detail}.", True)
        return Answer(neutralize(result if isinstance(result, str) else str(result)), False)

    async def close(self) -> None:
        self._state = "stopped"


class MissingPlugin:
    """A name in ``[tools] plugins`` that no installed plugin answers to: it shows in
    ``tuichat tools`` and in a toolbox's notes instead of being ignored in silence."""

    transport: Transport = "python"

    def __init__(self, name: str, *, timeout: float) -> None:
        self.name = name
        self.timeout = timeout

    @property
    def state(self) -> State:
        return "failed"

    @property
    def why(self) -> str:
        return (
            f"No installed plugin {self.name!r} registers tools; check plugins in [tools] "
            "against 'tuichat plugins'."
        )

    async def start(self) -> list[ListedTool]:
        raise ServerUnavailable(self.why)

    async def call(self, tool: str, arguments: dict[str, Any]) -> Answer:
        raise ServerUnavailable(self.why)

    async def close(self) -> None:
        return None
