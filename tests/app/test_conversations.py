"""Conversations: new, open, rename, delete, paging, restart, sidebar and focus."""

from __future__ import annotations

from textual.widgets import Input

from tests.app.support import (
    SIZE,
    chat_screen,
    replies,
    send,
    settle_reply,
    until,
    visible_text,
)
from tuichat.app.screens.delete import DeleteScreen
from tuichat.app.screens.rename import RenameScreen
from tuichat.app.widgets.message import UserMessage
from tuichat.app.widgets.welcome import WelcomePanel
from tuichat.runtime import Runtime


def seed(runtime: Runtime, title: str, *turns: tuple[str, str]) -> int:
    """Store a conversation with (prompt, reply) turns; returns its id."""
    store = runtime.store
    conversation = store.create_conversation(title=title, provider="demo", model="demo")
    for prompt, reply in turns:
        store.add_message(conversation.id, "user", prompt)
        store.add_message(conversation.id, "assistant", reply, provider="demo", model="demo")
    return conversation.id


async def test_it_starts_on_a_fresh_conversation_not_yet_stored(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        assert screen.conversation_id is None
        assert app.runtime.store.list_conversations() == []
        assert screen.focused is screen.prompt
        text = visible_text(pilot)
        assert "demo · demo" in text
        assert "DEMO — offline, no key needed" in text
        assert "OPENAI_API_KEY" in text  # the welcome says how to add a provider


async def test_a_real_provider_shows_no_demo_badge_nor_welcome(make_app) -> None:
    app = make_app(provider="fake")
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        text = visible_text(pilot)
        assert "fake · fake-model" in text
        assert "DEMO" not in text
        assert not screen.query(WelcomePanel)


async def test_ctrl_n_starts_a_new_conversation(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "first")
        await settle_reply(pilot)
        first = screen.conversation_id
        assert first is not None
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert screen.conversation_id is None
        assert replies(pilot) == []
        assert screen.query(WelcomePanel)
        await send(pilot, "second")
        await settle_reply(pilot)
        assert screen.conversation_id not in (None, first)
        titles = [c.title for c in app.runtime.store.list_conversations()]
        assert titles == ["second", "first"]
        assert len(screen.sidebar.conversation_ids) == 2


async def test_selecting_a_conversation_loads_its_messages_at_the_end(
    make_app, build_runtime
) -> None:
    runtime = build_runtime(fake=True)
    long = [(f"question {n}", f"answer {n}\n\nwith a second paragraph") for n in range(15)]
    older = seed(runtime, "Older chat", *long)
    newer = seed(runtime, "Newer chat", ("hi", "hello"))
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        assert screen.sidebar.conversation_ids == [newer, older]
        screen.sidebar.option_list.focus()
        await pilot.press("down", "enter")
        await until(pilot, lambda: screen.conversation_id == older, "the conversation to open")
        await pilot.pause()
        assert len(screen.query(UserMessage)) == 15
        assert [r.status for r in replies(pilot)] == ["complete"] * 15
        log = screen.chat_log
        await until(pilot, lambda: log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y)
        assert "answer 14" in visible_text(pilot)
        assert screen.focused is screen.prompt


async def test_rename_saves_on_enter_and_cancels_on_escape(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    conversation = seed(runtime, "Old title", ("a", "b"))
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        screen.sidebar.option_list.focus()
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, RenameScreen), "the rename dialog")
        field = app.screen.query_one(Input)
        assert field.value == "Old title"
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the dialog to close")
        assert runtime.store.get_conversation(conversation).title == "Old title"

        screen.sidebar.option_list.focus()
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, RenameScreen), "the rename dialog")
        app.screen.query_one(Input).value = ""
        await pilot.press(*"New [b]title[/b]", "enter")
        await until(pilot, lambda: app.screen is screen, "the dialog to close")
        await pilot.pause()
        assert runtime.store.get_conversation(conversation).title == "New [b]title[/b]"
        assert "New [b]title[/b]" in visible_text(pilot)


async def test_delete_asks_first_and_then_deletes(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "doomed")
        await settle_reply(pilot)
        store = app.runtime.store
        [conversation] = store.list_conversations()

        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, DeleteScreen), "the confirmation")
        assert "doomed" in visible_text(pilot)
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen, "the dialog to close")
        assert store.get_conversation(conversation.id) is not None

        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, DeleteScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: app.screen is screen, "the dialog to close")
        await until(pilot, lambda: screen.conversation_id is None, "a fresh conversation")
        assert store.list_conversations() == []
        assert store.get_conversation(conversation.id) is None
        assert screen.sidebar.conversation_ids == []
        assert replies(pilot) == []


async def test_conversations_survive_a_restart(make_app, build_runtime) -> None:
    first = make_app(runtime=build_runtime(fake=True))
    async with first.run_test(size=SIZE) as pilot:
        await send(pilot, "remember me")
        await settle_reply(pilot)

    second = make_app(runtime=build_runtime(fake=True))
    async with second.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        assert screen.conversation_id is None
        [conversation_id] = screen.sidebar.conversation_ids
        assert "remember me" in visible_text(pilot)
        screen.sidebar.option_list.focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.conversation_id == conversation_id, "it to open")
        await pilot.pause()
        assert [m.text for m in screen.query(UserMessage)] == ["remember me"]
        [reply] = replies(pilot)
        assert "Welcome to tuichat" in reply.text


async def test_the_sidebar_pages_instead_of_reading_every_conversation(
    make_app, build_runtime
) -> None:
    runtime = build_runtime(fake=True)
    for n in range(120):
        runtime.store.create_conversation(title=f"chat {n:03}")
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        sidebar = chat_screen(pilot).sidebar
        await pilot.pause()
        assert sidebar.count == 50
        sidebar.option_list.focus()
        await pilot.press("end")
        await until(pilot, lambda: sidebar.count == 100, "the second page")
        await pilot.press("end")
        await until(pilot, lambda: sidebar.count == 120, "the last page")
        assert not sidebar.has_more
        titles = [f"chat {n:03}" for n in reversed(range(120))]
        ids = sidebar.conversation_ids
        assert [runtime.store.get_conversation(i).title for i in ids] == titles


async def test_ctrl_b_toggles_the_sidebar(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        assert screen.sidebar.display
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not screen.sidebar.display
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert screen.sidebar.display


async def test_a_narrow_terminal_starts_without_the_sidebar(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(90, 30)) as pilot:
        screen = chat_screen(pilot)
        assert not screen.sidebar.display
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert screen.sidebar.display


async def test_the_sidebar_setting_hides_it(make_app) -> None:
    app = make_app(settings={"providers": {"demo": {"instant": True}}, "ui": {"sidebar": False}})
    async with app.run_test(size=SIZE) as pilot:
        assert not chat_screen(pilot).sidebar.display


async def test_tab_moves_focus_between_sidebar_log_and_prompt(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        assert screen.focused is screen.prompt
        await pilot.press("tab")
        assert screen.sidebar.has_focus_within
        await pilot.press("tab")
        assert screen.focused is screen.chat_log
        await pilot.press("tab")
        assert screen.focused is screen.prompt
        await pilot.press("shift+tab")
        assert screen.focused is screen.chat_log


async def test_showing_the_sidebar_leaves_the_typing_in_the_prompt(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    chat = seed(runtime, "Keep me", ("hi", "hello"))
    app = make_app(runtime=runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat_screen(pilot)
        await screen.open_conversation(chat)
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert screen.sidebar.display
        await pilot.press("a", "p", "r", "d")
        await pilot.pause()
        assert screen.focused is screen.prompt and screen.prompt.text == "aprd"
        conversation = runtime.store.get_conversation(chat)
        assert conversation is not None and not conversation.archived and not conversation.pinned
        assert not screen.app.screen_stack[1:]  # no rename or delete dialog opened


async def test_at_80x24_the_welcome_card_opens_at_its_headline(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Welcome to tuichat — offline demo" in visible_text(pilot)
        await send(pilot, "hello")
        await settle_reply(pilot)
        log = chat_screen(pilot).chat_log
        await until(pilot, lambda: log.scroll_y == log.max_scroll_y, "the log at its end")
