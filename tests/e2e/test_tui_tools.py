"""A tool call approved in a real terminal (tmux): the OpenAI plugin against the test kit
(``serve --call-tools``: the model calls the first tool offered), a real MCP server over
stdio, keyboard only. The server is gone once tuichat quits, and after kill -9 of it."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.kit import kit_server
from tests.e2e.tmux import TmuxSession, child_pids, pane_program, process_alive, wait_until
from tuichat.store import Store

pytestmark = pytest.mark.e2e

SERVER = Path(__file__).parents[1] / "tools" / "mcp_server.py"
REPLY_START = "Streaming test reply"


@pytest.fixture
def kit_url() -> Iterator[str]:
    """A test-kit server whose model calls the first tool offered (add, 2 and 3)."""
    args = ["--openai-reply-tokens", "40", "--call-tools", "--tool-arguments", '{"a": 2, "b": 3}']
    with kit_server(*args) as url:
        yield url


@pytest.fixture
def env(app_env: dict[str, str], kit_url: str, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "config.toml").write_text(
        "[ui]\ncursor_blink = false\n\n"
        f"[mcp.calc]\ncommand = {json.dumps(sys.executable)}\n"
        f"args = [{json.dumps(str(SERVER))}]\n"
    )
    return {**app_env, "OPENAI_API_KEY": "sk-test-openai", "OPENAI_BASE_URL": f"{kit_url}/v1"}


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    for child in child_pids(pid):
        found += [child, *descendants(child)]
    return found


def approve_a_call(app: TmuxSession) -> None:
    app.wait_for("openai · wire-model-1", timeout=30)
    app.keys("F9")
    app.wait_for(lambda s: "Space ticks" in s and "calc" in s)
    app.keys("Space")
    app.keys("Enter")
    app.wait_for("Tools offered in this conversation: calc.")
    app.type("What is 2+3?")
    app.keys("Enter")
    app.wait_for("Run add?", timeout=30)
    assert '"a": 2' in app.screen()
    app.keys("y")
    app.wait_for(lambda s: "⚙ add · calc · ok" in s and "complete (stop)" in s, timeout=30)


def test_a_call_is_approved_and_the_server_stops_with_the_app(
    terminal, env: dict[str, str], tmp_path: Path
) -> None:
    app: TmuxSession = terminal("--model", "openai/wire-model-1", env=env, width=120, height=40)
    approve_a_call(app)
    program = pane_program(app)
    servers = descendants(program)
    assert servers, "the MCP server runs under tuichat"

    with Store(tmp_path / "data" / "tuichat.db") as store:
        [conversation] = store.list_conversations()
        reply = store.messages(conversation.id)[-1]
    [call] = reply.meta["rounds"][0]["calls"]
    assert (call["tool"], call["status"], call["result"]) == ("add", "ok", "5")
    assert REPLY_START in reply.content

    app.keys("C-q")
    app.wait_for("EXIT=0", timeout=15)
    wait_until(lambda: not any(process_alive(pid) for pid in servers), what="servers gone")


def test_after_kill_9_of_tuichat_its_tool_server_is_gone(
    terminal, env: dict[str, str], tmp_path: Path
) -> None:
    app: TmuxSession = terminal("--model", "openai/wire-model-1", env=env, width=120, height=40)
    approve_a_call(app)
    program = pane_program(app)
    servers = descendants(program)
    assert servers
    os.kill(program, signal.SIGKILL)
    wait_until(lambda: not any(process_alive(pid) for pid in servers), what="servers gone")
