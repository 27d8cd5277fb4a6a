"""The context meter and long conversations in the app."""

from __future__ import annotations

from textual.widgets import Label

from tests.app.support import (
    SIZE,
    chat_screen,
    fake,
    replies,
    send,
    settle_reply,
    toasts,
    until,
)
from tests.fakes import Script
from tuichat.app.screens.context_full import ContextFullScreen
from tuichat.app.screens.edit_summary import EditSummaryScreen
from tuichat.app.widgets.message import SummaryView
from tuichat.app.widgets.prompt import PromptInput
from tuichat.catalog import ProviderModels
from tuichat.protocol import ModelInfo, Usage
from tuichat.summaries import LEAD, is_summary


def with_window(screen, window: int) -> None:
    """The picker's model list says fake-model takes ``window`` tokens."""
    info = ModelInfo(id="fake-model", provider="fake", context_window=window)
    screen.catalog = {"fake": ProviderModels("fake", (info,))}
    screen.status.measure_context()


def meter(pilot) -> Label:
    label = chat_screen(pilot).query_one("#context-meter", Label)
    assert label.display
    return label


async def test_the_meter_shows_the_providers_counts_then_grows_as_one_types(make_app) -> None:
    app = make_app(Script(["An answer."], usage=Usage(input_tokens=1000, output_tokens=200)))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "A question")
        await settle_reply(pilot)
        with_window(screen, 2000)
        # After a reply: the provider's own figures (1,000 in + 200 out), not an estimate.
        assert str(meter(pilot).render()) == "1.2k/2k (60%)"
        assert meter(pilot).has_class("-ok")
        screen.prompt.insert("x" * 800)  # ~200 tokens more
        await pilot.pause()
        assert str(meter(pilot).render()) == "~1.4k/2k (70%)"
        assert meter(pilot).has_class("-near")
        screen.prompt.insert("x" * 2000)
        await pilot.pause()
        assert meter(pilot).has_class("-full") and screen.meter.full


async def test_f7_summarises_the_older_turns_and_the_next_request_carries_the_summary(
    make_app,
) -> None:
    app = make_app(
        Script(["one"]),
        Script(["two"]),
        Script(["three"]),
        Script(["They talked about numbers."]),  # the summary
        Script(["four"]),
        settings={"context": {"keep_recent": 2}},
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        for prompt in ("first", "second", "third"):
            await send(pilot, prompt)
            await settle_reply(pilot)
        await pilot.press("f7")
        await until(pilot, lambda: bool(screen.query(SummaryView)), "the summary")
        [summary] = screen.query(SummaryView)
        assert "Summary of 4 earlier messages" in str(summary.render())
        await send(pilot, "fourth")
        await settle_reply(pilot)
        request = fake(app.runtime).requests[-1]
        assert request.system is not None and request.system.startswith(LEAD)
        assert "They talked about numbers." in request.system
        assert [m.content for m in request.messages] == ["third", "three", "fourth"]
        assert replies(pilot)[-1].text == "four"


async def test_a_full_conversation_is_summarised_before_sending_when_the_config_says_so(
    make_app,
) -> None:
    app = make_app(
        Script(["a long answer " * 200]),
        Script(["The gist."]),  # the summary
        Script(["ok"]),
        settings={"context": {"when_full": "summarise", "keep_recent": 0}},
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "tell me a lot")
        await settle_reply(pilot)
        with_window(screen, 600)
        await send(pilot, "and now?")
        await until(pilot, lambda: len(fake(app.runtime).requests) == 3, "the reply")
        await settle_reply(pilot)
        summary_request, sent = fake(app.runtime).requests[1:]
        assert "tell me a lot" in summary_request.messages[0].content
        assert sent.system is not None and "The gist." in sent.system
        assert [m.content for m in sent.messages] == ["and now?"]


async def a_full_conversation(pilot, app) -> None:
    """One long exchange in a 600-token window, then a prompt sent: the offer shows."""
    screen = chat_screen(pilot)
    await send(pilot, "tell me a lot")
    await settle_reply(pilot)
    with_window(screen, 600)
    await send(pilot, "and now?")
    await until(pilot, lambda: isinstance(app.screen, ContextFullScreen), "the offer")
    assert len(fake(app.runtime).requests) == 1  # nothing sent while it asks


FULL = {"context": {"when_full": "ask", "keep_recent": 0}}


async def test_asked_when_full_s_summarises_the_older_turns_then_sends(make_app) -> None:
    app = make_app(
        Script(["a long answer " * 200]), Script(["The gist."]), Script(["ok"]), settings=FULL
    )
    async with app.run_test(size=SIZE) as pilot:
        await a_full_conversation(pilot, app)
        await pilot.press("s")
        await until(pilot, lambda: len(fake(app.runtime).requests) == 3, "the reply")
        await settle_reply(pilot)
        summary_request, sent = fake(app.runtime).requests[1:]
        assert "tell me a lot" in summary_request.messages[0].content
        assert sent.system is not None and "The gist." in sent.system
        assert [m.content for m in sent.messages] == ["and now?"]
        assert chat_screen(pilot).prompt.text == ""


async def test_asked_when_full_t_sends_with_the_oldest_turns_left_out(make_app) -> None:
    app = make_app(Script(["a long answer " * 200]), Script(["ok"]), settings=FULL)
    async with app.run_test(size=SIZE) as pilot:
        await a_full_conversation(pilot, app)
        await pilot.press("t")
        await until(pilot, lambda: len(fake(app.runtime).requests) == 2, "the reply")
        await settle_reply(pilot)
        sent = fake(app.runtime).requests[-1]
        assert [m.content for m in sent.messages] == ["and now?"]
        assert not chat_screen(pilot).query(SummaryView)
        assert replies(pilot)[-1].text == "ok"


async def test_asked_when_full_n_goes_on_in_a_new_conversation_seeded_with_a_summary(
    make_app,
) -> None:
    app = make_app(
        Script(["a long answer " * 200]), Script(["The gist."]), Script(["ok"]), settings=FULL
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await a_full_conversation(pilot, app)
        old = screen.conversation_id
        await pilot.press("n")
        await until(pilot, lambda: len(fake(app.runtime).requests) == 3, "the reply")
        await settle_reply(pilot)
        summary_request, sent = fake(app.runtime).requests[1:]
        assert "a long answer" in summary_request.messages[0].content
        assert sent.system is not None and sent.system.startswith(LEAD)
        assert "The gist." in sent.system
        assert [m.content for m in sent.messages] == ["and now?"]
        # The new conversation holds the summary and the turn; the old one is untouched.
        assert screen.conversation_id != old
        store = app.runtime.store
        assert [m.role for m in store.messages(screen.conversation_id)] == [
            "system",
            "user",
            "assistant",
        ]
        assert [m.content for m in store.messages(old)] == ["tell me a lot", "a long answer " * 200]
        assert len(screen.query(SummaryView)) == 1


async def test_asked_when_full_escape_sends_nothing_and_the_prompt_stays(make_app) -> None:
    app = make_app(Script(["a long answer " * 200]), settings=FULL)
    async with app.run_test(size=SIZE) as pilot:
        await a_full_conversation(pilot, app)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ContextFullScreen), "the prompt")
        assert len(fake(app.runtime).requests) == 1
        assert chat_screen(pilot).prompt.text == "and now?"


async def test_e_on_a_summary_edits_it_and_the_next_request_sends_the_edited_text(
    make_app,
) -> None:
    app = make_app(
        Script(["one"]),
        Script(["two"]),
        Script(["They talked about numbers."]),  # the summary
        Script(["three"]),
        settings={"context": {"keep_recent": 0}},
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        for prompt in ("first", "second"):
            await send(pilot, prompt)
            await settle_reply(pilot)
        await pilot.press("f7")
        await until(pilot, lambda: bool(screen.query(SummaryView)), "the summary")
        # The summary is the last message: Shift+Tab selects it, e opens its text.
        screen.prompt.focus()
        await pilot.press("shift+tab")
        await until(pilot, lambda: screen.chat_log.selected_id is not None, "a selection")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditSummaryScreen), "the editor")
        box = app.screen.query_one("#summary-input", PromptInput)
        assert box.text == "They talked about numbers."
        box.clear()
        box.insert("They counted to two; the user prefers odd numbers.")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen, "the chat again")
        await until(pilot, lambda: "edited" in str(screen.query_one(SummaryView).render()))
        await send(pilot, "third")
        await settle_reply(pilot)
        request = fake(app.runtime).requests[-1]
        assert request.system is not None
        assert "They counted to two; the user prefers odd numbers." in request.system
        assert "They talked about numbers." not in request.system
        assert [m.content for m in request.messages] == ["third"]


async def test_escape_leaves_a_summary_as_it_was(make_app) -> None:
    app = make_app(Script(["one"]), Script(["The gist."]), settings={"context": {"keep_recent": 0}})
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "first")
        await settle_reply(pilot)
        await pilot.press("f7")
        await until(pilot, lambda: bool(screen.query(SummaryView)), "the summary")
        screen.prompt.focus()
        await pilot.press("shift+tab")
        await until(pilot, lambda: screen.chat_log.selected_id is not None, "a selection")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditSummaryScreen), "the editor")
        await pilot.press("x", "escape")
        await until(pilot, lambda: app.screen is screen, "the chat again")
        [summary] = filter(is_summary, app.runtime.store.messages(screen.conversation_id))
        assert summary.content == "The gist." and "edited" not in summary.meta


async def test_the_status_bar_and_the_sidebar_show_what_the_conversation_cost(make_app) -> None:
    """$1 per million tokens in and $2 out: 1,000 in + 500 out = $0.0020 a reply."""
    usage = Usage(input_tokens=1000, output_tokens=500)
    app = make_app(
        Script(["An answer."], usage=usage),
        Script(["Another."], usage=usage),
        settings={"prices": {"fake/fake-model": {"input": 1.0, "output": 2.0}}},
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        cost = screen.query_one("#conversation-cost", Label)
        assert not cost.display  # nothing spent yet
        await send(pilot, "A question")
        await settle_reply(pilot)
        assert str(cost.render()) == "cost $0.0020" and cost.display
        await send(pilot, "Another question")
        await settle_reply(pilot)
        assert str(cost.render()) == "cost $0.0040"
        row = screen.sidebar.option_list.get_option_at_index(1)  # (0: the date heading)
        assert str(row.prompt).endswith(" $0.0040")
        # A reply of a model nobody priced is said to be unknown, not counted as free.
        store = app.runtime.store
        store.add_message(screen.conversation_id, "assistant", "from elsewhere")
        await screen.conversations.reload()
        screen.status.measure_context()
        await pilot.pause()
        assert str(cost.render()) == "cost $0.0040 + unknown"
        row = screen.sidebar.option_list.get_option_at_index(1)
        assert str(row.prompt).endswith(" $0.0040+?")


async def test_the_title_request_is_in_the_conversations_cost(make_app) -> None:
    """The reply and the title request cost $0.0020 each: the status bar and the sidebar
    show both once the title has come."""
    usage = Usage(input_tokens=1000, output_tokens=500)
    app = make_app(
        Script(["An answer."], usage=usage),
        Script(["Lisbon tips"], usage=usage),
        settings={
            "prices": {"fake/fake-model": {"input": 1.0, "output": 2.0}},
            "ui": {"title_from_model": True},
        },
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        cost = screen.query_one("#conversation-cost", Label)
        await send(pilot, "Where to go in Lisbon?")
        await settle_reply(pilot)
        await until(pilot, lambda: str(cost.render()) == "cost $0.0040", "the title's cost")
        row = screen.sidebar.option_list.get_option_at_index(1)  # (0: the date heading)
        assert "Lisbon tips" in str(row.prompt) and str(row.prompt).endswith(" $0.0040")


async def test_f5_asks_the_provider_for_the_exact_count_and_the_meter_shows_it(make_app) -> None:
    app = make_app(Script(["An answer."]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        provider = fake(app.runtime)
        await send(pilot, "A question")
        await settle_reply(pilot)
        with_window(screen, 2000)
        screen.prompt.insert("x" * 40)
        await pilot.pause()
        assert str(meter(pilot).render()).startswith("~")  # an estimate while typing
        assert provider.counted == []  # typing never asks
        provider.token_count = 1234
        await pilot.press("f6")
        await until(pilot, lambda: str(meter(pilot).render()) == "1.2k/2k (61%)", "the count")
        [asked] = provider.counted
        assert [m.content for m in asked.messages] == ["A question", "An answer.", "x" * 40]
        screen.prompt.insert("y")  # typing on: an estimate again, from the count
        await pilot.pause()
        assert str(meter(pilot).render()) == "~1.2k/2k (61%)"


async def test_f5_says_so_when_the_provider_cannot_count(make_app) -> None:
    app = make_app(Script(["An answer."]))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "A question")
        await settle_reply(pilot)
        await pilot.press("f6")
        await until(pilot, lambda: any("offers no token count" in t for t in toasts(pilot)))
