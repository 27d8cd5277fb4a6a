"""Tools for the models: MCP servers and plugins' Python tools (issue 15).

Headless (never imports Textual): the conversation engine asks a :class:`ToolHost`
for a :class:`Toolbox` per conversation, offers its :meth:`Toolbox.specs` to the
model and runs the calls through :meth:`Toolbox.call`. Importing this package stays
cheap: the ``mcp`` package loads when the first MCP server starts.

How the engine uses it::

    host = ToolHost(runtime.settings, runtime.plugin_manager)  # one per process
    box = await host.toolbox(["files"])        # or "all"; starts what is not running
    for note in box.notes: ...                 # a server that could not start: say it
    request = ChatRequest(..., tools=box.specs())
    # for each ToolCall the model streamed:
    offered = box.find(call.name)              # None: not offered; .approve, .tool
    outcome = await box.call(call.name, call.arguments)
    ToolResult(call.id, call.name, outcome.content, outcome.is_error)
    ...
    await host.aclose()                        # at quit: every server process ends
"""

from tuichat.tools.box import OfferedTool, Toolbox, ToolOutcome
from tuichat.tools.host import ServerStatus, ToolHost, ToolInfo
from tuichat.tools.plugin_tool import Tool

__all__ = ["OfferedTool", "ServerStatus", "Tool", "ToolHost", "ToolInfo", "ToolOutcome", "Toolbox"]
