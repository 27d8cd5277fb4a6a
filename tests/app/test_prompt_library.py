"""The prompt library in the app (``/`` at the start of the prompt, the variable form)
and prompt recall (Up in an empty prompt, Ctrl+R over every prompt sent)."""

from __future__ import annotations

from pathlib import Path

from tests.app.support import SIZE, chat_screen, fake, send, settle_reply, toasts, until
from tests.fakes import Script
from tuichat import locations
from tuichat.app.screens.prompt_form import VariableFormScreen
from tuichat.app.screens.prompt_picker import PromptPickerScreen
from tuichat.app.screens.recall_search import RecallSearchScreen


def save_prompts(**files: str) -> Path:
    """Write ``NAME.toml`` files into the library folder (beside the test's config)."""
    folder = locations.prompts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    return folder


EXPLAIN = """\
description = "Explain a topic to someone"
prompt = "Explain {{topic}} to {{reader}}:\\n\\n{{input}}\\n\\nKeep it short."
system = "You teach {{reader}}."
temperature = 0.3

[defaults]
reader = "a newcomer"
"""

HAIKU = 'description = "A poem"\nprompt = "Write a haiku about the sea."\n'


async def test_slash_in_an_empty_prompt_opens_the_saved_prompts(make_app) -> None:
    save_prompts(explain=EXPLAIN, haiku=HAIKU)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.screen, PromptPickerScreen), "the picker")
        picker = app.screen
        assert [t.name for t in picker.shown] == ["explain", "haiku"]
        await pilot.press("h", "a", "i")
        await until(pilot, lambda: [t.name for t in picker.shown] == ["haiku"], "the filter")
        await pilot.press("enter")
        screen = chat_screen(pilot)
        await until(pilot, lambda: screen.prompt.text == "Write a haiku about the sea.", "it")
        assert app.screen is screen and screen.focused is screen.prompt
        assert app.runtime.store.list_conversations() == []  # put in the box, not sent


async def test_esc_leaves_what_was_typed_so_a_message_may_start_with_a_slash(make_app) -> None:
    save_prompts(haiku=HAIKU)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.screen, PromptPickerScreen), "the picker")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the picker to close")
        assert screen.prompt.text == "/"

        # Typed on: no saved prompt matches, and Enter gives the text back to be sent.
        screen.prompt.clear()
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.screen, PromptPickerScreen), "the picker")
        for key in ("e", "t", "c", "slash", "h", "o", "s", "t", "s"):
            await pilot.press(key)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen, "the picker to close")
        assert screen.prompt.text == "/etc/hosts"
        await pilot.press("space", "i", "s", "enter")
        await settle_reply(pilot)
        [user, _] = app.runtime.store.messages(screen.conversation_id)
        assert user.content == "/etc/hosts is"


async def test_a_slash_opens_nothing_without_saved_prompts_or_inside_a_text(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("slash", "t", "m", "p")
        await pilot.pause()
        assert screen.prompt.text == "/tmp" and app.screen is screen
        save_prompts(haiku=HAIKU)
        await pilot.press("space", "slash")
        await pilot.pause()
        assert screen.prompt.text == "/tmp /" and app.screen is screen


async def test_variables_are_asked_in_a_form_and_the_system_prompt_applies(make_app) -> None:
    save_prompts(explain=EXPLAIN)
    app = make_app(Script(deltas=["ok"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("slash", "enter")
        await until(pilot, lambda: isinstance(app.screen, VariableFormScreen), "the form")
        form = app.screen
        # {{input}} is not asked: the cursor waits there in the prompt.
        assert list(form.values) == ["topic", "reader"]
        assert form.values["reader"] == "a newcomer"
        await pilot.press("T", "L", "S", "tab")
        await pilot.press("ctrl+u", *"a child")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen, "the form to close")
        assert screen.prompt.text == "Explain TLS to a child:\n\n\n\nKeep it short."
        assert screen.prompt.cursor_location == (2, 0)
        await pilot.press(*"the handshake", "enter")
        await settle_reply(pilot)
        [request] = fake(app.runtime).requests
        assert request.system == "You teach a child."
        assert request.messages[-1].content == (
            "Explain TLS to a child:\n\nthe handshake\n\nKeep it short."
        )
        conversation = app.runtime.store.get_conversation(screen.conversation_id)
        assert conversation is not None
        assert conversation.params["temperature"] == 0.3
        assert conversation.params["preset"] == "explain"


async def test_enter_in_a_field_moves_to_the_next_and_esc_cancels_the_form(make_app) -> None:
    save_prompts(explain=EXPLAIN)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("slash", "enter")
        await until(pilot, lambda: isinstance(app.screen, VariableFormScreen), "the form")
        await pilot.press("x", "enter")
        assert app.screen.focused is app.screen.query_one("#var-1")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the form to close")
        assert screen.prompt.text == "/"


async def test_a_preset_is_in_the_same_list_and_sets_the_conversations_options(
    make_app,
) -> None:
    presets = {"terse": {"system_prompt": "Answer in one line.", "temperature": 0.1}}
    app = make_app(Script(deltas=["ok"]), settings={"presets": presets})
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("slash", "t", "e", "r", "enter")
        await until(pilot, lambda: app.screen is screen, "the picker to close")
        assert screen.prompt.text == ""  # a preset has no text: the person types it
        await send(pilot, "why?")
        await settle_reply(pilot)
        [request] = fake(app.runtime).requests
        assert (request.system, request.temperature) == ("Answer in one line.", 0.1)


async def test_up_in_an_empty_prompt_walks_back_through_this_conversations_prompts(
    make_app,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        prompt = screen.prompt
        for text in ("first", "second\nof two lines", "third"):
            await send(pilot, text)
            await settle_reply(pilot)
        await pilot.press("up")
        assert prompt.text == "third"
        await pilot.press("up")
        assert prompt.text == "second\nof two lines"
        # The cursor is at the end: Up moves it to the first line before going further.
        await pilot.press("up")
        assert (prompt.text, prompt.cursor_location[0]) == ("second\nof two lines", 0)
        await pilot.press("up")
        assert prompt.text == "first"
        await pilot.press("up")  # the oldest: it stays
        assert prompt.text == "first"
        await pilot.press("down")
        assert prompt.text == "second\nof two lines"
        await pilot.press("down")
        assert prompt.text == "third"
        await pilot.press("down")
        assert prompt.text == ""  # back to the empty box


async def test_up_in_a_prompt_being_written_moves_the_cursor_and_recalls_nothing(
    make_app,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "sent before")
        await settle_reply(pilot)
        await pilot.press("a", "ctrl+j", "b", "up")
        assert (screen.prompt.text, screen.prompt.cursor_location) == ("a\nb", (0, 1))
        await pilot.press("up")
        assert screen.prompt.text == "a\nb"
        # A recalled prompt, once edited, is the person's text: Up no longer replaces it.
        screen.prompt.clear()
        await pilot.press("up", "x", "home", "up")
        assert screen.prompt.text == "sent beforex"


async def test_ctrl_r_searches_every_prompt_sent_and_puts_the_choice_in_the_box(
    make_app,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "how do I undo a git rebase")
        await settle_reply(pilot)
        await pilot.press("ctrl+n")
        await send(pilot, "explain TCP slow start")
        await settle_reply(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, RecallSearchScreen), "the search")
        search = app.screen
        assert search.shown == ["explain TCP slow start", "how do I undo a git rebase"]
        await pilot.press(*"gitreb")
        await until(pilot, lambda: search.shown == ["how do I undo a git rebase"], "a match")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen, "the search to close")
        assert screen.prompt.text == "how do I undo a git rebase"
        assert screen.focused is screen.prompt


async def test_ctrl_r_starts_from_what_is_typed_and_esc_leaves_it(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        for text in ("explain TCP slow start", "a haiku"):
            await send(pilot, text)
            await settle_reply(pilot)
        await pilot.press("t", "c", "p", "ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, RecallSearchScreen), "the search")
        await until(pilot, lambda: app.screen.shown == ["explain TCP slow start"], "the filter")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the search to close")
        assert screen.prompt.text == "tcp"


async def test_ctrl_r_no_longer_regenerates_f12_does(make_app) -> None:
    app = make_app(Script(deltas=["first take"]), Script(deltas=["second take"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "question")
        await settle_reply(pilot)
        await pilot.press("f12")
        await settle_reply(pilot)
        [_, reply] = app.runtime.store.messages(screen.conversation_id)
        assert reply.content == "second take"


async def test_the_options_dialog_offers_the_librarys_prompts_that_set_something(
    make_app,
) -> None:
    from textual.widgets import Select

    from tuichat.app.screens.options import OptionsScreen

    save_prompts(explain=EXPLAIN, haiku=HAIKU)
    presets = {"terse": {"system_prompt": "Answer in one line."}}
    app = make_app(settings={"presets": presets})
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, OptionsScreen), "the options")
        select = app.screen.query_one("#options-preset", Select)
        # haiku sets nothing but text: it is no preset.
        assert [value for _, value in select._options if value != Select.NULL] == [
            "explain",
            "terse",
        ]


async def test_a_prompt_file_that_cannot_be_read_is_said_when_the_picker_opens(make_app) -> None:
    save_prompts(haiku=HAIKU, broken="prompt = [1\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.screen, PromptPickerScreen), "the picker")
        assert [t.name for t in app.screen.shown] == ["haiku"]
        [toast] = toasts(pilot)
        assert "broken.toml: not valid TOML" in toast
