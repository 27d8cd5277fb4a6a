"""What a conversation cost: the sum of its replies' known costs, and how many are not known.

A reply's cost is kept in its meta (``cost``, US dollars) when its model has a price and
the provider reported its token counts. A reply with text but no cost is counted as
unknown, never as 0, so a total says "$0.0123 + unknown" rather than a figure that is
too low. A reply that failed before any text is not counted (providers do not bill it).

Requests that are not replies (a title asked of the model, a summary of older turns) are
paid for too: a :class:`Tally` reads their events and the store keeps a :class:`SideCost`
per request (``side_costs``), which the totals add under the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING, Any, Literal

from tuichat.prices import format_cost
from tuichat.protocol import TextDelta, Usage

if TYPE_CHECKING:
    from tuichat.prices import Price
    from tuichat.protocol import ChatEvent
    from tuichat.store import Message

#: Why a request that is not a reply was made.
Purpose = Literal["title", "summary"]


@dataclass(frozen=True, slots=True)
class CostTotal:
    """The cost of several replies."""

    known: float | None
    """Dollars of the replies whose cost is known; None when no reply's is."""
    unknown: int = 0
    """How many replies (or other requests) cost an amount nobody can say (no price, or
    no token counts)."""

    def label(self) -> str:
        """``$0.0123``, ``$0.0123 + unknown``, ``unknown``, or '' with no reply at all."""
        if self.known is None:
            return "unknown" if self.unknown else ""
        shown = format_cost(self.known)
        return f"{shown} + unknown" if self.unknown else shown

    def short(self) -> str:
        """For a narrow place: ``$0.0123``, ``$0.0123+?``; '' when no cost is known (a
        list of local or demo conversations stays free of "unknown")."""
        if self.known is None:
            return ""
        return format_cost(self.known) + ("+?" if self.unknown else "")


def reply_cost(message: Message) -> float | None:
    """A stored reply's cost, if known."""
    cost = message.meta.get("cost")
    return float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None


def counts(message: Message) -> bool:
    """Whether ``message`` is a reply that cost something (known or not)."""
    return (
        message.role == "assistant"
        and message.status != "streaming"
        and (bool(message.content) or bool(message.output_tokens))
    )


@dataclass(frozen=True, slots=True)
class SideCost:
    """What one request beyond the replies used and cost (a row of ``side_costs``)."""

    purpose: Purpose
    provider: str | None
    model: str | None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cost: float | None = None
    """Dollars; None when unknown (no price, or the provider gave no counts)."""

    def to_json(self) -> dict[str, Any]:
        """As the exports and ``ask --json`` show it (``other_requests``)."""
        return {
            "purpose": self.purpose,
            "provider": self.provider,
            "model": self.model,
            "usage": {
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "cached_input_tokens": self.cached_input_tokens,
            },
            "cost": self.cost,
        }


@dataclass(slots=True)
class Tally:
    """What a side request's stream said it used: fed every event, as the request runs."""

    text: bool = False
    usage: Usage = Usage()

    def see(self, event: ChatEvent) -> None:
        """Take note of ``event``: text arrived, or token counts (a later count replaces
        an earlier one, unless it is unknown)."""
        if isinstance(event, TextDelta) and event.text:
            self.text = True
        elif isinstance(event, Usage):
            pairs = zip(astuple(event), astuple(self.usage), strict=True)
            self.usage = Usage(*(new if new is not None else old for new, old in pairs))

    @property
    def billed(self) -> bool:
        """Whether the provider bills it: text came, or output tokens were counted (the
        rule :func:`counts` applies to replies)."""
        return self.text or bool(self.usage.output_tokens)

    def spent(self, purpose: Purpose, provider: str, model: str, price: Price | None) -> SideCost:
        """The record of this request, priced by ``price`` (None: unknown)."""
        usage = self.usage
        cost = (
            price.cost(
                usage.input_tokens,
                usage.output_tokens,
                usage.cached_input_tokens,
                usage.cache_write_tokens,
            )
            if price is not None
            else None
        )
        return SideCost(
            purpose,
            provider,
            model,
            usage.input_tokens,
            usage.output_tokens,
            usage.cached_input_tokens,
            cost,
        )


def total(messages: Iterable[Message], side: Iterable[SideCost] = ()) -> CostTotal:
    """What the replies among ``messages`` cost, with the requests ``side`` (titles,
    summaries) of the same conversation."""
    known: float | None = None
    unknown = 0
    for message in messages:
        cost = reply_cost(message)
        if cost is not None and message.role == "assistant":
            known = (known or 0.0) + cost
        elif counts(message):
            unknown += 1
    for request in side:
        if request.cost is None:
            unknown += 1
        else:
            known = (known or 0.0) + request.cost
    return CostTotal(known, unknown)
