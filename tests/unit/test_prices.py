"""Prices: what a reply cost, from the shipped table or the config, or unknown."""

from __future__ import annotations

import pytest

from tuichat.prices import Price, find, format_cost, shipped


def test_the_shipped_table_prices_each_plugins_default_model() -> None:
    table = shipped()
    for plugin, model in [
        ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-sonnet-5-5"),
        ("gemini", "gemini-3.8-flash"),
    ]:
        assert model in table[plugin]


def test_a_dated_model_takes_its_familys_price_and_never_a_neighbours() -> None:
    found = find({}, instance="openai", plugin="openai", model="gpt-4o-mini-2024-07-18")
    assert found == shipped()["openai"]["gpt-4o-mini"]
    sonnet = find({}, instance="anthropic", plugin="anthropic", model="claude-sonnet-5-5-20261001")
    assert sonnet == shipped()["anthropic"]["claude-sonnet-5-5"]
    assert find({}, instance="gemini", plugin="gemini", model="gemini-3.8-flash-001") is not None
    # Another model of the family is not priced as its neighbour: unknown beats wrong.
    assert find({}, instance="openai", plugin="openai", model="gpt-4o-audio-preview") is None
    assert find({}, instance="openai", plugin="openai", model="gpt-4o-minimal") is None


def test_a_named_instance_of_a_plugin_is_another_server_with_no_shipped_price() -> None:
    assert find({}, instance="ollama", plugin="openai", model="gpt-4o-mini") is None


def test_the_config_wins_by_instance_then_by_model() -> None:
    mine = Price(1.0, 2.0)
    assert find({"ollama/llama3": mine}, instance="ollama", plugin="openai", model="llama3") == mine
    assert find({"gpt-4o-mini": mine}, instance="openai", plugin="openai", model="gpt-4o-mini") == (
        mine
    )


def test_the_cost_counts_cached_prompt_tokens_at_their_own_rate() -> None:
    price = Price(input=2.0, output=10.0, cached_input=0.2)
    assert price.cost(1_000_000, 100_000, 900_000) == pytest.approx(0.2 + 0.18 + 1.0)
    assert Price(2.0, 10.0).cost(1_000_000, 0, 500_000) == pytest.approx(2.0)
    assert price.cost(None, 10) is None and price.cost(10, None) is None


def test_tokens_written_to_the_cache_cost_their_own_rate_and_the_input_price_without_one() -> None:
    # Anthropic: 1,000,000 prompt tokens of which 600,000 written and 300,000 read.
    price = Price(input=2.0, output=10.0, cached_input=0.2, cache_write=2.5)
    assert price.cost(1_000_000, 0, 300_000, 600_000) == pytest.approx(0.2 + 0.06 + 1.5)
    assert Price(2.0, 10.0).cost(1_000_000, 0, 0, 600_000) == pytest.approx(2.0)
    # Never more written than the prompt holds beside what was read.
    assert price.cost(100, 0, 60, 1000) == pytest.approx((60 * 0.2 + 40 * 2.5) / 1e6)


def test_a_configured_price_takes_a_cache_write_rate() -> None:
    from tuichat.config import Settings

    settings = Settings(prices={"anthropic/x": {"input": 1, "output": 2, "cache_write": 1.25}})
    assert settings.price_table()["anthropic/x"] == Price(1.0, 2.0, None, 1.25)


@pytest.mark.parametrize(
    ("dollars", "shown"),
    [
        (1.234, "$1.23"),
        (0.0042, "$0.0042"),
        (0.00001, "<$0.0001"),
        (0.0, "$0"),
        (1234.5, "$1,234.50"),
    ],
)
def test_costs_read_as_people_read_money(dollars: float, shown: str) -> None:
    assert format_cost(dollars) == shown
