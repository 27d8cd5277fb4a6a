"""The chat screen's drafts: the unsent text of each conversation, kept as it is typed
(a moment after the typing stops), put back when the conversation opens again, and
forgotten once sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.css.query import NoMatches

from tuichat.errors import TuichatError

from ..later import Later

if TYPE_CHECKING:
    from ..screens.chat import ChatScreen

#: Seconds of quiet typing before the draft is saved.
DRAFT_DELAY = 0.5

#: Settings key of the draft of a conversation not saved yet.
NEW_DRAFT_KEY = "draft:new"


class Drafts:
    """What was typed and not sent, per conversation."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen
        self._draft_soon = Later(screen, self.save)
        # (conversation id or None, text) last written, to skip writes that change nothing.
        self._draft_written: tuple[int | None, str] | None = None
        self._prompt_text = ""

    def changed(self) -> None:
        """Save the unsent text soon (typing must not write on every key)."""
        if self.screen.messages.editing is not None:
            return
        # Kept on every change: when quitting, the prompt is gone before the screen.
        # (Saved while a reply streams too: the next message may be written meanwhile.)
        self._prompt_text = self.screen.prompt.text
        self._draft_soon.arm(DRAFT_DELAY)
        self.screen.meter.typed(len(self._prompt_text))

    def save(self) -> None:
        """Write the prompt's text as the open conversation's draft, if it changed."""
        self._draft_soon.cancel()
        if self.screen.messages.editing is not None:
            return
        try:
            text = self.screen.prompt.text
        except NoMatches:
            # Quitting: the prompt is gone already; its last text was kept on each change.
            text = self._prompt_text
        owner = self.screen.conversation_id
        if self._draft_written == (owner, text):
            return
        try:
            if owner is None:
                self.screen.store.set_setting(NEW_DRAFT_KEY, text or None)
            else:
                self.screen.store.update_conversation(owner, draft=text)
        except TuichatError:
            # Another window may have deleted the conversation; a draft is not worth a toast.
            return
        self._draft_written = (owner, text)

    def load(self) -> None:
        """Put the open conversation's draft in the prompt (after a switch or a restart)."""
        owner = self.screen.conversation_id
        try:
            if owner is None:
                value = self.screen.store.get_setting(NEW_DRAFT_KEY, "")
                text = value if isinstance(value, str) else ""
            else:
                conversation = self.screen.store.get_conversation(owner)
                text = conversation.draft if conversation is not None else ""
        except TuichatError:
            text = ""
        self._draft_soon.cancel()
        if not self.screen.prompt.read_only:
            self.screen.prompt.set_text(text)
        self._prompt_text = text
        self._draft_written = (owner, text)

    def sent(self, *, was_new: bool) -> None:
        """The prompt was sent: its draft is gone."""
        self._draft_soon.cancel()
        # (Enter took the text out of the box at once: keys typed since are the next draft.)
        self._prompt_text = self.screen.prompt.text
        try:
            if was_new:
                self.screen.store.set_setting(NEW_DRAFT_KEY, None)
            if self.screen.conversation_id is not None:
                self.screen.store.update_conversation(self.screen.conversation_id, draft="")
        except TuichatError:
            return
        self._draft_written = (self.screen.conversation_id, "")

    def save_on_quit(self) -> None:
        """Quitting: keep what was typed."""
        try:
            self.save()
        except Exception:  # noqa: BLE001 - never let quitting fail over a draft
            pass
