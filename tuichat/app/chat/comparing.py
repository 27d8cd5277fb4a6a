"""The chat screen's compare actions: open compare mode (F3) on the prompt being typed, start
the comparison in the open conversation, show a stored comparison again (``v`` on one of
its messages), and show the reply picked as the conversation's branch when it closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tuichat import compare
from tuichat.compare import Comparison
from tuichat.errors import TuichatError

from ..screens.models import Choice

if TYPE_CHECKING:
    from ..screens.chat import ChatScreen
    from ..screens.compare import CompareOutcome


class Comparing:
    """Compare mode, seen from the chat screen."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen

    def check(self, action: str) -> Any:
        """Whether a compare action applies (NotImplemented: not one of these)."""
        if action == "compare":
            return not self.screen.responding and self.screen.messages.editing is None
        if action == "show_comparison":
            target = self.screen.transcript.target_message()
            return (
                not self.screen.responding
                and target is not None
                and compare.group_of(target) is not None
            )
        return NotImplemented

    def compare(self) -> None:
        """Open compare mode with the chat's model and the prompt typed so far."""
        if self.screen.responding or self.screen.messages.editing is not None:
            return
        from ..screens.compare import CompareScreen  # (not before the first frame)

        screen = CompareScreen(
            self.screen.store,
            choices=[(self.screen.provider.instance_name, self.screen.model)],
            prompt=self.screen.prompt.text,
            start=self._start_comparison,
            choose_model=self.screen.models.open_picker,
            key_hint=self.screen.key_hint,
            fps=self.screen.runtime.ui.fps,
            cursor_blink=self.screen.runtime.ui.cursor_blink,
        )
        self.screen.app.push_screen(screen, self._comparison_closed)

    def show_comparison(self) -> None:
        """Show the comparison the selected message (or the last reply) is part of."""
        target = self.screen.transcript.target_message()
        if target is None or self.screen.responding:
            return
        try:
            stored = compare.load(self.screen.store, target.id)
        except TuichatError as exc:
            self.screen.report(exc)
            return
        if stored is None:
            self.screen.tell("This message is not part of a comparison.")
            return
        on_show = next((r.id for r in stored.replies if r.id in self.screen.transcript.shown), None)
        from ..screens.compare import CompareScreen

        screen = CompareScreen(
            self.screen.store,
            stored=stored,
            on_show=on_show,
            key_hint=self.screen.key_hint,
            fps=self.screen.runtime.ui.fps,
        )
        self.screen.app.push_screen(screen, self._comparison_closed)

    def _start_comparison(self, prompt: str, choices: Sequence[Choice]) -> Comparison:
        """Save the prompt and a streaming reply per model in the open conversation."""
        contenders = self.screen.session.contenders(choices)
        first_exchange = self.screen.conversation_id is None
        comparison = self.screen.session.compare(
            self.screen.replies.conversation_for_turn(),
            prompt,
            contenders,
            attachments=self.screen.files.attachments,
        )
        self.screen.files.sent()
        # The prompt went to compare mode: it is sent, not a draft any more.
        self.screen.prompt.clear()
        self.screen.drafts.sent(was_new=first_exchange)
        self.screen.run_worker(
            self.screen.conversations.reload(), group="sidebar", exit_on_error=False
        )
        return comparison

    async def _comparison_closed(self, outcome: CompareOutcome | None) -> None:
        """Back from compare mode: show the conversation on the branch picked."""
        if outcome is None:
            return
        if outcome.conversation_id is None:
            if outcome.draft and not self.screen.prompt.text.strip():
                self.screen.prompt.set_text(outcome.draft)
            return
        await self.screen.open_conversation(outcome.conversation_id)
        if outcome.choice is not None and outcome.picked is not None:
            provider, model = outcome.choice
            self.screen.models.switch(provider, model, quiet=True)
            self.screen.tell(
                f"Continuing with the reply of {provider} · {model}, now the model of this "
                "conversation; the other replies stay as alternatives ([ ] switch)."
            )
        self.screen.prompt.focus()
        await self.screen.conversations.reload()
