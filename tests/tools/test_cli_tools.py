"""``tuichat tools``, run as a person runs it: a real process, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools.conftest import SERVER


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TUICHAT_") and not key.endswith("_API_KEY")
    }
    env.update(
        TUICHAT_CONFIG=str(tmp_path / "config.toml"),
        TUICHAT_DATA_DIR=str(tmp_path / "data"),
        TUICHAT_LOAD_PLUGINS="",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tuichat", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    return run


def test_with_no_server_one_sentence_tells_how_to_add_one(run, tmp_path: Path) -> None:
    done = run("tools")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.count("\n") == 1
    assert done.stdout.startswith("No tool servers are configured. Add an MCP server to ")
    assert str(tmp_path / "config.toml") in done.stdout
    assert '[mcp.NAME] with command = "..."' in done.stdout


def test_servers_are_listed_with_their_state_and_tools(run, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        f"[mcp.calc]\ncommand = {sys.executable!r}\nargs = [{str(SERVER)!r}]\n\n"
        '[mcp.broken]\ncommand = "no-such-program-here"\n\n'
        '[mcp.off]\nurl = "http://127.0.0.1:9/mcp"\nenabled = false\n',
        encoding="utf-8",
    )
    done = run("tools")
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["NAME", "TRANSPORT", "ENABLED", "STATE", "TOOLS"]
    assert lines[1].split() == ["calc", "stdio", "yes", "running", "12"]  # not the 13th
    assert lines[2].split() == ["add", "Add", "two", "whole", "numbers."]
    broken = lines.index(next(line for line in lines if line.startswith("broken")))
    assert lines[broken].split() == ["broken", "stdio", "yes", "failed", "-"]
    assert "the command 'no-such-program-here' was not found" in lines[broken + 1]
    assert lines[-2].split() == ["off", "http", "no", "stopped", "-"]
    assert "set enabled = true in [mcp.off]" in lines[-1]
    # The server was started to list its tools, then stopped; its stderr went to the log.
    assert "test server starting" in (tmp_path / "data" / "mcp" / "calc.log").read_text()


def test_a_bad_mcp_table_is_one_config_line_and_exit_2(run, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[mcp.both]\ncommand = "x"\nurl = "http://127.0.0.1:9/mcp"\n', encoding="utf-8"
    )
    done = run("tools")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1
    assert "line 1: 'mcp.both' needs exactly one of command" in done.stderr
