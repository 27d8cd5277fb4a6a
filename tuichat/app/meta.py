"""The dim line under a reply: who wrote it, its figures, how it ended and what can be done.

``openai · gpt-4o-mini · 12 in / 80 out tokens · first token 0.40 s · 95 tokens/s ·
complete (stop)``; a reply cut by max tokens or interrupted adds the keys that continue or
regenerate it; a request that left older turns out says how many.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tuichat.compare import ColumnStats, group_of
from tuichat.prices import format_cost
from tuichat.protocol import LeftOut
from tuichat.sanitize import one_line
from tuichat.store import Message

from .widgets.message import STATUS_LABELS


@dataclass(frozen=True, slots=True)
class Hints:
    """The keys offered under an unfinished reply (as the person's keymap has them)."""

    continue_key: str = "Ctrl+T"
    """Continues the last reply."""
    regenerate_key: str = "F12"
    """Regenerates the last reply."""
    compare_key: str = "v"
    """Shows the comparison a reply is part of (chat log focused)."""


def tokens_per_second(
    output_tokens: int | None, ttft_ms: float | None, duration_ms: float | None
) -> float | None:
    """Output speed after the first token, or None when it cannot be told."""
    if not output_tokens or ttft_ms is None or duration_ms is None:
        return None
    seconds = (duration_ms - ttft_ms) / 1000
    if seconds <= 0:
        return None
    return output_tokens / seconds


def meta_line(
    *,
    provider: str | None,
    model: str | None,
    status: str,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    ttft_ms: float | None = None,
    duration_ms: float | None = None,
    finish_reason: str | None = None,
    omitted: int = 0,
    left_out: Sequence[LeftOut] = (),
    cost: float | None = None,
    alternative: tuple[int, int] | None = None,
    hints: Hints | None = None,
    last: bool = False,
    note: str | None = None,
    compared: bool = False,
) -> str:
    """Compose the line.

    Args:
        provider: Provider instance name.
        model: Model name.
        status: The message status.
        input_tokens: Prompt tokens, if reported.
        output_tokens: Reply tokens, if reported.
        ttft_ms: Time to first token, milliseconds.
        duration_ms: Whole duration, milliseconds.
        finish_reason: The provider's normalised stop reason.
        omitted: History messages left out of the request to fit the context window.
        left_out: Settings the provider did not send, and why.
        cost: What the reply cost, in US dollars (None: unknown, not shown).
        alternative: (n, of) when the reply has alternatives (regenerated replies).
        hints: Keys to offer for an unfinished reply (None: none offered).
        last: Whether this is the conversation's last message (the keys apply to it).
        note: Shown instead of the status (``retrying in 2 s``).
        compared: Whether the reply is one of a side-by-side comparison.

    Returns:
        One line of plain text.
    """
    parts = [one_line(" · ".join(p for p in (provider, model) if p), 120)]
    if input_tokens is not None or output_tokens is not None:
        shown_in = "?" if input_tokens is None else str(input_tokens)
        shown_out = "?" if output_tokens is None else str(output_tokens)
        parts.append(f"{shown_in} in / {shown_out} out tokens")
    if ttft_ms is not None:
        parts.append(f"first token {ttft_ms / 1000:.2f} s")
    speed = tokens_per_second(output_tokens, ttft_ms, duration_ms)
    if speed is not None:
        parts.append(f"{speed:.0f} tokens/s")
    if cost is not None:
        parts.append(format_cost(cost))
    if note:
        parts.append(one_line(note, 200))
    else:
        label = STATUS_LABELS.get(status, status)
        if finish_reason and status in ("complete", "length"):
            label = f"{label} ({one_line(finish_reason, 30)})"
        parts.append(label)
    if omitted:
        parts.append(
            f"{omitted} earlier message{'s' if omitted != 1 else ''} left out to fit the "
            "context window"
        )
    for item in left_out:
        parts.append(one_line(f"{item.name} not sent: {item.reason}", 120))
    if alternative is not None and alternative[1] > 1:
        parts.append(f"reply {alternative[0]}/{alternative[1]} ([ ] switch)")
    if compared:
        key = hints.compare_key if hints is not None else ""
        parts.append(f"compared side by side ({key} shows it)" if key else "compared side by side")
    # The keys act on the last reply: an older one is reached with the message cursor.
    if hints is not None and last:
        if status in ("length", "cancelled", "interrupted"):
            parts.append(f"{hints.continue_key} continues")
        if status in ("cancelled", "interrupted", "error"):
            parts.append(f"{hints.regenerate_key} regenerates")
    return " · ".join(part for part in parts if part)


def message_meta(
    message: Message,
    *,
    alternative: tuple[int, int] | None = None,
    hints: Hints | None = None,
    last: bool = False,
) -> str:
    """:func:`meta_line` for a stored reply."""
    omitted = message.meta.get("omitted", 0)
    cost = message.meta.get("cost")
    left_out = [
        LeftOut(str(item.get("name", "")), str(item.get("reason", "")))
        for item in message.meta.get("left_out", [])
        if isinstance(item, dict)
    ]
    return meta_line(
        provider=message.provider,
        model=message.model,
        status=message.status,
        input_tokens=message.input_tokens,
        output_tokens=message.output_tokens,
        ttft_ms=message.ttft_ms,
        duration_ms=message.duration_ms,
        finish_reason=message.finish_reason,
        omitted=omitted if isinstance(omitted, int) else 0,
        left_out=left_out,
        cost=cost if isinstance(cost, int | float) else None,
        alternative=alternative,
        hints=hints,
        last=last,
        compared=group_of(message) is not None,
    )


def stats_line(stats: ColumnStats, *, note: str | None = None) -> str:
    """The figures of a column, e.g. ``first token 0.42 s · 180 tokens · 95 tok/s · complete
    (stop)``; while streaming the token count may be an estimate (``~180 tokens``).

    Args:
        stats: The column's figures.
        note: Shown instead of the status (``retrying in 2 s (attempt 2 of 3)``).
    """
    parts: list[str] = []
    if stats.ttft_ms is not None:
        parts.append(f"first token {stats.ttft_ms / 1000:.2f} s")
    elif stats.status == "streaming" and not note:
        parts.append("waiting for the first token…")
    if stats.tokens is not None:
        plural = "s" if stats.tokens != 1 else ""
        parts.append(f"{'~' if stats.estimated else ''}{stats.tokens} token{plural}")
    if stats.tokens_per_second is not None:
        parts.append(f"{stats.tokens_per_second:.0f} tok/s")
    if note:
        parts.append(one_line(note, 80))
    elif not (stats.status == "streaming" and stats.ttft_ms is None):
        label = STATUS_LABELS.get(stats.status, stats.status)
        if stats.finish_reason and stats.status in ("complete", "length"):
            label = f"{label} ({one_line(stats.finish_reason, 30)})"
        parts.append(label)
    return " · ".join(parts)
