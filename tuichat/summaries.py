"""Long conversations summarised: older turns replaced by a summary the model wrote.

A summary is a message of its own kind in the conversation: role ``system``, meta
``{"summary": true, "through": ID, "covers": N}``, appended at the end of the branch.
Every request built from a branch holding one leaves out the messages up to and
including ``through`` and sends the summary's text after the system prompt instead
(:func:`apply`); the turns after ``through`` go as they are. The person may edit the
summary's text like any message. Headless: the TUI and ``ask -c`` both use it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuichat.protocol import ChatMessage, ChatRequest, TextDelta

if TYPE_CHECKING:
    from tuichat.costs import Tally
    from tuichat.provider import Provider
    from tuichat.store import Message

#: The meta key that marks a summary.
KEY = "summary"

#: How the summary joins the system prompt.
LEAD = "A summary of the earlier part of this conversation (its messages are not repeated):"

#: What the model is asked.
INSTRUCTIONS = (
    "Summarise the conversation below so that it can be continued without it: keep every "
    "fact, decision, name, number, code identifier and open question the later turns may "
    "need; drop greetings and repetition. Write plain prose or a short list, in the "
    "conversation's language, with no preamble."
)


@dataclass(frozen=True, slots=True)
class Summary:
    """A summary found on a branch."""

    text: str
    through: int
    """The id of the last message it covers."""
    covers: int
    """How many messages it stands for."""


def is_summary(message: Message) -> bool:
    """Whether ``message`` is a stored summary."""
    return message.role == "system" and message.meta.get(KEY) is True


def latest(history: Sequence[Message]) -> Summary | None:
    """The newest summary on the branch ``history``, if any."""
    for message in reversed(history):
        if is_summary(message):
            through = message.meta.get("through")
            covers = message.meta.get("covers")
            if isinstance(through, int):
                return Summary(message.content, through, covers if isinstance(covers, int) else 0)
    return None


def apply(history: Sequence[Message], system: str | None) -> tuple[list[Message], str | None]:
    """The history a request carries once the newest summary stands in for what it covers,
    and the system prompt with the summary after it."""
    summary = latest(history)
    if summary is None:
        return list(history), system
    ids = [message.id for message in history]
    start = ids.index(summary.through) + 1 if summary.through in ids else 0
    kept = [message for message in history[start:] if not is_summary(message)]
    joined = f"{LEAD}\n\n{summary.text}"
    return kept, f"{system}\n\n{joined}" if system else joined


def request(model: str, messages: Sequence[ChatMessage]) -> ChatRequest:
    """The request that asks ``model`` to summarise ``messages``."""
    transcript = "\n\n".join(
        f"{'User' if m.role == 'user' else 'Assistant'}: {m.content}" for m in messages
    )
    return ChatRequest(
        model=model,
        system=INSTRUCTIONS,
        messages=(ChatMessage("user", f"<conversation>\n{transcript}\n</conversation>"),),
    )


async def write(
    provider: Provider,
    model: str,
    messages: Sequence[ChatMessage],
    *,
    tally: Tally | None = None,
) -> str:
    """Ask ``model`` for the summary of ``messages``; its text (stripped). ``tally`` is
    fed every event, to price the request (see :mod:`tuichat.costs`).

    Raises:
        ProviderError: The request failed (nothing is stored then).
    """
    pieces: list[str] = []
    async with aclosing(provider.stream_chat(request(model, messages))) as events:
        async for event in events:
            if tally is not None:
                tally.see(event)
            if isinstance(event, TextDelta):
                pieces.append(event.text)
            await asyncio.sleep(0)
    return "".join(pieces).strip()


def meta(through: int, covers: int, provider: str, model: str) -> dict[str, Any]:
    """The meta a stored summary carries."""
    return {KEY: True, "through": through, "covers": covers, "by": f"{provider}/{model}"}
