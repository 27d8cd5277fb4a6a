"""What ``tuichat ask`` tells on stderr about settings the provider did not send."""

from __future__ import annotations

import os
import subprocess
import sys

from tuichat.testing import WireServer, openai_chat_stream, sse_response


def ask(wire_server: WireServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": f"{wire_server.url}/v1",
        "TUICHAT_LOAD_PLUGINS": "openai",
    }
    return subprocess.run(
        [sys.executable, "-m", "tuichat", "ask", "--no-save", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def test_a_temperature_a_reasoning_model_refuses_is_left_out_with_a_note(
    wire_server: WireServer,
) -> None:
    wire_server.enqueue(sse_response(*openai_chat_stream(["Fine."])))
    done = ask(wire_server, "-m", "openai/o3", "--temperature", "0.2", "hi")
    assert (done.returncode, done.stdout) == (0, "Fine.")
    assert done.stderr == (
        "tuichat: note: The temperature was not sent: o3 is a reasoning model and takes none.\n"
    )
    assert "temperature" not in wire_server.last_request.json()


def test_a_temperature_that_is_sent_gets_no_note(wire_server: WireServer) -> None:
    wire_server.enqueue(sse_response(*openai_chat_stream(["Fine."])))
    done = ask(wire_server, "-m", "openai/gpt-4o-mini", "--temperature", "0.2", "hi")
    assert (done.returncode, done.stderr) == (0, "")
    assert wire_server.last_request.json()["temperature"] == 0.2
