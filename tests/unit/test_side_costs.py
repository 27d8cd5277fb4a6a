"""What the requests beyond the replies cost (a title asked of the model, a summary of
older turns): priced from the usage the server reports and added to the totals the
sidebar, the status bar and the exports show."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import tuichat_openai

from tuichat import summaries, titles
from tuichat.costs import CostTotal, SideCost, Tally, total
from tuichat.export import collect, to_json, to_markdown
from tuichat.protocol import Usage
from tuichat.runtime import Runtime
from tuichat.session import Session
from tuichat.store import Store
from tuichat.testing import WireServer, openai_chat_stream, sse_response

from .test_summaries import ask_summarising, seed

PRICE = {"input": 1.0, "output": 2.0}  # dollars per million tokens


@pytest.fixture
async def openai_session(
    wire_server: WireServer, build_runtime: Callable[..., Runtime]
) -> AsyncIterator[Callable[..., Session]]:
    """Sessions whose openai instance is the loopback server, with ``[prices]`` given."""
    runtimes: list[Runtime] = []

    def start(**prices: object) -> Session:
        settings = {
            "provider": "openai",
            "providers": {
                "openai": {"base_url": f"{wire_server.url}/v1", "api_key": "sk-" + "t" * 20}
            },
            "prices": prices,
        }
        runtimes.append(build_runtime(settings, plugins=(tuichat_openai,)))
        return Session(runtimes[-1])

    yield start
    for runtime in runtimes:
        await runtime.aclose()


async def test_the_title_request_is_priced_from_the_usage_the_server_reports(
    wire_server: WireServer, openai_session: Callable[..., Session]
) -> None:
    session = openai_session(**{"openai/gpt-small": PRICE})
    provider, _ = session.resolve("openai", None)
    conversation = session.store.create_conversation(provider="openai", model="gpt-small")
    session.store.add_message(conversation.id, "user", "Where to eat in Lisbon?")
    session.store.add_message(conversation.id, "assistant", "Try...", meta={"cost": 0.01})
    wire_server.enqueue(sse_response(*openai_chat_stream(["Lisbon food"], usage=(1000, 10))))

    title = await session.write_title(
        conversation.id, provider, "gpt-small", "Where to eat in Lisbon?", "Try..."
    )

    assert title == "Lisbon food"
    [request] = (r.json() for r in wire_server.requests)
    assert request["messages"][0]["content"].startswith(titles.INSTRUCTION)
    spent = (1000 * 1.0 + 10 * 2.0) / 1_000_000
    assert session.store.side_costs(conversation.id) == [
        SideCost("title", "openai", "gpt-small", 1000, 10, None, pytest.approx(spent))
    ]
    shown = session.store.cost_totals([conversation.id])[conversation.id]
    assert shown == CostTotal(pytest.approx(0.01 + spent), 0)


async def test_a_title_from_a_model_without_a_price_makes_the_total_say_unknown(
    wire_server: WireServer, openai_session: Callable[..., Session]
) -> None:
    session = openai_session()  # gpt-small: no price anywhere
    provider, _ = session.resolve("openai", None)
    conversation = session.store.create_conversation(provider="openai", model="gpt-small")
    session.store.add_message(conversation.id, "user", "q")
    session.store.add_message(conversation.id, "assistant", "a", meta={"cost": 2.5})
    wire_server.enqueue(sse_response(*openai_chat_stream(["A title"], usage=(100, 3))))

    assert await session.write_title(conversation.id, provider, "gpt-small", "q", "a")

    [spent] = session.store.side_costs(conversation.id)
    assert (spent.input_tokens, spent.output_tokens, spent.cost) == (100, 3, None)
    shown = session.store.cost_totals([conversation.id])[conversation.id]
    assert shown.label() == "$2.50 + unknown"


async def test_a_title_request_that_failed_before_any_text_costs_nothing(
    wire_server: WireServer, openai_session: Callable[..., Session]
) -> None:
    session = openai_session(**{"openai/gpt-small": PRICE})
    provider, _ = session.resolve("openai", None)
    conversation = session.store.create_conversation(provider="openai", model="gpt-small")
    wire_server.enqueue(sse_response(status=500))

    assert await session.write_title(conversation.id, provider, "gpt-small", "q", "a") is None

    assert session.store.side_costs(conversation.id) == []
    assert conversation.id not in session.store.cost_totals([conversation.id])


def test_the_summary_request_ask_makes_is_in_the_conversations_totals_and_export(
    wire_server: WireServer, tmp_path: Path
) -> None:
    conversation = seed(tmp_path)
    wire_server.enqueue(sse_response(*openai_chat_stream(["Gist."], usage=(3000, 50))))
    wire_server.enqueue(sse_response(*openai_chat_stream(["Fine."], usage=(700, 2))))
    done = ask_summarising(
        wire_server, tmp_path, "--json", TUICHAT_PRICES=json.dumps({"openai/gpt-small": PRICE})
    )
    assert done.returncode == 0, done.stderr
    summary_request, _ = (r.json() for r in wire_server.requests)
    assert summary_request["messages"][0]["content"] == summaries.INSTRUCTIONS
    summary_cost = (3000 + 50 * 2.0) / 1_000_000
    reply_cost = (700 + 2 * 2.0) / 1_000_000
    # ask --json: the reply's own cost, and the summary it needed beside it.
    report = json.loads(done.stdout)
    assert report["cost"] == pytest.approx(reply_cost)
    [other] = report["other_requests"]
    assert (other["purpose"], other["usage"]["input_tokens"]) == ("summary", 3000)
    assert other["cost"] == pytest.approx(summary_cost)
    with Store(tmp_path / "tuichat.db") as store:
        [spent] = store.side_costs(conversation)
        assert (spent.purpose, spent.model, spent.input_tokens, spent.output_tokens) == (
            "summary",
            "gpt-small",
            3000,
            50,
        )
        assert spent.cost == pytest.approx(summary_cost)
        # The seeded replies have no cost: three unknown, beside what was paid today.
        shown = store.cost_totals([conversation])[conversation]
        assert shown == CostTotal(pytest.approx(summary_cost + reply_cost), 3)
        [stored] = store.list_conversations()
        bundle = collect(store, [stored])
    exported = json.loads(to_json(bundle.items, single=True, side=bundle.side))["cost"]
    assert exported["total"] == pytest.approx(summary_cost + reply_cost)
    assert exported["unknown_replies"] == 3
    assert exported["other_requests"] == [
        {
            "purpose": "summary",
            "provider": "openai",
            "model": "gpt-small",
            "usage": {"input_tokens": 3000, "output_tokens": 50, "cached_input_tokens": None},
            "cost": pytest.approx(summary_cost),
        }
    ]
    markdown = to_markdown(bundle.items, side=bundle.side)
    assert "_Cost of these replies and of the summary request: $0.0038 + unknown._" in markdown


def test_side_costs_go_with_their_conversation_and_count_under_the_replies_rules(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "t.db") as store:
        kept = store.create_conversation().id
        gone = store.create_conversation().id
        for owner in (kept, gone):
            store.add_side_cost(owner, SideCost("title", "p", "m", 10, 2, None, 0.25))
        store.add_side_cost(kept, SideCost("summary", "p", "m", 10, 2, None, None))
        store.delete_conversation(gone)
        # Only requests, no reply at all: still a total, unknown said.
        assert store.cost_totals([kept, gone]) == {kept: CostTotal(0.25, 1)}
        assert total([], store.side_costs(kept)) == CostTotal(0.25, 1)
        assert store.side_costs(gone) == []


def test_a_tally_keeps_the_latest_known_counts_and_bills_only_what_produced_something() -> None:
    tally = Tally()
    tally.see(Usage(input_tokens=10, cached_input_tokens=3))  # Anthropic: input first
    assert not tally.billed  # nothing came out yet: providers do not bill it
    tally.see(Usage(output_tokens=5))  # then the output, the input left unknown
    assert tally.usage == Usage(input_tokens=10, output_tokens=5, cached_input_tokens=3)
    assert tally.billed
    assert Tally(text=True).billed
    assert Tally(text=True).spent("title", "p", "m", None).cost is None
