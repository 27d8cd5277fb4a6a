"""The context meter and long conversations in the app."""

from __future__ import annotations

from textual.widgets import Label

from tests.app.support import SIZE, chat_screen, fake, replies, send, settle_reply, until
from tests.fakes import Script
from tuichat.app.widgets.message import SummaryView
from tuichat.catalog import ProviderModels
from tuichat.protocol import ModelInfo, Usage
from tuichat.summaries import LEAD


def with_window(screen, window: int) -> None:
    """The picker's model list says fake-model takes ``window`` tokens."""
    info = ModelInfo(id="fake-model", provider="fake", context_window=window)
    screen.catalog = {"fake": ProviderModels("fake", (info,))}
    screen._measure_context()


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
