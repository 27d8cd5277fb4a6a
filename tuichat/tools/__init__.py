"""Tools for the models: MCP servers and plugins' Python tools (issue 15).

Headless (never imports Textual): the conversation engine asks a :class:`ToolHost`
for a :class:`Toolbox` per conversation, offers its :meth:`Toolbox.specs` to the
model and runs the calls through :meth:`Toolbox.call`. Importing this package stays
cheap: the ``mcp`` package loads when the first MCP server starts.
"""

from tuichat.tools.box import OfferedTool, Toolbox, ToolOutcome
from tuichat.tools.host import ServerStatus, ToolHost, ToolInfo
from tuichat.tools.plugin_tool import Tool

__all__ = ["OfferedTool", "ServerStatus", "Tool", "ToolHost", "ToolInfo", "ToolOutcome", "Toolbox"]
