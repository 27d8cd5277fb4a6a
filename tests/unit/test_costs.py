"""A conversation's cost: the sum of its replies' known costs, the unknown ones said."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tuichat.costs import CostTotal, total
from tuichat.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "tuichat.sqlite") as opened:
        yield opened


def reply(store: Store, conversation: int, text: str, cost: float | None = None, **kw) -> None:
    store.add_message(conversation, "user", "q")
    meta = {"cost": cost} if cost is not None else {}
    store.add_message(conversation, "assistant", text, meta=meta, **kw)


@pytest.mark.parametrize(
    ("figures", "label", "short"),
    [
        (CostTotal(None, 0), "", ""),
        (CostTotal(None, 2), "unknown", ""),
        (CostTotal(0.0123, 0), "$0.0123", "$0.0123"),
        (CostTotal(0.0123, 1), "$0.0123 + unknown", "$0.0123+?"),
        (CostTotal(2.5, 0), "$2.50", "$2.50"),
    ],
)
def test_a_total_reads_as_money_and_never_hides_what_is_unknown(
    figures: CostTotal, label: str, short: str
) -> None:
    assert figures.label() == label
    assert figures.short() == short


def test_the_store_sums_known_costs_and_counts_replies_without_one(store: Store) -> None:
    priced = store.create_conversation(title="priced").id
    mixed = store.create_conversation(title="mixed").id
    unpriced = store.create_conversation(title="local model").id
    empty = store.create_conversation(title="empty").id
    reply(store, priced, "a", 0.01)
    reply(store, priced, "b", 0.0023)
    reply(store, mixed, "a", 0.5)
    reply(store, mixed, "no price for this model")
    reply(store, mixed, "", status="error")  # failed before any text: not billed
    reply(store, unpriced, "free?")
    totals = store.cost_totals([priced, mixed, unpriced, empty])
    assert totals[priced].known == pytest.approx(0.0123) and totals[priced].unknown == 0
    assert totals[mixed] == CostTotal(0.5, 1)
    assert totals[unpriced] == CostTotal(None, 1)
    assert empty not in totals
    # The export's total, from the messages themselves, follows the same rule.
    assert total(store.messages(mixed)) == CostTotal(0.5, 1)
    assert total(store.messages(priced)).label() == "$0.0123"


def test_every_branch_counts_regenerated_replies_were_paid_for_too(store: Store) -> None:
    conversation = store.create_conversation().id
    prompt = store.add_message(conversation, "user", "q")
    store.add_message(conversation, "assistant", "first", meta={"cost": 0.25})
    store.add_message(conversation, "assistant", "again", meta={"cost": 0.5}, parent_id=prompt.id)
    assert store.cost_totals([conversation])[conversation] == CostTotal(0.75, 0)
