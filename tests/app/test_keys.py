"""Keys: every action has one (help screen, footer, command palette), keys are rebindable in
``[keymap]``, the theme picked is remembered, and a narrow terminal stays usable."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.actions import parse
from textual.command import CommandPalette

from tests.app.support import SIZE, chat_screen, send, settle_reply, until, visible_text
from tests.fakes import Script
from tuichat.app.app import THEME_KEY
from tuichat.app.screens.chat import ChatScreen
from tuichat.app.screens.compare import CompareScreen
from tuichat.app.screens.help import HelpScreen
from tuichat.app.screens.search import SearchScreen
from tuichat.app.widgets.attachment_chips import AttachmentChips
from tuichat.app.widgets.chat_log import ChatLog
from tuichat.app.widgets.sidebar import ConversationList
from tuichat.config import load_config
from tuichat.errors import ConfigError
from tuichat.keymap import ACTIONS
from tuichat.store import Store


def test_every_action_has_keys_a_method_and_a_unique_id() -> None:
    ids = [spec.id for spec in ACTIONS]
    assert len(ids) == len(set(ids))
    targets = {
        "global": ChatScreen,
        "sidebar": ChatScreen,
        "messages": ChatScreen,
        "attachments": AttachmentChips,
        "compare": CompareScreen,
    }
    for spec in ACTIONS:
        assert spec.keys.strip(), spec.id
        assert spec.id == spec.id.lower() and " " not in spec.id and "_" not in spec.id
        namespace, name, _ = parse(spec.action)
        if namespace == "app":
            continue
        assert hasattr(targets[spec.scope], f"action_{name}"), spec.id
    # Widget-scoped keys are declared on the widget that has the focus.
    assert {b.id for b in ChatLog.BINDINGS} == {s.id for s in ACTIONS if s.scope == "messages"}
    assert {b.id for b in ConversationList.BINDINGS} == {
        s.id for s in ACTIONS if s.scope == "sidebar"
    }
    assert {b.id for b in AttachmentChips.BINDINGS} == {
        s.id for s in ACTIONS if s.scope == "attachments"
    }
    assert {b.id for b in CompareScreen.BINDINGS} == {  # type: ignore[union-attr]
        s.id for s in ACTIONS if s.scope == "compare"
    }


async def test_f1_shows_every_action(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        text = str(app.screen.query_one("#help-text").render())
        for spec in ACTIONS:
            assert spec.description in text or spec.id in ("help-key", "rename-highlighted")
        assert "Ctrl+F" in text and "Search every prompt and reply" in text
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "it to close")


async def test_question_mark_is_help_outside_the_prompt_and_text_inside(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("question_mark")
        assert screen.prompt.text == "?"
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("shift+tab", "question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")


async def test_the_command_palette_offers_the_actions(make_app) -> None:
    app = make_app(Script(deltas=["once"]), Script(deltas=["twice"]))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await settle_reply(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"regenerate the last")
        await until(
            pilot, lambda: "Regenerate the last reply" in visible_text(pilot), "the command"
        )
        assert "F12" in visible_text(pilot)
        await pilot.press("enter")
        await settle_reply(pilot)
        store = app.runtime.store
        [_, reply] = store.messages(chat_screen(pilot).conversation_id)
        assert reply.content == "twice"


def keymap_settings(keymap: dict[str, str]) -> dict:
    return {"providers": {"demo": {"instant": True}}, "keymap": keymap}


async def test_keys_are_rebound_from_the_keymap(make_app) -> None:
    app = make_app(settings=keymap_settings({"search": "f10", "copy-message": "w"}))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "echo me")
        await settle_reply(pilot)
        await pilot.press("shift+tab", "c")  # c no longer copies...
        assert app.clipboard == ""
        await pilot.press("w")  # ...w does, in the chat log
        assert "Welcome to tuichat" in app.clipboard
        await pilot.press("escape")
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert not isinstance(app.screen, SearchScreen)
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(app.screen, SearchScreen), "search on F6")
        await pilot.press("escape")
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        text = str(app.screen.query_one("#help-text").render())
        assert "F6" in text and "Ctrl+F" not in text


def test_an_unknown_action_in_the_keymap_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\nserach = "f10"\n')
    with pytest.raises(ConfigError, match=r"line 1.*unknown action 'serach'"):
        load_config(config)


def test_a_key_another_action_has_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\nsearch = "f10"\nquit = "ctrl+n"\n')
    with pytest.raises(ConfigError, match=r"line 3.*'quit' = 'ctrl\+n' is already the key of"):
        load_config(config)


async def test_the_theme_picked_is_remembered(make_app, build_runtime, tmp_path: Path) -> None:
    app = make_app(runtime=build_runtime(fake=True))
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "nord"
        await pilot.pause()
    with Store(tmp_path / "data" / "tuichat.db") as store:
        assert store.get_setting(THEME_KEY) == {"name": "nord", "config": "textual-dark"}

    again = make_app(runtime=build_runtime(fake=True))
    async with again.run_test(size=SIZE):
        assert again.theme == "nord"

    # Changing the theme in config.toml afterwards wins over the old pick.
    settings = {"providers": {"demo": {"instant": True}}, "ui": {"theme": "gruvbox"}}
    edited = make_app(runtime=build_runtime(settings, fake=True))
    async with edited.run_test(size=SIZE):
        assert edited.theme == "gruvbox"


async def test_f8_opens_the_theme_picker(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the themes")


async def test_at_80x24_the_sidebar_collapses_and_everything_still_fits(make_app) -> None:
    app = make_app(Script(deltas=["short answer"]))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = chat_screen(pilot)
        assert not screen.sidebar.display
        await send(pilot, "hello")
        await settle_reply(pilot)
        text = visible_text(pilot)
        assert "short answer" in text and "fake · fake-model" in text
        assert "F1" in text.upper() or "f1" in text
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert screen.sidebar.display and screen.focused is screen.prompt
        assert screen.chat_log.size.width >= 40
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not screen.sidebar.display and screen.focused is screen.prompt


async def test_inside_tmux_the_keys_offered_for_the_sidebar_reach_the_app(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl+B is tmux's prefix: tmux keeps it, so the welcome card and F1 name F4.
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        welcome = " ".join(visible_text(pilot).split())
        assert "F4 sidebar" in welcome and "Ctrl+B sidebar" not in welcome
        await pilot.press("f4")
        await pilot.pause()
        assert not screen.sidebar.display
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        text = str(app.screen.query_one("#help-text").render())
        assert "Inside tmux, Ctrl+B is tmux's prefix: use F4 to show or hide the sidebar" in text


async def test_outside_a_multiplexer_the_welcome_names_ctrl_b(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert "Ctrl+B sidebar" in " ".join(visible_text(pilot).split())


async def test_a_toast_is_not_drawn_over_the_help(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        app.notify("Something happened meanwhile", timeout=60)
        await pilot.pause()
        assert "Something happened meanwhile" not in visible_text(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "the help to close")
        await until(
            pilot, lambda: "Something happened meanwhile" in visible_text(pilot), "the toast"
        )


async def test_inside_tmux_the_footer_offers_f4_for_the_sidebar(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = visible_text(pilot).splitlines()[-1]
        assert "f4 Sidebar" in footer and "^b Sidebar" not in footer, footer
        await pilot.press("ctrl+b")  # (tmux lets it through when pressed twice)
        await pilot.pause()
        assert not chat_screen(pilot).sidebar.display
