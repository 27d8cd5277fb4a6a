"""Hostile model and server text in a real terminal: nothing reaches the terminal.

The app runs in tmux (with ``set-clipboard on``, so an OSC 52 sequence would fill a tmux
buffer, and the title and bell flags watched) against the kit server, which streams a
reply made of every escape sequence, control character and piece of markup in
:mod:`tests.faults.hostile`, then answers a second prompt with an HTTP error whose
message is hostile too. ``tuichat ask`` gets the same reply in another pane. Afterwards:
the pane title and the clipboard are untouched, no bell rang, the screen was not cleared,
and every payload is visible as text (its ESC shown as ␛), which it could not be had the
terminal taken it as a command. ``capture-pane -e`` shows only the app's own styling.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.e2e.streams import E2E_KEY, openai_env
from tests.e2e.tmux import TmuxSession
from tests.faults.hostile import (
    HOSTILE_ERROR,
    LITERAL_MARKUP,
    SEQUENCES,
    hostile_lines,
    openai_frames,
    visible,
)
from tests.faults.matrix import Script
from tuichat.testing.server import WireServer
from tuichat.testing.sse import sse_response
from tuichat.testing.wire import openai_error

pytestmark = pytest.mark.e2e

#: What tmux shows of the pane's title before anything could change it.
TITLE = "#{pane_title}"

#: SGR is the only kind of sequence the app itself sends that capture-pane -e keeps.
_SGR = re.compile(r"\x1b\[[0-9;:]*m")


def terminal_state(session: TmuxSession) -> tuple[str, str, str]:
    """The pane's title, the window's bell flag and the tmux paste buffers."""
    title = session.tmux("display-message", "-p", "-t", session.name, TITLE).strip()
    bell = session.tmux("display-message", "-p", "-t", session.name, "#{window_bell_flag}")
    return title, bell.strip(), session.tmux("list-buffers").strip()


def watch(session: TmuxSession) -> None:
    """Let OSC 52 reach tmux's buffers and keep titles: what an attacker hopes for."""
    session.tmux("set-option", "-s", "set-clipboard", "on")
    session.tmux("set-option", "-g", "allow-rename", "on")
    session.tmux("set-option", "-g", "monitor-bell", "on")


def check_harmless(session: TmuxSession, before: tuple[str, str, str]) -> str:
    """Assert nothing reached the terminal; returns the plain screen."""
    assert terminal_state(session) == before, "the title, the bell or the clipboard changed"
    with_escapes = session.screen(escapes=True)
    leftover = _SGR.sub("", with_escapes)
    assert "\x1b" not in leftover, f"a non-SGR sequence is on screen: {leftover!r}"
    assert "evil" not in "".join(_SGR.findall(with_escapes))
    return session.screen()


def test_hostile_reply_and_error_reach_the_terminal_as_text_only(
    terminal, app_env: dict[str, str], tmp_path: Path
) -> None:
    frames = openai_frames(hostile_lines())
    with WireServer() as server:
        failure = openai_error(503, HOSTILE_ERROR, "server_error")
        server.route("POST", "*/chat/completions", Script(sse_response(*frames), failure))
        env = {**app_env, **openai_env(server), "TUICHAT_RETRY__BASE_DELAY": "0.01"}
        app = terminal(env=env, width=160, height=60)
        watch(app)
        app.wait_for("Enter", timeout=30)
        before = terminal_state(app)
        app.type("first words on screen")
        app.keys("Enter")
        app.wait_for("markdown-link", timeout=30)
        screen = check_harmless(app, before)
        # The screen was not cleared nor the cursor moved: the prompt is still there.
        assert "first words on screen" in screen
        for name, payload in SEQUENCES.items():
            line = next((row for row in screen.splitlines() if f"{name}:" in row), "")
            assert visible(payload) in line, f"{name}: {line!r}"
        for markup in LITERAL_MARKUP:
            assert markup in screen

        app.type("and now fail")
        app.keys("Enter")
        app.wait_for("please retry", timeout=30)
        screen = check_harmless(app, before)
        assert "]52;c;ZXJyb3I=" in screen and "[bold]x[/]" in screen
        app.keys("C-q")
        app.wait_for("EXIT=0", timeout=15)

        server.route("POST", "*/chat/completions", sse_response(*frames))
        ask = terminal(
            env=env,
            width=160,
            height=60,
            command=[sys.executable, "-m", "tuichat", "ask", "-p", "openai", "hi"],
        )
        watch(ask)
        before = terminal_state(ask)
        ask.wait_for("EXIT=0", timeout=30)
        screen = check_harmless(ask, before)
        for name, payload in SEQUENCES.items():
            line = next((row for row in screen.splitlines() if f"{name}:" in row), "")
            assert visible(payload) in line, f"{name}: {line!r}"
    assert E2E_KEY not in screen


def test_bytes_that_are_not_utf8_typed_into_the_terminal_do_not_crash_the_app(
    terminal, app_env: dict[str, str]
) -> None:
    """A binary paste, or a terminal set to Latin-1: each bad byte becomes U+FFFD."""
    app = terminal(env=app_env)
    app.wait_for("Enter", timeout=30)
    app.type("abc")
    app.tmux("send-keys", "-t", app.name, "-H", "ff", "fe", "e9", "00", "1b")
    app.type("def")
    screen = app.wait_for("def", timeout=10)
    assert "abc\ufffd\ufffd\ufffd" in screen and "Traceback" not in screen
    app.keys("C-q")
    app.wait_for("EXIT=0", timeout=15)
