"""Over SSH, for real: the connection drops mid-reply, the reply is saved and marked.

An OpenSSH server on 127.0.0.1 (generated host and user keys) serves a login; in tmux,
``ssh -tt`` runs ``tuichat`` there, chatting with the kit server's slow stream. The ssh
client is killed mid-reply, as when a laptop lid closes or a network drops: sshd hangs
up the session's terminal and the app gets SIGHUP. A new SSH session then opens the app
again and finds the partial reply in the store and on screen, marked interrupted.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from tests.e2e.sshd import SSHServer
from tests.e2e.streams import E2E_KEY, HELD, PacedReply, openai_env, serve_paced
from tests.e2e.test_crash import open_first_conversation, reply_row
from tests.e2e.tmux import pane_program, process_alive, wait_until
from tuichat.testing.server import WireServer

pytestmark = pytest.mark.e2e


def remote_tuichat(data: Path) -> list[int]:
    """Pids of tuichat processes (started over SSH) using the data dir ``data``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"-m\0tuichat" in command and f"TUICHAT_DATA_DIR={data}".encode() in environ:
            found.append(int(entry.name))
    return found


def test_a_dropped_ssh_session_saves_the_reply_as_interrupted(
    terminal, sshd: SSHServer, app_env: dict[str, str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    reply = PacedReply(hold_after=HELD)
    with WireServer() as server:
        serve_paced(server, reply)
        remote_env = {**app_env, **openai_env(server)}
        remote_env.pop("PATH", None)
        command = sshd.command([sys.executable, "-m", "tuichat"], remote_env)
        session = terminal(env={"TERM": "xterm-256color"}, command=command)
        session.wait_for("Enter", timeout=30)
        session.type("tell me a long story")
        session.keys("Enter")
        # The stream holds after HELD tokens: once the last is on screen, the app has
        # received exactly those.
        reply.wait_shown(session, HELD)
        [app_pid] = remote_tuichat(data)

        client = pane_program(session)
        os.kill(client, signal.SIGKILL)  # the network is gone: no goodbye to the server
        wait_until(lambda: not process_alive(app_pid), timeout=20, what="the remote app to end")

    row = reply_row(data / "tuichat.db")
    assert row.status == "interrupted", row
    assert "SIGHUP" in (row.error or "")
    assert row.content == reply.text(HELD)

    # Log in again: the reply is there, marked.
    again = terminal(env={"TERM": "xterm-256color"}, command=command)
    again.wait_for("tell me a long story", timeout=30)
    screen = open_first_conversation(again)
    assert "w0003" in screen
    # Offered on the interrupted reply: carry it on, or ask again.
    flat = " ".join(screen.split())
    assert "continues" in flat and "regenerates" in flat, screen
    assert E2E_KEY not in screen
    again.keys("C-q")
    again.wait_for("EXIT=0", timeout=20)
