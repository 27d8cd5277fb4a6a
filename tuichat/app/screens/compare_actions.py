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

from .base import ChatScreenBase
from .models import Choice

if TYPE_CHECKING:
    from .compare import CompareOutcome


class CompareActions(ChatScreenBase):
    """Compare mode, seen from the chat screen."""

    def _check_compare_action(self, action: str) -> Any:
        if action == "compare":
            return not self.responding and self._editing is None
        if action == "show_comparison":
            target = self._target_message()
            return (
                not self.responding and target is not None and compare.group_of(target) is not None
            )
        return NotImplemented

    def action_compare(self) -> None:
        """Open compare mode with the chat's model and the prompt typed so far."""
        if self.responding or self._editing is not None:
            return
        from .compare import CompareScreen  # (not before the first frame)

        screen = CompareScreen(
            self.store,
            choices=[(self.provider.instance_name, self.model)],
            prompt=self.prompt.text,
            start=self._start_comparison,
            choose_model=self._open_model_picker,
            key_hint=self.key_hint,
            fps=self.runtime.ui.fps,
            cursor_blink=self.runtime.ui.cursor_blink,
        )
        self.app.push_screen(screen, self._comparison_closed)

    def action_show_comparison(self) -> None:
        """Show the comparison the selected message (or the last reply) is part of."""
        target = self._target_message()
        if target is None or self.responding:
            return
        try:
            stored = compare.load(self.store, target.id)
        except TuichatError as exc:
            self._report(exc)
            return
        if stored is None:
            self.tell("This message is not part of a comparison.")
            return
        on_show = next((r.id for r in stored.replies if r.id in self._shown), None)
        from .compare import CompareScreen

        screen = CompareScreen(
            self.store,
            stored=stored,
            on_show=on_show,
            key_hint=self.key_hint,
            fps=self.runtime.ui.fps,
        )
        self.app.push_screen(screen, self._comparison_closed)

    def _start_comparison(self, prompt: str, choices: Sequence[Choice]) -> Comparison:
        """Save the prompt and a streaming reply per model in the open conversation."""
        contenders = self.session.contenders(choices)
        first_exchange = self.conversation_id is None
        comparison = self.session.compare(
            self._conversation_for_turn(), prompt, contenders, attachments=self.attachments
        )
        self._attachments_sent()
        # The prompt went to compare mode: it is sent, not a draft any more.
        self.prompt.clear()
        self._draft_sent(was_new=first_exchange)
        self.run_worker(self._reload_sidebar(), group="sidebar", exit_on_error=False)
        return comparison

    async def _comparison_closed(self, outcome: CompareOutcome | None) -> None:
        """Back from compare mode: show the conversation on the branch picked."""
        if outcome is None:
            return
        if outcome.conversation_id is None:
            if outcome.draft and not self.prompt.text.strip():
                self.prompt.set_text(outcome.draft)
            return
        await self._open(outcome.conversation_id)
        if outcome.choice is not None and outcome.picked is not None:
            provider, model = outcome.choice
            self._switch_model(provider, model, quiet=True)
            self.tell(
                f"Continuing with the reply of {provider} · {model}, now the model of this "
                "conversation; the other replies stay as alternatives ([ ] switch)."
            )
        self.prompt.focus()
        await self._reload_sidebar()
