"""Requests built the way tuichat builds them, for a provider's request-body tests.

The turns are saved in a private in-memory store and read back through the core's own
:func:`tuichat.chat.build_request`, so a test sees exactly what a provider is handed:
text files folded into the prompt, images and PDFs as parts, earlier turns' files
carried with the history.
"""

from __future__ import annotations

from collections.abc import Sequence

from tuichat.attachments import Attachment, from_bytes
from tuichat.chat import build_request, history_attachments
from tuichat.protocol import ChatRequest
from tuichat.store import Store

__all__ = ["attachment", "conversation_request"]

Turn = tuple[str, str] | tuple[str, str, Sequence[Attachment]]


def attachment(data: bytes, name: str) -> Attachment:
    """An attachment of ``data`` named ``name``, its kind read from the bytes."""
    return from_bytes(data, name)


def conversation_request(model: str, *turns: Turn, system: str | None = None) -> ChatRequest:
    """The request for ``turns`` (``(role, text)`` or ``(role, text, attachments)``)."""
    with Store(":memory:") as store:
        conversation = store.create_conversation()
        for turn in turns:
            files = turn[2] if len(turn) == 3 else ()
            store.add_message(conversation.id, turn[0], turn[1], attachments=files)
        history = store.messages(conversation.id)
        request, _omitted = build_request(
            history, model=model, system=system, attachments=history_attachments(store, history)
        )
    return request
