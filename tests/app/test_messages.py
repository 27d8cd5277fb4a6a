"""Message actions from the keyboard: the cursor, copy (OSC 52 for tmux/screen), copy a code
block, regenerate, continue, edit and resend (branches), delete, reasoning, $EDITOR, export."""

from __future__ import annotations

import base64
import contextlib
import json
import sys
from pathlib import Path
from typing import ClassVar

import pytest

from tests.app.support import (
    SIZE,
    chat_screen,
    fake,
    replies,
    send,
    settle_reply,
    toasts,
    until,
    visible_text,
)
from tests.fakes import FakeProvider, Script, frozen
from tuichat.app.screens.delete import DeleteScreen
from tuichat.app.screens.export import ExportScreen
from tuichat.app.screens.pick import PickScreen
from tuichat.app.widgets.message import UserMessage
from tuichat.app.widgets.reasoning import ReasoningView
from tuichat.hookspecs import hookimpl
from tuichat.provider import Finish, ReasoningDelta, Usage
from tuichat.turns import CONTINUE_PROMPT

TWO_BLOCKS = """Two ways:

```python
print("one")
```

and

```bash
echo two
```
"""


def capture_writes(app) -> list[str]:
    """Record what the app writes to the terminal (the headless driver writes nothing)."""
    written: list[str] = []
    app._driver.write = written.append
    return written


async def select_last(pilot) -> None:
    """Shift+Tab from the prompt: the chat log takes the focus, the last message selected."""
    screen = chat_screen(pilot)
    screen.prompt.focus()
    await pilot.press("shift+tab")
    await until(pilot, lambda: screen.chat_log.selected_id is not None, "a selection")


async def test_the_cursor_moves_over_messages(make_app) -> None:
    app = make_app(Script(deltas=["first answer"]), Script(deltas=["second answer"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        for text in ("one", "two"):
            await send(pilot, text)
            await settle_reply(pilot)
        await select_last(pilot)
        log = screen.chat_log
        shown = list(screen.transcript.shown)
        assert log.selected_id == shown[-1]
        assert "reply selected" in visible_text(pilot)
        assert "c Copy" in visible_text(pilot)  # the footer lists the message actions
        await pilot.press("up")
        assert log.selected_id == shown[-2]
        assert "prompt selected" in visible_text(pilot)
        await pilot.press("home")
        assert log.selected_id == shown[0]
        await pilot.press("j")
        assert log.selected_id == shown[1]
        await pilot.press("G")
        assert log.selected_id == shown[-1]
        await pilot.press("escape")
        assert screen.focused is screen.prompt


async def test_c_copies_the_message_through_osc_52(make_app) -> None:
    app = make_app(Script(deltas=["Copy **me**, please."]))
    async with app.run_test(size=SIZE) as pilot:
        written = capture_writes(app)
        await send(pilot, "hi")
        await settle_reply(pilot)
        await select_last(pilot)
        await pilot.press("c")
        assert app.clipboard == "Copy **me**, please."
        payload = base64.b64encode(b"Copy **me**, please.").decode()
        assert written == [f"\x1b]52;c;{payload}\x07"]
        assert "Copied the reply (20 characters) via OSC 52." in toasts(pilot)
        await pilot.press("up", "c")
        assert app.clipboard == "hi"


async def test_inside_tmux_the_sequence_is_also_wrapped_for_the_outer_terminal(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,1,0")
    app = make_app(Script(deltas=["tmux"]))
    async with app.run_test(size=SIZE) as pilot:
        written = capture_writes(app)
        await send(pilot, "hi")
        await settle_reply(pilot)
        await pilot.press("shift+tab", "c")
        bare = f"\x1b]52;c;{base64.b64encode(b'tmux').decode()}\x07"
        assert written == [bare, "\x1bPtmux;" + bare.replace("\x1b", "\x1b\x1b") + "\x1b\\"]
        assert any("OSC 52 (tmux)" in toast for toast in toasts(pilot))


async def test_inside_screen_the_sequence_is_wrapped_in_pieces(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STY", "1234.pts-0.host")
    text = "x" * 200
    app = make_app(Script(deltas=[text]))
    async with app.run_test(size=SIZE) as pilot:
        written = capture_writes(app)
        await send(pilot, "hi")
        await settle_reply(pilot)
        await pilot.press("shift+tab", "c")
        [sequence] = written
        pieces = sequence.split("\x1b\\")[:-1]
        assert all(piece.startswith("\x1bP") and len(piece) <= 78 for piece in pieces)
        assert "".join(piece[2:] for piece in pieces).startswith("\x1b]52;c;")


async def test_y_copies_a_chosen_code_block(make_app) -> None:
    app = make_app(Script(deltas=[TWO_BLOCKS]), Script(deltas=["```\nsolo\n```"]))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "show me")
        await settle_reply(pilot)
        await select_last(pilot)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, PickScreen), "the choice")
        assert "bash · 1 line · echo two" in visible_text(pilot)
        await pilot.press("2")
        await until(pilot, lambda: not isinstance(app.screen, PickScreen), "the choice made")
        assert app.clipboard == "echo two\n"
        await send(pilot, "one block")
        await settle_reply(pilot)
        await select_last(pilot)
        await pilot.press("y")  # a single block is copied at once
        assert app.clipboard == "solo\n"


async def test_regenerate_keeps_the_old_reply_as_an_alternative(make_app) -> None:
    app = make_app(Script(deltas=["first take"]), Script(deltas=["second take"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "question")
        await settle_reply(pilot)
        store = app.runtime.store
        [_, old] = store.messages(screen.conversation_id)
        await pilot.press("f12")
        await settle_reply(pilot)
        [_, new] = store.messages(screen.conversation_id)
        assert (old.content, new.content) == ("first take", "second take")
        assert [m.id for m in store.alternatives(new.id)] == [old.id, new.id]
        [reply] = replies(pilot)
        assert reply.text == "second take"
        assert "reply 2/2 ([ ] switch)" in str(reply.query_one(".reply-meta").render())
        # The request did not carry the old reply.
        assert [m.content for m in fake(app.runtime).requests[1].messages] == ["question"]

        await select_last(pilot)
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: replies(pilot)[0].text == "first take", "the old reply")
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: replies(pilot)[0].text == "second take", "the new reply")


async def test_continue_carries_on_a_reply_cut_by_max_tokens(make_app) -> None:
    app = make_app(
        Script(deltas=["The list: one,"], finish=Finish("length", "max_tokens")),
        Script(deltas=[" two, three."], usage=Usage(input_tokens=9, output_tokens=3)),
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "count")
        await settle_reply(pilot)
        [reply] = replies(pilot)
        meta = str(reply.query_one(".reply-meta").render())
        assert "stopped by max tokens" in meta and "Ctrl+T continues" in meta
        await pilot.press("ctrl+t")
        await settle_reply(pilot)
        [_, message] = app.runtime.store.messages(screen.conversation_id)
        assert (message.content, message.status) == ("The list: one, two, three.", "complete")
        [reply] = replies(pilot)
        assert reply.text == "The list: one, two, three."
        request = fake(app.runtime).requests[1]
        # Without prefill: the partial reply, then a short request to go on.
        assert [(m.role, m.content) for m in request.messages] == [
            ("user", "count"),
            ("assistant", "The list: one,"),
            ("user", CONTINUE_PROMPT),
        ]


class PrefillFake(FakeProvider):
    """A fake whose API continues a trailing assistant message, like Anthropic's."""

    name: ClassVar[str] = "prefill"
    supports_prefill: ClassVar[bool] = True


class PrefillPlugin:
    @hookimpl
    def register_providers(self, register) -> None:
        register(PrefillFake)


async def test_continue_uses_prefill_where_the_api_has_it(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True, plugins=(PrefillPlugin(),))
    provider = runtime.provider("prefill")
    assert isinstance(provider, FakeProvider)
    provider.queue(
        Script(deltas=["Once upon a "], finish=Finish("length", "max_tokens")),
        Script(deltas=[" time."]),
    )
    app = make_app(runtime=runtime, provider="prefill")
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "story")
        await settle_reply(pilot)
        await pilot.press("ctrl+t")
        await settle_reply(pilot)
        # The prefill may not end in whitespace; the model writes the space itself.
        assert [(m.role, m.content) for m in provider.requests[1].messages] == [
            ("user", "story"),
            ("assistant", "Once upon a"),
        ]
        [_, message] = app.runtime.store.messages(screen.conversation_id)
        assert message.content == "Once upon a time."


async def test_an_interrupted_reply_offers_continue_and_regenerate(make_app) -> None:
    from tests.fakes import failing
    from tuichat.errors import StreamInterrupted

    app = make_app(failing(StreamInterrupted("The connection dropped.", provider="f"), "Half"))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "go")
        await settle_reply(pilot)
        [reply] = replies(pilot)
        meta = str(reply.query_one(".reply-meta").render())
        assert "interrupted" in meta
        assert "Ctrl+T continues" in meta and "F12 regenerates" in meta


async def test_edit_and_resend_keeps_the_later_turns_as_a_branch(make_app) -> None:
    app = make_app(
        Script(deltas=["about owls"]),
        Script(deltas=["more owls"]),
        Script(deltas=["about cats"]),
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "tell me about owls")
        await settle_reply(pilot)
        await send(pilot, "more")
        await settle_reply(pilot)
        store = app.runtime.store
        first_prompt = store.messages(screen.conversation_id)[0]

        await select_last(pilot)
        await pilot.press("home", "e")
        assert screen.focused is screen.prompt
        assert screen.prompt.text == "tell me about owls"
        # (The note's long or short wording, as the status bar's width allows.)
        assert "editing" in visible_text(pilot) and "Esc cancels" in visible_text(pilot)
        screen.prompt.clear()
        screen.prompt.insert("tell me about cats")
        await pilot.press("enter")
        await settle_reply(pilot)

        branch = [m.content for m in store.messages(screen.conversation_id)]
        assert branch == ["tell me about cats", "about cats"]
        assert len(store.all_messages(screen.conversation_id)) == 6
        assert [m.text for m in screen.query(UserMessage)] == ["tell me about cats"]
        assert "edited prompt: version 2 of 2" in visible_text(pilot)
        assert [m.content for m in fake(app.runtime).requests[2].messages] == ["tell me about cats"]

        # The old branch is one key away, with its later turns intact.
        await select_last(pilot)
        await pilot.press("home", "left_square_bracket")
        await until(
            pilot,
            lambda: (
                [m.content for m in store.messages(screen.conversation_id)][0]
                == first_prompt.content
            ),
            "the old branch",
        )
        assert [m.text for m in screen.query(UserMessage)] == ["tell me about owls", "more"]


async def test_escape_cancels_an_edit_and_the_draft_comes_back(make_app) -> None:
    app = make_app(Script(deltas=["answer"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "original")
        await settle_reply(pilot)
        screen.prompt.insert("my draft")
        await select_last(pilot)
        await pilot.press("up", "e")
        assert screen.prompt.text == "original"
        await pilot.press("escape")
        assert screen.prompt.text == "my draft"
        assert screen.messages.editing is None


async def test_delete_message_asks_and_keeps_what_followed(make_app) -> None:
    app = make_app(Script(deltas=["r1"]), Script(deltas=["r2"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        for text in ("q1", "q2"):
            await send(pilot, text)
            await settle_reply(pilot)
        await select_last(pilot)
        await pilot.press("up", "up", "x")
        await until(pilot, lambda: isinstance(app.screen, DeleteScreen), "the confirmation")
        assert "Delete this reply?" in visible_text(pilot)
        await pilot.press("y")
        await until(pilot, lambda: len(screen.transcript.shown) == 3, "it deleted")
        contents = [m.content for m in app.runtime.store.messages(screen.conversation_id)]
        assert contents == ["q1", "q2", "r2"]


async def test_reasoning_is_shown_collapsed_and_opens_with_t(make_app) -> None:
    app = make_app(
        Script(deltas=[ReasoningDelta("First I think. "), ReasoningDelta("Then more."), "42"])
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "answer?")
        await settle_reply(pilot)
        [view] = screen.query(ReasoningView)
        assert not view.expanded
        assert "Reasoning (5 words)" in visible_text(pilot)
        assert "Then more." not in visible_text(pilot)
        await select_last(pilot)
        await pilot.press("t")
        assert view.expanded
        await pilot.pause()
        assert "First I think. Then more." in visible_text(pilot)
        stored = app.runtime.store.messages(screen.conversation_id)[-1]
        assert stored.reasoning == "First I think. Then more."
        # Reopened later, the reasoning is still there, collapsed.
        await screen.open_conversation(screen.conversation_id)
        [again] = screen.query(ReasoningView)
        assert not again.expanded and again.text == "First I think. Then more."


async def test_ctrl_g_writes_the_prompt_in_the_editor(
    make_app, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = tmp_path / "fake-editor.py"
    script.write_text(
        "import sys, pathlib\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "path.write_text(path.read_text() + ' and more from the editor\\n')\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        # The headless driver cannot hand the terminal over; pretend it did.
        monkeypatch.setattr(app, "suspend", contextlib.nullcontext)
        screen.prompt.insert("started here")
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert screen.prompt.text == "started here and more from the editor"


async def test_ctrl_s_exports_markdown_or_json_where_tuichat_was_started(
    make_app, tmp_path: Path, monkeypatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    app = make_app(Script(deltas=["exported answer"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "export me")
        await settle_reply(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen), "the export dialog")
        path_field = app.screen.query_one("#export-path")
        assert path_field.value == f"{screen.conversation_id}-export-me.md"
        where = str(app.screen.query_one("#export-where").render())
        assert where.startswith(f"A name alone is written in {here};")
        suggested = here / path_field.value
        await pilot.press("enter")
        await until(pilot, lambda: suggested.exists(), "the file")
        text = suggested.read_text()
        assert "## You" in text and "exported answer" in text
        assert f"Exported to {suggested}" in toasts(pilot)

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen), "the export dialog")
        await pilot.press("ctrl+t", "enter")  # .md -> .json
        target = suggested.with_suffix(".json")
        await until(pilot, lambda: target.exists(), "the JSON file")
        data = json.loads(target.read_text())
        assert [m["content"] for m in data["messages"]] == ["export me", "exported answer"]


async def test_the_delete_question_is_shown_whole_however_long_the_title(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        title = "A conversation about a great many things with a very long title indeed"
        app.push_screen(DeleteScreen(title))
        await pilot.pause()
        shown = " ".join(" ".join(visible_text(pilot).split()).split(" "))
        assert "indeed” and all its messages will be deleted." in shown, shown


async def test_esc_in_the_log_while_a_reply_streams_stops_it_and_returns_to_the_prompt(
    make_app,
) -> None:
    # The report's keys: r on reply 1 (a slow server: still streaming), [ End x y (all
    # refused while it streams), Esc, then a new prompt typed.
    app = make_app(
        Script(deltas=["r1"]), Script(deltas=["r2"]), Script(deltas=["r3"]), frozen("again")
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        for text in ("q1", "q2", "q3"):
            await send(pilot, text)
            await settle_reply(pilot)
        await select_last(pilot)
        await pilot.press("home", "down", "r")
        await until(pilot, lambda: screen.responding, "the regenerated reply")
        await pilot.press("left_square_bracket", "end", "x", "y", "escape")
        await settle_reply(pilot)
        assert screen.focused is screen.prompt
        await pilot.press(*"after delete")
        await pilot.pause()
        assert screen.prompt.text == "after delete"
        assert len(fake(app.runtime).requests) == 4  # no other regenerate reached the server
        assert screen.messages.editing is None
