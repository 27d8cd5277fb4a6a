"""Fixtures for the tool host: settings naming the real test MCP server, and a host
that is always closed (its servers stopped) when the test ends."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tuichat.config import Settings
from tuichat.tools import ToolHost

SERVER = Path(__file__).with_name("mcp_server.py")


def stdio_table(**extra: Any) -> dict[str, Any]:
    """An ``[mcp.NAME]`` table that runs the test server over stdio."""
    return {"command": sys.executable, "args": [str(SERVER)], **extra}


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "logs"


@pytest.fixture
async def make_host(log_dir: Path) -> AsyncIterator[Callable[..., ToolHost]]:
    """``make_host(settings_data, plugin_manager=None)``: a host, closed at the end."""
    hosts: list[ToolHost] = []

    def make(data: dict[str, Any], plugin_manager: Any = None) -> ToolHost:
        host = ToolHost(Settings(**data), plugin_manager, log_dir=log_dir)
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        await host.aclose()


def process_gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting to be reaped counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except FileNotFoundError:
        return True
