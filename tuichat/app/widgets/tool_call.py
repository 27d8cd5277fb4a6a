"""One tool call in the log: a line while it waits or runs, and once done; the arguments
and the result when the person opens it.

One widget per call, like the reasoning (not a :class:`~textual.widgets.Collapsible`: the
log stays a few widgets per message). Everything in it is untrusted (the model wrote the
arguments, a server the result): neutralised and never read as markup.
"""

from __future__ import annotations

from typing import Literal

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from tuichat.sanitize import neutralize, one_line
from tuichat.tty_approval import arguments_shown

CallState = Literal["asked", "waiting", "running", "ok", "error", "declined", "stopped"]

#: How each state reads in the collapsed line.
_STATE_TEXT: dict[str, str] = {
    "asked": "asked",
    "waiting": "waiting for your approval",
    "running": "running…",
    "ok": "ok",
    "error": "failed",
    "declined": "declined",
    "stopped": "stopped before it finished",
}

#: The most lines of a result shown when opened (a tool may return a whole file).
RESULT_LINES = 200


class ToolCallView(Static):
    """A tool call: collapsed to one line once done, opened with the toggle key."""

    expanded: reactive[bool] = reactive(False)
    """Whether the arguments and the result are shown."""

    def __init__(
        self,
        tool: str,
        server: str,
        arguments: str,
        *,
        state: CallState = "asked",
        result: str = "",
        seconds: float | None = None,
        toggle_key: str = "o",
        id: str | None = None,
    ) -> None:
        """Create it.

        Args:
            tool: The tool's name as its server lists it.
            server: Who serves it.
            arguments: The JSON text the model wrote.
            state: Where the call is.
            result: What the tool gave (or why it failed).
            seconds: How long it ran.
            toggle_key: The key shown in the line.
            id: The widget id.
        """
        super().__init__(markup=False, id=id, classes="tool-call")
        self.tool = tool
        self.server = server
        self.arguments = arguments
        self.state: CallState = state
        self.result = result
        self.seconds = seconds
        self.toggle_key = toggle_key

    def on_mount(self) -> None:
        """Draw the first state."""
        self._show()

    def update_state(
        self, state: CallState, *, result: str | None = None, seconds: float | None = None
    ) -> None:
        """The call moved on (approved, running, done)."""
        self.state = state
        if result is not None:
            self.result = result
        if seconds is not None:
            self.seconds = seconds
        self._show()

    def watch_expanded(self) -> None:
        """Open or close."""
        self._show()

    def on_click(self) -> None:
        """A click opens or closes it."""
        self.expanded = not self.expanded

    def headline(self) -> str:
        """The collapsed line."""
        parts = [f"⚙ {one_line(neutralize(self.tool), 60)}"]
        if self.server:
            parts.append(one_line(neutralize(self.server), 40))
        parts.append(_STATE_TEXT.get(self.state, self.state))
        if self.seconds is not None and self.state in ("ok", "error"):
            parts.append(f"{self.seconds:.2f} s")
        if self.state == "error" and self.result:
            parts.append(one_line(neutralize(self.result), 80))
        verb = "hide" if self.expanded else "show"
        return " · ".join(parts) + f"   ({self.toggle_key} {verb}s the call)"

    def _show(self) -> None:
        self.set_class(self.state in ("error", "declined", "stopped"), "-failed")
        self.set_class(self.state in ("asked", "waiting", "running"), "-live")
        if not self.expanded:
            self.update(Content(self.headline()))
            return
        lines = [self.headline(), "arguments:", arguments_shown(self.arguments)]
        if self.result:
            shown = neutralize(self.result).splitlines()
            cut = len(shown) - RESULT_LINES
            lines.append("result:")
            lines.extend(shown[:RESULT_LINES])
            if cut > 0:
                lines.append(f"… {cut} more line(s) (exported in full)")
        self.update(Content("\n".join(lines)))
