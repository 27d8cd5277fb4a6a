"""A client's tool calls and results, folded into the store's shape of a reply.

An OpenAI client sends a reply that used tools as several messages: ``assistant`` with
``tool_calls``, the ``tool`` messages answering them, maybe more such rounds, then maybe
a plain ``assistant`` message. The store keeps such a reply as one assistant message
whose ``meta["rounds"]`` holds each round's text, calls and results (see
:mod:`tuichat.tool_loop`), which the engine sends back to any provider in its own shape.
The messages are checked before they come here (see :mod:`tuichat.serve.openai_tools`):
every call is answered, every answer follows its call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from tuichat.attachments import Attachment
from tuichat.protocol import Native
from tuichat.serve.signatures import native_for
from tuichat.tool_loop import ROUND_BREAK, native_json

if TYPE_CHECKING:
    from tuichat.serve.exchange import TurnMessage

__all__ = ["Recall", "Stored", "fold"]

Recall = Callable[["TurnMessage"], "Native | None"]
"""The native form serve kept of a reply a client sent back (see
:class:`tuichat.serve.natives.Natives`), or None."""


@dataclass(frozen=True, slots=True)
class Stored:
    """A message as it is written to the store."""

    role: Literal["user", "assistant"]
    content: str
    attachments: tuple[Attachment, ...] = ()
    meta: dict[str, Any] | None = None


@dataclass
class _Reply:
    """One reply that used tools, gathered from the client's messages."""

    rounds: list[dict[str, Any]] = field(default_factory=list)
    tail: str = ""

    def add_round(self, message: TurnMessage, plugin: str, recall: Recall | None) -> None:
        calls = [
            {
                "id": call.id,
                "name": call.name,
                "arguments": call.arguments,
                "tool": call.name,
                "server": "",
                # OpenAI's tool messages carry no error flag: an answer is an answer.
                "status": "ok",
                "result": "",
            }
            for call in message.tool_calls
        ]
        record: dict[str, Any] = {"content": message.content, "calls": calls}
        native = recall(message) if recall is not None else None
        if native is None:
            native = native_for(plugin, message.content, message.tool_calls, message.signatures)
        if native is not None:
            record["native"] = native_json(native)
        self.rounds.append(record)

    def answer(self, call_id: str | None, result: str) -> None:
        for call in self.rounds[-1]["calls"]:
            if call["id"] == call_id:
                call["result"] = result

    def stored(self) -> Stored:
        """The reply as one message: the rounds' texts, then the tail, a blank line
        between each (as the engine writes them)."""
        texts = [r["content"] for r in self.rounds if r["content"]]
        if self.tail:
            texts.append(self.tail)
        content = ROUND_BREAK.join(texts)
        tail_start = len(content) - len(self.tail)
        return Stored("assistant", content, meta={"rounds": self.rounds, "tail_start": tail_start})


def fold(
    messages: Sequence[TurnMessage], plugin: str, recall: Recall | None = None
) -> list[Stored]:
    """The client's user and assistant messages as stored, each reply that used tools
    folded into one message (its tool results inside it).

    Args:
        messages: The conversation without its system messages, checked.
        plugin: The answering provider's plugin (a Gemini reply's thought signatures are
            kept in the native form the plugin sends back).
        recall: Finds the native form serve kept of a reply (sent back as it came).
    """
    stored: list[Stored] = []
    reply: _Reply | None = None
    for message in messages:
        if message.role == "assistant" and message.tool_calls:
            reply = reply or _Reply()
            reply.add_round(message, plugin, recall)
        elif message.role == "tool":
            if reply is not None:
                reply.answer(message.tool_call_id, message.content)
        elif message.role == "assistant" and reply is not None:
            reply.tail = message.content
            stored.append(reply.stored())
            reply = None
        else:
            if reply is not None:
                stored.append(reply.stored())
                reply = None
            if message.role in ("user", "assistant"):
                stored.append(Stored(message.role, message.content, message.attachments))
    if reply is not None:
        stored.append(reply.stored())
    return stored
