"""The chat screen's message actions: the selected message is copied (whole, or one of its
code blocks), regenerated, continued, edited and resent, deleted, switched to another
version; its reasoning is opened or closed; the prompt is written in ``$EDITOR``.

The target is the message selected in the chat log while the log has focus (Shift+Tab from
the prompt, then Up/Down), else the last reply: so the command palette and the global keys
(Ctrl+R, Ctrl+T) act on the last reply without moving the focus.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tuichat import clipboard
from tuichat.chat import Turn
from tuichat.codeblocks import code_blocks
from tuichat.errors import TuichatError
from tuichat.sanitize import neutralize, one_line
from tuichat.session import TurnRefused
from tuichat.store import Message as StoredMessage
from tuichat.summaries import is_summary

from ..screens.delete import DeleteScreen
from ..screens.editor import edit_text
from ..screens.pick import PickScreen
from ..widgets.history import pager_of
from ..widgets.reasoning import ReasoningView

if TYPE_CHECKING:
    from ..screens.chat import ChatScreen

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


class MessageActions:
    """Actions on one message of the chat log."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen
        self.editing: StoredMessage | None = None
        """The prompt being edited in the box (Enter resends it as a new branch)."""
        self._stashed_draft = ""

    # -- what applies ----------------------------------------------------------------------------

    def check(self, action: str) -> Any:
        """Whether a message action applies (NotImplemented: not one of these)."""
        # False, not None: an action that does not apply is left out of the footer rather
        # than dimmed, so the footer lists what can be done with this message.
        if action in _ON_MESSAGE:
            target = self.screen.transcript.target_message()
            if target is None or (self.screen.responding and _ON_MESSAGE[action]):
                return False
            return self._applies(action, target)
        if action in ("regenerate_last", "continue_last"):
            last = self.screen.transcript.last_reply()
            if last is None or self.screen.responding:
                return False
            if action == "continue_last":
                return self._applies("continue_reply", last)
            return True
        if action == "open_editor":
            return not self.screen.responding
        return NotImplemented

    def _applies(self, action: str, target: StoredMessage) -> bool:
        if action == "copy_code":
            return "```" in target.content or "~~~" in target.content
        if action == "continue_reply":
            return (
                target.role == "assistant"
                and target.status in _CONTINUE
                and bool(target.content.strip())
                and self.screen.transcript.is_last(target)
            )
        if action == "edit_prompt":
            return target.role == "user" or is_summary(target)
        if action == "toggle_reasoning":
            return bool(target.reasoning)
        if action == "toggle_tool_calls":
            return bool(target.meta.get("rounds"))
        if action == "alternative":
            return target.id in self.screen.transcript.counts
        return True

    def selection_note(self) -> str:
        """What the status bar says of the selected message."""
        selected = self.screen.chat_log.selected_id
        if selected is None or not self.screen.chat_log.has_focus:
            return ""
        message = self.screen.transcript.shown.get(selected)
        if message is None:
            return ""
        if is_summary(message):
            return f"summary selected · {self.screen.key_hint('edit-prompt')} edits it"
        kind = "prompt" if message.role == "user" else "reply"
        alternative = self.screen.transcript.counts.get(selected)
        if alternative is None:
            return f"{kind} selected"
        return f"{kind} {alternative[0]}/{alternative[1]} · [ ] switch"

    # -- the cursor ----------------------------------------------------------------------------

    def select_message(self, step: int) -> None:
        """Select the previous (-1) or next (1) message."""
        self.screen.chat_log.move_selection(step)

    async def select_edge(self, last: bool) -> None:
        """Select the first or the last message (of the whole conversation)."""
        log = self.screen.chat_log
        pager = pager_of(log)
        if (
            pager is not None
            and (pager.newer if last else pager.older)
            and not self.screen.responding
        ):
            # Not page by page through a long history: the log is drawn again from the
            # store (prompts sent since it was drawn included) with a window at that end.
            if last:
                await self.screen.transcript.render()
            else:
                first = self.screen.transcript.first_message_id()
                await self.screen.transcript.render(select=first)
                if first is not None:
                    return  # selected once laid out (see Transcript.render)
        log.select_edge(last)

    # -- copying -------------------------------------------------------------------------------

    def fresh(self, message: StoredMessage) -> StoredMessage:
        """``message`` as the store has it now (the row may have changed since drawn)."""
        try:
            return self.screen.store.get_message(message.id) or message
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
            self.screen.tell(
                f"{what.capitalize()} is too long for the terminal's clipboard "
                f"({len(text):,} characters); export the conversation instead.",
                severity="warning",
            )
            return
        self.screen.app.copy_to_clipboard(text)
        count = len(text)
        self.screen.tell(
            f"Copied {what} ({count:,} character{'s' if count != 1 else ''}) "
            f"via {route.describe()}.",
            title="Clipboard",
        )

    def copy_message(self) -> None:
        """Copy the selected message (or the last reply) as Markdown source."""
        target = self.screen.transcript.target_message()
        if target is None:
            return
        message = self.fresh(target)
        self.copy_text(
            neutralize(message.content), "the prompt" if message.role == "user" else "the reply"
        )

    def copy_code(self) -> None:
        """Copy a code block of the selected message; asks which when there are several."""
        target = self.screen.transcript.target_message()
        if target is None:
            return
        blocks = code_blocks(self.fresh(target).content)
        if not blocks:
            self.screen.tell("This message has no code block.")
            return
        if len(blocks) == 1:
            self.copy_text(neutralize(blocks[0].code), "the code block")
            return

        def chosen(index: int | None) -> None:
            if index is not None:
                self.copy_text(neutralize(blocks[index].code), f"code block {index + 1}")

        self.screen.app.push_screen(
            PickScreen("Copy which code block?", [block.summary for block in blocks]), chosen
        )

    # -- turns that rework the conversation ----------------------------------------------------

    async def regenerate(self, target: StoredMessage | None = None) -> None:
        """Answer the selected reply's prompt again; the old reply stays as an alternative."""
        target = target or self.screen.transcript.target_message()
        if (
            target is None
            or self.screen.responding
            or not await self.screen.replies.provider_ready()
        ):
            return
        screen = self.screen
        turn = self._turn(lambda: screen.session.regenerate(target, screen.provider, screen.model))
        if turn is not None:
            await self._stream_rebuilt(turn, None)

    async def regenerate_last(self) -> None:
        """Regenerate the last reply."""
        await self.regenerate(self.screen.transcript.last_reply())

    async def continue_reply(self, target: StoredMessage | None = None) -> None:
        """Carry on the selected reply (cut by max tokens, stopped or interrupted)."""
        target = target or self.screen.transcript.target_message()
        if (
            target is None
            or self.screen.responding
            or not await self.screen.replies.provider_ready()
        ):
            return
        screen = self.screen
        fresh = self.fresh(target)
        turn = self._turn(
            lambda: screen.session.continue_reply(fresh, screen.provider, screen.model)
        )
        if turn is None:
            return
        log = self.screen.chat_log
        old = log.widget_for(target.id)
        view = self.screen.transcript.live_reply_view(
            turn,
            meta=f"{turn.provider.instance_name} · {turn.request.model} · continuing…",
            message_id=target.id,
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
        self.screen.replies.start(turn, view, None)

    async def continue_last(self) -> None:
        """Continue the last reply."""
        await self.continue_reply(self.screen.transcript.last_reply())

    def edit_prompt(self) -> None:
        """Put the selected prompt in the input box; Enter resends it as a new branch."""
        target = self.screen.transcript.target_message()
        if target is not None and is_summary(target):
            self.screen.fit.edit_summary(self.fresh(target))
            return
        if target is None or target.role != "user":
            self.screen.tell("Select a prompt (one of yours) to edit it.", severity="warning")
            return
        if self.editing is None:
            self._stashed_draft = self.screen.prompt.text
        self.editing = target
        prompt = self.screen.prompt
        prompt.set_text(self.fresh(target).content)
        prompt.add_class("-editing")
        if prompt.has_focus:
            self.screen.status.update_note()
        else:
            # The note says "editing" once the prompt has the focus (on_descendant_focus):
            # keys typed after it appears land in the prompt.
            prompt.focus()
        self.screen.refresh_bindings()

    def cancel_edit(self) -> None:
        """Leave prompt editing; the draft comes back."""
        self.editing = None
        prompt = self.screen.prompt
        prompt.remove_class("-editing")
        prompt.set_text(self._stashed_draft)
        self.screen.status.update_note()
        self.screen.refresh_bindings()

    async def resend_edited(self, text: str) -> bool:
        """Send the edited prompt: a new branch from where the old one was; returns
        whether it was sent."""
        target = self.editing
        if target is None:
            return False
        screen = self.screen
        turn = self._turn(lambda: screen.session.edit(target, text, screen.provider, screen.model))
        if turn is None:
            return False
        self.cancel_edit()
        await self._stream_rebuilt(turn, text)
        return True

    def _turn(self, start: Callable[[], Turn]) -> Turn | None:
        """The turn ``start`` sets up, or None once the person is told why it cannot
        (a refusal as a warning, the store's trouble as an error)."""
        try:
            return start()
        except TurnRefused as exc:
            self.screen.tell(str(exc), severity="warning")
        except TuichatError as exc:
            self.screen.report(exc)
        return None

    async def _stream_rebuilt(self, turn: Turn, prompt: str | None) -> None:
        """Draw the new branch with ``turn``'s reply live, and stream it."""
        await self.screen.transcript.render(live=turn)
        view = self.screen.transcript.live_view
        if view is None:  # the branch does not hold the reply: cannot happen, but never hang
            turn.abandon()
            return
        self.screen.replies.start(turn, view, prompt)
        await self.screen.conversations.reload()

    # -- deleting and switching versions -------------------------------------------------------

    def delete_message(self) -> None:
        """Delete the selected message, after asking (what followed it stays)."""
        target = self.screen.transcript.target_message()
        if target is None or self.screen.responding:
            return
        kind = "prompt" if target.role == "user" else "reply"
        excerpt = one_line(target.content, 60) or "(empty)"

        async def delete(confirmed: bool | None) -> None:
            if not confirmed:
                return
            ids = list(self.screen.transcript.shown)
            index = ids.index(target.id) if target.id in ids else -1
            try:
                self.screen.store.delete_message(target.id)
            except TuichatError as exc:
                self.screen.report(exc)
                return
            rest = [i for i in ids if i != target.id]
            neighbour = rest[min(index, len(rest) - 1)] if rest and index >= 0 else None
            await self.screen.transcript.render(select=neighbour)
            self.screen.chat_log.focus()

        self.screen.app.push_screen(
            DeleteScreen(
                "",
                heading=f"Delete this {kind}?",
                detail=f"“{excerpt}” will be deleted; the messages after it stay.",
            ),
            delete,
        )

    async def alternative(self, step: int) -> None:
        """Show the previous (-1) or next (1) version of the selected message."""
        target = self.screen.transcript.target_message()
        if target is None or self.screen.responding:
            return
        try:
            versions = self.screen.store.alternatives(target.id)
        except TuichatError as exc:
            self.screen.report(exc)
            return
        ids = [version.id for version in versions]
        if target.id not in ids or len(ids) < 2:
            self.screen.tell("This message has no other version.")
            return
        index = ids.index(target.id) + step
        if not 0 <= index < len(ids):
            self.screen.tell("No older version." if step < 0 else "No newer version.")
            return
        try:
            self.screen.store.show_branch(ids[index])
        except TuichatError as exc:
            self.screen.report(exc)
            return
        await self.screen.transcript.render(select=ids[index])
        self.screen.chat_log.focus()

    def toggle_reasoning(self) -> None:
        """Open or close the selected reply's reasoning."""
        target = self.screen.transcript.target_message()
        if target is None:
            return
        found = self.screen.chat_log.query(f"#r{target.id}")
        if found:
            view = found.first(ReasoningView)
            view.expanded = not view.expanded

    # -- the prompt in $EDITOR -----------------------------------------------------------------

    def open_editor(self) -> None:
        """Write the prompt in ``$EDITOR`` (the app steps aside while it runs)."""
        prompt = self.screen.prompt
        if prompt.read_only:
            return
        edited = edit_text(self.screen.app, prompt.text)
        if edited is not None:
            # Editors end files with a newline nobody meant to send.
            prompt.set_text(edited.rstrip("\n"))
        prompt.focus()
