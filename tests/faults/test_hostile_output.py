"""Hostile model and server text, for every provider, in the app and in ``tuichat ask``.

Each provider's wire carries a reply made of every payload in :mod:`tests.faults.hostile`
(escape sequences, control characters, a lone surrogate, markup), then an HTTP error
whose message is hostile too. The app (Pilot) must show all of it as text: no control
character on screen or in a screenshot, markup literal, the app still running. ``ask``
must print it with every control character made visible. The same in a real terminal is
``tests/e2e/test_hostile_terminal.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.app.support import chat_screen, replies, settle_reply, visible_text
from tests.faults.conftest import PLUGINS
from tests.faults.hostile import (
    HOSTILE_ERROR,
    LITERAL_MARKUP,
    SEQUENCES,
    forbidden_in,
    hostile_lines,
    visible,
)
from tests.faults.matrix import CANARY, FAULTS_BY_ID, WIRES, Script, Wire, cell_settings
from tuichat.app.app import TuichatApp
from tuichat.cli import main
from tuichat.runtime import Runtime
from tuichat.testing.server import Response, WireServer
from tuichat.testing.sse import sse_response

#: Stands for a lone surrogate until the frame is JSON: builders encode UTF-8 strictly.
_SURROGATE = "@@SURROGATE@@"


def hostile_frames(wire: Wire) -> list[bytes]:
    """``wire``'s stream of the hostile reply, the lone surrogate as a JSON escape."""
    lines = [line.replace("\ud800", _SURROGATE) for line in hostile_lines()]
    return [frame.replace(_SURROGATE.encode(), b"\\ud800") for frame in wire.reply(lines)]


def arrange(server: WireServer, wire: Wire) -> None:
    """The hostile reply, then a hostile HTTP error (retried once, failing again)."""
    failure: Response = wire.error_response(503, HOSTILE_ERROR, None)
    server.route("POST", wire.chat_path, Script(sse_response(*hostile_frames(wire)), failure))


def flat(text: str) -> str:
    """Screen text with the layout's line breaks and padding gone."""
    return " ".join(text.split())


@pytest.mark.parametrize("provider", list(WIRES))
async def test_the_app_shows_hostile_text_as_text(
    provider: str, build_runtime: Callable[..., Runtime]
) -> None:
    wire = WIRES[provider]
    with WireServer() as server:
        arrange(server, wire)
        runtime = build_runtime(
            {
                "providers": {provider: cell_settings(FAULTS_BY_ID["401"], wire, server.url)},
                "retry": {"base_delay": 0.01},
                "ui": {"title_from_model": False},
            },
            plugins=PLUGINS,
        )
        app = TuichatApp(runtime, provider=provider)
        async with app.run_test(size=(160, 60)) as pilot:
            chat_screen(pilot).prompt.insert("be nasty")
            await pilot.press("enter")
            await settle_reply(pilot)
            assert replies(pilot)[-1].status == "complete"
            shown = visible_text(pilot)
            assert forbidden_in(shown) == []
            for name, payload in SEQUENCES.items():
                assert flat(visible(payload)) in flat(shown), name
            for markup in LITERAL_MARKUP:
                assert markup in shown
            screenshot = app.export_screenshot()
            assert "\x1b" not in screenshot and CANARY not in screenshot

            chat_screen(pilot).prompt.insert("fail nastily")
            await pilot.press("enter")
            await settle_reply(pilot)
            assert replies(pilot)[-1].status == "error"
            shown = visible_text(pilot)
            assert forbidden_in(shown) == []
            assert "[bold]x[/]" in shown and "please retry" in flat(shown)
            assert app.is_running


@pytest.mark.parametrize("provider", list(WIRES))
def test_ask_prints_hostile_text_as_text(
    provider: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wire = WIRES[provider]
    with WireServer() as server:
        arrange(server, wire)
        monkeypatch.setenv(wire.key_env, CANARY)
        monkeypatch.setenv(wire.base_env, wire.base_url(server.url))
        monkeypatch.setenv("TUICHAT_RETRY__BASE_DELAY", "0.01")
        assert main(["ask", "-p", provider, "be nasty"]) == 0
        out, err = capsys.readouterr()
        assert err == ""
        assert forbidden_in(out) == []
        for name, payload in SEQUENCES.items():
            assert visible(payload) in out, name

        assert main(["ask", "-p", provider, "fail nastily"]) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert forbidden_in(err.replace("\n", "")) == []
        assert "[bold]x[/]" in err and "please retry" in err
