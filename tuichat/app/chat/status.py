"""The status bar's content: who the chat is with, the context meter, what the
conversation cost, and the note on the right (streaming, editing, the selection).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.css.query import NoMatches

from tuichat.errors import TuichatError

if TYPE_CHECKING:
    from ..screens.chat import ChatScreen


class StatusLine:
    """What the line above the prompt says."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen

    def show_model(self) -> None:
        """Show the provider and model in the status bar."""
        self.screen.status_bar.show_model(
            self.screen.provider_name, self.screen.model, demo=self.screen.is_demo
        )
        self.measure_context()

    def measure_context(self) -> None:
        """Measure the history for the context meter again (it or the model changed)."""
        self.screen.fit.show_conversation_cost()
        if not self.screen.runtime.loaded:
            return  # the first frame waits for nothing: measured once the runtime is in
        conversation = None
        try:
            if self.screen.conversation_id is not None:
                conversation = self.screen.store.get_conversation(self.screen.conversation_id)
            history = list(self.screen.transcript.shown.values())
            self.screen.meter.recompute(
                conversation, self.screen.provider, self.screen.model, history
            )
        except TuichatError:
            return  # only a meter: the store's trouble is reported where it matters

    def show_meter(self, text: str, level: str) -> None:
        """Show the context meter's figure (``level``: how full)."""
        try:
            self.screen.status_bar.show_meter(text, level)
        except NoMatches:  # while the screen is being taken down
            pass

    def update_note(self) -> None:
        """Refresh the note on the right of the status bar."""
        shorter: tuple[str, ...] = ()
        if self.screen.responding:
            note = f"responding… {self.screen.key_hint('stop-reply')} stops"
        elif self.screen.messages.editing is not None:
            cancel = f"{self.screen.key_hint('focus-prompt')} cancels"
            note = f"editing a prompt · Enter resends as a new branch · {cancel}"
            shorter = (f"editing · Enter resends · {cancel}", f"editing · {cancel}")
        else:
            note = self.screen.messages.selection_note()
        try:
            self.screen.status_bar.show_note(note, *shorter)
        except NoMatches:  # while the screen is being taken down
            pass
