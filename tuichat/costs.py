"""What a conversation cost: the sum of its replies' known costs, and how many are not known.

A reply's cost is kept in its meta (``cost``, US dollars) when its model has a price and
the provider reported its token counts. A reply with text but no cost is counted as
unknown, never as 0, so a total says "$0.0123 + unknown" rather than a figure that is
too low. A reply that failed before any text is not counted (providers do not bill it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tuichat.prices import format_cost

if TYPE_CHECKING:
    from tuichat.store import Message


@dataclass(frozen=True, slots=True)
class CostTotal:
    """The cost of several replies."""

    known: float | None
    """Dollars of the replies whose cost is known; None when no reply's is."""
    unknown: int = 0
    """How many replies cost an amount nobody can say (no price, or no token counts)."""

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


def total(messages: Iterable[Message]) -> CostTotal:
    """What the replies among ``messages`` cost."""
    known: float | None = None
    unknown = 0
    for message in messages:
        cost = reply_cost(message)
        if cost is not None and message.role == "assistant":
            known = (known or 0.0) + cost
        elif counts(message):
            unknown += 1
    return CostTotal(known, unknown)
