"""Bad input: empty prompts, a 1 MB paste, binary and control characters, very long
lines, bad flags. Nothing crashes, and the person's text is never lost.

The app is driven with Pilot (a paste arrives as Textual's bracketed-paste event, as from
a terminal); ``tuichat ask`` and the flags go through the command line's ``main``.
Binary bytes typed into a real terminal are in ``tests/e2e/test_hostile_terminal.py``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from textual import events

from tests.app.support import SIZE, chat_screen, fake, replies, settle_reply, visible_text
from tests.fakes import Script
from tuichat.app.app import TuichatApp
from tuichat.cli import main
from tuichat.runtime import Runtime
from tuichat.store import Store
from tuichat.testing.server import WireServer
from tuichat.testing.sse import sse_response
from tuichat.testing.wire import openai_chat_stream

ONE_MB = ("The quick brown fox jumps over the lazy dog, line {:06d}.\n" * 1).format
#: A 1 MB paste of many lines.
BIG_PASTE = "".join(ONE_MB(n) for n in range(18_725))[: 1024 * 1024]
#: One line of 200,000 characters, no space to wrap at.
LONG_LINE = "x" * 200_000
#: Every C0 control, DEL, C1 controls, a lone surrogate's neighbour, escapes and markup.
CONTROLS = (
    "".join(chr(c) for c in range(0x20) if c != 0x0A)
    + "\x7f\x85\x9b\x9d"
    + "\x1b]52;c;ZXZpbA==\x07 \x1b[2J [bold]not bold[/] \u202e\u200b end"
)

#: The prompts the app is given, by name; each must be stored exactly as typed.
PASTES = {"one-megabyte": BIG_PASTE, "long-line": LONG_LINE, "control-characters": CONTROLS}

_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def as_lines(text: str) -> str:
    """``text`` as a text box holds it: every line separator Python knows is a newline."""
    return _LINE_BREAKS.sub("\n", text)


@pytest.fixture
def make_app(build_runtime: Callable[..., Runtime]) -> Callable[..., TuichatApp]:
    """The app answered by the fake provider playing ``scripts``."""

    def make(*scripts: Script) -> TuichatApp:
        runtime = build_runtime(fake=True)
        fake(runtime).queue(*scripts)
        return TuichatApp(runtime, provider="fake")

    return make


def stored_prompts(database: Path) -> list[str]:
    """Every user message in the store, oldest first."""
    with Store(database) as store:
        return [
            m.content
            for c in store.list_conversations(limit=100)
            for m in store.messages(c.id)
            if m.role == "user"
        ]


@pytest.mark.parametrize("name", list(PASTES))
async def test_a_paste_is_sent_and_stored_exactly_as_typed(
    name: str, make_app: Callable[..., TuichatApp], tmp_path: Path
) -> None:
    text = PASTES[name]
    app = make_app(Script(deltas=["Got it."]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        # As a terminal's bracketed paste arrives: the app forwards it to the focus.
        app.post_message(events.Paste(text))
        await pilot.pause()
        # A paste never sends by itself, however many lines it holds.
        assert screen.prompt.text == as_lines(text)
        assert not replies(pilot)
        await pilot.press("enter")
        await settle_reply(pilot)
        assert replies(pilot)[-1].status == "complete"
        assert screen.prompt.text == ""
        shown = visible_text(pilot)
        assert not any(0x80 <= ord(c) <= 0x9F or (ord(c) < 0x20 and c != "\n") for c in shown)
        assert app.is_running
    assert stored_prompts(tmp_path / "data" / "tuichat.db") == [as_lines(text)]


async def test_an_empty_or_blank_prompt_sends_nothing_and_keeps_the_box(
    make_app: Callable[..., TuichatApp], tmp_path: Path
) -> None:
    app = make_app(Script(deltas=["never"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("enter")
        screen.prompt.insert("   \n\t  ")
        await pilot.press("enter")
        await pilot.pause()
        assert not replies(pilot)
        assert screen.prompt.text == "   \n\t  "
    assert not (tmp_path / "data" / "tuichat.db").exists() or not stored_prompts(
        tmp_path / "data" / "tuichat.db"
    )


def _ask(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
    stdin: bytes | None = None,
) -> tuple[int, str, str]:
    monkeypatch.setenv("TUICHAT_PROVIDERS__DEMO__INSTANT", "true")
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = main(["ask", "-m", "demo/echo", *args])
    out, err = capsys.readouterr()
    return code, out, err


ASK_INPUTS = {
    "long-line-argument": ([LONG_LINE[:100_000]], None, LONG_LINE[:100_000]),
    "control-characters": ([CONTROLS], None, CONTROLS),
    "binary-stdin": ([], b"caf\xe9 \x00\xff\xfe ok", "caf\ufffd \x00\ufffd\ufffd ok"),
    "nul-bytes-stdin": ([], b"a\x00b\x00c", "a\x00b\x00c"),
}


@pytest.mark.parametrize(
    ("name", "args", "stdin", "stored"),
    [(name, *case) for name, case in ASK_INPUTS.items()],
    ids=list(ASK_INPUTS),
)
def test_ask_keeps_whatever_it_is_given(
    name: str,
    args: list[str],
    stdin: bytes | None,
    stored: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    code, out, err = _ask(monkeypatch, capsys, *args, stdin=stdin)
    assert code == 0, err
    assert stored_prompts(tmp_path / "data" / "tuichat.db") == [stored]
    # The echo comes back on stdout with control characters made visible.
    assert not any(0x80 <= ord(c) <= 0x9F or (ord(c) < 0x20 and c not in "\t\n") for c in out)
    if name == "binary-stdin":
        assert err == (
            "tuichat: warning: the prompt is not all UTF-8 text; 3 byte(s) that were not "
            "are sent as \ufffd.\n"
        )
    else:
        assert err == ""


def test_ask_sends_and_stores_a_one_megabyte_prompt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with WireServer() as server:
        server.route("POST", "*/chat/completions", sse_response(*openai_chat_stream(["ok"])))
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abc")
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
        monkeypatch.setattr(
            "sys.stdin", io.TextIOWrapper(io.BytesIO(BIG_PASTE.encode()), encoding="utf-8")
        )
        code = main(["ask", "-p", "openai", "-"])
        out, err = capsys.readouterr()
        sent = server.requests[-1].json()["messages"][-1]["content"]
    assert (code, out, err) == (0, "ok", "")
    # Only the trailing newline of the piped text is dropped.
    assert sent == BIG_PASTE.rstrip("\n")
    assert stored_prompts(tmp_path / "data" / "tuichat.db") == [sent]


@pytest.mark.parametrize(
    ("args", "stdin"),
    [([""], None), (["   "], None), (["-"], b""), (["-"], b"\n\n  \n"), ([], b"\t")],
    ids=["empty-argument", "blank-argument", "empty-stdin", "blank-lines", "tab"],
)
def test_ask_refuses_an_empty_prompt_with_one_line(
    args: list[str],
    stdin: bytes | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _ask(monkeypatch, capsys, *args, stdin=stdin)
    assert (code, out) == (2, "")
    assert err == "tuichat: The prompt is empty; type something to ask.\n"


BAD_FLAGS = [
    ["--bogus"],
    ["ask", "--bogus", "x"],
    ["ask", "--temperature", "hot", "x"],
    ["ask", "--temperature", "9", "x"],
    ["ask", "--temperature", "nan", "x"],
    ["ask", "--temperature", "-0.5", "x"],
    ["ask", "--max-tokens", "0", "x"],
    ["ask", "--max-tokens", "-5", "x"],
    ["ask", "--max-tokens", "1e9", "x"],
    ["ask", "--max-tokens", "lots", "x"],
    ["ask", "--conversation", "abc", "x"],
    ["ask", "--conversation", "0", "x"],
    ["ask", "-c", "--conversation", "3", "x"],
    ["ask", "-p"],
    ["ask", "x", "y"],
    ["export", "--format", "pdf"],
    ["export", "seven"],
    ["models", "--bogus"],
    ["frobnicate"],
    ["--model"],
]


@pytest.mark.parametrize("argv", BAD_FLAGS, ids=[" ".join(a) for a in BAD_FLAGS])
def test_bad_flags_and_values_exit_2_with_a_usage_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    assert exited.value.code == 2
    assert out == ""
    # argparse's usage block, then one line saying what is wrong and where help is.
    lines = err.splitlines()
    assert lines[0].startswith("usage: tuichat"), err
    assert lines[-1].startswith("tuichat: ") and lines[-1].endswith("--help'."), err
    assert sum(line.startswith("tuichat: ") for line in lines) == 1, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["ask", "--conversation", "42", "x"], "There is no conversation 42"),
        (["ask", "-p", "nosuch", "x"], "Unknown provider 'nosuch'"),
        (["--provider", "nosuch"], "Unknown provider 'nosuch'"),
        (["models", "-p", "nosuch"], "Unknown provider 'nosuch'"),
        (["export", "42"], "There is no conversation 42"),
    ],
)
def test_bad_values_found_later_exit_2_with_one_line(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("tuichat: ") and err.count("\n") == 1 and says in err, err
