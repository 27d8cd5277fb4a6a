"""``tuichat ask`` told to stop mid-reply: SIGTERM, SIGHUP (its terminal went away), Ctrl+C.

The reply printed so far stays printed, the same text is in the store marked
``interrupted`` (``cancelled`` for Ctrl+C: the person stopped it), one line on stderr
says why, and the exit code is 143 / 129 / 130, with no traceback.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.streams import E2E_KEY, PacedReply, openai_env, serve_paced
from tests.faults.conftest import tuichat_command
from tuichat.store import Store
from tuichat.testing.server import WireServer


@pytest.mark.parametrize(
    ("signum", "code", "status", "said"),
    [
        (signal.SIGTERM, 143, "interrupted", "stopped because tuichat was told to stop (SIGTERM)"),
        (signal.SIGHUP, 129, "interrupted", "stopped because the terminal went away (SIGHUP"),
        (signal.SIGINT, 130, "cancelled", "interrupted; the partial reply is saved"),
    ],
    ids=["SIGTERM", "SIGHUP", "SIGINT"],
)
def test_ask_stopped_by_a_signal_keeps_the_reply(
    process_env: Callable[..., dict[str, str]],
    tmp_path: Path,
    signum: int,
    code: int,
    status: str,
    said: str,
) -> None:
    reply = PacedReply(count=500, rate=100)
    with WireServer() as server:
        serve_paced(server, reply)
        process = subprocess.Popen(
            tuichat_command("ask", "tell me a long story"),
            env=process_env(**openai_env(server)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        reply.wait_sent(30)
        signalled_at = time.monotonic()
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=20)
        received = sum(1 for t in reply.sent if t <= signalled_at - 0.05)

    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("tuichat: ") and stderr.count("\n") == 1, stderr
    assert said in stderr
    with Store(tmp_path / "data" / "tuichat.db") as store:
        [conversation] = store.list_conversations()
        prompt, answer = store.messages(conversation.id)
    assert (prompt.role, prompt.content) == ("user", "tell me a long story")
    assert answer.status == status
    # What was printed is exactly what was saved, and nothing received was dropped.
    assert answer.content == stdout
    assert reply.saved_tokens(answer.content) >= received
    assert E2E_KEY not in stdout + stderr + (answer.error or "")
