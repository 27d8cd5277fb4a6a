"""A tool written in Python and shipped by a plugin (the ``register_tools`` hook).

Light on purpose: :mod:`tuichat.plugin_api` exports :class:`Tool`, and plugins load
at every start.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ToolFunction = Callable[[dict[str, Any]], "str | Awaitable[str]"]


@dataclass(frozen=True)
class Tool:
    """A Python tool: what the model is told about it, and the function that runs it.

    ``run`` takes the arguments the model gave (a dict matching ``parameters``) and
    returns the text the model gets back; it may be ``async``. A plain function runs
    in a worker thread, so a slow one does not freeze the screen. An exception it
    raises becomes an error result naming it.

    Example::

        @hookimpl
        def register_tools(register):
            register(Tool("shout", "Upper-case a text.", {"type": "object", ...},
                          lambda args: args["text"].upper(), approve="always"))
    """

    name: str
    """The tool's name, unique within its plugin."""
    description: str
    """What it does, for the model."""
    parameters: Mapping[str, Any]
    """The JSON Schema of its arguments: an ``object`` schema."""
    run: ToolFunction = field(repr=False)
    """The function that runs it."""
    approve: Literal["ask", "always"] = "ask"
    """``ask``: each call waits for a yes; ``always``: it runs without asking."""
