"""What a reply cost: token counts times the model's price, or unknown.

Prices are US dollars per million tokens. The shipped table (``tuichat/data/prices.toml``)
covers the first-party plugins' own instances; ``[prices]`` in ``config.toml`` sets or
overrides any model of any instance (``"openai/gpt-4o-mini"`` or just ``"gpt-4o-mini"``).
A model without a price, or a reply whose token counts were not reported, costs
``None``: unknown, never 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

#: What a snapshot adds to a model id: a date, a three-digit version, or "latest".
#: (No nested quantifiers: linear on any input.)
_SNAPSHOT = re.compile(r"[-@:](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3}|latest)")


@dataclass(frozen=True, slots=True)
class Price:
    """A model's price per million tokens."""

    input: float
    output: float
    cached_input: float | None = None
    """Prompt tokens read from the cache; the input price when the model has none."""
    cache_write: float | None = None
    """Prompt tokens written to the cache (Anthropic: 1.25 times the input price for
    the 5-minute cache); the input price when the model has none."""

    def cost(
        self,
        input_tokens: int | None,
        output_tokens: int | None,
        cached_input_tokens: int | None = None,
        cache_write_tokens: int | None = None,
    ) -> float | None:
        """Dollars for a reply of these counts; None when a count is unknown.

        ``input_tokens`` is the whole prompt: the cached and the written tokens are
        parts of it, each billed at its own rate, the rest at the input price.
        """
        if input_tokens is None or output_tokens is None:
            return None
        cached = min(cached_input_tokens or 0, input_tokens)
        written = min(cache_write_tokens or 0, input_tokens - cached)
        cached_rate = self.cached_input if self.cached_input is not None else self.input
        write_rate = self.cache_write if self.cache_write is not None else self.input
        total = (input_tokens - cached - written) * self.input
        total += cached * cached_rate + written * write_rate
        total += output_tokens * self.output
        return total / 1_000_000


@cache
def shipped() -> dict[str, dict[str, Price]]:
    """The shipped table: plugin name -> model id -> price."""
    # (Read when a price is first asked for: not on the way to the app's first frame.)
    import tomllib
    from importlib import resources

    text = resources.files("tuichat").joinpath("data/prices.toml").read_text("utf-8")
    table: dict[str, dict[str, Price]] = {}
    for plugin, models in tomllib.loads(text).items():
        table[plugin] = {model: Price(**fields) for model, fields in models.items()}
    return table


def _by_prefix(prices: Mapping[str, Price], model: str) -> Price | None:
    if model in prices:
        return prices[model]
    # A dated or numbered snapshot takes its model's price (`gpt-4o-mini-2024-07-18`,
    # `claude-sonnet-5-5-20261001`, `gemini-3.8-flash-001`); any other suffix is another
    # model (`gpt-4o-audio-preview` is not priced as `gpt-4o`): unknown beats wrong.
    for key, price in prices.items():
        if model.startswith(key) and _SNAPSHOT.fullmatch(model[len(key) :]):
            return price
    return None


def find(
    configured: Mapping[str, Price],
    *,
    instance: str,
    plugin: str,
    model: str,
) -> Price | None:
    """The price of ``model`` answered through provider ``instance`` (of ``plugin``).

    ``[prices]`` of the config first (``instance/model``, then ``model``), then the
    shipped table, which applies only to a plugin's own instance (a named instance is
    another server: a local one costs nothing the table could know).
    """
    for key in (f"{instance}/{model}", model):
        if key in configured:
            return configured[key]
    scoped = {k.partition("/")[2]: v for k, v in configured.items() if k.startswith(f"{instance}/")}
    found = _by_prefix(scoped, model) or _by_prefix(
        {k: v for k, v in configured.items() if "/" not in k}, model
    )
    if found is not None:
        return found
    if instance != plugin:
        return None
    return _by_prefix(shipped().get(plugin, {}), model)


def format_cost(dollars: float) -> str:
    """A cost as people read it: ``$1.23``, ``$0.0042``, ``<$0.0001``."""
    if dollars >= 0.995:
        return f"${dollars:,.2f}"
    if dollars >= 0.0001:
        return f"${dollars:.4f}"
    return "$0" if dollars == 0 else "<$0.0001"
