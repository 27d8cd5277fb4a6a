"""An MCP server never outlives tuichat: not after a clean close (see test_host.py), and
not after ``kill -9``, which gives tuichat no chance to stop anything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.tools.conftest import process_gone, stdio_table

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

ROOT = Path(__file__).resolve().parents[2]

#: A stand-in for tuichat: builds a tool host, starts the server, reports its pid, waits.
PARENT = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from tuichat.config import Settings
    from tuichat.tools import ToolHost

    async def main():
        host = ToolHost(Settings(mcp={"calc": json.loads(sys.argv[1])}), log_dir=Path(sys.argv[2]))
        box = await host.toolbox("all")
        print((await box.call("pid", "{}")).content, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


@contextmanager
def tuichat_like(table: dict[str, object], tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """The stand-in parent running ``table``'s server; killed at the end whatever happens."""
    with subprocess.Popen(
        [sys.executable, "-c", PARENT, json.dumps(table), str(tmp_path / "logs")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as parent:
        try:
            yield parent
        finally:
            if parent.poll() is None:
                parent.kill()


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return int(stat.read().rpartition(")")[2].split()[1])


def wait_until_gone(pid: int, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not process_gone(pid):
        assert time.monotonic() < deadline, f"process {pid} outlived its parent"
        time.sleep(0.02)


def test_the_server_and_its_leash_end_when_tuichat_is_killed_with_sigkill(
    tmp_path: Path,
) -> None:
    with tuichat_like(stdio_table(), tmp_path) as parent:
        assert parent.stdout is not None
        server = int(parent.stdout.readline())
        leash = parent_of(server)
        assert parent_of(leash) == parent.pid
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        wait_until_gone(server)
        wait_until_gone(leash)


def test_the_leash_ends_what_the_server_started_too(tmp_path: Path) -> None:
    """``npx`` and ``uvx`` run the real server as a grandchild: the whole group goes."""
    # A shell runs the server as its child (the command after it keeps it from exec'ing).
    script = f"{sys.executable} {stdio_table()['args'][0]}; echo the server ended >&2"
    table = {"command": "/bin/sh", "args": ["-c", script]}
    with tuichat_like(table, tmp_path) as parent:
        assert parent.stdout is not None
        server = int(parent.stdout.readline())
        shell = parent_of(server)
        assert parent_of(parent_of(shell)) == parent.pid  # tuichat, leash, shell, server
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        wait_until_gone(server)
        wait_until_gone(shell)
