"""The reply controller: one reply streaming at a time, from its start to its end.

It starts the turn's stream in a worker, draws what arrives (text, reasoning, tool
calls, retries), and ends the reply however it ends (complete, failed, cancelled): the
row is final, the view shows its meta and any error, a failed prompt comes back to the
box with its files, and the first exchange of a conversation gets a title.
"""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from tuichat.attachments import Attachment
from tuichat.chat import Turn, title_from_prompt
from tuichat.errors import TuichatError
from tuichat.protocol import ReasoningDelta, Retrying, TextDelta, ToolCall
from tuichat.session import Overrides, missing_key
from tuichat.store import Conversation
from tuichat.store import Message as StoredMessage
from tuichat.tool_loop import ToolFinished, ToolStarted, ToolUse

from ..input_first import InputFirst
from ..meta import message_meta, meta_line
from ..widgets.history import pager_of
from ..widgets.message import ReplyView
from ..widgets.prompt import PromptInput
from ..widgets.reasoning import ReasoningView
from ..workers import settle
from .transcript import reasoning_dom_id

if TYPE_CHECKING:
    from tuichat.provider import Provider

    from ..screens.chat import ChatScreen


@dataclass
class ReplyFailed(Message):
    """The reply worker caught an error; ``sentence`` is ready to show."""

    message_id: int
    """The assistant message's row id."""
    sentence: str
    """One human sentence, neutralised and redacted."""


@dataclass
class ActiveReply:
    """The reply being streamed and what is needed to end it well."""

    turn: Turn
    """The turn (its row, its state)."""
    view: ReplyView
    """Where the reply is drawn."""
    prompt: str | None
    """The prompt text, put back in the input box if the reply fails (None: nothing to)."""
    worker: Worker[None] | None = None
    """The worker streaming it."""
    error: str | None = None
    """The error sentence, once the worker reported one."""
    reasoning: ReasoningView | None = None
    """Where its reasoning is drawn, once some arrived."""
    first_exchange: bool = False
    """Whether this answers the first prompt of a new conversation (titles)."""
    files: list[Attachment] = field(default_factory=list)
    """The files sent with the prompt (back above the prompt if the reply fails)."""


class Replies:
    """The reply streaming in the chat screen (at most one)."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen
        self.active: ActiveReply | None = None
        """The reply streaming now."""

    # -- a turn starts -------------------------------------------------------------------

    def conversation_for_turn(self) -> Conversation:
        """The open conversation, created now (with the options set for it) if new."""
        conversation = None
        if self.screen.conversation_id is not None:
            conversation = self.screen.store.get_conversation(self.screen.conversation_id)
        if conversation is None:
            conversation = self.screen.session.start_conversation(
                self.screen.provider,
                self.screen.model,
                Overrides(system=self.screen.models.pending_system_override()),
                params={
                    **self.screen.models.pending_params(),
                    **self.screen.tools.pending_params(),
                },
            )
            self.screen.conversation_id = conversation.id
            self.screen.models.clear_pending()
            self.screen.tools.pending = None
        return conversation

    async def send_prompt(self, event: PromptInput.Submitted) -> None:
        """Save the prompt, start the reply and stream it in a worker."""
        text = event.text
        if self.screen.responding:
            # The next message may be written while a reply streams, but sent only after
            # it: its history must hold the whole reply. The text stays in the prompt.
            event.keep()
            self.screen.tell(
                "A reply is still streaming: the text stays here; press Enter again once "
                f"it ends ({self.screen.key_hint('stop-reply')} stops it)."
            )
            return
        if not await self.provider_ready():
            event.keep()
            return
        if self.screen.messages.editing is not None:
            if not await self.screen.messages.resend_edited(text):
                event.keep()
            return
        if not self.screen.fit.fits_or_decided():
            event.keep()  # too long to send whole: the text stays while it is decided
            return
        provider, model = self.screen.provider, self.screen.model
        first_exchange = self.screen.conversation_id is None
        tools = await self.screen.tools.tool_use()
        try:
            turn = self.begin_turn(provider, model, text, tools)
        except TuichatError as exc:
            event.keep()
            await self.screen.transcript.show_error(self.screen.sentence(exc, provider))
            return
        self.screen.drafts.sent(was_new=first_exchange)
        files = self.screen.files.sent()
        self.screen.files.remember(turn.user_message, files)
        view = await self.screen.transcript.append_turn(turn, text)
        if view is None:  # the log was drawn again without the reply: cannot happen
            turn.abandon()
            return
        log = self.screen.chat_log
        log.select(None, scroll=False)
        log.anchor()
        self.start(turn, view, text, first_exchange=first_exchange)
        if self.active is not None:
            self.active.files = files
        await self.screen.conversations.reload()

    def begin_turn(
        self, provider: Provider, model: str, text: str, tools: ToolUse | None = None
    ) -> Turn:
        """Save the prompt (and its files) and set up the turn that answers it."""
        conversation = self.conversation_for_turn()
        return self.screen.session.send(
            conversation,
            text,
            provider,
            model,
            attachments=self.screen.files.attachments,
            tools=tools,
        )

    async def provider_ready(self) -> bool:
        """Whether the provider can be asked; if not, say why in the log."""
        error = missing_key(self.screen.provider)
        if error is not None:
            await self.screen.transcript.show_error(f"{error} Then restart tuichat.")
            return False
        return True

    # -- the reply streams ------------------------------------------------------------------

    def start(
        self, turn: Turn, view: ReplyView, prompt: str | None, *, first_exchange: bool = False
    ) -> None:
        """Stream ``turn`` into ``view`` in the reply worker (``prompt``: back in the box
        if it fails)."""
        self.screen.responding = True
        self.active = ActiveReply(turn, view, prompt, first_exchange=first_exchange)
        self.active.worker = self.screen.run_worker(
            partial(self.stream, turn, view), group="reply", exclusive=True, exit_on_error=False
        )
        self.screen.sidebar.mark_active(self.screen.conversation_id)
        self.screen.refresh_bindings()

    async def stream(self, turn: Turn, view: ReplyView) -> None:
        """Stream the reply into ``view``; the turn saves it as it goes.

        Provider errors are posted as :class:`ReplyFailed`; anything else ends the
        worker in the ERROR state, which :meth:`worker_changed` turns into an
        inline error. Cancelling the worker (Esc) closes the provider's stream at once.
        """
        provider = turn.provider
        retrying = False
        # A key press waiting to be shown goes before the next delta (see input_first).
        gate: InputFirst | None = getattr(self.screen.app, "input_first", None)
        try:
            async with aclosing(turn.stream()) as events:
                async for event in events:
                    if gate is not None and gate.pending:
                        await gate.wait()
                    if isinstance(event, TextDelta):
                        if retrying:
                            retrying = False
                            view.set_meta(self.screen.transcript.live_meta(turn))
                        await view.append(event.text)
                    elif isinstance(event, ReasoningDelta):
                        await self._show_reasoning(turn, view, event.text)
                    elif isinstance(event, ToolCall | ToolStarted | ToolFinished):
                        await self.screen.tools.show_event(turn, view, event)
                    elif isinstance(event, Retrying):
                        retrying = True
                        view.set_meta(
                            self.screen.transcript.live_meta(
                                turn,
                                note=f"retrying in {event.delay:.0f} s "
                                f"(attempt {event.attempt} of {event.attempts})",
                            )
                        )
        except TuichatError as exc:
            sentence = self.screen.sentence(exc, provider)
            self.screen.post_message(ReplyFailed(turn.message_id, sentence))
        finally:
            self.screen.tools.end_live_calls()

    async def _show_reasoning(self, turn: Turn, view: ReplyView, text: str) -> None:
        active = self.active
        if active is None or active.turn is not turn:
            return
        if active.reasoning is None:
            active.reasoning = ReasoningView(
                live=True,
                toggle_key=self.screen.key_hint("toggle-reasoning"),
                id=reasoning_dom_id(turn.message_id),
            )
            if view.is_attached:
                log = self.screen.chat_log
                await log.mount(active.reasoning, before=view)
                pager = pager_of(log)
                if pager is not None:
                    pager.join(active.reasoning, view)
        active.reasoning.append(text)

    def failed(self, event: ReplyFailed) -> None:
        """Keep the worker's error sentence until the worker has ended."""
        active = self.active
        if active is not None and active.turn.message_id == event.message_id:
            active.error = event.sentence

    async def worker_changed(self, event: Worker.StateChanged) -> None:
        """End the reply when its worker ends, however it ended."""
        active = self.active
        if active is None or event.worker is not active.worker:
            return
        if not self.screen.app.is_running:
            # Quitting: the turn has saved the reply itself; the widgets are going away.
            return
        if event.state == WorkerState.ERROR and active.error is None:
            error = active.turn.state.error
            active.error = (
                self.screen.sentence(error, active.turn.provider)
                if error is not None
                else "Something unexpected went wrong while streaming "
                f"({type(event.worker.error).__name__}); the partial reply is kept."
            )
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            await self.finish(active)

    async def finish(self, active: ActiveReply) -> None:
        if self.active is not active:
            return
        self.active = None
        turn = active.turn
        state = turn.state
        try:
            # Cancelled before the stream even started: the turn never finalised its row.
            turn.abandon()
        except TuichatError as exc:
            self.screen.report(exc)
        sentence = active.error
        if sentence is None and state.error is not None and state.status != "cancelled":
            sentence = self.screen.sentence(state.error, turn.provider)
        stored = self.screen.transcript.stored(turn.message_id)
        if active.reasoning is not None:
            active.reasoning.finish()
        alternative = None
        if active.view.is_attached:
            if self.screen.conversation_id is not None:
                try:
                    alternative = self.screen.store.alternative_counts(
                        self.screen.conversation_id
                    ).get(turn.message_id)
                except TuichatError:
                    alternative = None
            await active.view.finish(
                status=state.status,
                meta=message_meta(
                    stored, alternative=alternative, hints=self.screen.hints(), last=True
                )
                if stored is not None
                else meta_line(
                    provider=turn.provider.instance_name,
                    model=turn.request.model,
                    status=state.status,
                ),
            )
            if sentence:
                active.view.show_error(sentence)
        if stored is not None:
            self.screen.transcript.shown[stored.id] = stored
            self.settle(active.view, stored, alternative)
        self.screen.responding = False
        if sentence and active.prompt is not None and not self.screen.prompt.text.strip():
            # Nothing typed is lost: the prompt comes back for another try.
            self.screen.prompt.set_text(active.prompt)
            self.screen.files.back(active.files)
        if self.screen.focused is None:
            self.screen.prompt.focus()
        if active.first_exchange and state.status == "complete":
            self._title_in_background(turn)
        self.screen.status.measure_context()
        await self.screen.conversations.reload()

    def settle(
        self, view: ReplyView, stored: StoredMessage, alternative: tuple[int, int] | None
    ) -> None:
        """The reply has ended: the log's window may let it go and re-create it later."""
        pager = pager_of(self.screen.chat_log)
        if pager is None:
            return

        def widgets() -> list[Widget]:
            return self.screen.transcript.message_widgets(
                stored, alternative, self.screen.transcript.is_last(stored)
            )

        pager.settle(view, widgets)

    def _title_in_background(self, turn: Turn) -> None:
        """Ask the model for a better title, when a real provider answered the first prompt."""
        settings = self.screen.runtime.settings
        prompt = turn.user_message
        if not settings.ui.title_from_model or turn.provider.name == "demo" or prompt is None:
            return
        self.screen.models.generate_title(
            turn.conversation_id,
            turn.provider,
            turn.request.model,
            prompt.content,
            turn.state.content,
            title_from_prompt(prompt.content),
        )

    def stop(self) -> None:
        """Stop the streaming reply; what arrived is kept and marked cancelled.

        From the chat log (or the sidebar) it also goes back to the prompt, as Esc does
        there once nothing streams: what is typed next is a prompt, not single-letter
        actions on the selected message (r regenerates, e edits).
        """
        active = self.active
        if active is not None and active.worker is not None:
            active.worker.cancel()
        if self.screen.focused is not self.screen.prompt:
            self.screen.prompt.focus()

    def interrupt(self) -> bool:
        """Ctrl+C: stop the streaming reply, as Esc does; False when nothing streams."""
        if not self.screen.responding:
            return False
        self.stop()
        return True

    async def stop_and_settle(self) -> None:
        """Stop a streaming reply and wait until it is saved."""
        active = self.active
        if active is None:
            return
        if active.worker is not None:
            active.worker.cancel()
            await settle(active.worker)
        await self.finish(active)
