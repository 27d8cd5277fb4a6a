"""The chat screen's answer to a conversation too long for the model's window: the offer
of one keystroke (summarise, trim, or go on in a new conversation seeded with a summary).

The prompt's text is never taken while the choice is open: it stays in the box until
the request it belongs to is actually made.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import work
from textual.css.query import NoMatches

from tuichat.errors import TuichatError
from tuichat.sanitize import one_line
from tuichat.store import Conversation
from tuichat.store import Message as StoredMessage

from .base import ChatScreenBase
from .context_full import ContextFullScreen, FullChoice
from .edit_summary import EditSummaryScreen


class ContextActions(ChatScreenBase):
    """What happens when the next request would not fit."""

    def _init_context_actions(self) -> None:
        # Set when the person (or the summary) has decided how this prompt goes: the
        # next Enter sends it whatever the meter says, trimming what still does not fit.
        self._fit_decided = False

    # -- what it cost -------------------------------------------------------------------------

    def _show_costs(self, conversations: Sequence[Conversation]) -> None:
        """Show beside each title what the conversation cost (one aggregate for the page)."""
        ids = [conversation.id for conversation in conversations]
        try:
            totals = self.store.cost_totals(ids)
        except TuichatError:
            return  # only figures: the store's trouble is reported where it matters
        self.sidebar.show_costs(
            {owner: totals[owner].short() if owner in totals else "" for owner in ids}
        )

    def _show_conversation_cost(self) -> None:
        """Show in the status bar what the open conversation cost so far."""
        spent = None
        if self.conversation_id is not None:
            try:
                spent = self.store.cost_totals([self.conversation_id]).get(self.conversation_id)
            except TuichatError:
                return
        # Nothing priced at all (a local model, the demo): no figure, as for one reply.
        shown = spent.label() if spent is not None and spent.known is not None else ""
        try:
            self.status_bar.show_cost(f"cost {shown}" if shown else "")
        except NoMatches:  # while the screen is being taken down
            pass

    def offer_when_full(self) -> None:
        """Ask, one key each, how to send a prompt that would not fit."""
        self.app.push_screen(
            ContextFullScreen(self.model, self.meter.shown_text), self._when_full_chosen
        )

    def _when_full_chosen(self, choice: FullChoice | None) -> None:
        if choice == "summarise":
            self.summarise_older(send_after=True)
        elif choice == "trim":
            self.send_as_it_is()
        elif choice == "fork":
            self.fork_with_summary()
        else:
            self.prompt.focus()

    def send_as_it_is(self) -> None:
        """Send the prompt in the box now: what does not fit is left out, oldest first."""
        prompt = self.prompt
        if prompt.text.strip():
            self._fit_decided = True
            prompt.action_submit()

    @work(group="summary", exclusive=True, exit_on_error=False)
    async def fork_with_summary(self) -> None:
        """Summarise this whole conversation into a new one and send the prompt there.

        The prompt's text becomes the new conversation's draft before it is opened, so
        that it is in the box even if sending fails.
        """
        if self.conversation_id is None:
            return
        self.tell("Summarising this conversation to start a new one…", title="Context")
        try:
            conversation = self.session.conversation(self.conversation_id)
            fork = await self.session.fork_summarised(conversation, self.provider, self.model)
            if fork is None:
                self.tell("Nothing to summarise yet: the prompt stays here.")
                return
            self.store.update_conversation(fork.id, draft=self.prompt.text)
            self.store.update_conversation(conversation.id, draft="")
        except TuichatError as exc:
            self._report(exc)
            return
        await self._open(fork.id, save_draft=False)
        await self._reload_sidebar()
        title = one_line(conversation.title, 40) or "the last conversation"
        self.tell(
            f"Continuing in a new conversation, from a summary of “{title}”.", title="Context"
        )
        self.send_as_it_is()

    # -- an exact count --------------------------------------------------------------------

    def action_count_tokens(self) -> None:
        """Ask the provider for the exact size of the next request (never done per key)."""
        if not self.runtime.loaded:
            self.tell("Still starting: try again in a moment.")
            return
        self.count_next_request(self.conversation_id, self.prompt.text)

    @work(group="count", exclusive=True, exit_on_error=False)
    async def count_next_request(self, conversation_id: int | None, prompt: str) -> None:
        """Count the next request of ``conversation_id`` with ``prompt``; show it in the
        meter if the conversation on show is still that one."""
        provider, model = self.provider, self.model
        try:
            conversation = (
                self.session.conversation(conversation_id) if conversation_id is not None else None
            )
            tokens = await self.session.count_next(conversation, provider, model, prompt)
        except TuichatError as exc:
            self._report(exc)
            return
        if tokens is None:
            self.tell(
                f"{provider.label} offers no token count: the meter's figure is an estimate "
                "until a reply reports the real one."
            )
            return
        if self.conversation_id != conversation_id:
            return  # another conversation is on show: the figure is not about it
        self.meter.counted(tokens, len(prompt))
        self.tell(f"The next request holds {tokens:,} input tokens, as {provider.label} counts.")

    # -- a summary edited --------------------------------------------------------------------

    def edit_summary(self, summary: StoredMessage) -> None:
        """Open ``summary``'s text for editing; the text saved is what later requests send."""
        covers = summary.meta.get("covers")

        async def saved(text: str | None) -> None:
            if text is None or text == summary.content:
                return
            try:
                meta = {**summary.meta, "edited": True}
                self.store.update_message(summary.id, content=text, meta=meta)
            except TuichatError as exc:
                self._report(exc)
                return
            await self._render_log(select=summary.id)
            self.tell("Summary saved: the next request sends it as edited.", title="Context")

        self.app.push_screen(
            EditSummaryScreen(summary.content, covers if isinstance(covers, int) else None),
            saved,
        )
