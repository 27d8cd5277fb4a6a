"""The tool host against a real MCP server (tests/tools/mcp_server.py) over stdio.

Each test starts the server through the ``mcp`` package, as tuichat does for a
person's ``[mcp.NAME]`` table, and the host fixture stops it at the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.tools.conftest import process_gone, stdio_table
from tuichat.errors import UsageError
from tuichat.tools import ToolHost

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


async def eventually(check: Callable[[], bool], within: float = 15.0) -> None:
    """Poll ``check`` until it holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.02)


async def test_a_server_starts_only_when_a_toolbox_offers_it(make_host, log_dir: Path) -> None:
    host: ToolHost = make_host({"mcp": {"calc": stdio_table()}})
    assert host.servers() == ["calc"]
    assert not log_dir.exists()  # nothing ran yet
    box = await host.toolbox(["calc"])
    assert box.notes == ()
    names = [tool.spec.name for tool in box.tools]
    assert {"add", "echo", "fail", "slow", "crash", "picture"} <= set(names)
    assert not [name for name in names if "ring" in name]  # its name holds escapes
    add = box.find("add")
    assert add is not None
    assert (add.server, add.tool, add.approve) == ("calc", "add", "ask")
    assert add.spec.parameters["required"] == ["a", "b"]
    assert add.spec.description.startswith("Add two whole numbers.")
    assert [spec.name for spec in box.specs()] == names


async def test_a_call_gives_the_text_of_the_result(make_host) -> None:
    box = await make_host({"mcp": {"calc": stdio_table()}}).toolbox("all")
    outcome = await box.call("add", '{"a": 2, "b": 40}')
    assert (outcome.content, outcome.is_error) == ("42", False)
    assert outcome.seconds > 0


async def test_an_error_result_is_an_error_outcome_with_the_servers_words(make_host) -> None:
    box = await make_host({"mcp": {"calc": stdio_table()}}).toolbox("all")
    outcome = await box.call("fail", "{}")
    assert outcome.is_error and "the disk is on fire" in outcome.content


async def test_an_image_part_is_named_by_its_type(make_host) -> None:
    box = await make_host({"mcp": {"calc": stdio_table()}}).toolbox("all")
    outcome = await box.call("picture", "")
    assert (outcome.content, outcome.is_error) == ("a pixel\n[image: image/png]", False)


async def test_terminal_escapes_in_a_result_are_neutralised(make_host) -> None:
    box = await make_host({"mcp": {"calc": stdio_table()}}).toolbox("all")
    outcome = await box.call("controls", "{}")
    assert "\x1b" not in outcome.content and "\x07" not in outcome.content
    assert outcome.content.startswith("red ␛[31mtext")


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object, not a list"),
        ("null", "must be a JSON object, not a null"),
    ],
)
async def test_arguments_that_are_no_json_object_are_one_sentence(
    make_host, arguments: str, says: str
) -> None:
    box = await make_host({"mcp": {"calc": stdio_table()}}).toolbox("all")
    outcome = await box.call("add", arguments)
    assert outcome.is_error and says in outcome.content


async def test_a_tool_that_is_not_offered_is_one_sentence(make_host) -> None:
    box = await make_host({"mcp": {"calc": stdio_table()}}).toolbox("all")
    outcome = await box.call("rm_rf", "{}")
    assert outcome.is_error and "no tool named 'rm_rf'" in outcome.content


async def test_a_call_past_its_timeout_is_stopped_and_the_server_goes_on(
    make_host, tmp_path: Path
) -> None:
    marker = tmp_path / "slow"
    table = stdio_table(env={"TEST_SLOW_MARKER": str(marker)})
    box = await make_host({"mcp": {"calc": table}}).toolbox("all")
    outcome = await box.call("slow", '{"seconds": 60}', timeout=0.5)
    assert outcome.is_error
    assert "did not finish within 0.5 seconds" in outcome.content
    # The server was told to stop the call, and it did.
    await eventually(lambda: marker.exists() and marker.read_text() == "cancelled")
    assert (await box.call("add", '{"a": 1, "b": 1}')).content == "2"


async def test_the_servers_timeout_applies_when_the_call_names_none(make_host) -> None:
    box = await make_host({"mcp": {"calc": stdio_table(timeout=0.5)}}).toolbox("all")
    outcome = await box.call("slow", '{"seconds": 60}')
    assert outcome.is_error and "within 0.5 seconds" in outcome.content


async def test_cancelling_a_call_propagates_at_once_and_stops_it_on_the_server(
    make_host, tmp_path: Path
) -> None:
    marker = tmp_path / "slow"
    table = stdio_table(env={"TEST_SLOW_MARKER": str(marker)})
    box = await make_host({"mcp": {"calc": table}}).toolbox("all")
    call = asyncio.create_task(box.call("slow", '{"seconds": 60}'))
    await eventually(lambda: marker.exists())
    call.cancel()
    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert time.monotonic() - started < 5
    await eventually(lambda: marker.read_text() == "cancelled")


async def test_a_server_that_dies_mid_call_gives_one_sentence_then_starts_again_once(
    make_host, log_dir: Path
) -> None:
    host = make_host({"mcp": {"calc": stdio_table()}})
    box = await host.toolbox("all")
    first_pid = int((await box.call("pid", "{}")).content)

    crashed = await box.call("crash", "{}")
    assert crashed.is_error and crashed.content.count(". ") == 0
    assert "'calc' has stopped; it will be started again" in crashed.content
    assert str(log_dir / "calc.log") in crashed.content
    assert [s.state for s in await host.status(start=False)] == ["failed"]

    # The next call starts it again...
    second_pid = int((await box.call("pid", "{}")).content)
    assert second_pid != first_pid
    assert process_gone(first_pid)
    # ...but only once: a server that keeps dying stays down.
    await box.call("crash", "{}")
    again = await box.call("add", '{"a": 1, "b": 2}')
    assert again.is_error and "'calc' has stopped" in again.content
    assert "started again" not in again.content


async def test_a_server_killed_while_idle_is_one_sentence_at_the_next_call(make_host) -> None:
    box = await make_host({"mcp": {"calc": stdio_table()}}).toolbox("all")
    pid = int((await box.call("pid", "{}")).content)
    os.kill(pid, signal.SIGKILL)
    await eventually(lambda: process_gone(pid))
    lost = await box.call("add", '{"a": 1, "b": 2}')
    assert lost.is_error and "'calc' has stopped; it will be started again" in lost.content
    assert (await box.call("add", '{"a": 1, "b": 2}')).content == "3"


async def test_same_named_tools_of_two_servers_get_the_servers_name(make_host) -> None:
    host = make_host({"mcp": {"one": stdio_table(), "two.b": stdio_table()}})
    box = await host.toolbox(["one", "two.b"])
    names = {tool.spec.name for tool in box.tools}
    assert {"one__add", "two_b__add"} <= names
    found = box.find("two_b__add")
    assert found is not None and (found.server, found.tool) == ("two.b", "add")
    assert (await box.call("two_b__add", '{"a": 1, "b": 2}')).content == "3"


async def test_a_server_gets_only_the_safe_environment_and_its_tables_env(
    make_host, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-to-a-tool-server")
    monkeypatch.setenv("HOME", "/home/someone")
    table = stdio_table(env={"GREETING": "hello", "PATH": os.environ["PATH"]})
    box = await make_host({"mcp": {"calc": table}}).toolbox("all")

    async def seen(name: str) -> str:
        return (await box.call("env", f'{{"name": "{name}"}}')).content

    assert await seen("GREETING") == "hello"
    assert await seen("OPENAI_API_KEY") == "<unset>"
    assert await seen("TUICHAT_DATA_DIR") == "<unset>"
    assert await seen("HOME") == "/home/someone"


async def test_a_server_runs_in_its_tables_cwd_else_in_ours(make_host, tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    host = make_host({"mcp": {"here": stdio_table(cwd=str(folder)), "there": stdio_table()}})
    box = await host.toolbox("all")
    assert (await box.call("here__where", "{}")).content == str(folder)
    assert (await box.call("there__where", "{}")).content == os.getcwd()


async def test_server_stderr_goes_to_its_log_never_to_ours(
    make_host, log_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    box = await make_host({"mcp": {"calc": stdio_table()}}).toolbox("all")
    assert (await box.call("shout", "{}")).content == "said"
    log = log_dir / "calc.log"
    await eventually(lambda: "a line for the log only" in log.read_text())
    assert "test server starting" in log.read_text()
    assert capfd.readouterr().err == ""


async def test_the_mcp_packages_own_complaints_go_to_a_log_never_to_our_stderr(
    make_host, log_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    table = stdio_table(env={"TEST_STARTUP_GARBAGE": "1"})
    box = await make_host({"mcp": {"calc": table}}).toolbox("all")
    assert (await box.call("add", '{"a": 1, "b": 2}')).content == "3"
    assert "Failed to parse JSONRPC message" in (log_dir / "mcp-client.log").read_text()
    assert capfd.readouterr().err == ""


async def test_closing_the_host_ends_the_server_process(make_host) -> None:
    host = make_host({"mcp": {"calc": stdio_table()}})
    box = await host.toolbox("all")
    pid = int((await box.call("pid", "{}")).content)
    await host.aclose()
    assert process_gone(pid)
    assert [s.state for s in await host.status(start=False)] == ["stopped"]


async def test_a_server_that_cannot_start_is_a_note_and_the_others_are_offered(
    make_host, tmp_path: Path
) -> None:
    host = make_host(
        {
            "mcp": {
                "missing": {"command": "no-such-program-here"},
                "nowhere": stdio_table(cwd=str(tmp_path / "absent")),
                "dies": {"command": sys.executable, "args": ["-c", "raise SystemExit(4)"]},
                "calc": stdio_table(),
            }
        }
    )
    box = await host.toolbox("all")
    assert box.find("add") is not None
    notes = "\n".join(box.notes)
    assert len(box.notes) == 3
    assert "'missing' cannot start: the command 'no-such-program-here' was not found" in notes
    assert "'nowhere' cannot start: its cwd" in notes
    assert "'dies' stopped before it answered" in notes


async def test_a_server_that_does_not_answer_in_time_is_a_note(make_host) -> None:
    silent = {"command": sys.executable, "args": ["-c", "import time; time.sleep(60)"]}
    host = make_host({"tools": {"timeout": 0.5}, "mcp": {"silent": silent}})
    box = await host.toolbox("all")
    assert box.tools == ()
    assert box.notes and "'silent' did not answer within 0.5 seconds" in box.notes[0]


async def test_all_means_the_enabled_servers_and_a_disabled_one_is_refused_by_name(
    make_host,
) -> None:
    host = make_host({"mcp": {"on": stdio_table(), "off": stdio_table(enabled=False)}})
    assert host.servers() == ["on", "off"]
    box = await host.toolbox("all")
    assert {tool.server for tool in box.tools} == {"on"}
    with pytest.raises(UsageError, match=r"'off' is disabled; set enabled = true in \[mcp.off\]"):
        await host.toolbox(["off"])


async def test_an_unknown_server_name_lists_the_known_ones(make_host) -> None:
    host = make_host({"mcp": {"calc": stdio_table(), "files": stdio_table()}})
    with pytest.raises(UsageError, match="no tool server 'web'; the known ones are calc, files"):
        await host.toolbox(["web"])
    with pytest.raises(UsageError, match=r"none is configured; add an \[mcp.NAME\] table"):
        await make_host({}).toolbox(["web"])


async def test_approve_comes_from_the_table(make_host) -> None:
    box = await make_host({"mcp": {"calc": stdio_table(approve="always")}}).toolbox("all")
    assert {tool.approve for tool in box.tools} == {"always"}
