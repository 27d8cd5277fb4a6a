"""Text from models and servers shows literally: no markup, no actions, no escape codes."""

from __future__ import annotations

from tests.app.support import SIZE, chat_screen, replies, send, settle_reply, until, visible_text
from tests.fakes import Script, failing, frozen
from tuichat.errors import ServerError

OSC52 = "\x1b]52;c;SGVsbG8=\x07"
MARKUP = ["[bold red]x[/]", "[link=http://x]y[/link]", "[@click=app.quit]z[/]"]
HOSTILE = f"Look: {OSC52} and {MARKUP[0]} then {MARKUP[1]} and {MARKUP[2]} and \x9b31m end"

CONTROL_CHARACTERS = {chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}


def assert_no_control_characters(text: str) -> None:
    found = sorted({f"U+{ord(c):04X}" for c in text if c in CONTROL_CHARACTERS})
    assert not found, f"control characters reached the screen: {found}"


async def test_a_hostile_finished_reply_renders_literally(make_app) -> None:
    app = make_app(Script(deltas=[HOSTILE[:9], HOSTILE[9:30], HOSTILE[30:]]))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "be nasty")
        await settle_reply(pilot)
        assert app.is_running
        [reply] = replies(pilot)
        assert reply.status == "complete"
        shown = visible_text(pilot)
        for markup in MARKUP:
            assert markup in shown
        assert "SGVsbG8=" in shown  # the payload is visible, its ESC neutralised
        assert_no_control_characters(shown)
        assert "\x1b" not in app.export_screenshot()


async def test_a_hostile_reply_while_streaming_renders_literally(make_app) -> None:
    app = make_app(frozen(HOSTILE))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "be nasty")
        from tests.app.support import fake

        await fake(app.runtime).waiting.wait()
        [reply] = replies(pilot)
        await reply.flush()
        # Painted in the next frame or a few (a loaded machine delays them).
        await until(
            pilot,
            lambda: all(markup in visible_text(pilot) for markup in MARKUP),
            "the reply painted",
        )
        shown = visible_text(pilot)
        assert_no_control_characters(shown)
        assert "\x1b" not in app.export_screenshot()
        await pilot.press("escape")
        await settle_reply(pilot)
        assert app.is_running


async def test_a_hostile_error_sentence_renders_literally(make_app) -> None:
    app = make_app(failing(ServerError(f"Server said: {HOSTILE}", provider="fake", status=500)))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "fail nastily")
        await settle_reply(pilot)
        assert app.is_running
        shown = visible_text(pilot)
        assert "Server said:" in shown
        assert MARKUP[2] in shown
        assert_no_control_characters(shown)


async def test_hostile_titles_render_literally_in_the_sidebar(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    for markup in MARKUP:
        runtime.store.create_conversation(title=f"{markup} {OSC52}")
    runtime.store.create_conversation(title="[/]")
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.is_running
        shown = visible_text(pilot)
        for markup in MARKUP:
            assert markup in shown
        assert "[/]" in shown
        assert_no_control_characters(shown)
        # Opening one (Enter on the first) does not run any action either.
        chat_screen(pilot).sidebar.option_list.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.is_running
