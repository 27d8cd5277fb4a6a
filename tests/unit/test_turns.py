"""Regenerate, edit and resend, continue: new turns that never overwrite the old ones."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from tests.fakes import FakeProvider, Script
from tuichat.provider import Finish
from tuichat.store import Store
from tuichat.turns import (
    CONTINUE_PROMPT,
    TurnRefused,
    begin_continue,
    begin_edit,
    begin_regenerate,
    supports_prefill,
)


class PrefillFake(FakeProvider):
    name: ClassVar[str] = "prefill"
    supports_prefill: ClassVar[bool] = True


def make(cls: type[FakeProvider] = FakeProvider) -> FakeProvider:
    return cls(settings=cls.Settings(), client=None)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "t.db")


async def run(turn) -> None:
    async for _ in turn.stream():
        pass


async def test_regenerate_answers_the_same_prompt_again(store: Store) -> None:
    c = store.create_conversation().id
    store.add_message(c, "user", "q")
    old = store.add_message(c, "assistant", "old", status="complete")
    provider = make().queue(Script(deltas=["new"]))
    turn = begin_regenerate(store, provider, old, model="m")
    await run(turn)
    assert [m.content for m in store.messages(c)] == ["q", "new"]
    assert [m.content for m in store.alternatives(old.id)] == ["old", "new"]
    assert [m.content for m in provider.requests[0].messages] == ["q"]


async def test_regenerate_from_a_prompt_and_refusals(store: Store) -> None:
    c = store.create_conversation().id
    prompt = store.add_message(c, "user", "q")
    provider = make()
    await run(begin_regenerate(store, provider, prompt, model="m"))
    assert [m.role for m in store.messages(c)] == ["user", "assistant"]
    orphan = store.add_message(store.create_conversation().id, "assistant", "alone")
    with pytest.raises(TurnRefused):
        begin_regenerate(store, provider, orphan, model="m")


async def test_edit_starts_a_branch_beside_the_old_prompt(store: Store) -> None:
    c = store.create_conversation().id
    store.add_message(c, "user", "q1")
    store.add_message(c, "assistant", "r1")
    q2 = store.add_message(c, "user", "q2")
    store.add_message(c, "assistant", "r2")
    provider = make().queue(Script(deltas=["r2'"]))
    turn = begin_edit(store, provider, q2, "q2 edited", model="m")
    assert turn.user_message is not None and turn.user_message.content == "q2 edited"
    await run(turn)
    assert [m.content for m in store.messages(c)] == ["q1", "r1", "q2 edited", "r2'"]
    assert [m.content for m in provider.requests[0].messages] == ["q1", "r1", "q2 edited"]
    with pytest.raises(TurnRefused):
        begin_edit(store, provider, store.messages(c)[-1], "x", model="m")


async def test_continue_appends_to_the_same_message(store: Store) -> None:
    c = store.create_conversation().id
    store.add_message(c, "user", "count")
    cut = store.add_message(c, "assistant", "one, two,", status="length")
    provider = make().queue(Script(deltas=[" three."]))
    turn = begin_continue(store, provider, cut, model="m", max_tokens=10)
    assert turn.message_id == cut.id
    assert store.get_message(cut.id).status == "streaming"  # type: ignore[union-attr]
    await run(turn)
    message = store.get_message(cut.id)
    assert message is not None
    assert (message.content, message.status) == ("one, two, three.", "complete")
    sent = provider.requests[0]
    assert [(m.role, m.content) for m in sent.messages] == [
        ("user", "count"),
        ("assistant", "one, two,"),
        ("user", CONTINUE_PROMPT),
    ]
    assert sent.max_tokens == 10


async def test_continue_with_prefill_ends_on_the_stripped_partial(store: Store) -> None:
    c = store.create_conversation().id
    store.add_message(c, "user", "story")
    cut = store.add_message(c, "assistant", "Once upon a \n", status="cancelled")
    provider = make(PrefillFake).queue(Script(deltas=[" time."], finish=Finish("stop")))
    assert supports_prefill(provider)
    await run(begin_continue(store, provider, cut, model="m"))
    assert [(m.role, m.content) for m in provider.requests[0].messages][-1] == (
        "assistant",
        "Once upon a",
    )
    assert store.get_message(cut.id).content == "Once upon a time."  # type: ignore[union-attr]


def test_continue_refuses_what_it_cannot_continue(store: Store) -> None:
    c = store.create_conversation().id
    prompt = store.add_message(c, "user", "q")
    old = store.add_message(c, "assistant", "cut", status="length")
    store.add_message(c, "user", "later")
    provider = make()
    with pytest.raises(TurnRefused, match="last reply"):
        begin_continue(store, provider, old, model="m")
    with pytest.raises(TurnRefused, match="Only a reply"):
        begin_continue(store, provider, prompt, model="m")
    empty = store.add_message(c, "assistant", "  ", status="cancelled")
    with pytest.raises(TurnRefused, match="no text"):
        begin_continue(store, provider, empty, model="m")


def test_prefill_is_what_the_provider_class_declares_not_its_name() -> None:
    class Anthropicish(FakeProvider):
        name: ClassVar[str] = "anthropic"

    assert not supports_prefill(make(Anthropicish))
    assert not supports_prefill(make())
    assert supports_prefill(make(PrefillFake))
