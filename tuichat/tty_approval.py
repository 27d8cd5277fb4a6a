"""Approving a tool call on the terminal, for ``tuichat ask``.

The question goes to ``/dev/tty``, whatever stdin and stdout are (``ask`` reads its
prompt from a pipe and its reply may go to a file), as git and ssh ask for a password.
Without a terminal there is no one to ask: the caller declines (see
:class:`tuichat.tool_loop.ToolUse`).
"""

from __future__ import annotations

import asyncio
import json
from typing import TextIO

from tuichat.protocol import ToolCall
from tuichat.sanitize import neutralize
from tuichat.tool_loop import Decision, Offered

__all__ = ["TerminalApprover", "arguments_shown"]


def arguments_shown(arguments: str) -> str:
    """The arguments exactly as the model wrote them, indented when they are JSON, with
    control characters neutralised (a model's text must not drive the terminal)."""
    try:
        text = json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except ValueError:
        text = arguments
    return neutralize(text)


class TerminalApprover:
    """Asks on the terminal before each call; "always" holds for the rest of the turn's
    conversation (this ``ask``)."""

    def __init__(self, tty: TextIO, answers: TextIO | None = None) -> None:
        self.tty = tty
        self.answers = answers if answers is not None else tty
        self.always: set[str] = set()

    @classmethod
    def open(cls) -> TerminalApprover | None:
        """An approver on ``/dev/tty``; None when the process has no terminal."""
        # Two handles: a terminal is not seekable, and Python's text "r+" mode wants it to be.
        try:
            out = open("/dev/tty", "w", encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError:
            return None
        try:
            answers = open("/dev/tty", encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError:
            out.close()
            return None
        return cls(out, answers)

    def close(self) -> None:
        """Close the terminal."""
        for handle in {id(self.tty): self.tty, id(self.answers): self.answers}.values():
            try:
                handle.close()
            except OSError:
                pass

    async def __call__(self, offered: Offered, call: ToolCall) -> Decision:
        """Ask about ``call``; a read error or an empty answer is a no."""
        if offered.spec.name in self.always:
            return "yes"
        question = (
            f"\ntuichat: the model calls tool {neutralize(offered.tool)} "
            f"(server {neutralize(offered.server)}) with:\n"
            f"{arguments_shown(call.arguments)}\n"
            "Run it? [y]es, [a]lways for this tool, [N]o: "
        )
        answer = await asyncio.to_thread(self._ask, question)
        if answer in ("a", "always"):
            self.always.add(offered.spec.name)
            return "always"
        return "yes" if answer in ("y", "yes") else "no"

    def _ask(self, question: str) -> str:
        _drop_typeahead(self.answers)
        try:
            self.tty.write(question)
            self.tty.flush()
            return self.answers.readline().strip().lower()
        except (OSError, ValueError):
            return ""


def _drop_typeahead(tty: TextIO) -> None:
    """Forget keys typed before the question showed: an Enter or a "y" meant for
    something else must not approve a call the person has not read."""
    try:
        import termios

        termios.tcflush(tty.fileno(), termios.TCIFLUSH)
    except (ImportError, OSError, ValueError):
        pass  # not a terminal (a test's pipe): nothing typed ahead to drop
