"""The chat screen's message actions: the selected message is copied (whole, or one of its
code blocks), regenerated, continued, edited and resent, deleted, switched to another
version; its reasoning is opened or closed; the prompt is written in ``$EDITOR``.

The target is the message selected in the chat log while the log has focus (Shift+Tab from
the prompt, then Up/Down), else the last reply: so the command palette and the global keys
(Ctrl+R, Ctrl+T) act on the last reply without moving the focus.
"""

from __future__ import annotations

import os
from typing import Any

from textual import on

from tuichat import clipboard
from tuichat.chat import Turn
from tuichat.codeblocks import code_blocks
from tuichat.errors import TuichatError
from tuichat.sanitize import neutralize, one_line
from tuichat.session import TurnRefused
from tuichat.store import Message as StoredMessage
from tuichat.summaries import is_summary

from ..widgets.chat_log import ChatLog, message_dom_id
from ..widgets.history import pager_of
from ..widgets.message import ReplyView
from ..widgets.reasoning import ReasoningView
from .base import ChatScreenBase
from .delete import DeleteScreen
from .editor import edit_text
from .pick import PickScreen

#: Actions on the target message, and whether they change the conversation.
_ON_MESSAGE = {
    "copy_message": False,
    "copy_code": False,
    "toggle_reasoning": False,
    "toggle_tool_calls": False,
    "regenerate": True,
    "continue_reply": True,
    "edit_prompt": True,
    "delete_message": True,
    "alternative": True,
}

#: Statuses of a reply that Continue carries on.
_CONTINUE = frozenset({"length", "cancelled", "interrupted"})


class MessageActions(ChatScreenBase):
    """Actions on one message of the chat log."""

    _counts: dict[int, tuple[int, int]]
    _stashed_draft: str

    # -- targets -------------------------------------------------------------------------------

    def _target_message(self) -> StoredMessage | None:
        """The selected message while the log has focus, else the last reply."""
        log = self.chat_log
        if log.has_focus and log.selected_id is not None:
            return self._shown.get(log.selected_id)
        return self._last_reply()

    def _last_reply(self) -> StoredMessage | None:
        # Asked for every footer binding on every refresh: walk from the end, never the
        # whole (growing) conversation.
        for message in reversed(self._shown.values()):
            if message.role == "assistant":
                return message
        return None

    def _is_last(self, message: StoredMessage) -> bool:
        return next(reversed(self._shown), None) == message.id

    def _check_message_action(self, action: str) -> Any:
        # False, not None: an action that does not apply is left out of the footer rather
        # than dimmed, so the footer lists what can be done with this message.
        if action in _ON_MESSAGE:
            target = self._target_message()
            if target is None or (self.responding and _ON_MESSAGE[action]):
                return False
            return self._applies(action, target)
        if action in ("regenerate_last", "continue_last"):
            last = self._last_reply()
            if last is None or self.responding:
                return False
            if action == "continue_last":
                return self._applies("continue_reply", last)
            return True
        if action == "open_editor":
            return not self.responding
        return NotImplemented

    def _applies(self, action: str, target: StoredMessage) -> bool:
        if action == "copy_code":
            return "```" in target.content or "~~~" in target.content
        if action == "continue_reply":
            return (
                target.role == "assistant"
                and target.status in _CONTINUE
                and bool(target.content.strip())
                and self._is_last(target)
            )
        if action == "edit_prompt":
            return target.role == "user" or is_summary(target)
        if action == "toggle_reasoning":
            return bool(target.reasoning)
        if action == "toggle_tool_calls":
            return bool(target.meta.get("rounds"))
        if action == "alternative":
            return target.id in self._counts
        return True

    def _selection_note(self) -> str:
        selected = self.chat_log.selected_id
        if selected is None or not self.chat_log.has_focus:
            return ""
        message = self._shown.get(selected)
        if message is None:
            return ""
        if is_summary(message):
            return f"summary selected · {self.key_hint('edit-prompt')} edits it"
        kind = "prompt" if message.role == "user" else "reply"
        alternative = self._counts.get(selected)
        if alternative is None:
            return f"{kind} selected"
        return f"{kind} {alternative[0]}/{alternative[1]} · [ ] switch"

    # -- the cursor ----------------------------------------------------------------------------

    def action_select_message(self, step: int) -> None:
        """Select the previous (-1) or next (1) message."""
        self.chat_log.move_selection(step)

    async def action_select_edge(self, last: bool) -> None:
        """Select the first or the last message (of the whole conversation)."""
        log = self.chat_log
        pager = pager_of(log)
        if pager is not None and (pager.newer if last else pager.older) and not self.responding:
            # Not page by page through a long history: the log is drawn again from the
            # store (prompts sent since it was drawn included) with a window at that end.
            if last:
                await self._render_log()
            else:
                first = self._first_message_id()
                await self._render_log(select=first)
                if first is not None:
                    return  # selected once laid out (see _render_log)
        log.select_edge(last)

    def _first_message_id(self) -> int | None:
        return next(iter(self._shown), None)

    @on(ChatLog.SelectionChanged, "#chat-log")
    def selection_changed(self) -> None:
        """Show what the selected message offers, and which actions apply to it."""
        self._update_note()
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        """Focus moves: the actions that apply change (the footer shows them)."""
        self._update_note()

    def on_descendant_blur(self) -> None:
        """See :meth:`on_descendant_focus`."""
        self._update_note()

    # -- copying -------------------------------------------------------------------------------

    def _fresh(self, message: StoredMessage) -> StoredMessage:
        try:
            return self.store.get_message(message.id) or message
        except TuichatError:
            return message

    def copy_text(self, text: str, what: str) -> None:
        """Copy ``text`` to the clipboard (OSC 52, wrapped for tmux/screen; native locally).

        Args:
            text: What to copy (already neutralised).
            what: How the toast names it (``the reply``).
        """
        route = clipboard.route(text, os.environ)
        if not route.osc52 and not route.native:
            self.tell(
                f"{what.capitalize()} is too long for the terminal's clipboard "
                f"({len(text):,} characters); export the conversation instead.",
                severity="warning",
            )
            return
        self.app.copy_to_clipboard(text)
        count = len(text)
        self.tell(
            f"Copied {what} ({count:,} character{'s' if count != 1 else ''}) "
            f"via {route.describe()}.",
            title="Clipboard",
        )

    def action_copy_message(self) -> None:
        """Copy the selected message (or the last reply) as Markdown source."""
        target = self._target_message()
        if target is None:
            return
        message = self._fresh(target)
        self.copy_text(
            neutralize(message.content), "the prompt" if message.role == "user" else "the reply"
        )

    def action_copy_code(self) -> None:
        """Copy a code block of the selected message; asks which when there are several."""
        target = self._target_message()
        if target is None:
            return
        blocks = code_blocks(self._fresh(target).content)
        if not blocks:
            self.tell("This message has no code block.")
            return
        if len(blocks) == 1:
            self.copy_text(neutralize(blocks[0].code), "the code block")
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                self.copy_text(neutralize(blocks[index].code), f"code block {index + 1}")

        self.app.push_screen(
            PickScreen("Copy which code block?", [block.summary for block in blocks]), chosen
        )

    # -- turns that rework the conversation ----------------------------------------------------

    async def action_regenerate(self, target: StoredMessage | None = None) -> None:
        """Answer the selected reply's prompt again; the old reply stays as an alternative."""
        target = target or self._target_message()
        if target is None or self.responding or not await self._provider_ready():
            return
        try:
            turn = self.session.regenerate(target, self.provider, self.model)
        except TurnRefused as exc:
            self.tell(str(exc), severity="warning")
            return
        except TuichatError as exc:
            self._report(exc)
            return
        await self._stream_rebuilt(turn, None)

    async def action_regenerate_last(self) -> None:
        """Regenerate the last reply."""
        await self.action_regenerate(self._last_reply())

    async def action_continue_reply(self, target: StoredMessage | None = None) -> None:
        """Carry on the selected reply (cut by max tokens, stopped or interrupted)."""
        target = target or self._target_message()
        if target is None or self.responding or not await self._provider_ready():
            return
        try:
            turn = self.session.continue_reply(self._fresh(target), self.provider, self.model)
        except TurnRefused as exc:
            self.tell(str(exc), severity="warning")
            return
        except TuichatError as exc:
            self._report(exc)
            return
        log = self.chat_log
        old = log.widget_for(target.id)
        view = ReplyView(
            turn.state.content,
            streaming=True,
            status="streaming",
            fps=self.runtime.ui.fps,
            hold=self.input_pending,
            typing=self.typing,
            meta=f"{turn.provider.instance_name} · {turn.request.model} · continuing…",
            id=message_dom_id(target.id),
        )
        # The live reply takes the old one's place (and DOM id).
        children = list(log.children)
        following = None
        if old is not None:
            index = children.index(old)
            following = children[index + 1] if index + 1 < len(children) else None
            pager = pager_of(log)
            if pager is not None:
                pager.replace(old, view)
            await old.remove()
        if following is not None:
            await log.mount(view, before=following)
        else:
            await log.mount(view)
        log.select(None, scroll=False)
        log.anchor()
        self._start_stream(turn, view, None)

    async def action_continue_last(self) -> None:
        """Continue the last reply."""
        await self.action_continue_reply(self._last_reply())

    def action_edit_prompt(self) -> None:
        """Put the selected prompt in the input box; Enter resends it as a new branch."""
        target = self._target_message()
        if target is not None and is_summary(target):
            self.edit_summary(self._fresh(target))
            return
        if target is None or target.role != "user":
            self.tell("Select a prompt (one of yours) to edit it.", severity="warning")
            return
        if self._editing is None:
            self._stashed_draft = self.prompt.text
        self._editing = target
        prompt = self.prompt
        prompt.set_text(self._fresh(target).content)
        prompt.add_class("-editing")
        if prompt.has_focus:
            self._update_note()
        else:
            # The note says "editing" once the prompt has the focus (on_descendant_focus):
            # keys typed after it appears land in the prompt.
            prompt.focus()
        self.refresh_bindings()

    def _cancel_edit(self) -> None:
        self._editing = None
        prompt = self.prompt
        prompt.remove_class("-editing")
        prompt.set_text(getattr(self, "_stashed_draft", ""))
        self._update_note()
        self.refresh_bindings()

    async def _resend_edited(self, text: str) -> bool:
        """Send the edited prompt: a new branch from where the old one was; returns
        whether it was sent."""
        target = self._editing
        if target is None:
            return False
        try:
            turn = self.session.edit(target, text, self.provider, self.model)
        except TurnRefused as exc:
            self.tell(str(exc), severity="warning")
            return False
        except TuichatError as exc:
            self._report(exc)
            return False
        self._cancel_edit()
        await self._stream_rebuilt(turn, text)
        return True

    async def _stream_rebuilt(self, turn: Turn, prompt: str | None) -> None:
        """Draw the new branch with ``turn``'s reply live, and stream it."""
        await self._render_log(live=turn)
        view = self._live_view
        if view is None:  # the branch does not hold the reply: cannot happen, but never hang
            turn.abandon()
            return
        self._start_stream(turn, view, prompt)
        await self._reload_sidebar()

    # -- deleting and switching versions -------------------------------------------------------

    def action_delete_message(self) -> None:
        """Delete the selected message, after asking (what followed it stays)."""
        target = self._target_message()
        if target is None or self.responding:
            return
        kind = "prompt" if target.role == "user" else "reply"
        excerpt = one_line(target.content, 60) or "(empty)"

        async def delete(confirmed: bool | None) -> None:
            if not confirmed:
                return
            ids = list(self._shown)
            index = ids.index(target.id) if target.id in ids else -1
            try:
                self.store.delete_message(target.id)
            except TuichatError as exc:
                self._report(exc)
                return
            rest = [i for i in ids if i != target.id]
            neighbour = rest[min(index, len(rest) - 1)] if rest and index >= 0 else None
            await self._render_log(select=neighbour)
            self.chat_log.focus()

        self.app.push_screen(
            DeleteScreen(
                "",
                heading=f"Delete this {kind}?",
                detail=f"“{excerpt}” will be deleted; the messages after it stay.",
            ),
            delete,
        )

    async def action_alternative(self, step: int) -> None:
        """Show the previous (-1) or next (1) version of the selected message."""
        target = self._target_message()
        if target is None or self.responding:
            return
        try:
            versions = self.store.alternatives(target.id)
        except TuichatError as exc:
            self._report(exc)
            return
        ids = [version.id for version in versions]
        if target.id not in ids or len(ids) < 2:
            self.tell("This message has no other version.")
            return
        index = ids.index(target.id) + step
        if not 0 <= index < len(ids):
            self.tell("No older version." if step < 0 else "No newer version.")
            return
        try:
            self.store.show_branch(ids[index])
        except TuichatError as exc:
            self._report(exc)
            return
        await self._render_log(select=ids[index])
        self.chat_log.focus()

    def action_toggle_reasoning(self) -> None:
        """Open or close the selected reply's reasoning."""
        target = self._target_message()
        if target is None:
            return
        found = self.chat_log.query(f"#r{target.id}")
        if found:
            view = found.first(ReasoningView)
            view.expanded = not view.expanded

    # -- the prompt in $EDITOR -----------------------------------------------------------------

    def action_open_editor(self) -> None:
        """Write the prompt in ``$EDITOR`` (the app steps aside while it runs)."""
        prompt = self.prompt
        if prompt.read_only:
            return
        edited = edit_text(self.app, prompt.text)
        if edited is not None:
            # Editors end files with a newline nobody meant to send.
            prompt.set_text(edited.rstrip("\n"))
        prompt.focus()
