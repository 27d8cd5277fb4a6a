"""A turn as data: what ``tuichat ask --json`` prints and ``serve`` answers with.

DESIGN.md 5a fixes the shape: ``id``, ``provider`` (the instance), ``model`` (as the
provider reported it), ``content``, ``finish_reason`` (normalised, ``error`` on a
failure), ``provider_finish_reason``, ``usage``, ``cost`` (None when unknown),
``tool_calls``, ``timings``; ``error`` when the reply failed. Fields added here beyond
it (``reasoning``, ``conversation_id``, ``message_id``, ``left_out``) only extend it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuichat.chat import Turn, TurnState


def usage_fields(state: TurnState) -> dict[str, int | None]:
    """Token counts as the contract names them (None: not reported)."""
    return {
        "input_tokens": state.input_tokens,
        "output_tokens": state.output_tokens,
        "cached_input_tokens": state.cached_input_tokens,
        "reasoning_tokens": state.reasoning_tokens,
    }


def turn_report(turn: Turn, *, error: str | None = None, saved: bool = True) -> dict[str, Any]:
    """The whole of a finished (or failed) turn.

    Args:
        turn: The turn, after its stream ended.
        error: The sentence a failure was reported with, if it failed.
        saved: Whether the turn was saved (its ids mean something).
    """
    state = turn.state
    report: dict[str, Any] = {
        "id": state.response_id,
        "provider": turn.provider.instance_name,
        "model": state.response_model or turn.request.model,
        "content": state.content,
        "reasoning": state.reasoning or None,
        "finish_reason": "error" if error is not None else (state.finish_reason or "error"),
        "provider_finish_reason": state.finish_raw,
        "usage": usage_fields(state),
        "cost": state.cost,
        "tool_calls": [],
        "timings": {
            "first_token_s": _seconds(state.ttft_ms),
            "total_s": _seconds(state.duration_ms),
        },
        "conversation_id": turn.conversation_id if saved else None,
        "message_id": turn.message_id if saved else None,
        "left_out": [{"name": item.name, "reason": item.reason} for item in turn.left_out],
    }
    if error is not None:
        report["error"] = error
    return report


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else round(milliseconds / 1000, 3)
