"""The app's features in a real terminal (tmux), at 120x40 and at 80x24, keyboard only.

Search, switching model, copy (OSC 52 read back from tmux's own clipboard), edit and
resend, and what survives a restart: conversations, drafts, the model of a conversation.
The demo provider answers at once (``instant``); its ``echo`` model repeats the prompt.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxError, TmuxSession
from tuichat.store import Store

pytestmark = pytest.mark.e2e

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]

CONFIG = """\
[ui]
cursor_blink = false

[providers.demo]
instant = true
"""


@pytest.fixture
def env(app_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The test environment with a config that makes the demo answer at once."""
    (tmp_path / "config.toml").write_text(CONFIG)
    return app_env


def database(tmp_path: Path) -> Path:
    return tmp_path / "data" / "tuichat.db"


def start(terminal, env: dict[str, str], size: tuple[int, int], *args: str) -> TmuxSession:
    width, height = size
    app = terminal(*args, env=env, width=width, height=height)
    app.wait_for("Ctrl+J new line", timeout=30)
    return app


def quit_app(app: TmuxSession) -> None:
    app.keys("C-q")
    app.wait_for("EXIT=0", timeout=15)
    assert "Traceback" not in app.screen()


def wait_until(condition, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise TmuxError(f"timed out waiting for {what}")


@pytest.mark.parametrize("size", SIZES)
def test_search_opens_the_conversation_at_the_message(
    terminal, env: dict[str, str], tmp_path: Path, size: tuple[int, int]
) -> None:
    with Store(database(tmp_path)) as store:
        store.create_conversation(title="Other")
        animals = store.create_conversation(title="Animals", provider="demo", model="echo")
        for n in range(25):
            store.add_message(animals.id, "user", f"question {n}")
            reply = "the zebra is striped" if n == 3 else f"answer {n}"
            store.add_message(animals.id, "assistant", reply)
    app = start(terminal, env, size)
    app.keys("C-f")
    app.wait_for("Search every prompt and reply")
    app.type("zebra")
    app.wait_for("1 result")
    app.keys("Enter")
    screen = app.wait_for(lambda s: "the zebra is striped" in s and "reply selected" in s)
    # Scrolled to the hit: far from the end of the conversation, which is not on screen.
    assert "answer 24" not in screen
    quit_app(app)


@pytest.mark.parametrize("size", SIZES)
def test_switching_model_and_copying_through_osc_52(
    terminal, env: dict[str, str], tmp_path: Path, size: tuple[int, int]
) -> None:
    app = start(terminal, env, size)
    # tmux keeps what an OSC 52 sets in its paste buffer when set-clipboard is on.
    app.tmux("set-option", "-g", "set-clipboard", "on")
    app.keys("C-l")
    app.wait_for("Choose a model")
    app.type("demo/echo")
    app.keys("Enter")
    app.wait_for("demo · echo")
    app.type("copy this exact sentence")
    app.keys("Enter")
    app.wait_for(lambda s: s.count("copy this exact sentence") >= 2)
    app.keys("BTab")  # Shift+Tab: the chat log, the last reply selected
    app.wait_for("reply selected")
    app.keys("c")
    wait_until(
        lambda: app.tmux("show-buffer", check=False) == "copy this exact sentence",
        "tmux's buffer to hold the copy",
    )
    quit_app(app)
    with Store(database(tmp_path)) as store:
        [conversation] = store.list_conversations()
        messages = store.messages(conversation.id)
    assert (conversation.provider, conversation.model) == ("demo", "echo")
    assert [(m.role, m.provider, m.model) for m in messages][-1] == ("assistant", "demo", "echo")


@pytest.mark.parametrize("size", SIZES)
def test_edit_and_resend_keeps_the_old_branch(
    terminal, env: dict[str, str], tmp_path: Path, size: tuple[int, int]
) -> None:
    app = start(terminal, env, size, "--model", "demo/echo")
    app.type("first version")
    app.keys("Enter")
    app.wait_for(lambda s: s.count("first version") >= 2)
    app.keys("BTab")
    app.wait_for("reply selected")
    app.keys("Home", "e")
    app.wait_for("Esc cancels")  # (the note's shorter wording where the long one cannot fit)
    # Ctrl+U clears the line once the prompt has taken the focus (a moment after the note).
    wait_until(
        lambda: app.keys("C-u") or "Message · Enter sends" in app.screen(),
        "the prompt to be cleared",
    )
    app.type("second version")
    app.keys("Enter")
    screen = app.wait_for(lambda s: s.count("second version") >= 2)
    assert screen.count("first version") <= 1  # only as the title, in the sidebar
    assert "edited prompt: version 2 of 2" in screen
    app.keys("BTab")
    app.wait_for("reply selected")
    app.keys("Home", "[")
    screen = app.wait_for(lambda s: s.count("first version") >= 2)
    assert "second version" not in screen and "edited prompt: version 1 of 2" in screen
    quit_app(app)
    with Store(database(tmp_path)) as store:
        [conversation] = store.list_conversations()
        assert len(store.all_messages(conversation.id)) == 4


@pytest.mark.parametrize("size", SIZES)
def test_conversations_drafts_and_models_survive_a_restart(
    terminal, env: dict[str, str], tmp_path: Path, size: tuple[int, int]
) -> None:
    app = start(terminal, env, size, "--model", "demo/echo")
    app.type("kept across restarts")
    app.keys("Enter")
    app.wait_for(lambda s: s.count("kept across restarts") >= 2 and "complete" in s)
    app.type("an unsent draft")
    app.wait_for("an unsent draft")
    time.sleep(0.8)  # the draft is saved once typing pauses
    quit_app(app)

    again = start(terminal, env, size)
    again.wait_for("demo · demo")  # a fresh conversation uses the default model
    if size[0] < 100:
        again.keys("C-b")  # shows the sidebar (the focus stays in the prompt)
        again.wait_for("Conversations")
    again.keys("Tab")  # from the prompt, Tab goes round to the sidebar
    again.wait_for(lambda s: "kept across restarts" in s and "Pin" in s)
    again.keys("Home", "Enter")
    screen = again.wait_for("an unsent draft")  # the draft is back in the prompt
    assert "demo · echo" in screen  # the conversation's own model
    assert screen.count("kept across restarts") >= 2
    quit_app(again)


def test_the_app_uses_256_colours_and_honours_no_color(
    terminal, env: dict[str, str], tmp_path: Path
) -> None:
    app = start(terminal, env, (80, 24))
    coloured = app.screen(escapes=True)
    assert "38;5;" in coloured or "48;5;" in coloured
    assert "38;2;" not in coloured and "48;2;" not in coloured
    quit_app(app)

    grey = start(terminal, {**env, "NO_COLOR": "1"}, (80, 24))
    screen = grey.screen(escapes=True)
    indexes = [int(code) for code in _colour_indexes(screen)]
    assert indexes, "some shading is expected"
    # Shades of grey only: the 256-colour grey ramp, black and white.
    assert all(i >= 232 or i in (0, 7, 8, 15, 16, 231) for i in indexes), sorted(set(indexes))
    quit_app(grey)


def _colour_indexes(screen: str) -> list[str]:
    import re

    return re.findall(r"[34]8;5;(\d+)", screen)


def test_a_paste_typed_as_keys_is_not_sent_line_by_line(terminal, env, tmp_path: Path) -> None:
    # A terminal without bracketed paste types a paste as keys, line breaks as Enter:
    # tmux writes this whole string to the terminal at once.
    app = start(terminal, env, (80, 24))
    app.tmux("send-keys", "-t", app.name, "-l", "first line\rsecond line\rthird line")
    app.wait_for("third line", timeout=10)
    time.sleep(0.3)  # (a negative: time for a wrongly sent line to be saved)
    assert prompts(tmp_path) == [], app.screen()
    app.keys("Enter")
    app.wait_for("complete", timeout=10)
    quit_app(app)
    assert prompts(tmp_path) == ["first line\nsecond line\nthird line"]


def prompts(tmp_path: Path) -> list[str]:
    """Every prompt stored, oldest first."""
    if not database(tmp_path).exists():
        return []
    with Store(database(tmp_path)) as store:
        return [
            message.content
            for conversation in reversed(store.list_conversations())
            for message in store.messages(conversation.id)
            if message.role == "user"
        ]
