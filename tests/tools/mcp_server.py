"""A small, real MCP server for the tests, written with the ``mcp`` package.

Run as ``python tests/tools/mcp_server.py`` it speaks MCP over stdio; with
``--http PORT`` it serves streamable HTTP on 127.0.0.1 instead. Its tools cover
what the tool host must handle: a plain result, an error result, a slow call (for
timeouts and Esc), a process that dies mid-call, an image part, and what the
process sees of its environment.
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

# A 1x1 transparent PNG: the smallest image part a tool can return.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)

server = MCPServer(os.environ.get("TEST_SERVER_NAME", "test-server"))


@server.tool()
def add(a: int, b: int) -> str:
    """Add two whole numbers.

    Returns their sum as text.
    """
    return str(a + b)


@server.tool()
def echo(text: str) -> str:
    """Say the text back."""
    return text


@server.tool()
def fail() -> str:
    """Always fail."""
    raise ToolError("the disk is on fire")


@server.tool()
async def slow(seconds: float) -> str:
    """Wait, then answer. With TEST_SLOW_MARKER set, writes "started" to that file, then
    "cancelled" if the call was cancelled."""
    marker = os.environ.get("TEST_SLOW_MARKER")
    if marker:
        with open(marker, "w", encoding="utf-8") as file:
            file.write("started")
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        if marker:
            with open(marker, "w", encoding="utf-8") as file:
                file.write("cancelled")
        raise
    return "done"


@server.tool()
def crash() -> str:
    """End the process in the middle of the call."""
    sys.stderr.write("about to crash\n")
    sys.stderr.flush()
    os._exit(3)


@server.tool(structured_output=False)
def picture():  # type: ignore[no-untyped-def]
    """A caption and an image."""
    return ["a pixel", Image(data=PIXEL, format="png")]


@server.tool()
def env(name: str) -> str:
    """The value of an environment variable as this process sees it, or <unset>."""
    return os.environ.get(name, "<unset>")


@server.tool()
def header(name: str, ctx: Context) -> str:
    """The value of an HTTP request header this call came with, or <none>."""
    headers = ctx.headers or {}
    return headers.get(name.lower(), "<none>")


@server.tool()
def where() -> str:
    """This process's working directory."""
    return os.getcwd()


@server.tool()
def pid() -> str:
    """This process's id."""
    return str(os.getpid())


@server.tool()
def shout() -> str:
    """Write to stderr, then answer."""
    sys.stderr.write("a line for the log only\n")
    sys.stderr.flush()
    return "said"


@server.tool()
def controls() -> str:
    """Text with terminal escapes in it."""
    return "red \x1b[31mtext\x1b[0m and a bell\x07"


@server.tool(name="ring\x07the\x1b[2Jbell")
def hostile_name() -> str:
    """A tool whose name would drive a terminal."""
    return "never offered"


if __name__ == "__main__":
    sys.stderr.write("test server starting\n")
    sys.stderr.flush()
    if os.environ.get("TEST_STARTUP_GARBAGE"):
        # Before the server takes stdout over: a line that is no JSON-RPC message.
        sys.stdout.write("this is not JSON\n")
        sys.stdout.flush()
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
