"""The reply widget on its own: batching, sealing, errors; and the meta line."""

from __future__ import annotations

from textual.widgets import Markdown

from tests.app.support import ReplyApp, chat_screen, send, settle_reply, until, visible_text
from tests.fakes import Script
from tuichat.app.widgets.markdown_text import MarkdownText
from tuichat.app.widgets.message import ReplyView, reply_meta


async def test_a_streaming_reply_batches_deltas_and_seals_into_one_widget() -> None:
    view = ReplyView(streaming=True, status="streaming", fps=1, meta="streaming…")
    async with ReplyApp(view).run_test() as pilot:
        [body] = view.query(MarkdownText)
        for n in range(50):
            await view.append(f"word{n} ")
        # At most one redraw a second: the first piece at once, the rest waits.
        assert body.frames == 1
        await view.flush()
        assert body.source == "".join(f"word{n} " for n in range(50))
        assert body.frames == 2

        await view.finish(status="complete", meta="done")
        await pilot.pause()
        assert not view.query(Markdown)
        assert view.query(MarkdownText).nodes == [body]
        assert body.document.finished
        assert view.has_class("-complete") and not view.has_class("-streaming")
        assert str(view.query_one(".reply-meta").render()) == "done"


async def test_an_error_is_added_under_the_partial_text() -> None:
    view = ReplyView("Partial", meta="m")
    async with ReplyApp(view).run_test() as pilot:
        assert not view.query(".reply-error")
        view.show_error("It broke [bold]badly[/].")
        await pilot.pause()
        assert str(view.query_one(".reply-error").render()) == "It broke [bold]badly[/]."
        order = [child.classes for child in view.children]
        assert order == [{"reply-body"}, {"reply-error"}, {"reply-meta"}]


async def test_control_characters_never_reach_the_reply() -> None:
    view = ReplyView(streaming=True, fps=120)
    async with ReplyApp(view).run_test():
        await view.append("a\x1b]0;title\x07b\x9b")
        await view.flush()
        assert "\x1b" not in view.text and "\x9b" not in view.text
        assert "\x1b" not in view.query_one(MarkdownText).source


def test_the_meta_line() -> None:
    assert (
        reply_meta(
            provider="openai",
            model="gpt-4o-mini",
            status="complete",
            input_tokens=12,
            output_tokens=80,
            ttft_ms=420,
        )
        == "openai · gpt-4o-mini · 12 in / 80 out tokens · first token 0.42 s · complete"
    )
    assert reply_meta(provider="demo", model="demo", status="length") == (
        "demo · demo · stopped by max tokens"
    )
    assert reply_meta(provider="x", model="y", status="cancelled", output_tokens=3) == (
        "x · y · ? in / 3 out tokens · cancelled"
    )
    assert reply_meta(provider="x", model="y", status="streaming", note="retrying") == (
        "x · y · retrying"
    )


async def test_a_note_that_does_not_fit_is_not_cut_to_a_stray_letter(make_app) -> None:
    app = make_app(Script(deltas=["hi there"]))
    async with app.run_test(size=(20, 6)) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "hello")
        await settle_reply(pilot)
        screen.chat_log.focus()  # "reply selected" is the note now: it cannot fit
        await pilot.pause()
        [status] = [line for line in visible_text(pilot).splitlines() if "fake" in line]
        assert status.strip() == "fake · fake-model"


async def test_editing_says_esc_cancels_beside_the_sidebar_and_the_demo_badge(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = chat_screen(pilot)
        assert screen.sidebar.display
        await send(pilot, "hello")
        await settle_reply(pilot)
        screen.chat_log.focus()
        await pilot.press("home")
        await until(pilot, lambda: screen.chat_log.selected_id is not None, "a selection")
        await pilot.press("e")
        await until(pilot, lambda: screen.messages.editing is not None, "the edit")
        await pilot.pause()
        [status] = [line for line in visible_text(pilot).splitlines() if "demo · demo" in line]
        assert "Esc cancels" in status, status
