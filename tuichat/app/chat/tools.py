"""The chat screen's tools: which servers a conversation offers, approving a call, and
each call in the log.

The loop itself is the engine's (:mod:`tuichat.tool_loop`): this part hands a turn the
conversation's tools and an approver, and shows the calls as they come.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuichat.errors import TuichatError
from tuichat.protocol import ToolCall
from tuichat.sanitize import neutralize
from tuichat.store import Message as StoredMessage
from tuichat.tool_loop import Decision, Offered, ToolFinished, ToolStarted, ToolUse, rounds_of

from ..widgets.chat_log import message_dom_id
from ..widgets.history import pager_of
from ..widgets.message import ReplyView
from ..widgets.tool_call import ToolCallView

if TYPE_CHECKING:
    from tuichat.chat import Turn
    from tuichat.tools import ToolHost

    from ..screens.chat import ChatScreen

#: Conversation params: the servers offered, and the tools run without asking.
TOOLS_PARAM = "tools"
ALWAYS_PARAM = "tools_always"


class Tools:
    """Tools in the chat screen."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen
        self.pending: list[str] | None = None
        """The servers chosen for a conversation not saved yet."""
        self._live_calls: dict[str, ToolCallView] = {}

    # -- which servers --------------------------------------------------------------------

    @property
    def tool_host(self) -> ToolHost:
        """The app's one tool host (servers run for the app's life)."""
        host: ToolHost = self.screen.app.tool_host  # type: ignore[attr-defined]
        return host

    def _params(self) -> dict[str, Any]:
        if self.screen.conversation_id is None:
            return {}
        try:
            conversation = self.screen.store.get_conversation(self.screen.conversation_id)
        except TuichatError:
            return {}
        return dict(conversation.params) if conversation is not None else {}

    def offered_servers(self) -> list[str]:
        """The servers this conversation offers the model (none until chosen)."""
        if self.screen.conversation_id is None:
            return list(self.pending or [])
        chosen = self._params().get(TOOLS_PARAM)
        return [str(name) for name in chosen] if isinstance(chosen, list) else []

    def pending_params(self) -> dict[str, Any]:
        """The tools chosen for a conversation not saved yet, as its params."""
        return {TOOLS_PARAM: list(self.pending)} if self.pending else {}

    def _save_params(self, **changes: Any) -> None:
        if self.screen.conversation_id is None:
            return
        params = {**self._params(), **changes}
        try:
            self.screen.store.update_conversation(self.screen.conversation_id, params=params)
        except TuichatError as exc:
            self.screen.report(exc)

    def pick_tools(self) -> None:
        """Choose the tool servers this conversation offers."""
        from ..screens.pick_tools import (  # (not before the first frame)
            PickToolsScreen,
            ServerChoice,
        )

        host = self.tool_host
        settings = self.screen.runtime.settings
        choices = []
        for name in host.servers():
            table = settings.mcp.get(name)
            if table is not None:
                how = "http" if table.url else "stdio"
                asks = "asks before each call" if table.approve == "ask" else "runs unasked"
            else:
                how, asks = "Python plugin", "asks before each call"
            choices.append(ServerChoice(name, f"{how} · {asks}", host.enabled(name)))
        self.screen.app.push_screen(
            PickToolsScreen(choices, self.offered_servers()), self._tools_chosen
        )

    def _tools_chosen(self, chosen: list[str] | None) -> None:
        if chosen is None:
            return
        if self.screen.conversation_id is None:
            self.pending = chosen
        else:
            self._save_params(**{TOOLS_PARAM: chosen})
        if chosen:
            self.screen.tell(f"Tools offered in this conversation: {', '.join(chosen)}.")
        else:
            self.screen.tell("No tools are offered in this conversation.")

    # -- a turn's tools ---------------------------------------------------------------------

    async def tool_use(self) -> ToolUse | None:
        """The conversation's tools, their servers started (the first time), or None."""
        names = self.offered_servers()
        if not names:
            return None
        try:
            box = await self.tool_host.toolbox(names)
        except TuichatError as exc:
            self.screen.report(exc)
            return None
        for note in box.notes:
            self.screen.tell(note, title="Tools")
        settings = self.screen.runtime.settings.tools
        return ToolUse(
            box,
            approve=self._approve_tool,
            max_steps=settings.max_steps,
            timeout=settings.timeout,
        )

    async def _approve_tool(self, offered: Offered, call: ToolCall) -> Decision:
        """Ask the person (a modal), unless they said "always" for this tool here."""
        always = self._params().get(ALWAYS_PARAM)
        if isinstance(always, list) and offered.spec.name in always:
            return "yes"
        shown = self._live_calls.get(call.id)
        if shown is not None:
            shown.update_state("waiting")
        from ..screens.approve_tool import ApproveToolScreen  # (not before the first frame)

        decision: Decision = await self.screen.app.push_screen_wait(
            ApproveToolScreen(offered.tool, offered.server, call)
        )
        if decision == "always" and self.screen.conversation_id is not None:
            names = list(always) if isinstance(always, list) else []
            self._save_params(**{ALWAYS_PARAM: [*names, offered.spec.name]})
        return decision

    # -- the calls in the log ---------------------------------------------------------------

    async def show_event(self, turn: Turn, view: ReplyView, event: object) -> None:
        """A call asked, started or ended: its block before the live reply."""
        if isinstance(event, ToolCall):
            offered = turn.tools.runner.find(event.name) if turn.tools is not None else None
            block = ToolCallView(
                offered.tool if offered is not None else event.name,
                offered.server if offered is not None else "",
                event.arguments,
                toggle_key=self.screen.key_hint("toggle-tool-calls"),
            )
            self._live_calls[event.id] = block
            if view.is_attached:
                log = self.screen.chat_log
                await log.mount(block, before=view)
                pager = pager_of(log)
                if pager is not None:
                    pager.join(block, view)
        elif isinstance(event, ToolStarted):
            shown = self._live_calls.get(event.call.id)
            if shown is not None:
                shown.update_state("running")
        elif isinstance(event, ToolFinished):
            ended = self._live_calls.pop(event.call.id, None)
            if ended is not None:
                ended.update_state(event.status, result=event.content, seconds=event.seconds)

    def end_live_calls(self) -> None:
        """The reply ended (stopped, failed): calls still waiting or running never will."""
        for block in self._live_calls.values():
            block.update_state("stopped")
        self._live_calls = {}

    def call_views(self, message: StoredMessage) -> list[ToolCallView]:
        """A stored reply's calls, collapsed, in order."""
        key = self.screen.key_hint("toggle-tool-calls")
        views = []
        for record in rounds_of(message.meta):
            for call in record.calls:
                state = call.status if call.status != "running" else "stopped"
                result = call.result
                views.append(
                    ToolCallView(
                        call.tool,
                        call.server,
                        call.call.arguments,
                        state=state,
                        result=result,
                        seconds=call.seconds,
                        toggle_key=key,
                    )
                )
        return views

    def toggle_tool_calls(self) -> None:
        """Open or close the selected reply's tool calls."""
        target = self.screen.transcript.target_message()
        if target is None:
            return
        blocks = self._tool_blocks_of(target.id)
        if not blocks:
            self.screen.tell("This reply called no tools.")
            return
        opened = not blocks[0].expanded
        for block in blocks:
            block.expanded = opened

    def _tool_blocks_of(self, message_id: int) -> list[ToolCallView]:
        """The call blocks shown above reply ``message_id``."""
        found = self.screen.chat_log.query(f"#{message_dom_id(message_id)}")
        if not found:
            return []
        reply = found.first()
        siblings = list(self.screen.chat_log.children)
        index = siblings.index(reply)
        blocks: list[ToolCallView] = []
        for widget in reversed(siblings[:index]):
            if isinstance(widget, ToolCallView):
                blocks.insert(0, widget)
            elif type(widget).__name__ != "ReasoningView":
                break
        return blocks

    def note(self) -> str | None:
        """The status line's word on tools, when the conversation offers some."""
        names = self.offered_servers()
        if not names:
            return None
        return "tools: " + ", ".join(neutralize(n) for n in names)
