"""The prompt box: Enter sends, Ctrl+J and Shift+Enter add lines, a paste never sends."""

from __future__ import annotations

from textual import events

from tests.app.support import SIZE, chat_screen, replies, settle_reply, until
from tuichat.app.burst import EnterInBurst
from tuichat.app.widgets.prompt import PromptInput


async def test_ctrl_j_inserts_a_newline_and_does_not_send(make_app) -> None:
    app = make_app()
    messages: list[object] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("o", "n", "e", "ctrl+j", "t", "w", "o")
        await pilot.pause()
        assert screen.prompt.text == "one\ntwo"
        assert not any(isinstance(m, PromptInput.Submitted) for m in messages)
        assert app.runtime.store.list_conversations() == []
        assert replies(pilot) == []


async def test_shift_enter_inserts_a_newline_where_the_terminal_reports_it(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("a", "shift+enter", "b")
        await pilot.pause()
        assert screen.prompt.text == "a\nb"
        assert replies(pilot) == []


async def test_enter_sends_the_text_exactly_and_clears_the_box(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("l", "i", "n", "e", "1", "ctrl+j", "l", "i", "n", "e", "2", "enter")
        await settle_reply(pilot)
        [user, _reply] = app.runtime.store.messages(screen.conversation_id)
        assert user.content == "line1\nline2"
        assert screen.prompt.text == ""


async def test_a_blank_prompt_is_not_sent(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("enter", "space", "ctrl+j", "space", "enter")
        await pilot.pause()
        assert replies(pilot) == []
        assert app.runtime.store.list_conversations() == []
        assert screen.prompt.text == " \n "


async def test_a_multi_line_paste_inserts_and_never_sends(make_app) -> None:
    app = make_app()
    messages: list[object] = []
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = chat_screen(pilot)
        pasted = "first line\nsecond line\r\nthird line\n"
        app.post_message(events.Paste(pasted))
        await until(pilot, lambda: "third line" in screen.prompt.text, "the paste")
        await pilot.pause()
        assert screen.prompt.text.count("\n") == 3
        assert not any(isinstance(m, PromptInput.Submitted) for m in messages)
        assert replies(pilot) == []
        assert app.runtime.store.list_conversations() == []

        # Sending is a separate Enter, and sends all of it.
        await pilot.press("enter")
        await settle_reply(pilot)
        [user, _reply] = app.runtime.store.messages(screen.conversation_id)
        assert user.content.startswith("first line\nsecond line")
        assert user.content.rstrip().endswith("third line")


async def test_the_prompt_grows_with_its_lines_up_to_a_limit(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt = chat_screen(pilot).prompt
        one_line = prompt.outer_size.height
        await pilot.press("a", "ctrl+j", "b", "ctrl+j", "c")
        await pilot.pause()
        assert prompt.outer_size.height == one_line + 2
        prompt.insert("\nmore" * 20)
        await pilot.pause()
        assert prompt.outer_size.height == 10
        assert one_line == 3


def burst(app, *keys: str, at: float = 1000.0, gap: float = 0.0001) -> None:  # type: ignore[no-untyped-def]
    """Keys arriving together (a fast typist on a slow link, a paste without bracketed
    paste): all queued before the app handles the first, read ``gap`` seconds apart
    from ``at`` (the terminal's timestamps, synthetic here)."""
    for index, key in enumerate(keys):
        event = events.Key(key, key if len(key) == 1 else None)
        event.time = at + index * gap
        app.post_message(event)


async def test_line_breaks_in_a_burst_of_keys_stay_where_they_were_typed(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        burst(app, "a", "1", "ctrl+j", "b", "1", "shift+enter", "c", "1")
        await until(pilot, lambda: screen.prompt.text.endswith("c1"), "the burst typed")
        assert screen.prompt.text == "a1\nb1\nc1"


async def test_keys_typed_right_after_enter_stay_in_the_box(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        # Enter pressed after a pause (as a person does), the next keys close behind it.
        burst(app, "p", "1")
        burst(app, "enter", "p", "2", at=1000.1)
        await settle_reply(pilot)
        [user, _reply] = app.runtime.store.messages(screen.conversation_id)
        assert user.content == "p1"
        assert screen.prompt.text == "p2"
        conversation_id = screen.conversation_id
    # Quitting at once keeps them as the conversation's draft.
    conversation = app.runtime.store.get_conversation(conversation_id)
    assert conversation is not None and conversation.draft == "p2"


async def test_a_prompt_not_sent_goes_back_in_front_of_what_was_typed_since(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt = chat_screen(pilot).prompt
        prompt.insert("typed since")
        prompt.put_back("not sent\n")
        assert prompt.text == "not sent\ntyped since"
        assert prompt.cursor_location == prompt.document.end


async def test_a_prompt_given_a_text_types_on_at_its_end() -> None:
    from textual.app import App, ComposeResult

    class OnePrompt(App[None]):
        def compose(self) -> ComposeResult:
            yield PromptInput("carried over")

    async with OnePrompt().run_test() as pilot:
        prompt = pilot.app.query_one(PromptInput)
        prompt.focus()
        await pilot.press("X", "Y")
        assert prompt.text == "carried overXY"


def test_an_enter_amid_a_burst_is_a_line_break_and_one_after_a_pause_sends() -> None:
    enter = EnterInBurst(window=0.005)
    enter.arrived(10.0)  # "a" pasted
    assert enter.arrived(10.0001) is None and enter.hold(10.0001)  # Enter: held
    assert enter.arrived(10.0002) == "newline"  # "b" followed closely: a line break
    assert enter.arrived(10.0003) is None and enter.hold(10.0003)  # a last Enter: held
    assert enter.settle()  # nothing followed: it sends
    assert not enter.settle()
    assert enter.arrived(11.0) is None and not enter.hold(11.0)  # after a pause: sends now
    enter.arrived(12.0)
    assert enter.arrived(12.001) is None and enter.hold(12.001)
    assert enter.arrived(12.5) == "send"  # the next key came too late to be one burst


async def test_a_paste_without_bracketed_paste_never_sends_its_first_line(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        burst(app, *"line 1", "enter", *"line 2", "enter", "enter", *"line 4")
        await until(pilot, lambda: screen.prompt.text.endswith("line 4"), "the paste typed")
        assert screen.prompt.text == "line 1\nline 2\n\nline 4"
        assert screen.conversation_id is None  # nothing was sent
        assert screen.prompt._burst.held is None  # nor will be: no Enter is left held


async def test_an_enter_that_ends_a_burst_sends_once_no_key_follows(make_app) -> None:
    # A typist's keys bunched by a slow link: the last Enter is the one pressed to send.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        burst(app, *"hi", "enter")
        await until(pilot, lambda: screen.conversation_id is not None, "the prompt sent")
        await settle_reply(pilot)
        [user, _reply] = app.runtime.store.messages(screen.conversation_id)
        assert user.content == "hi" and screen.prompt.text == ""
