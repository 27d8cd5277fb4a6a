"""The ``[mcp.NAME]`` and ``[tools]`` tables: which tool servers exist and how tools run.

Configuration, so it lives in the core beside :mod:`tuichat.config`, which reads it;
it needs only pydantic, not the ``mcp`` package (that loads when a server starts).
The table shape is the one other MCP clients use (DESIGN.md 5a).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Approve", "McpServerSettings", "ToolsSettings"]

Approve = Literal["ask", "always"]


class McpServerSettings(BaseModel):
    """One MCP server (``[mcp.NAME]``): a command run over stdio, or a streamable HTTP URL."""

    model_config = ConfigDict(extra="forbid")

    command: str | None = None
    """The program that runs the server over stdio (``npx``, ``uvx``, a path)."""
    args: list[str] = Field(default_factory=list)
    """Its arguments."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables given to it, over a small safe set (``PATH``, ``HOME``...):
    nothing else of tuichat's environment, API keys included, reaches the server."""
    cwd: Path | None = None
    """Its working directory; tuichat's own when unset."""
    url: str | None = None
    """The address of a server spoken to over streamable HTTP, instead of ``command``."""
    headers: dict[str, str] = Field(default_factory=dict)
    """HTTP headers sent to a ``url`` server (``Authorization = "Bearer ..."``)."""
    approve: Approve = "ask"
    """``ask``: each call waits for a yes; ``always``: its tools run without asking."""
    enabled: bool = True
    """Offered by ``--tools all`` and listed as usable; a disabled server never starts."""
    timeout: float | None = Field(default=None, gt=0)
    """Seconds one call of its tools may take; ``[tools] timeout`` when unset."""

    @field_validator("command", "url")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("is empty; give a value or leave the key out")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not url.strip().lower().startswith(("http://", "https://")):
            raise ValueError(f"{url!r} is no http:// or https:// address of an MCP server")
        return url.strip() if url is not None else None

    @field_validator("cwd")
    @classmethod
    def _expand(cls, cwd: Path | None) -> Path | None:
        return cwd.expanduser() if cwd is not None else None

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSettings:
        if (self.command is None) == (self.url is None):
            raise ValueError(
                "needs exactly one of command (a program run over stdio) or url (a "
                "streamable HTTP server)"
            )
        if self.url is not None and (self.args or self.env or self.cwd is not None):
            raise ValueError("args, env and cwd are for a command; a url server takes headers")
        if self.command is not None and self.headers:
            raise ValueError("headers are for a url server; a command takes env")
        return self

    @property
    def transport(self) -> Literal["stdio", "http"]:
        """How the server is spoken to."""
        return "stdio" if self.command is not None else "http"


class ToolsSettings(BaseModel):
    """How tools run (``[tools]``)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("read_folder")
    @classmethod
    def _a_folder(cls, folder: Path | None) -> Path | None:
        if folder is None:
            return None
        folder = folder.expanduser()
        if not folder.is_dir():
            raise ValueError(f"names no folder ({folder}); give the folder read_file may read")
        return folder

    max_steps: int = Field(default=10, ge=1)
    """Most rounds of tool calls in one reply (``ask --max-tool-steps`` overrides it)."""
    timeout: float = Field(default=60.0, gt=0)
    """Seconds one tool call may take (a server's own ``timeout`` wins), and an MCP server
    has to start and list its tools."""
    read_folder: Path | None = None
    """A folder whose files the built-in ``read_file`` tool may read (read-only, nothing
    outside it), offered as the server ``folder``; no such tool when unset."""
    plugins: list[str] = Field(default_factory=list)
    """Plugins whose Python tools (the ``register_tools`` hook) may be offered, by plugin
    name (``tuichat plugins`` lists them); none is by default."""
