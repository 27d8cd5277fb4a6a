"""Compare mode in the app: one prompt, two or three models side by side, pick one.

The demo (instant) and fake providers cover the screen; the real provider plugins
against the test kit's wire server cover different providers at once, closing HTTP
streams on Esc, and the history the next request carries after a pick.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import tuichat_anthropic
import tuichat_openai
from textual.command import CommandPalette
from textual.pilot import Pilot

from tests.app.support import SIZE, chat_screen, replies, send, settle_reply, until, visible_text
from tests.fakes import Script, frozen
from tuichat.app.screens.compare import CompareScreen
from tuichat.app.screens.models import ModelPickerScreen
from tuichat.app.widgets.compare_column import CompareColumn
from tuichat.provider import Usage
from tuichat.runtime import Runtime
from tuichat.store import Message
from tuichat.testing import (
    Stall,
    WireServer,
    anthropic_stream,
    openai_chat_stream,
    openai_error,
    sse_response,
)

#: The API key the wire providers are given.
KEY = "sk-test-compare"


def compare_screen(pilot: Pilot[None]) -> CompareScreen:
    """The compare screen, on top."""
    screen = pilot.app.screen
    assert isinstance(screen, CompareScreen), type(screen)
    return screen


async def open_compare(pilot: Pilot[None], key: str = "f3") -> CompareScreen:
    """Press the compare key; returns the screen (the picker for a 2nd model is open)."""
    await pilot.pause()
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, ModelPickerScreen), "the picker")
    screen = pilot.app.screen_stack[-2]
    assert isinstance(screen, CompareScreen)
    return screen


async def pick_model(pilot: Pilot[None], query: str) -> None:
    """In the open model picker: filter with ``query`` and take the first match."""
    assert isinstance(pilot.app.screen, ModelPickerScreen)
    picker = pilot.app.screen
    await until(pilot, lambda: bool(picker.choices), "the model lists")
    await pilot.press(*query)
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, CompareScreen), "the compare screen")


async def send_to_all(pilot: Pilot[None], prompt: str) -> CompareScreen:
    """Type ``prompt`` in the compare prompt and press Enter."""
    screen = compare_screen(pilot)
    box = screen.query_one("#compare-prompt")
    box.focus()
    box.insert(prompt)  # type: ignore[attr-defined]
    await pilot.press("enter")
    await pilot.pause()
    return screen


async def until_done(pilot: Pilot[None], screen: CompareScreen) -> None:
    """Wait until every column ended and the screen shows it."""
    await until(pilot, lambda: screen.phase == "done", "the comparison to end")
    await pilot.pause()


def stats_text(column: CompareColumn) -> str:
    return str(column.query_one(".column-stats").render())


def wire_runtime(
    build_runtime: Callable[..., Runtime], server: WireServer, **extra: Any
) -> Runtime:
    """A runtime with an OpenAI-compatible and an Anthropic provider on the kit's server."""
    settings: dict[str, Any] = {
        "providers": {
            "demo": {"instant": True},
            "wire": {
                "plugin": "openai",
                "base_url": f"{server.url}/v1",
                "api_key": KEY,
                "default_model": "gpt-test",
                "max_retries": 0,
            },
            "anthropic": {
                "base_url": server.url,
                "api_key": KEY,
                "default_model": "claude-test",
                "max_retries": 0,
            },
        },
        **extra,
    }
    runtime = build_runtime(settings, plugins=(tuichat_openai, tuichat_anthropic))
    runtime.settings.ui.title_from_model = False
    return runtime


def chat_requests(server: WireServer) -> list[Any]:
    """The chat requests the server received (not the model lists), in order."""
    return [
        r
        for r in server.requests
        if r.method == "POST" and r.bare_path.endswith(("/chat/completions", "/v1/messages"))
    ]


def stored_comparison(runtime: Runtime) -> tuple[Message, list[Message]]:
    """The one conversation's prompt and its replies (all, alternatives included)."""
    store = runtime.store
    [conversation] = store.list_conversations()
    messages = store.all_messages(conversation.id)
    [prompt] = [m for m in messages if m.role == "user"]
    return prompt, [m for m in messages if m.role == "assistant"]


# -- the demo and fake providers ------------------------------------------------------------


async def test_two_models_stream_side_by_side_and_are_stored_as_siblings(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pick_model(pilot, "echo")
        assert screen.choices == [("demo", "demo"), ("demo", "echo")]
        assert len(screen.columns) == 2
        await send_to_all(pilot, "Hello, models")
        await until_done(pilot, screen)

        first, second = screen.columns
        assert "Welcome to tuichat" in (first.reply.text if first.reply else "")
        assert second.reply is not None and second.reply.text == "Hello, models"
        for column in (first, second):
            stats = stats_text(column)
            assert "first token" in stats, stats
            # The instant demo answers in one go: too short a time to tell a speed.
            assert "tok/s" not in stats, stats
            assert "complete (stop)" in stats, stats
            assert "~" not in stats, "the demo reports its usage: no estimate once done"
        assert "2 tokens" in stats_text(second)
        text = visible_text(pilot)
        assert "1 · demo · demo" in text and "2 · demo · echo" in text
        assert "You: Hello, models" in text

        prompt, answers = stored_comparison(app.runtime)
        group = prompt.meta["compare"]
        assert prompt.content == "Hello, models"
        assert [(m.provider, m.model, m.status) for m in answers] == [
            ("demo", "demo", "complete"),
            ("demo", "echo", "complete"),
        ]
        assert all(m.parent_id == prompt.id for m in answers)
        assert [(m.meta["compare"], m.meta["column"]) for m in answers] == [(group, 0), (group, 1)]
        assert all(m.ttft_ms is not None and m.output_tokens for m in answers)


async def test_three_models_and_the_stats_while_streaming(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    block = asyncio.Event()
    runtime.provider("fake").queue(frozen("Slow ", "and ", block=block))  # type: ignore[attr-defined]
    app = make_app(runtime=runtime, provider="demo")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pick_model(pilot, "echo")
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "the picker")
        await pick_model(pilot, "fake/fake")
        assert len(screen.choices) == 3
        # Three at most: Ctrl+L says so instead of opening the picker.
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        await send_to_all(pilot, "Race")
        await until(pilot, lambda: "Slow and" in (screen.columns[2].reply.text or ""), "text")
        await until(pilot, lambda: screen.columns[0].reply.status == "complete", "column 1")
        assert screen.phase == "streaming"
        # The two demo columns are done while the third streams on, its figures live.
        await until(pilot, lambda: "~" in stats_text(screen.columns[2]), "live stats")
        assert "streaming" in stats_text(screen.columns[2])
        assert "complete" in stats_text(screen.columns[1])
        block.set()
        await until_done(pilot, screen)
        assert "complete (stop)" in stats_text(screen.columns[2])
        _, answers = stored_comparison(app.runtime)
        assert [(m.provider, m.status) for m in answers] == [
            ("demo", "complete"),
            ("demo", "complete"),
            ("fake", "complete"),
        ]


async def test_picking_a_reply_makes_it_the_branch_on_show(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pick_model(pilot, "echo")
        await send_to_all(pilot, "Say something")
        await until_done(pilot, screen)
        assert "1/2 continue with that reply" in visible_text(pilot)
        await pilot.press("2")
        await until(pilot, lambda: not isinstance(app.screen, CompareScreen), "the chat")
        chat = chat_screen(pilot)
        [reply] = replies(pilot)
        assert reply.text == "Say something"
        meta = str(reply.query_one(".reply-meta").render())
        assert "demo · echo" in meta and "reply 2/2" in meta and "compared side by side" in meta
        assert (chat.provider.instance_name, chat.model) == ("demo", "echo")
        prompt, answers = stored_comparison(app.runtime)
        store = app.runtime.store
        assert [m.id for m in store.messages(prompt.conversation_id)] == [prompt.id, answers[1].id]

        # The conversation goes on from the picked reply.
        await send(pilot, "and then?")
        await settle_reply(pilot)
        history = store.messages(prompt.conversation_id)
        assert [m.content for m in history[:3]] == ["Say something", "Say something", "and then?"]
        assert history[-1].parent_id == history[2].id


async def test_going_back_without_picking_keeps_reply_1_on_show(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pick_model(pilot, "echo")
        await send_to_all(pilot, "hello")
        await until_done(pilot, screen)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, CompareScreen), "the chat")
        [reply] = replies(pilot)
        assert "Welcome to tuichat" in reply.text
        assert "reply 1/2" in str(reply.query_one(".reply-meta").render())


async def test_setup_back_keeps_the_prompt_and_one_model_cannot_be_sent(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        chat = chat_screen(pilot)
        chat.prompt.insert("draft question")
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "the picker")
        await pilot.press("escape")  # no second model
        screen = compare_screen(pilot)
        assert screen.query_one("#compare-prompt").text == "draft question"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert screen.phase == "setup"
        assert any("second model" in n.message for n in app._notifications)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, CompareScreen), "the chat")
        assert chat.prompt.text == "draft question"
        assert app.runtime.store.list_conversations() == []


async def test_the_key_is_rebindable_and_in_the_palette_and_help(make_app, build_runtime) -> None:
    runtime = build_runtime(
        {
            "providers": {"demo": {"instant": True}},
            "keymap": {"compare": "f11", "compare-pick-1": "a"},
        }
    )
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        assert not isinstance(app.screen, CompareScreen | ModelPickerScreen)
        screen = await open_compare(pilot, "f11")
        await pick_model(pilot, "echo")
        await send_to_all(pilot, "hi")
        await until_done(pilot, screen)
        assert "a/2 continue with that reply" in visible_text(pilot)
        await pilot.press("a")
        await until(pilot, lambda: not isinstance(app.screen, CompareScreen), "the chat")

        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"compare 2-3")
        await until(pilot, lambda: "side by side on one prompt" in visible_text(pilot), "it")
        assert "F11" in visible_text(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "compare mode")


async def test_a_stored_comparison_is_marked_and_shown_again(make_app, build_runtime) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pick_model(pilot, "echo")
        await send_to_all(pilot, "Which is better?")
        await until_done(pilot, screen)
        await pilot.press("2")
        await until(pilot, lambda: not isinstance(app.screen, CompareScreen), "the chat")

    # Another run of the app, on the same database.
    again = make_app(runtime=build_runtime())
    async with again.run_test(size=SIZE) as pilot:
        chat = chat_screen(pilot)
        [conversation] = again.runtime.store.list_conversations()
        await chat.open_conversation(conversation.id)
        await pilot.pause()
        [reply] = replies(pilot)
        assert "compared side by side (v shows it)" in str(reply.query_one(".reply-meta").render())
        chat.chat_log.focus()
        await pilot.press("v")
        await until(pilot, lambda: isinstance(again.screen, CompareScreen), "the comparison")
        shown = compare_screen(pilot)
        assert shown.phase == "done"
        assert [c.reply.text if c.reply else "" for c in shown.columns][1] == "Which is better?"
        text = visible_text(pilot)
        assert "You: Which is better?" in text and "2 · demo · echo · on show" in text
        assert "complete (stop)" in stats_text(shown.columns[0])
        await pilot.press("1")
        await until(pilot, lambda: not isinstance(again.screen, CompareScreen), "the chat")
        [reply] = replies(pilot)
        assert "Welcome to tuichat" in reply.text
        assert (chat.provider.instance_name, chat.model) == ("demo", "demo")


async def test_three_fast_streams_are_drawn_a_frame_at_a_time(make_app, build_runtime) -> None:
    """Thousands of deltas per column arrive at once: each column redraws at most once a
    frame (the reply coalesces), never once per delta, and keys still get through."""
    runtime = build_runtime(
        {
            "providers": {
                "demo": {"instant": True},
                "two": {"plugin": "fake"},
                "three": {"plugin": "fake"},
            },
            "ui": {"fps": 30},
        },
        fake=True,
    )
    deltas = [f"word{i} " if i % 50 else "\n\n" for i in range(3000)]
    for name in ("fake", "two", "three"):
        runtime.provider(name).queue(Script(deltas=deltas))  # type: ignore[attr-defined]
    app = make_app(runtime=runtime, provider="fake")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("escape")
        screen._add_choice(("two", "fake-model"))
        screen._add_choice(("three", "fake-model"))
        await send_to_all(pilot, "Go fast")
        await until_done(pilot, screen)
        expected = "".join(deltas).rstrip()
        for column in screen.columns:
            reply = column.reply
            assert reply is not None and reply.body is not None
            assert reply.text.rstrip() == expected
            assert reply.body.frames < len(deltas) / 20, reply.body.frames


async def test_three_paced_streams_redraw_at_the_frame_rate(make_app, build_runtime) -> None:
    """Three demo models at 1,000 tokens/s each: every column is drawn as the text
    arrives, a bounded number of times a second, and keys are handled meanwhile."""
    paced = {"tokens_per_second": 1000}
    runtime = build_runtime(
        {
            "providers": {
                "demo": paced,
                "demo2": {"plugin": "demo", **paced},
                "demo3": {"plugin": "demo", **paced},
            },
            "ui": {"fps": 30},
        }
    )
    app = make_app(runtime=runtime, provider="demo")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("escape")
        screen._add_choice(("demo2", "demo"))
        screen._add_choice(("demo3", "demo"))
        loop = asyncio.get_running_loop()
        started = loop.time()
        await send_to_all(pilot, "Go")
        await until(pilot, lambda: bool(screen.columns[2].reply.text), "the first text")
        await pilot.press("tab")  # a key while three streams run
        assert screen.focused is screen.columns[1].body
        await until_done(pilot, screen)
        seconds = loop.time() - started
        tokens = len(screen.columns[0].reply.text.split())
        for column in screen.columns:
            body = column.reply.body
            assert body is not None
            # Drawn progressively, yet far less often than once per token.
            assert 2 <= body.frames <= 30 * seconds + 5, (body.frames, seconds)
            if seconds < 2 * tokens / 1000 + 0.5:
                # At the nominal pace (a loaded machine stretches the stream, and with it
                # the frames the rate allows): several tokens per frame.
                assert body.frames < tokens / 3


async def test_the_palette_offers_the_compare_keys_on_the_compare_screen(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_compare(pilot)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"add a model")
        await until(pilot, lambda: "Add a model to the comparison" in visible_text(pilot), "it")
        assert "Start a new conversation" not in visible_text(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), "the picker")


# -- real providers on the kit's wire server -----------------------------------------------


async def test_different_providers_and_the_history_after_a_pick(
    make_app, build_runtime, wire_server: WireServer
) -> None:
    wire_server.route(
        "POST",
        "*/chat/completions",
        sse_response(*openai_chat_stream(["Paris, ", "says GPT."], model="gpt-test")),
    )
    wire_server.route(
        "POST",
        "/v1/messages",
        sse_response(*anthropic_stream(["Paris, ", "says Claude."], usage=(12, 4))),
    )
    app = make_app(runtime=wire_runtime(build_runtime, wire_server), provider="wire")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("escape")  # the picker: the wire lists are not scripted
        screen._add_choice(("anthropic", "claude-test"))
        await send_to_all(pilot, "Capital of France?")
        await until_done(pilot, screen)
        texts = [c.reply.text if c.reply else "" for c in screen.columns]
        assert texts == ["Paris, says GPT.", "Paris, says Claude."]
        assert "4 tokens" in stats_text(screen.columns[1])
        assert "complete (stop)" in stats_text(screen.columns[1])
        sent = chat_requests(wire_server)
        assert sorted(r.bare_path for r in sent) == ["/v1/chat/completions", "/v1/messages"]
        for request in sent:
            assert request.json()["messages"][-1]["content"] in (
                "Capital of France?",
                [{"type": "text", "text": "Capital of France?"}],
            )

        await pilot.press("2")
        await until(pilot, lambda: not isinstance(app.screen, CompareScreen), "the chat")
        await send(pilot, "And of Spain?")
        await settle_reply(pilot)
        last = chat_requests(wire_server)[-1]
        assert last.bare_path == "/v1/messages", "the picked model answers from now on"
        body = last.json()
        assert body["model"] == "claude-test"
        history = [(m["role"], _text(m["content"])) for m in body["messages"]]
        assert history == [
            ("user", "Capital of France?"),
            ("assistant", "Paris, says Claude."),
            ("user", "And of Spain?"),
        ]


async def test_escape_closes_every_stream_and_keeps_the_partials(
    make_app, build_runtime, wire_server: WireServer
) -> None:
    openai_frames = openai_chat_stream(["Half of GPT", " never sent"])
    anthropic_frames = anthropic_stream(["Half of Claude", " never sent"])
    wire_server.route("POST", "*/chat/completions", sse_response(*openai_frames[:2], Stall()))
    wire_server.route("POST", "/v1/messages", sse_response(*anthropic_frames[:4], Stall()))
    app = make_app(runtime=wire_runtime(build_runtime, wire_server), provider="wire")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("escape")
        screen._add_choice(("anthropic", "claude-test"))
        await send_to_all(pilot, "Go")

        def arrived() -> bool:
            texts = [c.reply.text if c.reply else "" for c in screen.columns]
            return texts == ["Half of GPT", "Half of Claude"]

        await until(pilot, arrived, "both partial replies")
        assert "responding… Esc stops every reply" in visible_text(pilot)
        await pilot.press("escape")
        assert await wire_server.await_disconnect(count=2), "both HTTP streams closed"
        await until_done(pilot, screen)
        _, answers = stored_comparison(app.runtime)
        assert [(m.content, m.status) for m in answers] == [
            ("Half of GPT", "cancelled"),
            ("Half of Claude", "cancelled"),
        ]
        assert all("cancelled" in stats_text(c) for c in screen.columns)
        # Picking a cancelled reply still works: its text is history.
        await pilot.press("1")
        await until(pilot, lambda: not isinstance(app.screen, CompareScreen), "the chat")
        assert replies(pilot)[0].text == "Half of GPT"


async def test_one_failing_column_says_why_while_the_other_finishes(
    make_app, build_runtime, wire_server: WireServer
) -> None:
    wire_server.route(
        "POST", "*/chat/completions", openai_error(401, "Incorrect API key provided: sk-tes****")
    )
    wire_server.route("POST", "/v1/messages", sse_response(*anthropic_stream(["Fine here."])))
    app = make_app(runtime=wire_runtime(build_runtime, wire_server), provider="wire")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("escape")
        screen._add_choice(("anthropic", "claude-test"))
        await send_to_all(pilot, "Hello")
        await until_done(pilot, screen)
        failed, fine = screen.columns
        assert fine.reply is not None and fine.reply.text == "Fine here."
        assert failed.reply is not None and failed.reply.status == "error"
        sentence = str(failed.reply.query_one(".reply-error").render())
        assert "401" in sentence and "\n" not in sentence
        assert "Traceback" not in visible_text(pilot) and KEY not in visible_text(pilot)
        assert "failed" in stats_text(failed)
        assert "complete" in stats_text(fine)
        _, answers = stored_comparison(app.runtime)
        assert [m.status for m in answers] == ["error", "complete"]
        # A failed reply has nothing to continue with.
        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        assert any("no text to continue" in n.message for n in app._notifications)


async def test_a_provider_without_a_key_is_refused_before_sending(make_app, build_runtime) -> None:
    runtime = build_runtime({"providers": {"demo": {"instant": True}}}, plugins=(tuichat_openai,))
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_compare(pilot)
        await pilot.press("escape")
        screen._add_choice(("openai", "gpt-4o-mini"))
        await send_to_all(pilot, "Hello")
        assert screen.phase == "setup"
        assert any("needs an API key" in n.message for n in app._notifications)
        assert app.runtime.store.list_conversations() == []


@pytest.mark.parametrize("size", [(80, 24)])
async def test_three_columns_fit_at_80x24(make_app, build_runtime, size) -> None:
    runtime = build_runtime(fake=True)
    runtime.provider("fake").queue(  # type: ignore[attr-defined]
        Script(deltas=["A short reply."], usage=Usage(input_tokens=3, output_tokens=4))
    )
    app = make_app(runtime=runtime, provider="demo")
    async with app.run_test(size=size) as pilot:
        screen = await open_compare(pilot)
        await pick_model(pilot, "echo")
        screen._add_choice(("fake", "fake-model"))
        await send_to_all(pilot, "Hi there")
        await until_done(pilot, screen)
        widths = [c.size.width for c in screen.columns]
        assert min(widths) >= 24, widths
        assert all(c.region.right <= 80 for c in screen.columns)
        await until(pilot, lambda: "A short reply." in visible_text(pilot), "the reply drawn")
        assert "Hi there" in visible_text(pilot)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)
