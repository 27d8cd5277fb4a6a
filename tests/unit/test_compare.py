"""Compare mode's core: one prompt, sibling replies streamed at once, figures, pick, reload."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes import FakeProvider, Script, frozen
from tuichat import compare
from tuichat.compare import Column, Comparison, Contender
from tuichat.errors import AuthError
from tuichat.provider import ChatEvent, Finish, TextDelta, Usage
from tuichat.store import Store


def make(name: str) -> FakeProvider:
    return FakeProvider(settings=FakeProvider.Settings(), client=None, instance_name=name)  # type: ignore[arg-type]


def ticking(step: float = 0.25) -> Callable[[], float]:
    ticks = itertools.count()
    return lambda: next(ticks) * step


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "t.db")


def begin(store: Store, *providers: FakeProvider, **options) -> Comparison:
    conversation = store.create_conversation().id
    contenders = [Contender(p, f"{p.instance_name}-model") for p in providers]
    return Comparison.begin(store, conversation, "Which is prime?", contenders, **options)


async def test_begin_saves_one_prompt_and_sibling_replies(store: Store) -> None:
    c = store.create_conversation().id
    store.add_message(c, "user", "earlier")
    earlier = store.add_message(c, "assistant", "answer")
    a, b, d = make("a"), make("b"), make("d")
    comparison = Comparison.begin(
        store,
        c,
        "Which is prime?",
        [Contender(a, "m1"), Contender(b, "m2"), Contender(d, "m3")],
        system="Be brief.",
        max_tokens=50,
    )
    prompt = comparison.prompt
    assert prompt.parent_id == earlier.id
    assert prompt.meta == {"compare": comparison.group}
    replies = [store.get_message(col.message_id) for col in comparison.columns]
    assert [(r.provider, r.model, r.status, r.parent_id) for r in replies if r] == [
        ("a", "m1", "streaming", prompt.id),
        ("b", "m2", "streaming", prompt.id),
        ("d", "m3", "streaming", prompt.id),
    ]
    assert [r.meta for r in replies if r] == [
        {"compare": comparison.group, "column": i} for i in range(3)
    ]
    # The first reply is on show until another is picked.
    assert [m.id for m in store.messages(c)][-1] == comparison.columns[0].message_id
    for column, model in zip(comparison.columns, ("m1", "m2", "m3"), strict=True):
        request = column.turn.request
        assert request.model == model and request.system == "Be brief."
        assert [m.content for m in request.messages] == ["earlier", "answer", "Which is prime?"]
    assert store.get_conversation(c).title == "Which is prime?"  # type: ignore[union-attr]


def test_begin_takes_two_or_three_models(store: Store) -> None:
    with pytest.raises(ValueError, match="2 to 3"):
        begin(store, make("a"))
    with pytest.raises(ValueError, match="2 to 3"):
        begin(store, make("a"), make("b"), make("c"), make("d"))


async def test_run_streams_every_column_at_once(store: Store) -> None:
    a, b = make("a"), make("b")
    gate = asyncio.Event()
    # a waits half-way until b has finished: they can only both end if they run at once.
    a.queue(frozen("Two ", block=gate))
    a.scripts[0].usage = Usage(input_tokens=3, output_tokens=2)
    b.queue(Script(deltas=["Three", " is prime."], usage=Usage(input_tokens=3, output_tokens=4)))
    comparison = begin(store, a, b, clock=ticking())
    seen: list[tuple[int, str]] = []
    ended: list[int] = []

    async def sink(column: Column, event: ChatEvent) -> None:
        if isinstance(event, TextDelta):
            seen.append((column.index, event.text))

    async def end(column: Column) -> None:
        ended.append(column.index)
        if column.index == 1:
            gate.set()

    await asyncio.wait_for(comparison.run(sink, end), 5)
    assert comparison.done and ended == [1, 0]
    assert seen[0] == (0, "Two ") and (1, " is prime.") in seen
    first, second = (store.get_message(c.message_id) for c in comparison.columns)
    assert first and second
    assert (first.content, first.status, first.output_tokens) == ("Two ", "complete", 2)
    assert (second.content, second.status, second.finish_reason) == (
        "Three is prime.",
        "complete",
        "stop",
    )
    stats = comparison.columns[1].stats()
    assert stats.tokens == 4 and not stats.estimated
    assert stats.ttft_ms is not None and stats.tokens_per_second is not None
    assert stats.finish_reason == "stop"


async def test_one_failing_column_does_not_stop_the_others(store: Store) -> None:
    a, b = make("a"), make("b")
    a.queue(Script(deltas=["Par"], error=AuthError("a rejected the API key (HTTP 401).")))
    b.queue(Script(deltas=["Fine."]))
    comparison = begin(store, a, b)
    await comparison.run()
    failed, fine = comparison.columns
    assert failed.sentence == "a rejected the API key (HTTP 401)."
    assert fine.sentence is None
    rows = [store.get_message(c.message_id) for c in comparison.columns]
    assert [(r.content, r.status) for r in rows if r] == [("Par", "error"), ("Fine.", "complete")]


async def test_cancelling_closes_every_stream_and_keeps_the_partials(store: Store) -> None:
    a, b = make("a"), make("b")
    a.queue(frozen("Half a"))
    b.queue(frozen("Half b"))
    comparison = begin(store, a, b)
    task = asyncio.create_task(comparison.run())
    while not all(c.turn.state.content for c in comparison.columns):
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert a.closed_early == b.closed_early == 1
    rows = [store.get_message(c.message_id) for c in comparison.columns]
    assert [(r.content, r.status) for r in rows if r] == [
        ("Half a", "cancelled"),
        ("Half b", "cancelled"),
    ]


async def test_a_failing_end_callback_is_raised_once_every_column_ended(store: Store) -> None:
    a, b = make("a"), make("b")
    b.queue(frozen("slow", block=(gate := asyncio.Event())))
    comparison = begin(store, a, b)

    async def end(column: Column) -> None:
        if column.index == 0:
            gate.set()
            raise RuntimeError("drawing failed")

    with pytest.raises(RuntimeError, match="drawing failed"):
        await comparison.run(ended=end)
    rows = [store.get_message(c.message_id) for c in comparison.columns]
    assert [r.status for r in rows if r] == ["complete", "complete"]


def test_abandon_finalises_replies_that_never_started(store: Store) -> None:
    comparison = begin(store, make("a"), make("b"))
    comparison.abandon()
    rows = [store.get_message(c.message_id) for c in comparison.columns]
    assert [r.status for r in rows if r] == ["cancelled", "cancelled"]


async def test_pick_and_load(store: Store) -> None:
    a, b = make("a"), make("b")
    a.queue(Script(deltas=["From a."]))
    b.queue(Script(deltas=["From b."], finish=Finish("length", "max_tokens")))
    comparison = begin(store, a, b)
    await comparison.run()
    c = comparison.conversation_id
    assert comparison.pick(1) == comparison.columns[1].message_id
    assert [m.content for m in store.messages(c)] == ["Which is prime?", "From b."]
    # The conversation goes on from the picked reply; the comparison is found from it.
    follow = store.add_message(c, "user", "Why?")
    for message_id in (comparison.prompt.id, comparison.columns[0].message_id):
        stored = compare.load(store, message_id)
        assert stored is not None and stored.group == comparison.group
        assert [r.content for r in stored.replies] == ["From a.", "From b."]
    assert compare.load(store, follow.id) is None
    # Picking the other reply shows its branch (the follow-up stays on the first one).
    compare.pick(store, comparison.columns[0].message_id)
    assert [m.content for m in store.messages(c)] == ["Which is prime?", "From a."]
    compare.pick(store, comparison.columns[1].message_id)
    assert [m.content for m in store.messages(c)] == ["Which is prime?", "From b.", "Why?"]
    stats = compare.stats_of(stored.replies[1])
    assert stats.status == "length" and stats.finish_reason == "length"
    assert stats.estimated and stats.tokens == 2


async def test_a_reply_regenerated_later_is_not_part_of_the_comparison(store: Store) -> None:
    a, b = make("a"), make("b")
    comparison = begin(store, a, b)
    await comparison.run()
    store.add_message(
        comparison.conversation_id,
        "assistant",
        "regenerated",
        parent_id=comparison.prompt.id,
    )
    stored = compare.load(store, comparison.prompt.id)
    assert stored is not None and len(stored.replies) == 2


def test_live_figures_use_their_own_clock(store: Store) -> None:
    comparison = begin(store, make("a"), make("b"), live_clock=iter([10.0, 12.0]).__next__)
    column = comparison.columns[0]
    state = column.turn.state
    assert column.stats().ttft_ms is None
    column.observe(TextDelta("x" * 40))
    state.content = "x" * 40
    state.ttft_ms = 300.0
    stats = column.stats()
    # ~11 tokens estimated from 40 characters, over 2 s of the live clock.
    assert stats.estimated and stats.tokens == 11
    assert stats.tokens_per_second == pytest.approx(5.5)


def test_no_speed_is_told_over_too_short_a_time() -> None:
    from tuichat.compare import MIN_SPEED_SECONDS, speed

    assert speed(500, 0.001) is None, "thousands of tok/s right after the first token"
    assert speed(500, MIN_SPEED_SECONDS / 2) is None
    assert speed(0, 5.0) is None
    assert speed(100, 2.0) == 50.0


class SlowToClose(FakeProvider):
    """Takes a moment to close its stream (as an HTTP stream may)."""

    closed_fully = 0

    async def stream_chat(self, request):  # type: ignore[no-untyped-def,override]
        try:
            async for event in super().stream_chat(request):
                yield event
        finally:
            await asyncio.sleep(0.05)
            self.closed_fully += 1


async def test_cancelling_twice_still_waits_for_every_column_to_close(store: Store) -> None:
    """Esc pressed twice, or the app quitting right after Esc: the second cancel must not
    cut short the columns closing their streams and saving their replies."""
    a = SlowToClose(settings=SlowToClose.Settings(), client=None, instance_name="a")  # type: ignore[arg-type]
    b = SlowToClose(settings=SlowToClose.Settings(), client=None, instance_name="b")  # type: ignore[arg-type]
    a.queue(frozen("Half a"))
    b.queue(frozen("Half b"))
    comparison = begin(store, a, b)
    task = asyncio.create_task(comparison.run())
    while not all(c.turn.state.content for c in comparison.columns):
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert a.closed_fully == b.closed_fully == 1, "both streams closed before run() returned"
