"""A turn as data: what ``tuichat ask --json`` prints and ``serve`` answers with.

DESIGN.md 5a fixes the shape: ``id``, ``provider`` (the instance), ``model`` (as the
provider reported it), ``content``, ``finish_reason`` (normalised, ``error`` on a
failure), ``provider_finish_reason``, ``usage``, ``cost`` (None when unknown),
``tool_calls``, ``timings``; ``error`` when the reply failed. Fields added here beyond
it (``reasoning``, ``conversation_id``, ``message_id``, ``left_out``,
``other_requests``) only extend it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tuichat.chat import Turn, TurnState
    from tuichat.costs import SideCost


def usage_fields(state: TurnState) -> dict[str, int | None]:
    """Token counts as the contract names them (None: not reported)."""
    return {
        "input_tokens": state.input_tokens,
        "output_tokens": state.output_tokens,
        "cached_input_tokens": state.cached_input_tokens,
        "reasoning_tokens": state.reasoning_tokens,
    }


def turn_report(
    turn: Turn,
    *,
    error: str | None = None,
    saved: bool = True,
    other: Sequence[SideCost] = (),
) -> dict[str, Any]:
    """The whole of a finished (or failed) turn.

    Args:
        turn: The turn, after its stream ended.
        error: The sentence a failure was reported with, if it failed.
        saved: Whether the turn was saved (its ids mean something).
        other: The requests made for it beyond the reply (a summary of older turns):
            ``other_requests``, each with its usage and cost (``cost`` is the reply's).
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
        "tool_calls": tool_call_fields(state),
        "timings": {
            "first_token_s": _seconds(state.ttft_ms),
            "total_s": _seconds(state.duration_ms),
        },
        "conversation_id": turn.conversation_id if saved else None,
        "message_id": turn.message_id if saved else None,
        "left_out": [{"name": item.name, "reason": item.reason} for item in turn.left_out],
        "other_requests": [request.to_json() for request in other],
    }
    if error is not None:
        report["error"] = error
    return report


def tool_call_fields(state: TurnState) -> list[dict[str, Any]]:
    """Every call of the turn, in order: ``name`` (as its server lists it), ``arguments``
    (the object the model wrote; its raw text when that is not a JSON object) and
    ``status`` (``ok``, ``error``, ``declined``; ``pending`` for a call no tool ran,
    such as one ``serve`` hands to its client). Beyond the contract: ``id``,
    ``server``, ``result``, ``seconds``."""
    from tuichat.tool_loop import call_records

    found: list[dict[str, Any]] = []
    for record in call_records(state.rounds):
        entry: dict[str, Any] = {
            "name": record.tool,
            "arguments": _arguments(record.call.arguments),
            "status": record.status if record.status != "running" else "error",
            "id": record.call.id,
            "server": record.server,
            "result": record.result,
        }
        if record.seconds is not None:
            entry["seconds"] = round(record.seconds, 3)
        found.append(entry)
    for call in state.tool_calls:
        found.append(
            {
                "name": call.name,
                "arguments": _arguments(call.arguments),
                "status": "pending",
                "id": call.id,
            }
        )
    return found


def _arguments(text: str) -> Any:
    import json

    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict) else text


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else round(milliseconds / 1000, 3)
