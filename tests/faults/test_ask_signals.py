"""``tuichat ask`` told to stop mid-reply: SIGTERM, SIGHUP (its terminal went away), Ctrl+C.

The reply printed so far stays printed, the same text is in the store marked
``interrupted`` (``cancelled`` for Ctrl+C: the person stopped it), one line on stderr
says why, and the exit code is 143 / 129 / 130, with no traceback.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.streams import E2E_KEY, HELD, PacedReply, openai_env, serve_paced
from tests.faults.conftest import tuichat_command
from tuichat.store import Store
from tuichat.testing.server import WireServer


def default_signals() -> None:
    """In the child: the default handling of the signals sent. A test runner started in
    the background (``pytest &``) ignores SIGINT, and an ignored signal stays ignored
    across exec: Python would then install no handler and the SIGINT case would wait."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


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
    reply = PacedReply(count=500, rate=100, hold_after=HELD)
    with WireServer() as server:
        serve_paced(server, reply)
        process = subprocess.Popen(
            tuichat_command("ask", "tell me a long story"),
            env=process_env(**openai_env(server)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=default_signals,
        )
        assert process.stdout is not None and process.stderr is not None
        # The stream holds after HELD tokens: once ask printed them all, it received
        # exactly those.
        printed = b""
        while not printed.endswith(reply.text(HELD).encode()):
            chunk = process.stdout.read1(4096)
            assert chunk, f"ask stopped early: {process.stderr.read().decode()}"
            printed += chunk
        process.send_signal(signum)
        rest, stderr_bytes = process.communicate(timeout=20)
        stdout, stderr = (printed + rest).decode(), stderr_bytes.decode()

    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("tuichat: ") and stderr.count("\n") == 1, stderr
    assert said in stderr
    with Store(tmp_path / "data" / "tuichat.db") as store:
        [conversation] = store.list_conversations()
        prompt, answer = store.messages(conversation.id)
    assert (prompt.role, prompt.content) == ("user", "tell me a long story")
    assert answer.status == status
    # What was printed is exactly what was saved: everything received.
    assert answer.content == stdout == reply.text(HELD)
    assert E2E_KEY not in stdout + stderr + (answer.error or "")


def test_the_sigint_case_holds_when_the_runner_ignores_sigint(tmp_path: Path) -> None:
    # As when the suite runs from a background job (``pytest &``): SIGINT ignored.
    node = f"{__file__}::test_ask_stopped_by_a_signal_keeps_the_reply[SIGINT]"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert run.returncode == 0, run.stdout[-2000:]
