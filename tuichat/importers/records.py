"""What every importer hands the writer: plain records, whatever the source's shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["Broken", "Imported", "ImportedMessage", "Item", "timestamp"]


@dataclass(frozen=True, slots=True)
class ImportedMessage:
    """One message of an imported conversation.

    Attributes:
        key: Its id in the source, unique within the conversation.
        parent: The key of the message it follows; None for a first message. Two messages
            with one parent are alternatives (an edited prompt, a regenerated reply).
        role: ``user``, ``assistant`` or ``system``.
        content: The text, exactly as the source holds it.
        created_at: Unix seconds, if the source says.
        model: The model that wrote an assistant reply, if the source says.
        reasoning: Reasoning ("thinking") text, '' if none.
        status: A tuichat message status (``complete`` unless the source says otherwise).
        provider: The provider instance that wrote a reply (tuichat's own exports only).
        details: More columns of tuichat's own exports (``finish_reason``, token counts,
            timings, ``error``), as :meth:`tuichat.store.Store.update_message` takes them.
    """

    key: str
    parent: str | None
    role: str
    content: str
    created_at: float | None = None
    model: str | None = None
    reasoning: str = ""
    status: str = "complete"
    provider: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Imported:
    """One conversation read from a source, ready to be written.

    Attributes:
        source_id: Its id in the source: with the format, what makes a second import of
            the same conversation a no-op.
        title: Its title ('' when the source has none).
        messages: Parents always before the messages that follow them.
        created_at: Unix seconds, if the source says.
        updated_at: Unix seconds of its last change, if the source says (else its newest
            message's time).
        model: The model it was held with, if the source says.
        system_prompt: Its system prompt, if any.
        head: The key of the message on show (the end of the branch the person last saw);
            None for the last message.
        skipped: How many source messages were left out (hidden, tool traffic, empty).
        provider: The provider instance it was held with (tuichat's own exports only).
        params: Its request parameters (tuichat's own exports only).
    """

    source_id: str
    title: str
    messages: tuple[ImportedMessage, ...]
    created_at: float | None = None
    updated_at: float | None = None
    model: str | None = None
    system_prompt: str | None = None
    head: str | None = None
    skipped: int = 0
    provider: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Broken:
    """A conversation of the source that could not be read; the others still are.

    Attributes:
        name: How the person can find it in the source (its title, else its id).
        reason: What is wrong, one sentence.
    """

    name: str
    reason: str


#: What a reader yields, one per conversation of the source.
Item = Imported | Broken


def timestamp(value: object) -> float | None:
    """Unix seconds from a number or an ISO 8601 string; None when absent or unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace(" ", "T", 1))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            # The sources that write naive times (llm, Elia) write UTC.
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    return None
