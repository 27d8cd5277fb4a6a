"""The UI-free turn engine: save first, checkpoint while streaming, finalise always."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.conftest import scripted_provider
from tuichat import errors
from tuichat.chat import Turn, build_request, title_from_prompt
from tuichat.http import RetryPolicy
from tuichat.provider import Finish, ReasoningDelta, Retrying, TextDelta, Usage
from tuichat.store import Store

NO_WAIT = RetryPolicy(base_delay=0.0, max_delay=5.0)


async def drain(turn: Turn) -> list[object]:
    return [event async for event in turn.stream()]


def begin(store: Store, provider, prompt: str = "hello", **kwargs) -> Turn:
    conversation = store.create_conversation(provider="scripted", model="m")
    return Turn.begin(store, provider, conversation.id, prompt, model="m", policy=NO_WAIT, **kwargs)


async def test_the_prompt_is_saved_before_the_provider_is_called(store: Store) -> None:
    provider = scripted_provider([TextDelta("hi"), Finish("stop", "stop")])
    seen: list[list[tuple[str, str, str]]] = []
    provider.on_call = lambda request: seen.append(
        [(m.role, m.content, m.status) for m in store.messages(turn.conversation_id)]
    )
    turn = begin(store, provider)
    await drain(turn)
    assert seen == [[("user", "hello", "complete"), ("assistant", "", "streaming")]]


async def test_a_finished_reply_is_stored_complete_with_its_figures(store: Store) -> None:
    provider = scripted_provider(
        [
            ReasoningDelta("think"),
            TextDelta("Hel"),
            TextDelta("lo"),
            Usage(input_tokens=7, output_tokens=2),
            Finish("stop", "end_turn"),
        ]
    )
    turn = begin(store, provider)
    events = await drain(turn)
    assert [type(e).__name__ for e in events] == [
        "ReasoningDelta",
        "TextDelta",
        "TextDelta",
        "Usage",
        "Finish",
    ]
    reply = store.get_message(turn.message_id)
    assert reply is not None
    assert (reply.content, reply.reasoning, reply.status) == ("Hello", "think", "complete")
    assert (reply.finish_reason, reply.input_tokens, reply.output_tokens) == ("stop", 7, 2)
    assert reply.ttft_ms is not None and reply.duration_ms is not None
    assert (reply.provider, reply.model) == ("scripted", "m")
    assert store.get_conversation(turn.conversation_id).title == "hello"


async def test_a_reply_cut_by_max_tokens_is_marked_length(store: Store) -> None:
    provider = scripted_provider([TextDelta("partial"), Finish("length", "max_tokens")])
    turn = begin(store, provider)
    await drain(turn)
    reply = store.get_message(turn.message_id)
    assert (reply.status, reply.finish_reason, reply.content) == ("length", "length", "partial")


async def test_cancelling_keeps_what_arrived_and_marks_it_cancelled(store: Store) -> None:
    never = asyncio.Event()
    provider = scripted_provider([TextDelta("half a "), TextDelta("reply"), never])
    turn = begin(store, provider)
    got_text = asyncio.Event()

    async def consume() -> None:
        async for event in turn.stream():
            if isinstance(event, TextDelta) and event.text == "reply":
                got_text.set()

    task = asyncio.create_task(consume())
    await got_text.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    reply = store.get_message(turn.message_id)
    assert (reply.status, reply.content) == ("cancelled", "half a reply")


async def test_closing_the_stream_early_marks_it_cancelled(store: Store) -> None:
    provider = scripted_provider([TextDelta("a"), TextDelta("b"), Finish("stop")])
    turn = begin(store, provider)
    stream = turn.stream()
    assert await anext(stream) == TextDelta("a")
    await stream.aclose()
    reply = store.get_message(turn.message_id)
    assert (reply.status, reply.content) == ("cancelled", "a")


async def test_a_failure_before_any_text_is_retried_then_succeeds(store: Store) -> None:
    provider = scripted_provider(
        [errors.RateLimited("slow down", provider="scripted", retry_after=0.0)],
        [errors.ServerError("oops", provider="scripted")],
        [TextDelta("ok"), Finish("stop")],
    )
    turn = begin(store, provider)
    events = await drain(turn)
    retries = [e for e in events if isinstance(e, Retrying)]
    assert [(r.attempt, r.attempts) for r in retries] == [(2, 3), (3, 3)]
    assert store.get_message(turn.message_id).status == "complete"
    assert len(provider.requests) == 3


async def test_a_failure_after_text_is_never_resent(store: Store) -> None:
    provider = scripted_provider(
        [TextDelta("partial "), errors.StreamInterrupted("dropped", provider="scripted")],
        [TextDelta("should never be asked for"), Finish("stop")],
    )
    turn = begin(store, provider)
    with pytest.raises(errors.StreamInterrupted):
        await drain(turn)
    reply = store.get_message(turn.message_id)
    assert (reply.status, reply.content, reply.error) == ("interrupted", "partial ", "dropped")
    assert len(provider.requests) == 1


async def test_errors_that_retrying_cannot_fix_are_not_retried(store: Store) -> None:
    provider = scripted_provider(
        [errors.AuthError("bad key sk-secret-123", provider="scripted", status=401)],
        settings={"api_key": "sk-secret-123"},
    )
    turn = begin(store, provider)
    with pytest.raises(errors.AuthError):
        await drain(turn)
    reply = store.get_message(turn.message_id)
    assert reply.status == "error"
    assert reply.error == "bad key ***"
    assert len(provider.requests) == 1


async def test_retries_stop_after_the_configured_attempts(store: Store) -> None:
    busy = [errors.Overloaded("busy", provider="scripted")]
    provider = scripted_provider(busy, busy, busy, busy, settings={"max_retries": 1})
    turn = begin(store, provider)
    with pytest.raises(errors.Overloaded):
        await drain(turn)
    assert len(provider.requests) == 2


async def test_a_stream_without_its_end_is_an_interrupted_reply(store: Store) -> None:
    provider = scripted_provider([TextDelta("no finish")])
    turn = begin(store, provider)
    await drain(turn)
    reply = store.get_message(turn.message_id)
    assert (reply.status, reply.content) == ("interrupted", "no finish")
    assert isinstance(turn.state.error, errors.StreamInterrupted)


async def test_the_partial_reply_is_checkpointed_while_streaming(store: Store) -> None:
    hold = asyncio.Event()
    provider = scripted_provider([TextDelta("first words"), hold, Finish("stop")])
    turn = begin(store, provider, checkpoint_interval=0.01)
    task = asyncio.create_task(drain(turn))
    reopened = Store(store.path)  # another connection: what a crash would leave on disk
    try:
        for _ in range(500):
            row = reopened.get_message(turn.message_id)
            if row.content:
                break
            await asyncio.sleep(0.01)
        assert (row.status, row.content) == ("streaming", "first words")
    finally:
        hold.set()
        await task
        reopened.close()


def test_history_is_trimmed_oldest_first_to_fit_the_window(store: Store) -> None:
    conversation = store.create_conversation()
    for i in range(6):
        store.add_message(conversation.id, "user", f"question {i} " + "x" * 400)
        store.add_message(conversation.id, "assistant", f"answer {i} " + "y" * 400)
    history = store.messages(conversation.id)
    request, omitted = build_request(
        history, model="m", system="be brief", max_tokens=100, context_window=600
    )
    assert omitted > 0
    assert request.system == "be brief"
    assert request.messages[0].role == "user"
    assert request.messages[-1].content.startswith("answer 5")
    assert len(request.messages) + omitted == 12
    full, none_left_out = build_request(history, model="m")
    assert (len(full.messages), none_left_out) == (12, 0)


def test_a_failed_reply_and_the_prompt_it_answered_are_not_sent_back(store: Store) -> None:
    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "one")
    store.add_message(conversation.id, "assistant", "", status="error")
    store.add_message(conversation.id, "user", "two")
    request, _ = build_request(store.messages(conversation.id), model="m")
    assert [m.content for m in request.messages] == ["two"]


def test_a_prompt_tried_again_after_a_failure_is_sent_once(store: Store) -> None:
    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "x")
    store.add_message(conversation.id, "assistant", "", status="error")
    store.add_message(conversation.id, "user", "x")
    request, _ = build_request(store.messages(conversation.id), model="m")
    assert [(m.role, m.content) for m in request.messages] == [("user", "x")]


@pytest.mark.parametrize(
    ("status", "content", "sent"),
    [
        ("error", "half an answ", False),
        ("cancelled", "", False),
        ("cancelled", "stopped mid", True),
        ("interrupted", "dropped mid", True),
        ("length", "cut by max tokens", True),
    ],
)
def test_a_reply_is_sent_with_its_prompt_only_when_it_holds_usable_text(
    store: Store, status: str, content: str, sent: bool
) -> None:
    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "first")
    store.add_message(conversation.id, "assistant", content, status=status)
    store.add_message(conversation.id, "user", "next")
    request, _ = build_request(store.messages(conversation.id), model="m")
    expected = [("user", "first"), ("assistant", content)] if sent else []
    assert [(m.role, m.content) for m in request.messages] == [*expected, ("user", "next")]


def test_prompts_a_client_sent_in_a_row_are_all_sent(store: Store) -> None:
    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "context")
    store.add_message(conversation.id, "user", "question")
    request, _ = build_request(store.messages(conversation.id), model="m")
    assert [m.content for m in request.messages] == ["context", "question"]


def test_titles_come_from_the_first_line_of_the_first_prompt() -> None:
    assert title_from_prompt("\n\n  Fix my regex\nplease") == "Fix my regex"
    assert len(title_from_prompt("word " * 50)) <= 60
    assert title_from_prompt("\x1b]0;evil\x07hi") == "]0;evilhi"


async def test_tokens_written_to_the_cache_are_kept_and_priced_at_the_write_rate(
    store: Store,
) -> None:
    from tuichat.prices import Price

    provider = scripted_provider(
        [
            TextDelta("ok"),
            Usage(
                input_tokens=5000, output_tokens=100, cached_input_tokens=0, cache_write_tokens=4000
            ),
            Finish("stop", "end_turn"),
        ]
    )
    turn = begin(store, provider, price=Price(input=2.0, output=10.0, cache_write=2.5))
    await drain(turn)
    reply = store.get_message(turn.message_id)
    assert reply is not None
    assert reply.meta["usage"]["cache_write_tokens"] == 4000
    assert reply.meta["cost"] == pytest.approx((1000 * 2.0 + 4000 * 2.5 + 100 * 10.0) / 1e6)
