"""A main thread stuck for good no longer makes tuichat unkillable (issue #21).

The subject (``tests/faults/stuck_loop.py``) streams a reply with the app's own pieces,
then blocks its main thread: inside one C call holding the GIL (the regular expression of
issue #21), or in a Python loop. SIGHUP or SIGTERM must still end it within a few seconds,
with the reply saved as ``interrupted`` and the log saying what was running.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tuichat.signals import interruption_sentence
from tuichat.store import Store

ROOT = Path(__file__).resolve().parents[2]


def start_stuck(data: Path, how: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.stuck_loop", str(data), how],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # The runner may ignore SIGINT or SIGHUP (nohup, CI): the subject must not.
        restore_signals=True,
        preexec_fn=lambda: [
            signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT, signal.SIGHUP)
        ],
    )
    assert process.stdout is not None and process.stderr is not None
    if process.stdout.readline() != "stuck\n":
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"the subject did not get stuck: {stderr}")
    return process


@pytest.mark.parametrize("how", ["regex", "python"])
@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_signal_ends_a_stuck_process_and_saves_the_reply(
    tmp_path: Path, how: str, signum: int
) -> None:
    with start_stuck(tmp_path, how) as process:
        started = time.monotonic()
        process.send_signal(signum)
        try:
            process.wait(timeout=10)
        finally:
            process.kill()
        took = time.monotonic() - started
    # The loop is given 1.5 s to answer; then the watchdog saves and ends it.
    assert took < 4.0
    assert process.returncode == -signal.SIGKILL

    with Store(tmp_path / "tuichat.db") as store:
        [conversation] = store.list_conversations()
        prompt, reply = store.messages(conversation.id)
    assert (reply.status, reply.content) == ("interrupted", "Once upon a time")
    assert reply.error == interruption_sentence(signum)
    log = (tmp_path / "tuichat.log").read_text()
    name = signal.Signals(signum).name
    # What was running, from the signal's own stack dump and the busy-loop one.
    assert f"{name} received; the threads were running:" in log
    assert "main loop busy for" in log
    assert "in stuck_forever" in log
    assert f"{name} not answered for" in log and "1 streaming reply saved as interrupted" in log


def watchers_of(data: Path) -> list[int]:
    """The sentinels watching the subject that keeps its files in ``data``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"tuichat.sentinel" in command and str(data).encode() in command:
            found.append(int(entry.name))
    return found


def test_the_watchdog_does_not_outlive_a_process_killed_outright(tmp_path: Path) -> None:
    with start_stuck(tmp_path, "python") as process:
        assert watchers_of(tmp_path)
        process.kill()
        process.wait(timeout=10)
    deadline = time.monotonic() + 5
    while watchers_of(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert watchers_of(tmp_path) == []
