"""The tool loop's parts, UI-free: what a turn offers, how a call is approved and run,
and how the rounds of a reply are kept and sent back.

A reply that asks for tools is one assistant message however many rounds it takes:
each round's text, calls, results and native form are kept in the message's
``meta["rounds"]`` as they happen (a crash mid-loop loses nothing that ran), and the
message's ``content`` is every round's text, separated by a blank line, as shown and
printed. :func:`expand` turns such a message back into the history a provider expects:
``assistant`` (text, ``tool_calls``) then ``tool`` (``tool_results``) per round, then the
last round's text.

The tools themselves (MCP servers, plugins' Python tools) live in :mod:`tuichat.tools`;
the turn only needs the small :class:`ToolRunner` face of them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from tuichat.protocol import ChatMessage, Native, ToolCall, ToolResult, ToolSpec

__all__ = [
    "DECLINED",
    "Approver",
    "Decision",
    "Offered",
    "Outcome",
    "RoundRecord",
    "ToolFinished",
    "ToolLimit",
    "ToolRunner",
    "ToolStarted",
    "ToolEvent",
    "ToolUse",
    "expand",
    "rounds_of",
]

#: What the model is told of a call the person declined (DESIGN.md 5a).
DECLINED = "declined by the user"

#: What the model is told of a call that never ended (tuichat stopped while it ran):
#: every API wants an answer to each call in the history.
UNFINISHED = "The tool call did not finish (tuichat stopped while it ran)."

#: Separates the text of two rounds in what is shown and printed.
ROUND_BREAK = "\n\n"

Decision = Literal["yes", "always", "no"]
"""The person's answer to an approval: run it once, run this tool without asking for
the rest of the conversation, or decline."""

CallStatus = Literal["running", "ok", "error", "declined"]


class Offered(Protocol):
    """A tool offered to the model (see :class:`tuichat.tools.OfferedTool`)."""

    @property
    def spec(self) -> ToolSpec: ...
    @property
    def server(self) -> str: ...
    @property
    def tool(self) -> str: ...
    @property
    def approve(self) -> str: ...


class Outcome(Protocol):
    """What running a tool gave (see :class:`tuichat.tools.ToolOutcome`)."""

    @property
    def content(self) -> str: ...
    @property
    def is_error(self) -> bool: ...


class ToolRunner(Protocol):
    """The tools of one conversation (see :class:`tuichat.tools.Toolbox`)."""

    def specs(self) -> list[ToolSpec]: ...
    def find(self, model_name: str) -> Offered | None: ...
    async def call(
        self, model_name: str, arguments: str, *, timeout: float | None = None
    ) -> Outcome: ...


Approver = Callable[[Offered, ToolCall], Awaitable[Decision]]
"""Asks the person about one call (the exact arguments shown)."""


@dataclass(frozen=True, slots=True)
class ToolUse:
    """What a front-end lets a turn do with tools.

    Args:
        runner: The tools offered.
        approve: Asks the person; None declines every call whose server says
            ``approve = "ask"`` (``ask`` without a terminal and without ``--yes``).
        yes: Run every call without asking (``ask --yes``).
        max_steps: Most rounds (a request whose reply asks for tools, plus running
            them); after them no call runs and no request offers tools.
        timeout: Seconds one call may run (None: the tool host's default).
    """

    runner: ToolRunner
    approve: Approver | None = None
    yes: bool = False
    max_steps: int = 10
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class ToolStarted:
    """A call was approved and runs now (yielded by the turn)."""

    call: ToolCall
    tool: str
    """The tool's name as its server lists it."""
    server: str


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """A call ended: ran (``ok`` or ``error``) or was ``declined`` (yielded by the turn)."""

    call: ToolCall
    tool: str
    server: str
    status: Literal["ok", "error", "declined"]
    content: str
    """The result as sent to the model (an error's sentence)."""
    seconds: float


@dataclass(frozen=True, slots=True)
class ToolLimit:
    """``steps`` rounds ran: the next request offers no tools (yielded by the turn)."""

    steps: int


ToolEvent = ToolStarted | ToolFinished | ToolLimit
"""What a turn yields besides the provider's events when it runs tools."""


@dataclass(slots=True)
class CallRecord:
    """One call of a round as stored: the call, who serves it, and how it ended."""

    call: ToolCall
    tool: str
    server: str
    status: CallStatus = "running"
    result: str = ""
    seconds: float | None = None

    @property
    def is_error(self) -> bool:
        """Sent to the model as a failure (a declined call too)."""
        return self.status != "ok"

    def as_result(self) -> ToolResult:
        """The answer the model gets for this call."""
        if self.status == "running":
            return ToolResult(self.call.id, self.call.name, UNFINISHED, is_error=True)
        return ToolResult(self.call.id, self.call.name, self.result, is_error=self.is_error)

    def to_json(self) -> dict[str, Any]:
        """As kept in the message's meta."""
        found: dict[str, Any] = {
            "id": self.call.id,
            "name": self.call.name,
            "arguments": self.call.arguments,
            "tool": self.tool,
            "server": self.server,
            "status": self.status,
            "result": self.result,
        }
        if self.seconds is not None:
            found["seconds"] = round(self.seconds, 3)
        return found

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CallRecord:
        """From the message's meta; tolerant of what an older or newer tuichat wrote."""
        call = ToolCall(
            str(data.get("id", "")), str(data.get("name", "")), str(data.get("arguments", "{}"))
        )
        status = data.get("status", "running")
        if status not in ("running", "ok", "error", "declined"):
            status = "error"
        seconds = data.get("seconds")
        return cls(
            call,
            str(data.get("tool", call.name)),
            str(data.get("server", "")),
            status,
            str(data.get("result", "")),
            float(seconds) if isinstance(seconds, int | float) else None,
        )


@dataclass(slots=True)
class RoundRecord:
    """One round of a reply: the text the model wrote, the calls it asked for and
    their results, and the reply in its provider's shape."""

    content: str
    calls: list[CallRecord]
    native: Native | None = None

    def messages(self) -> list[ChatMessage]:
        """The round as history: the assistant's turn, then the tools' answers."""
        return [
            ChatMessage(
                "assistant",
                self.content,
                tool_calls=tuple(c.call for c in self.calls),
                native=self.native,
            ),
            ChatMessage("tool", "", tool_results=tuple(c.as_result() for c in self.calls)),
        ]

    def to_json(self) -> dict[str, Any]:
        """As kept in the message's meta."""
        found: dict[str, Any] = {
            "content": self.content,
            "calls": [c.to_json() for c in self.calls],
        }
        if self.native is not None:
            found["native"] = native_json(self.native)
        return found

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RoundRecord:
        """From the message's meta."""
        calls = data.get("calls")
        return cls(
            str(data.get("content", "")),
            [CallRecord.from_json(c) for c in calls if isinstance(c, Mapping)]
            if isinstance(calls, list)
            else [],
            native_from(data.get("native")),
        )


def native_json(native: Native) -> dict[str, Any]:
    """A reply's native form as kept in meta."""
    return {"plugin": native.plugin, "data": native.data}


def native_from(data: Any) -> Native | None:
    """A native form from meta (None when absent or malformed)."""
    if isinstance(data, Mapping) and isinstance(data.get("plugin"), str):
        return Native(data["plugin"], data.get("data"))
    return None


def rounds_of(meta: Mapping[str, Any]) -> list[RoundRecord]:
    """The tool rounds a reply's meta holds (none for a reply without tools)."""
    rounds = meta.get("rounds")
    if not isinstance(rounds, list):
        return []
    return [RoundRecord.from_json(r) for r in rounds if isinstance(r, Mapping)]


def tail_of(content: str, meta: Mapping[str, Any]) -> str:
    """The text of a reply's last round (after the rounds that asked for tools)."""
    start = meta.get("tail_start")
    if isinstance(start, int) and 0 <= start <= len(content):
        return content[start:]
    return content if not meta.get("rounds") else ""


def expand(content: str, meta: Mapping[str, Any], base: ChatMessage) -> list[ChatMessage]:
    """A stored reply as the history a provider expects.

    ``base`` is the reply as a plain assistant message (its text and native form); a
    reply with tool rounds becomes each round's two messages, then its last round's
    text (left out when empty: the reply stopped after the tools ran).
    """
    rounds = rounds_of(meta)
    if not rounds:
        return [base]
    expanded = [message for record in rounds for message in record.messages()]
    tail = tail_of(content, meta)
    if tail:
        expanded.append(ChatMessage("assistant", tail, native=base.native))
    return expanded


def call_records(rounds: Sequence[RoundRecord]) -> list[CallRecord]:
    """Every call of a reply, in order (for reports and exports)."""
    return [call for record in rounds for call in record.calls]


class Stopwatch:
    """Seconds since it was made (a call's run time)."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def seconds(self) -> float:
        """Seconds elapsed."""
        return time.monotonic() - self.started
