"""The chat screen's answer to a conversation too long for the model's window: the offer
of one keystroke (summarise, trim, or go on in a new conversation seeded with a summary).

The prompt's text is never taken while the choice is open: it stays in the box until
the request it belongs to is actually made.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from textual.css.query import NoMatches
from textual.worker import Worker

from tuichat.errors import TuichatError
from tuichat.sanitize import one_line
from tuichat.store import Conversation
from tuichat.store import Message as StoredMessage

if TYPE_CHECKING:
    from ..screens.chat import ChatScreen
    from ..screens.context_full import FullChoice


class Fit:
    """What a conversation costs, and what happens when the next request would not fit."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen
        # Set when the person (or the summary) has decided how this prompt goes: the
        # next Enter sends it whatever the meter says, trimming what still does not fit.
        self.decided = False

    def fits_or_decided(self) -> bool:
        """Whether the prompt in the box may be sent now. When the request would not
        fit and nothing was decided, ``[context] when_full`` says what happens instead
        (summarise first, or ask how) and the prompt waits in the box."""
        decided, self.decided = self.decided, False
        if not self.screen.meter.full or decided:
            return True
        when_full = self.screen.runtime.settings.context.when_full
        if when_full == "trim":
            return True
        if when_full == "summarise":
            self.summarise_older(send_after=True)
        else:
            self.offer_when_full()
        return False

    # -- what it cost -------------------------------------------------------------------------

    def show_costs(self, conversations: Sequence[Conversation]) -> None:
        """Show beside each title what the conversation cost (one aggregate for the page)."""
        ids = [conversation.id for conversation in conversations]
        try:
            totals = self.screen.store.cost_totals(ids)
        except TuichatError:
            return  # only figures: the store's trouble is reported where it matters
        self.screen.sidebar.show_costs(
            {owner: totals[owner].short() if owner in totals else "" for owner in ids}
        )

    def show_conversation_cost(self) -> None:
        """Show in the status bar what the open conversation cost so far."""
        spent = None
        if self.screen.conversation_id is not None:
            try:
                spent = self.screen.store.cost_totals([self.screen.conversation_id]).get(
                    self.screen.conversation_id
                )
            except TuichatError:
                return
        # Nothing priced at all (a local model, the demo): no figure, as for one reply.
        shown = spent.label() if spent is not None and spent.known is not None else ""
        try:
            self.screen.status_bar.show_cost(f"cost {shown}" if shown else "")
        except NoMatches:  # while the screen is being taken down
            pass

    def offer_when_full(self) -> None:
        """Ask, one key each, how to send a prompt that would not fit."""
        from ..screens.context_full import ContextFullScreen  # (not before the first frame)

        self.screen.app.push_screen(
            ContextFullScreen(self.screen.model, self.screen.meter.shown_text),
            self._when_full_chosen,
        )

    def _when_full_chosen(self, choice: FullChoice | None) -> None:
        if choice == "summarise":
            self.summarise_older(send_after=True)
        elif choice == "trim":
            self.send_as_it_is()
        elif choice == "fork":
            self.fork_with_summary()
        else:
            self.screen.prompt.focus()

    def send_as_it_is(self) -> None:
        """Send the prompt in the box now: what does not fit is left out, oldest first."""
        prompt = self.screen.prompt
        if prompt.text.strip():
            self.decided = True
            prompt.action_submit()

    def fork_with_summary(self) -> Worker[None]:
        """Summarise this whole conversation into a new one, in a worker (see
        :meth:`_fork_with_summary`)."""
        return self.screen.run_worker(
            self._fork_with_summary, group="summary", exclusive=True, exit_on_error=False
        )

    async def _fork_with_summary(self) -> None:
        """Summarise this whole conversation into a new one and send the prompt there.

        The prompt's text becomes the new conversation's draft before it is opened, so
        that it is in the box even if sending fails.
        """
        if self.screen.conversation_id is None:
            return
        self.screen.tell("Summarising this conversation to start a new one…", title="Context")
        try:
            conversation = self.screen.session.conversation(self.screen.conversation_id)
            fork = await self.screen.session.fork_summarised(
                conversation, self.screen.provider, self.screen.model
            )
            if fork is None:
                self.screen.tell("Nothing to summarise yet: the prompt stays here.")
                return
            self.screen.store.update_conversation(fork.id, draft=self.screen.prompt.text)
            self.screen.store.update_conversation(conversation.id, draft="")
        except TuichatError as exc:
            self.screen.report(exc)
            return
        await self.screen.open_conversation(fork.id, save_draft=False)
        await self.screen.conversations.reload()
        title = one_line(conversation.title, 40) or "the last conversation"
        self.screen.tell(
            f"Continuing in a new conversation, from a summary of “{title}”.", title="Context"
        )
        self.send_as_it_is()

    # -- an exact count --------------------------------------------------------------------

    def count_tokens(self) -> Worker[None] | None:
        """Ask the provider for the exact size of the next request (never done per key),
        in a worker (returned; None when it cannot be asked yet)."""
        if not self.screen.runtime.loaded:
            self.screen.tell("Still starting: try again in a moment.")
            return None
        conversation_id, prompt = self.screen.conversation_id, self.screen.prompt.text

        async def count() -> None:
            await self.count_next_request(conversation_id, prompt)

        return self.screen.run_worker(
            count,
            group="count",
            exclusive=True,
            exit_on_error=False,
        )

    async def count_next_request(self, conversation_id: int | None, prompt: str) -> None:
        """Count the next request of ``conversation_id`` with ``prompt``; show it in the
        meter if the conversation on show is still that one."""
        provider, model = self.screen.provider, self.screen.model
        try:
            conversation = (
                self.screen.session.conversation(conversation_id)
                if conversation_id is not None
                else None
            )
            tokens = await self.screen.session.count_next(conversation, provider, model, prompt)
        except TuichatError as exc:
            self.screen.report(exc)
            return
        if tokens is None:
            self.screen.tell(
                f"{provider.label} offers no token count: the meter's figure is an estimate "
                "until a reply reports the real one."
            )
            return
        if self.screen.conversation_id != conversation_id:
            return  # another conversation is on show: the figure is not about it
        self.screen.meter.counted(tokens, len(prompt))
        self.screen.tell(
            f"The next request holds {tokens:,} input tokens, as {provider.label} counts."
        )

    # -- a summary edited --------------------------------------------------------------------

    def edit_summary(self, summary: StoredMessage) -> None:
        """Open ``summary``'s text for editing; the text saved is what later requests send."""
        from ..screens.edit_summary import EditSummaryScreen  # (not before the first frame)

        covers = summary.meta.get("covers")

        async def saved(text: str | None) -> None:
            if text is None or text == summary.content:
                return
            try:
                meta = {**summary.meta, "edited": True}
                self.screen.store.update_message(summary.id, content=text, meta=meta)
            except TuichatError as exc:
                self.screen.report(exc)
                return
            await self.screen.transcript.render(select=summary.id)
            self.screen.tell("Summary saved: the next request sends it as edited.", title="Context")

        self.screen.app.push_screen(
            EditSummaryScreen(summary.content, covers if isinstance(covers, int) else None),
            saved,
        )

    # -- long conversations --------------------------------------------------------------------

    def summarise_conversation(self) -> None:
        """Have the older turns summarised now; the summary is sent in their place."""
        if self.screen.responding:
            self.screen.tell("A reply is streaming: summarise once it ends.")
            return
        if self.screen.conversation_id is None:
            self.screen.tell("Nothing to summarise yet: this conversation has no turns.")
            return
        self.summarise_older(send_after=False)

    def summarise_older(self, *, send_after: bool) -> Worker[None]:
        """Summarise the older turns in a worker (see :meth:`_summarise_older`)."""
        return self.screen.run_worker(
            partial(self._summarise_older, send_after=send_after),
            group="summary",
            exclusive=True,
            exit_on_error=False,
        )

    async def _summarise_older(self, *, send_after: bool) -> None:
        """Summarise the older turns (by ``[context] summary_model``, else this model),
        draw the conversation again, and send the prompt waiting in the box if asked."""
        if self.screen.conversation_id is None:
            return
        self.screen.tell("Summarising the older turns…", title="Context")
        try:
            conversation = self.screen.session.conversation(self.screen.conversation_id)
            summary = await self.screen.session.summarise(
                conversation, self.screen.provider, self.screen.model
            )
        except TuichatError as exc:
            self.screen.report(exc)
            return
        if summary is None:
            self.screen.tell(
                "Nothing old enough to summarise: the last messages are kept as they are."
            )
        else:
            await self.screen.transcript.render()
            self.screen.tell(
                f"Summarised {summary.meta.get('covers')} earlier messages; the summary is "
                "sent in their place.",
                title="Context",
            )
        if send_after:
            # Decided: sent now, even if the kept turns alone still pass the share.
            self.send_as_it_is()
