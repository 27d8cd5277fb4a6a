"""One chat turn in the app: send, stream, stop, fail, and what the store keeps."""

from __future__ import annotations

import asyncio

from textual.widgets import Markdown

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
from tests.fakes import FakeProvider, Script, failing, frozen
from tuichat.app.widgets.history import FIRST_PAGE
from tuichat.app.widgets.markdown_text import MarkdownText
from tuichat.app.widgets.message import UserMessage
from tuichat.app.widgets.welcome import WelcomePanel
from tuichat.errors import AuthError, StreamInterrupted
from tuichat.hookspecs import hookimpl
from tuichat.provider import Finish, Retrying, Usage
from tuichat.store import Store

AUTH_SENTENCE = "openai rejected the API key (HTTP 401); check OPENAI_API_KEY."


async def test_a_demo_reply_is_shown_and_stored(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        assert screen.query(WelcomePanel), "an empty demo conversation shows the welcome"
        await send(pilot, "hello")
        await settle_reply(pilot)

        [reply] = replies(pilot)
        assert "Welcome to tuichat" in reply.text
        assert reply.status == "complete"
        assert "complete" in str(reply.query_one(".reply-meta").render())
        # A finished reply is one widget, not a tree of Markdown blocks.
        assert not reply.query(Markdown)
        assert len(reply.query(MarkdownText)) == 1
        assert not screen.query(WelcomePanel)
        assert [m.text for m in screen.query(UserMessage)] == ["hello"]
        assert screen.prompt.text == ""

        store = app.runtime.store
        [conversation] = store.list_conversations()
        assert conversation.title == "hello"
        assert screen.conversation_id == conversation.id
        rows = [(m.role, m.status) for m in store.messages(conversation.id)]
        assert rows == [("user", "complete"), ("assistant", "complete")]
        assert screen.sidebar.conversation_ids == [conversation.id]
        assert "hello" in visible_text(pilot)


async def test_the_next_message_can_be_written_while_a_reply_streams(make_app) -> None:
    block = asyncio.Event()
    app = make_app(frozen("Half ", block=block), Script(deltas=["Second answer."]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        provider = fake(app.runtime)
        await send(pilot, "question")
        await provider.waiting.wait()
        assert screen.responding
        assert not screen.prompt.read_only and screen.prompt.has_class("-responding")
        assert screen.prompt.has_focus
        assert screen.prompt.text == ""

        # Typing while the reply streams lands in the prompt, newline key included.
        await pilot.press(*"next", "ctrl+j", *"one")
        await until(pilot, lambda: screen.prompt.text == "next\none", "the typed text")
        # Enter does not send it (nor clear it): a hint says the reply is still streaming.
        await pilot.press("enter")
        await until(pilot, lambda: bool(toasts(pilot)), "the hint")
        assert "still streaming" in toasts(pilot)[-1] and "Esc" in toasts(pilot)[-1]
        assert screen.prompt.text == "next\none"
        assert len(replies(pilot)) == 1 and len(provider.requests) == 1
        assert [m.text for m in screen.query(UserMessage)] == ["question"]

        block.set()
        await settle_reply(pilot)
        assert not screen.prompt.has_class("-responding")
        assert replies(pilot)[0].status == "complete"
        assert screen.prompt.text == "next\none", "the reply ending keeps the text"

        # Once the reply has ended, Enter sends what was written meanwhile.
        await pilot.press("enter")
        await settle_reply(pilot)
        assert [m.text for m in screen.query(UserMessage)] == ["question", "next\none"]
        assert [r.text for r in replies(pilot)] == ["Half ", "Second answer."]
        assert screen.prompt.text == ""


async def test_escape_stops_the_reply_and_keeps_what_arrived(make_app) -> None:
    app = make_app(frozen("Half ", "a reply"), Script(deltas=["Second answer."]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        provider = fake(app.runtime)
        await send(pilot, "tell me")
        await provider.waiting.wait()
        await pilot.press("escape")
        await settle_reply(pilot)

        # The worker was cancelled, so the provider's stream was closed at once.
        assert provider.closed_early == 1
        [reply] = replies(pilot)
        assert reply.status == "cancelled"
        assert reply.text == "Half a reply"
        assert "cancelled" in str(reply.query_one(".reply-meta").render())
        assert screen.prompt.text == "", "a stopped reply does not put the prompt back"
        row = app.runtime.store.messages(screen.conversation_id)[-1]
        assert (row.status, row.content) == ("cancelled", "Half a reply")

        # The input works again.
        await send(pilot, "and now?")
        await settle_reply(pilot)
        assert [r.status for r in replies(pilot)] == ["cancelled", "complete"]
        assert replies(pilot)[1].text == "Second answer."


async def test_a_provider_error_is_inline_and_the_prompt_comes_back(make_app) -> None:
    app = make_app(failing(AuthError(AUTH_SENTENCE, provider="openai", status=401), "Par", "tial"))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "my precious question")
        await settle_reply(pilot)

        [reply] = replies(pilot)
        assert reply.text == "Partial"
        assert str(reply.query_one(".reply-error").render()) == AUTH_SENTENCE
        assert reply.has_class("-has-error")
        assert screen.prompt.text == "my precious question"
        assert not screen.prompt.read_only
        assert app.is_running
        row = app.runtime.store.messages(screen.conversation_id)[-1]
        assert (row.status, row.content, row.error) == ("error", "Partial", AUTH_SENTENCE)
        assert AUTH_SENTENCE in visible_text(pilot)


async def test_a_dropped_stream_is_interrupted_and_keeps_the_partial_text(make_app) -> None:
    drop = StreamInterrupted("The connection to fake dropped mid-reply.", provider="fake")
    app = make_app(failing(drop, "Some ", "words"))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "go")
        await settle_reply(pilot)
        [reply] = replies(pilot)
        assert (reply.status, reply.text) == ("interrupted", "Some words")
        assert "dropped mid-reply" in str(reply.query_one(".reply-error").render())
        assert screen.prompt.text == "go"
        row = app.runtime.store.messages(screen.conversation_id)[-1]
        assert (row.status, row.content) == ("interrupted", "Some words")


async def test_an_unexpected_exception_is_shown_inline_not_a_crash(make_app) -> None:
    app = make_app(Script(deltas=["Before "], error=RuntimeError("boom")))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "crash it")
        await settle_reply(pilot)
        assert app.is_running
        [reply] = replies(pilot)
        assert reply.status == "error"
        assert "Unexpected failure" in str(reply.query_one(".reply-error").render())
        assert screen.prompt.text == "crash it"
        row = app.runtime.store.messages(screen.conversation_id)[-1]
        assert (row.status, row.content) == ("error", "Before ")


async def test_retrying_is_shown_in_the_meta_line(make_app) -> None:
    retry = Retrying(attempt=2, attempts=3, delay=2.0, error="fake is overloaded.")
    app = make_app(frozen_after(retry))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hi")
        await fake(app.runtime).waiting.wait()
        [reply] = replies(pilot)
        assert "retrying in 2 s (attempt 2 of 3)" in str(reply.query_one(".reply-meta").render())
        await pilot.press("escape")
        await settle_reply(pilot)


def frozen_after(*events: Retrying) -> Script:
    return Script(deltas=events, block=asyncio.Event())


async def test_the_meta_line_tells_tokens_and_a_max_tokens_stop(make_app) -> None:
    app = make_app(
        Script(
            deltas=["Cut"],
            usage=Usage(input_tokens=12, output_tokens=1),
            finish=Finish("length", "max_tokens"),
        )
    )
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "long please")
        await settle_reply(pilot)
        [reply] = replies(pilot)
        meta = str(reply.query_one(".reply-meta").render())
        assert reply.status == "length"
        assert meta.startswith("fake · fake-model · 12 in / 1 out tokens · first token")
        # Cut by max tokens: it says so, with the finish reason, and offers Continue.
        assert meta.endswith("stopped by max tokens (length) · Ctrl+T continues")
        assert "tokens/s" in meta


class KeyedProvider(FakeProvider):
    """A fake that needs a key nobody set."""

    name = "keyed"
    requires_key = True
    key_env = ("KEYED_API_KEY",)


class KeyedPlugin:
    @hookimpl
    def register_providers(self, register) -> None:
        register(KeyedProvider)


async def test_a_provider_without_its_key_says_so_and_keeps_the_prompt(
    make_app, build_runtime
) -> None:
    app = make_app(runtime=build_runtime(plugins=(KeyedPlugin(),)), provider="keyed")
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "hello?")
        assert "KEYED_API_KEY" in visible_text(pilot)
        assert screen.prompt.text == "hello?"
        assert app.runtime.store.list_conversations() == []


async def test_a_long_history_stays_a_few_widgets_per_message(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    store = runtime.store
    conversation = store.create_conversation(title="Long")
    reply = "# Heading\n\nText with `code`.\n\n- a\n- b\n\n```python\nx = 1\n```\n\n| a |\n|---|\n"
    for n in range(50):
        store.add_message(conversation.id, "user", f"question {n}")
        store.add_message(conversation.id, "assistant", reply, provider="fake", model="m")
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        screen.sidebar.option_list.focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.conversation_id == conversation.id, "it to open")
        await pilot.pause()
        widgets = list(screen.chat_log.query("*"))
        # Only the last messages are mounted (older ones as the log is scrolled up), each
        # a few widgets: one user line, and a reply = its box, one body widget and the
        # meta line.
        assert len(widgets) == FIRST_PAGE // 2 * (1 + 3)
        assert not screen.chat_log.query(Markdown)


async def test_an_error_before_any_text_and_an_empty_reply(make_app) -> None:
    app = make_app(failing(AuthError(AUTH_SENTENCE, provider="openai", status=401)), Script())
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "first")
        await settle_reply(pilot)
        [failed] = replies(pilot)
        assert (failed.status, failed.text) == ("error", "")
        assert str(failed.query_one(".reply-error").render()) == AUTH_SENTENCE
        assert screen.prompt.text == "first"

        screen.prompt.clear()
        await send(pilot, "second")
        await settle_reply(pilot)
        empty = replies(pilot)[-1]
        assert (empty.status, empty.text) == ("complete", "")
        assert not empty.query(MarkdownText)


async def test_quitting_while_a_reply_streams_asks_first_then_saves_it_as_cancelled(
    make_app, tmp_path
) -> None:
    app = make_app(frozen("Unfinished"))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "long task")
        await fake(app.runtime).waiting.wait()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running and chat_screen(pilot).responding
        [question] = toasts(pilot)
        assert "Press Ctrl+Q again to quit" in question and "cancelled" in question
        await pilot.press("ctrl+q")
    assert fake(app.runtime).closed_early == 1
    with Store(tmp_path / "data" / "tuichat.db") as store:
        [conversation] = store.list_conversations()
        reply = store.messages(conversation.id)[-1]
    assert (reply.status, reply.content) == ("cancelled", "Unfinished")


async def test_a_prompt_sent_again_after_a_failure_goes_to_the_provider_once(make_app) -> None:
    app = make_app(failing(AuthError(AUTH_SENTENCE, provider="openai", status=401)), Script(["ok"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "first try")
        await settle_reply(pilot)
        assert screen.prompt.text == "first try"  # given back for another try

        await pilot.press("enter")
        await settle_reply(pilot)

        retried = fake(app.runtime).requests[-1]
        assert [(m.role, m.content) for m in retried.messages] == [("user", "first try")]
        assert [r.status for r in replies(pilot)] == ["error", "complete"]


async def test_ctrl_c_stops_a_streaming_reply_as_esc_does(make_app) -> None:
    app = make_app(frozen("Half"))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "long task")
        await fake(app.runtime).waiting.wait()
        await pilot.press("ctrl+c")
        await settle_reply(pilot)
        assert app.is_running
        assert replies(pilot)[-1].status == "cancelled"
        assert not any("quit" in toast.lower() for toast in toasts(pilot))
        # Nothing streams: Ctrl+C says how to quit, as before.
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert any("quit" in toast.lower() for toast in toasts(pilot))
