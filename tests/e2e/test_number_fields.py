"""Issue #21 in a real terminal: a long number in the options dialog no longer freezes tuichat.

Textual's number and integer fields took 22 s for 20 digits and a letter, and the time
grew fourfold every two digits: 40 would never end. The app must refuse the letter at
once and still close the dialog on Esc.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.tmux import wait_until

pytestmark = pytest.mark.e2e

DIALOG = "Conversation options"


def test_forty_digits_and_a_letter_in_each_number_field_then_esc(terminal, app_env) -> None:
    app = terminal(env=app_env)
    app.wait_for("Enter", timeout=30)
    app.keys("C-o")
    app.wait_for(DIALOG, timeout=10)
    # The dialog starts in the system prompt: once a word typed there shows, Tab goes
    # from it to Temperature, then to Max tokens.
    app.type("terse")
    app.wait_for("terse", timeout=10)
    fields = re.compile(r"Temperature\s*▊\s*(\S*)\s*▎\s*Max tokens\s*▊\s*(\S*)\s*▎")

    def shown_in_fields(screen: str) -> tuple[str, ...]:
        match = fields.search(screen)
        return match.groups() if match else ()

    app.keys("Tab")
    app.type("1" * 40 + "a")
    app.wait_for(lambda screen: shown_in_fields(screen)[:1] == ("1" * 8,), timeout=5)
    app.keys("Tab")
    app.type("2" * 40 + "a")
    # Each field keeps the digits (the last eight fit on screen) and refuses the letter.
    screen = app.wait_for(lambda screen: shown_in_fields(screen)[1:] == ("2" * 8,), timeout=5)
    assert shown_in_fields(screen) == ("1" * 8, "2" * 8)

    started = time.monotonic()
    app.keys("Escape")
    wait_until(lambda: DIALOG not in app.screen(), timeout=5, what="the dialog to close")
    assert time.monotonic() - started < 0.5

    app.keys("C-q")
    app.wait_for("EXIT=0", timeout=15)
