"""tuichat in a real terminal (tmux): first run, a demo chat, a clean quit, a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuichat.store import Store

pytestmark = pytest.mark.e2e

GUIDE_END = "check which providers tuichat sees"


def test_first_run_chats_with_the_demo_streaming_and_quits_cleanly(
    terminal, app_env: dict[str, str], tmp_path: Path
) -> None:
    app = terminal(env=app_env)
    first = app.wait_for("Enter", timeout=30)
    assert "demo" in first.lower()

    app.type("hello")
    app.keys("Enter")
    # The guide streams at a reading pace: its start shows before its end exists.
    early = app.wait_for("Welcome to tuichat", timeout=30)
    assert GUIDE_END not in early
    app.wait_for(GUIDE_END, timeout=30)

    app.keys("C-q")
    app.wait_for("EXIT=0", timeout=15)
    assert "Traceback" not in app.screen()

    with Store(tmp_path / "data" / "tuichat.db") as store:
        [conversation] = store.list_conversations()
        messages = store.messages(conversation.id)
    assert conversation.title == "hello"
    assert [(m.role, m.status) for m in messages] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert messages[1].content.rstrip().endswith(GUIDE_END + ".")

    again = terminal(env=app_env)
    again.wait_for("hello", timeout=30)
    again.keys("C-q")
    again.wait_for("EXIT=0", timeout=15)
