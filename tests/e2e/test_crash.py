"""Crashes in a real terminal: kill -9, SIGTERM and SIGHUP in the middle of a reply.

The app runs in tmux against the kit server, which streams numbered tokens at 50 a
second and notes when each one leaves. After the crash the store is read directly: the
reply must hold every token up to at most the last second before the kill (the turn
checkpoints its text every second), and after a restart it is marked interrupted.
SIGTERM and SIGHUP must save everything received, mark it interrupted, and exit with
143 / 129 and no traceback.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.streams import E2E_KEY, HELD, PacedReply, openai_env, serve_paced
from tests.e2e.tmux import TmuxError, TmuxSession, pane_program, process_alive, wait_until
from tuichat.chat import CHECKPOINT_INTERVAL
from tuichat.store import Message, Store
from tuichat.testing.server import WireServer

pytestmark = pytest.mark.e2e

#: Tokens to wait for before the crash: a few checkpoints have run by then.
BEFORE_CRASH = 120

#: Where the kill -9 test leaves its measurement, for the docs' figures.
MEASUREMENT = "kill9-loss-window.json"


def reply_row(database: Path) -> Message:
    """The assistant row of the only conversation."""
    with Store(database) as store:
        [conversation] = store.list_conversations()
        return [m for m in store.messages(conversation.id) if m.role == "assistant"][-1]


def watch_checkpoints(database: Path, until: Callable[[], bool]) -> list[float]:
    """When the reply's saved text changed (``time.monotonic()``), polled until ``until()``."""
    seen: list[float] = []
    last = -1
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        while not until():
            row = connection.execute(
                "SELECT length(content) FROM messages WHERE role = 'assistant' "
                "ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if row is not None and row[0] != last:
                last = row[0]
                seen.append(time.monotonic())
            time.sleep(0.003)
    finally:
        connection.close()
    return seen


def open_first_conversation(session: TmuxSession, shows: str = "interrupted") -> str:
    """Tab to the sidebar and open its first conversation; the screen once it ``shows``."""
    for _ in range(20):
        session.keys("Tab")
        session.keys("Enter")
        try:
            return session.wait_for(shows, timeout=0.5)
        except TmuxError:
            session.keys("Escape")  # the app was not ready: focus back to the prompt
    raise TmuxError(f"the conversation never opened:\n{session.screen()}")


def start_chat(
    terminal: Callable[..., TmuxSession], env: dict[str, str], reply: PacedReply
) -> tuple[TmuxSession, int]:
    """Start the app, send a prompt, wait until the reply streams; the app's pid."""
    app = terminal(env=env)
    app.wait_for("Enter", timeout=30)
    app.type("tell me a long story")
    app.keys("Enter")
    reply.wait_shown(app, 4)
    return app, pane_program(app)


def test_kill_9_loses_at_most_the_last_second_and_restart_marks_it(
    terminal, app_env: dict[str, str], tmp_path: Path
) -> None:
    database = tmp_path / "data" / "tuichat.db"
    reply = PacedReply()
    with WireServer() as server:
        serve_paced(server, reply)
        env = {**app_env, **openai_env(server)}
        app, pid = start_chat(terminal, env, reply)
        saves = watch_checkpoints(database, lambda: len(reply.sent) >= BEFORE_CRASH)
        # The worst moment: just before the next checkpoint would have saved the text.
        wait_until(lambda: time.monotonic() >= saves[-1] + CHECKPOINT_INTERVAL - 0.03)
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        app.wait_for("EXIT=137", timeout=15)
        sent_by_kill = sum(1 for t in reply.sent if t <= killed_at)

    row = reply_row(database)
    assert row.status == "streaming"  # nobody finalised it: the process died
    saved = reply.saved_tokens(row.content)
    assert saved > 0, "no checkpoint reached the store"
    # The loss window: from the first token received but not saved, to the kill.
    lost_from = reply.sent[saved] if saved < sent_by_kill else killed_at
    loss = killed_at - lost_from
    since_save = killed_at - saves[-1]
    (tmp_path.parent / MEASUREMENT).write_text(
        json.dumps(
            {
                "sent": sent_by_kill,
                "saved": saved,
                "loss_seconds": round(loss, 3),
                "since_last_save": round(since_save, 3),
            }
        )
    )
    print(
        f"\nkill -9 {since_save:.3f} s after the last save: {sent_by_kill} tokens sent, "
        f"{saved} saved, loss window {loss:.3f} s"
    )
    assert loss <= 1.0, f"{sent_by_kill - saved} tokens ({loss:.2f} s of text) were lost"

    # A restart claims the dead stream once its checkpoints have stopped for long enough
    # (another live tuichat may be streaming into the same file).
    wait_until(lambda: time.time() > row.updated_at + 5.2, timeout=10, what="staleness")
    again = terminal(env=app_env)
    again.wait_for("tell me a long story", timeout=30)
    assert reply_row(database).status == "interrupted"
    assert reply_row(database).content == row.content
    screen = " ".join(open_first_conversation(again).split())
    assert reply.tokens[saved - 1].strip() in screen
    # Offered on the interrupted reply: carry it on, or ask again.
    assert "continues" in screen and "regenerates" in screen, screen
    again.keys("C-q")
    again.wait_for("EXIT=0", timeout=15)


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)], ids=["SIGTERM", "SIGHUP"]
)
def test_a_signal_saves_the_reply_as_interrupted_and_exits_cleanly(
    terminal, app_env: dict[str, str], tmp_path: Path, signum: int, code: int
) -> None:
    database = tmp_path / "data" / "tuichat.db"
    reply = PacedReply(hold_after=HELD)
    with WireServer() as server:
        serve_paced(server, reply)
        app, pid = start_chat(terminal, {**app_env, **openai_env(server)}, reply)
        # The stream holds after HELD tokens: once the last is on screen, the app has
        # received exactly those.
        reply.wait_shown(app, HELD)
        os.kill(pid, signum)
        screen = app.wait_for(f"EXIT={code}", timeout=15)

    assert "Traceback" not in screen and "Error" not in screen, screen
    row = reply_row(database)
    assert row.status == "interrupted"
    assert signal.Signals(signum).name in (row.error or "")
    # Everything received was saved, not only what the last checkpoint had.
    assert row.content == reply.text(HELD)
    assert E2E_KEY not in database.read_bytes().decode("utf-8", "replace")


def test_a_terminal_that_hangs_up_mid_reply_saves_it(
    terminal, app_env: dict[str, str], tmp_path: Path
) -> None:
    """Closing the terminal (the pty goes away, as when an SSH client dies)."""
    database = tmp_path / "data" / "tuichat.db"
    reply = PacedReply(hold_after=HELD)
    with WireServer() as server:
        serve_paced(server, reply)
        app, pid = start_chat(terminal, {**app_env, **openai_env(server)}, reply)
        reply.wait_shown(app, HELD)
        app.stop()  # kills the tmux server: the pane's terminal hangs up
        wait_until(lambda: not process_alive(pid), timeout=15, what="tuichat to exit")

    row = reply_row(database)
    assert row.status == "interrupted", row
    assert "SIGHUP" in (row.error or "")
    assert row.content == reply.text(HELD)
