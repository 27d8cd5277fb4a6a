"""Gemini's thought signatures through the OpenAI-compatible API.

Gemini 3 refuses a function call sent back without the ``thoughtSignature`` its reply
carried. An OpenAI client knows nothing of it, so serve does what Google's own
OpenAI-compatible endpoint does: each call's signature goes out in
``tool_calls[i].extra_content.google.thought_signature``, and comes back there on the
assistant message of the next request, from which the reply's native form is rebuilt.

The Gemini plugin hands its reply over as a :class:`~tuichat.protocol.NativeReply`: the
model's ``parts`` as Gemini sent them. Reading is tolerant of the shape around them (a
list of parts or a ``{"role", "parts"}`` content); what is rebuilt is the list of parts,
each call a ``functionCall`` part with its signature beside it, as Gemini's API has them.
Other providers' native forms are not read: nothing of them reaches the client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from tuichat.protocol import Native, ToolCall

__all__ = ["GEMINI", "Signature", "native_for", "signatures_of"]

#: The plugin whose replies carry thought signatures.
GEMINI = "gemini"

Signature = str | None
"""A call's thought signature, as Gemini sent it; None when it carried none."""


def _call_parts(data: Any) -> Iterator[dict[str, Any]]:
    """The ``functionCall`` parts in ``data``, in order (not looking inside them)."""
    stack: list[Any] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("functionCall"), dict):
                yield item
            else:
                stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def _signature(part: dict[str, Any]) -> Signature:
    # The REST API answers in camelCase and takes either spelling.
    found = part.get("thoughtSignature", part.get("thought_signature"))
    return found if isinstance(found, str) and found else None


def signatures_of(native: Native | None, calls: Sequence[ToolCall]) -> tuple[Signature, ...]:
    """Each call's thought signature (None when it has none), from the reply's native form.

    The n-th ``functionCall`` part belongs to the n-th call when it names the same function.
    """
    if native is None or native.plugin != GEMINI:
        return tuple(None for _ in calls)
    parts = list(_call_parts(native.data))
    found: list[Signature] = []
    for index, call in enumerate(calls):
        part = parts[index] if index < len(parts) else None
        if part is None or part["functionCall"].get("name") != call.name:
            found.append(None)
        else:
            found.append(_signature(part))
    return tuple(found)


def _arguments(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return {}


def native_for(
    plugin: str, content: str, calls: Sequence[ToolCall], signatures: Sequence[Signature]
) -> Native | None:
    """The native form of an assistant message a client sent back, when the provider
    needs it: a Gemini reply whose calls carry signatures. None otherwise (the plugin
    builds the message from its text and calls)."""
    if plugin != GEMINI or not any(signatures):
        return None
    # As the plugin rebuilds a reply: Gemini refuses an empty text part.
    parts: list[dict[str, Any]] = [{"text": content}] if content.strip() else []
    for call, signature in zip(calls, signatures, strict=True):
        part: dict[str, Any] = {
            "functionCall": {"name": call.name, "args": _arguments(call.arguments)}
        }
        if signature:
            part["thoughtSignature"] = signature
        parts.append(part)
    return Native(GEMINI, parts)
