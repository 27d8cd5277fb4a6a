"""Python tools from plugins: the ``register_tools`` hook, read once per process."""

from __future__ import annotations

from collections.abc import Mapping

import pluggy

from tuichat.errors import PluginError
from tuichat.tools.plugin_tool import Tool


def load_tools(pm: pluggy.PluginManager) -> dict[str, list[Tool]]:
    """Every plugin's tools, by plugin name, in registration order.

    Raises:
        PluginError: A plugin registered something that is not a usable :class:`Tool`,
            or one name twice.
    """
    found: dict[str, list[Tool]] = {}
    for impl in pm.hook.register_tools.get_hookimpls():
        plugin = pm.get_name(impl.plugin) or repr(impl.plugin)
        tools = found.setdefault(plugin, [])

        def register(tool: Tool, _plugin: str = plugin, _tools: list[Tool] = tools) -> None:
            _check(tool, _plugin)
            if any(taken.name == tool.name for taken in _tools):
                raise PluginError(
                    f"Plugin {_plugin!r} registered the tool {tool.name!r} twice; "
                    "give each tool its own name."
                )
            _tools.append(tool)

        impl.function(register=register)
    return {plugin: tools for plugin, tools in found.items() if tools}


def _check(tool: object, plugin: str) -> None:
    if not isinstance(tool, Tool):
        raise PluginError(
            f"Plugin {plugin!r} registered {tool!r}, which is not a tuichat Tool; "
            "register tuichat.plugin_api.Tool objects."
        )
    if not isinstance(tool.name, str) or not tool.name.strip():
        raise PluginError(f"Plugin {plugin!r} registered a tool with no name.")
    schema = tool.parameters
    if not isinstance(schema, Mapping) or schema.get("type") != "object":
        raise PluginError(
            f"Plugin {plugin!r} registered the tool {tool.name!r} whose parameters are not "
            'an object JSON Schema ({"type": "object", ...}).'
        )
    if not callable(tool.run):
        raise PluginError(f"Plugin {plugin!r} registered the tool {tool.name!r} with no function.")
    if tool.approve not in ("ask", "always"):
        raise PluginError(
            f"Plugin {plugin!r} registered the tool {tool.name!r} with approve="
            f"{tool.approve!r}; use 'ask' or 'always'."
        )
