"""The app in a real terminal, its main thread stuck for good mid-reply (issue #21).

The demo provider is made to get stuck (``stuck_site/sitecustomize.py``): in Textual's
old number pattern on 40 digits and a letter, one C call that would run for ages holding
the GIL, so neither the SIGHUP handler nor any thread of the app can run; or in a Python
loop, where the terminal's input thread still reads keys but the loop never takes them.
The watchdog must log the busy loop with what it runs and, on SIGHUP or on Ctrl+Q, save
the reply as interrupted and end the app within a few seconds.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.tmux import child_pids, pane_program, process_alive, wait_until
from tuichat.signals import interruption_sentence
from tuichat.store import Message, Store
from tuichat.watchdog import QUIT_SENTENCE

pytestmark = pytest.mark.e2e

SITE = Path(__file__).resolve().parent / "stuck_site"


def watched(pid: int) -> bool:
    """Whether the app's watchdog runs (it starts a second after the first frame)."""
    for child in child_pids(pid):
        try:
            if b"tuichat.sentinel" in Path(f"/proc/{child}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def reply_row(database: Path) -> Message | None:
    with Store(database) as store:
        conversations = store.list_conversations()
        if not conversations:
            return None
        replies = [m for m in store.messages(conversations[0].id) if m.role == "assistant"]
        return replies[-1] if replies else None  # the prompt is saved first


@pytest.mark.parametrize(
    ("how", "stop", "running", "sentence"),
    [
        ("regex", "SIGHUP", "in fullmatch", interruption_sentence(signal.SIGHUP)),
        ("python", "C-q", "in _stuck_stream_chat", QUIT_SENTENCE),
    ],
    ids=["stuck-in-C-then-SIGHUP", "stuck-in-Python-then-Ctrl+Q"],
)
def test_an_app_stuck_for_good_ends_and_saves_the_reply(
    terminal, app_env: dict[str, str], tmp_path: Path, request, how, stop, running, sentence
) -> None:
    trigger = tmp_path / "stuck-now"
    data = Path(app_env["TUICHAT_DATA_DIR"])
    env = {
        **app_env,
        "PYTHONPATH": os.pathsep.join([str(SITE), os.environ.get("PYTHONPATH", "")]),
        "TUICHAT_TEST_STUCK": str(trigger),
    }
    app = terminal(env=env)
    app.wait_for("Enter", timeout=30)
    pid = pane_program(app)
    # Should the test fail, a stuck app outlives its tmux (the very bug): end it here.
    request.addfinalizer(lambda: process_alive(pid) and os.kill(pid, signal.SIGKILL))
    app.type("hello")
    app.keys("Enter")
    app.wait_for("Welcome to tuichat", timeout=30)

    def saved_text() -> str:
        row = reply_row(data / "tuichat.db")
        return row.content if row is not None else ""

    wait_until(lambda: "Welcome" in saved_text(), timeout=10, what="a checkpoint")
    wait_until(lambda: watched(pid), timeout=10, what="the watchdog to start")
    trigger.write_text(how)
    log = data / "tuichat.log"
    wait_until(
        lambda: log.exists() and "main loop busy" in log.read_text(),
        timeout=10,
        what="the watchdog to log the stuck loop",
    )
    stuck_text = saved_text()

    started = time.monotonic()
    if stop == "SIGHUP":
        os.kill(pid, signal.SIGHUP)
    else:
        app.keys(stop)
    wait_until(lambda: not process_alive(pid), timeout=10, what="the app to end")
    assert time.monotonic() - started < 4.0

    row = reply_row(data / "tuichat.db")
    assert row is not None
    assert (row.status, row.content) == ("interrupted", stuck_text)
    assert row.error == sentence
    written = log.read_text()
    assert running in written and "_stuck_stream_chat" in written
    assert "not answered for" in written and "1 streaming reply saved" in written
