"""``tuichat ask --tools``: a real MCP server (tests/tools/mcp_server.py, over stdio
through the ``mcp`` package) called by a model on the OpenAI wire, end to end in a
subprocess (DESIGN.md 5a)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuichat.testing import WireServer, sse_response
from tuichat.testing.wire import openai_chat_stream, openai_tool_stream

SERVER = Path(__file__).parents[1] / "tools" / "mcp_server.py"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"[mcp.calc]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(SERVER))}]\n",
        encoding="utf-8",
    )
    return path


def ask(
    wire_server: WireServer, config: Path, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-t",
        "OPENAI_BASE_URL": f"{wire_server.url}/v1",
        "TUICHAT_CONFIG": str(config),
        "TUICHAT_DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "tuichat", "ask", "-m", "openai/gpt-4o-mini", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        # No controlling terminal: /dev/tty cannot be opened, nobody can be asked.
        start_new_session=True,
        timeout=60,
    )


def adds(call_id: str = "call_1") -> bytes:
    return sse_response(*openai_tool_stream([(call_id, "add", ['{"a": 2', ', "b": 3}'])]))


def test_yes_runs_the_call_and_the_reply_goes_on(
    wire_server: WireServer, config: Path, tmp_path: Path
) -> None:
    wire_server.enqueue(
        sse_response(
            *openai_tool_stream([("call_1", "add", ['{"a": 2', ', "b": 3}'])], text=["Adding."])
        )
    )
    wire_server.enqueue(sse_response(*openai_chat_stream(["It is 5."])))

    done = ask(wire_server, config, tmp_path, "--tools", "calc", "--yes", "2+3?")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "Adding.\n\nIt is 5."
    assert done.stderr == "tool add: ok\n"
    first, second = (request.json() for request in wire_server.requests)
    assert [tool["function"]["name"] for tool in first["tools"]][:1] == ["add"]
    assert second["messages"][-2]["tool_calls"][0]["function"] == {
        "name": "add",
        "arguments": '{"a": 2, "b": 3}',
    }
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": "call_1", "content": "5"}


def test_without_a_terminal_or_yes_the_call_is_declined(
    wire_server: WireServer, config: Path, tmp_path: Path
) -> None:
    wire_server.enqueue(adds())
    wire_server.enqueue(sse_response(*openai_chat_stream(["OK, I will not."])))

    done = ask(wire_server, config, tmp_path, "--tools", "all", "2+3?")

    assert done.returncode == 0, done.stderr
    assert done.stderr == "tool add: declined\n"
    tool_message = wire_server.requests[1].json()["messages"][-1]
    assert tool_message["content"] == "declined by the user"


def test_after_the_step_limit_no_request_offers_tools(
    wire_server: WireServer, config: Path, tmp_path: Path
) -> None:
    wire_server.enqueue(adds("call_1"))
    wire_server.enqueue(adds("call_2"))
    wire_server.enqueue(sse_response(*openai_chat_stream(["Giving up: 5."])))

    done = ask(
        wire_server, config, tmp_path, "--tools", "calc", "-y", "--max-tool-steps", "2", "2+3?"
    )

    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[:2] == ["tool add: ok", "tool add: ok"]
    assert "limit of 2 tool step(s) was reached" in lines[2]
    offered = ["tools" in request.json() for request in wire_server.requests]
    assert offered == [True, True, False]
    assert done.stdout.endswith("Giving up: 5.")


def test_json_lists_every_call(wire_server: WireServer, config: Path, tmp_path: Path) -> None:
    wire_server.enqueue(adds())
    wire_server.enqueue(sse_response(*openai_chat_stream(["5"], usage=(30, 2))))

    done = ask(wire_server, config, tmp_path, "--tools", "calc", "-y", "--json", "2+3?")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    (call,) = report["tool_calls"]
    assert (call["name"], call["arguments"], call["status"]) == ("add", {"a": 2, "b": 3}, "ok")
    assert report["content"] == "5"
    assert report["usage"]["input_tokens"] == 40  # both rounds: 10 + 30


def test_an_unknown_server_is_one_sentence_and_exit_2(
    wire_server: WireServer, config: Path, tmp_path: Path
) -> None:
    done = ask(wire_server, config, tmp_path, "--tools", "nope", "hi")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "nope" in done.stderr
    assert "Traceback" not in done.stderr
    assert wire_server.requests == []


def test_a_call_is_asked_on_the_terminal_whatever_stdin_is(
    wire_server: WireServer, config: Path, tmp_path: Path
) -> None:
    """``ask`` opens /dev/tty (a pty here, its controlling terminal) though stdin is a
    pipe and stdout a file: the question and the exact arguments show there, "y" runs it."""
    import pty
    import select
    import time

    wire_server.enqueue(adds())
    wire_server.enqueue(sse_response(*openai_chat_stream(["It is 5."])))
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-t",
        "OPENAI_BASE_URL": f"{wire_server.url}/v1",
        "TUICHAT_CONFIG": str(config),
        "TUICHAT_DATA_DIR": str(tmp_path / "data"),
    }
    out = tmp_path / "out.txt"
    primary, secondary = pty.openpty()

    def controlling_terminal() -> None:
        os.setsid()
        fcntl_ioctl(secondary)

    def fcntl_ioctl(fd: int) -> None:
        import fcntl
        import termios

        fcntl.ioctl(fd, termios.TIOCSCTTY, 0)

    with out.open("w") as stdout:
        child = subprocess.Popen(
            [sys.executable, "-m", "tuichat", "ask", "-m", "openai/gpt-4o-mini"]
            + ["--tools", "calc", "2+3?"],
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=env,
            preexec_fn=controlling_terminal,  # noqa: PLW1509 - the test's own child
            pass_fds=(secondary,),
            text=True,
        )
        os.close(secondary)
        assert child.stdin is not None
        child.stdin.close()
        seen = b""
        deadline = time.monotonic() + 30
        while b"Run it?" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(primary, 4096)
                except OSError:  # the terminal closed: the child ended
                    break
        assert b"tool add (server calc)" in seen and b'"a": 2' in seen, (
            seen,
            child.poll(),
            child.stderr.read() if child.poll() is not None and child.stderr else "",
        )
        os.write(primary, b"y\n")
        assert child.stderr is not None
        child.wait(timeout=30)
        err = child.stderr.read()
        child.stderr.close()
    os.close(primary)
    assert child.returncode == 0, err
    assert err == "tool add: ok\n"
    assert out.read_text() == "It is 5."
