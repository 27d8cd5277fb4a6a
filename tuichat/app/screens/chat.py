"""The chat screen: sidebar | chat log, status bar and prompt. It orchestrates a turn.

The screen is the only place where the store, the providers and the widgets meet: the
widgets post messages up, the screen reads and writes the store, drives
:class:`~tuichat.chat.Turn` in a worker and passes data back down. This module holds the
layout, the log and the turn engine; the actions live in sibling modules (see
:mod:`.base`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from tuichat.chat import Turn, title_from_prompt
from tuichat.chosen import Chosen
from tuichat.errors import TuichatError
from tuichat.protocol import ReasoningDelta, Retrying, TextDelta, ToolCall
from tuichat.runtime import Runtime
from tuichat.session import Overrides, Session, missing_key
from tuichat.store import Conversation
from tuichat.store import Message as StoredMessage
from tuichat.summaries import is_summary
from tuichat.tool_loop import ToolFinished, ToolStarted, ToolUse

from ..bindings import bindings_for
from ..input_first import InputFirst
from ..meta import message_meta, meta_line
from ..meter import Meter
from ..widgets.attachment_chips import AttachmentChips
from ..widgets.chat_log import ChatLog, message_dom_id
from ..widgets.footer import KeysFooter
from ..widgets.history import HistoryPager, WidgetFactory, first_mounted, fixed, pager_of
from ..widgets.message import InlineError, ReplyView, SummaryView, UserMessage
from ..widgets.path_completer import PathCompleter
from ..widgets.prompt import PromptInput
from ..widgets.reasoning import ReasoningView
from ..widgets.sidebar import ConversationList
from ..widgets.status import StatusBar
from ..widgets.welcome import WelcomePanel
from ..workers import settle
from .attach_actions import AttachActions
from .base import ActiveReply, ChatScreenBase
from .compare_actions import CompareActions
from .context_actions import ContextActions
from .conversation_actions import ConversationActions
from .message_actions import MessageActions
from .model_actions import ModelActions
from .prompt_library import PromptLibraryPart
from .tool_actions import ToolActions

if TYPE_CHECKING:
    from tuichat.provider import Provider

#: Conversations per sidebar page.
SIDEBAR_PAGE = 50

#: Below this many columns the sidebar starts hidden.
NARROW_COLUMNS = 100


#: The empty prompt's hint (another one shows while a reply streams).
PLACEHOLDER = "Message · Enter sends · Ctrl+J new line"


def reasoning_dom_id(message_id: int) -> str:
    """The DOM id of the reasoning shown above reply ``message_id``."""
    return f"r{message_id}"


class ChatScreen(
    ConversationActions,
    ModelActions,
    MessageActions,
    CompareActions,
    ToolActions,
    AttachActions,
    ContextActions,
    ChatScreenBase,
):
    """The main screen: conversations on the left, the chat on the right."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings_for("global"))

    # Focus the prompt from the first frame: keys typed while the rest loads land there.
    AUTO_FOCUS = "#prompt"

    @dataclass
    class ReplyFailed(Message):
        """The reply worker caught an error; ``sentence`` is ready to show."""

        message_id: int
        """The assistant message's row id."""
        sentence: str
        """One human sentence, neutralised and redacted."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        provider: str | None = None,
        model: str | None = None,
        clock: Callable[[], float] | None = None,
        now: Callable[[], float] | None = None,
    ) -> None:
        """Create it.

        Args:
            runtime: Settings, providers and store.
            provider: Provider instance to chat with (default: the runtime's choice).
            model: Model (or ``provider/model``) to chat with.
            clock: Replaces the turns' monotonic clock (tests, for stable timings).
            now: Replaces the wall clock of the sidebar's date groups (tests).
        """
        super().__init__()
        self.runtime = runtime
        self._clock = clock
        self.now = now or time.time
        # Who the chat is with; the boot cache's two phases stay inside it.
        self.chosen = Chosen(runtime, provider, model)
        self._sidebar_choice: bool | None = None
        self.conversation_id: int | None = None
        """The conversation in the chat log; None until the first prompt is saved."""
        self._active: ActiveReply | None = None
        self._editing: StoredMessage | None = None
        self._shown: dict[int, StoredMessage] = {}
        self._live_view: ReplyView | None = None
        self._counts: dict[int, tuple[int, int]] = {}
        self._stashed_draft = ""
        self.catalog = {}
        self.session = Session(runtime, models=lambda: self.catalog.values(), clock=clock)
        self.meter = Meter(self.session, self._show_meter)
        self._init_conversation_actions()
        self._init_model_actions()
        self._init_attach_actions()
        self._init_context_actions()

    async def runtime_loaded(self) -> None:
        """The settings and plugins are in: resolve the provider, fetch model lists."""
        chosen = self.chosen
        if not chosen.resolved:
            shown = (chosen.name, chosen.model, chosen.demo)
            chosen.resolve()
            if shown != (chosen.name, chosen.model, chosen.demo):
                self._show_model()
        self._load_catalog()
        if chosen.startup_error:
            await self.chat_log.mount(InlineError(chosen.startup_error))
            chosen.startup_error = None

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Sidebar | (chat log, status bar, prompt), and the footer."""
        with Horizontal(id="body"):
            yield ConversationList(id="sidebar", now=self.now)
            with Vertical(id="chat-column"):
                yield ChatLog(id="chat-log")
                yield StatusBar(id="status-bar")
                yield AttachmentChips(id="attachment-chips")
                yield PathCompleter(id="path-completer")
                yield PromptInput(id="prompt", placeholder=PLACEHOLDER)
        yield KeysFooter()

    async def on_mount(self) -> None:
        """Apply the UI settings, load the sidebar and show a fresh conversation."""
        self.prompt_library = PromptLibraryPart(self)  # issue 17: /, Up and Ctrl+R
        self.prompt.focus()
        self.apply_ui()
        self._show_model()
        await self._reload_sidebar()
        await self._open(None, save_draft=False)
        if self.runtime.loaded:
            await self.runtime_loaded()

    def apply_ui(self) -> None:
        """Apply the ``[ui]`` settings of this screen (the sidebar, the cursor)."""
        self._place_sidebar()
        self.prompt.cursor_blink = self.runtime.ui.cursor_blink

    def on_resize(self) -> None:
        """Hide the sidebar in a narrow terminal, unless the person chose otherwise."""
        self._place_sidebar()

    def on_screen_resume(self) -> None:
        """The terminal may have been resized while a dialog was on top."""
        self._place_sidebar()

    def _place_sidebar(self) -> None:
        show = self._sidebar_choice
        if show is None:
            show = self.runtime.ui.sidebar and self.app.size.width >= NARROW_COLUMNS
        if not show and self.sidebar.has_focus_within:
            self.prompt.focus()
        self.set_class(not show, "-no-sidebar")

    def action_toggle_sidebar(self) -> None:
        """Show or hide the sidebar (and keep it so whatever the terminal's width).

        Showing it leaves the focus where it was: the list's single letters (a archives,
        d deletes) must not catch what the person goes on typing. Tab moves into it.
        """
        self._sidebar_choice = self.has_class("-no-sidebar")
        self._place_sidebar()

    def _show_model(self) -> None:
        self.status_bar.show_model(self.provider_name, self.model, demo=self.is_demo)
        self._measure_context()

    def _measure_context(self) -> None:
        """Measure the history for the context meter again (it or the model changed)."""
        self._show_conversation_cost()
        if not self.runtime.loaded:
            return  # the first frame waits for nothing: measured once the runtime is in
        conversation = None
        try:
            if self.conversation_id is not None:
                conversation = self.store.get_conversation(self.conversation_id)
            history = list(self._shown.values())
            self.meter.recompute(conversation, self.provider, self.model, history)
        except TuichatError:
            return  # only a meter: the store's trouble is reported where it matters

    def _show_meter(self, text: str, level: str) -> None:
        try:
            self.status_bar.show_meter(text, level)
        except NoMatches:  # while the screen is being taken down
            pass

    def watch_responding(self, responding: bool) -> None:
        """While a reply streams: the prompt stays writable (the next message can be
        written meanwhile, Enter does not send it yet) and the footer offers Esc."""
        prompt = self.prompt
        prompt.set_class(responding, "-responding")
        prompt.placeholder = (
            f"Next message · Enter sends once the reply ends · {self.key_hint('stop-reply')} "
            "stops it"
            if responding
            else PLACEHOLDER
        )
        self._update_note()
        self.refresh_bindings()

    def _update_note(self) -> None:
        shorter: tuple[str, ...] = ()
        if self.responding:
            note = f"responding… {self.key_hint('stop-reply')} stops"
        elif self._editing is not None:
            cancel = f"{self.key_hint('focus-prompt')} cancels"
            note = f"editing a prompt · Enter resends as a new branch · {cancel}"
            shorter = (f"editing · Enter resends · {cancel}", f"editing · {cancel}")
        else:
            note = self._selection_note()
        try:
            self.status_bar.show_note(note, *shorter)
        except NoMatches:  # while the screen is being taken down
            pass

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Say which actions apply now (the footer dims or hides the others)."""
        try:
            return self._check(action, parameters)
        except NoMatches:  # asked before the screen is composed, or while it is removed
            return True

    def _check(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_reply":
            return self.responding
        if action == "focus_prompt":
            return not self.responding and (
                self._editing is not None or self.focused is not self.prompt
            )
        for check in (
            self._check_conversation_action,
            self._check_message_action,
            self._check_compare_action,
        ):
            verdict = check(action)
            if verdict is not NotImplemented:
                return cast("bool | None", verdict)
        return True

    # -- the log ---------------------------------------------------------------------------------

    async def _open(
        self, conversation_id: int | None, *, select: int | None = None, save_draft: bool = True
    ) -> None:
        """Show a conversation (None: a fresh one, not stored until its first prompt).

        Args:
            conversation_id: The conversation, or None.
            select: A message to select and scroll to (a search hit).
            save_draft: Save the prompt's text as the draft of the conversation left.
        """
        if save_draft:
            self._save_draft()
        conversation = None
        if conversation_id is not None:
            try:
                conversation = self.store.get_conversation(conversation_id)
            except TuichatError as exc:
                self._report(exc)
                return
            if conversation is None:
                self.tell("That conversation no longer exists.", severity="warning")
                conversation_id = None
        self.conversation_id = conversation_id
        self._editing = None
        if conversation is not None and conversation.provider:
            self._adopt_model(conversation.provider, conversation.model)
        await self._render_log(select=select)
        self._load_draft()
        self.sidebar.mark_active(conversation_id)
        self.refresh_bindings()

    async def _render_log(self, *, live: Turn | None = None, select: int | None = None) -> None:
        """Draw the branch on show of the open conversation.

        Args:
            live: A turn whose reply streams: drawn as a live reply, returned through
                ``self._live_view``.
            select: A message to select and scroll to.
        """
        messages: list[StoredMessage] = []
        counts: dict[int, tuple[int, int]] = {}
        if self.conversation_id is not None:
            try:
                messages = self.store.messages(self.conversation_id)
                counts = self.store.alternative_counts(self.conversation_id)
            except TuichatError as exc:
                self._report(exc)
                return
        self._shown = {message.id: message for message in messages}
        self._counts = counts
        self._load_attachment_infos()
        self._live_view = None
        # A long history is shown through a window of mounted messages (HistoryPager):
        # the last ones now, others as the log is scrolled, so 2,000 open as fast as 40.
        items: list[WidgetFactory] = []
        pinned: int | None = None
        for index, message in enumerate(messages):
            last = index == len(messages) - 1
            if live is not None and message.id == live.message_id:
                view = self._live_reply_view(live)
                self._live_view = view
                items.append(fixed(view))
                pinned = index
                continue
            items.append(partial(self._message_widgets, message, counts.get(message.id), last))
        log = self.chat_log
        pager = HistoryPager(log, items, pinned=pinned)
        widgets = pager.window(first_mounted([message.id for message in messages], select))
        welcome = not widgets and self.is_demo
        if welcome:
            widgets.append(WelcomePanel(sidebar_key=self.key_hint("toggle-sidebar"), id="welcome"))
        with self.app.batch_update():
            await log.remove_children()
            await log.mount_all(widgets)
        pager.install()
        if select is not None and select in self._shown:
            # After the layout, so the log knows where the message is.
            self.call_after_refresh(log.select, select, top=True)
        elif welcome:
            # Read from its headline (anchored to the end, a short terminal opened the
            # card halfway down); sending anchors the log again.
            log.scroll_home(animate=False, immediate=True)
            log.select(None, scroll=False)
        else:
            # Anchored: stays scrolled to the end as the layout settles and replies arrive.
            log.anchor()
            log.select(None, scroll=False)
        self._update_note()
        self._measure_context()

    def _message_widgets(
        self, message: StoredMessage, alternative: tuple[int, int] | None, last: bool
    ) -> list[Widget]:
        dom_id = message_dom_id(message.id)
        if is_summary(message):
            return [SummaryView(message.content, message.meta, id=dom_id)]
        if message.role != "assistant":
            widgets: list[Widget] = [
                UserMessage(message.content, id=dom_id, classes=f"-{message.role}"),
                *self._attachment_lines(message.id),
            ]
            if alternative is not None:
                widgets.append(self._branch_note(alternative))
            return widgets
        widgets = []
        if message.reasoning:
            widgets.append(
                ReasoningView(
                    message.reasoning,
                    toggle_key=self.key_hint("toggle-reasoning"),
                    id=reasoning_dom_id(message.id),
                )
            )
        if message.meta.get("rounds"):
            widgets.extend(self._tool_call_views(message))
        error = message.error if message.status in ("error", "interrupted") else None
        widgets.append(
            ReplyView(
                message.content,
                status=message.status,
                error=error,
                meta=message_meta(message, alternative=alternative, hints=self.hints(), last=last),
                id=dom_id,
            )
        )
        return widgets

    def _branch_note(self, alternative: tuple[int, int]) -> Static:
        rank, total = alternative
        return Static(
            Content(f"edited prompt: version {rank} of {total} · [ ] switch"),
            markup=False,
            classes="branch-note",
        )

    def _live_reply_view(self, turn: Turn) -> ReplyView:
        return ReplyView(
            turn.state.content,
            streaming=True,
            status="streaming",
            fps=self.runtime.ui.fps,
            hold=self.input_pending,
            typing=self.typing,
            meta=self._live_meta(turn),
            id=message_dom_id(turn.message_id),
        )

    # -- one turn ------------------------------------------------------------------------------

    @on(PromptInput.Submitted, "#prompt")
    async def send_prompt(self, event: PromptInput.Submitted) -> None:
        """Save the prompt, start the reply and stream it in a worker."""
        text = event.text
        if self.responding:
            # The next message may be written while a reply streams, but sent only after
            # it: its history must hold the whole reply. The text stays in the prompt.
            event.keep()
            self.tell(
                "A reply is still streaming: the text stays here; press Enter again once "
                f"it ends ({self.key_hint('stop-reply')} stops it)."
            )
            return
        if not await self._provider_ready():
            event.keep()
            return
        if self._editing is not None:
            if not await self._resend_edited(text):
                event.keep()
            return
        decided, self._fit_decided = self._fit_decided, False
        if self.meter.full and not decided:
            when_full = self.runtime.settings.context.when_full
            if when_full != "trim":
                # Too long to send whole: summarise first, or ask how (the text stays).
                event.keep()
                if when_full == "summarise":
                    self.summarise_older(send_after=True)
                else:
                    self.offer_when_full()
                return
        provider, model = self.provider, self.model
        first_exchange = self.conversation_id is None
        tools = await self._tool_use()
        try:
            turn = self._begin_turn(provider, model, text, tools)
        except TuichatError as exc:
            event.keep()
            await self._show_inline_error(self._sentence(exc, provider))
            return
        self._draft_sent(was_new=first_exchange)
        files = self._attachments_sent()
        self._remember_attachments(turn.user_message, files)
        view = await self._append_turn(turn, text)
        if view is None:  # the log was drawn again without the reply: cannot happen
            turn.abandon()
            return
        log = self.chat_log
        log.select(None, scroll=False)
        log.anchor()
        self._start_stream(turn, view, text, first_exchange=first_exchange)
        if self._active is not None:
            self._active.files = files
        await self._reload_sidebar()

    async def _append_turn(self, turn: Turn, text: str) -> ReplyView | None:
        """Show a new turn's prompt and live reply at the end of the log, through its
        window of mounted messages (the oldest ones far above go: a long sitting keeps a
        bounded log); returns the live reply's view."""
        log = self.chat_log
        pager = pager_of(log)
        if pager is None or not pager.at_end:
            # The window shows older messages (Home): draw the end again, from the store.
            await self._render_log(live=turn)
            return self._live_view
        await log.query("#welcome").remove()
        view = self._live_reply_view(turn)
        stored_user = turn.user_message
        user = UserMessage(text, id=message_dom_id(stored_user.id) if stored_user else None)
        factory: WidgetFactory = fixed(user)
        if stored_user is not None:
            factory = partial(self._message_widgets, stored_user, None, False)
            self._shown[stored_user.id] = stored_user
        lines = self._attachment_lines(stored_user.id if stored_user else None)
        items: list[tuple[WidgetFactory, list[Widget]]] = [
            (factory, [user, *lines]),
            (fixed(view), [view]),
        ]
        self._shown[turn.message_id] = turn.assistant_message
        self._live_view = view
        await pager.extend(items)
        return view

    async def _provider_ready(self) -> bool:
        """Whether the provider can be asked; if not, say why in the log."""
        error = missing_key(self.provider)
        if error is not None:
            await self._show_inline_error(f"{error} Then restart tuichat.")
            return False
        return True

    def _conversation_for_turn(self) -> Conversation:
        conversation = None
        if self.conversation_id is not None:
            conversation = self.store.get_conversation(self.conversation_id)
        if conversation is None:
            pending = self._pending_system_override()
            conversation = self.session.start_conversation(
                self.provider,
                self.model,
                Overrides(system=pending),
                params={**self._pending_params(), **self._pending_tool_params()},
            )
            self.conversation_id = conversation.id
            self._clear_pending_options()
            self._pending_tools = None
        return conversation

    def _begin_turn(
        self, provider: Provider, model: str, text: str, tools: ToolUse | None = None
    ) -> Turn:
        conversation = self._conversation_for_turn()
        return self.session.send(
            conversation, text, provider, model, attachments=self._attachments, tools=tools
        )

    def _start_stream(
        self, turn: Turn, view: ReplyView, prompt: str | None, *, first_exchange: bool = False
    ) -> None:
        self.responding = True
        self._active = ActiveReply(turn, view, prompt, first_exchange=first_exchange)
        self._active.worker = self.stream_reply(turn, view)
        self.sidebar.mark_active(self.conversation_id)
        self.refresh_bindings()

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def stream_reply(self, turn: Turn, view: ReplyView) -> None:
        """Stream the reply into ``view``; the turn saves it as it goes.

        Provider errors are posted as :class:`ReplyFailed`; anything else ends the
        worker in the ERROR state, which :meth:`reply_worker_changed` turns into an
        inline error. Cancelling the worker (Esc) closes the provider's stream at once.
        """
        provider = turn.provider
        retrying = False
        # A key press waiting to be shown goes before the next delta (see input_first).
        gate: InputFirst | None = getattr(self.app, "input_first", None)
        try:
            async with aclosing(turn.stream()) as events:
                async for event in events:
                    if gate is not None and gate.pending:
                        await gate.wait()
                    if isinstance(event, TextDelta):
                        if retrying:
                            retrying = False
                            view.set_meta(self._live_meta(turn))
                        await view.append(event.text)
                    elif isinstance(event, ReasoningDelta):
                        await self._show_reasoning(turn, view, event.text)
                    elif isinstance(event, ToolCall | ToolStarted | ToolFinished):
                        await self._show_tool_event(turn, view, event)
                    elif isinstance(event, Retrying):
                        retrying = True
                        view.set_meta(
                            self._live_meta(
                                turn,
                                note=f"retrying in {event.delay:.0f} s "
                                f"(attempt {event.attempt} of {event.attempts})",
                            )
                        )
        except TuichatError as exc:
            self.post_message(self.ReplyFailed(turn.message_id, self._sentence(exc, provider)))
        finally:
            self._end_live_calls()

    async def _show_reasoning(self, turn: Turn, view: ReplyView, text: str) -> None:
        active = self._active
        if active is None or active.turn is not turn:
            return
        if active.reasoning is None:
            active.reasoning = ReasoningView(
                live=True,
                toggle_key=self.key_hint("toggle-reasoning"),
                id=reasoning_dom_id(turn.message_id),
            )
            if view.is_attached:
                log = self.chat_log
                await log.mount(active.reasoning, before=view)
                pager = pager_of(log)
                if pager is not None:
                    pager.join(active.reasoning, view)
        active.reasoning.append(text)

    def _live_meta(self, turn: Turn, *, note: str | None = None) -> str:
        return meta_line(
            provider=turn.provider.instance_name,
            model=turn.request.model,
            status="streaming",
            omitted=turn.omitted,
            left_out=turn.left_out,
            note=note,
        )

    @on(ReplyFailed)
    def remember_reply_error(self, event: ReplyFailed) -> None:
        """Keep the worker's error sentence until the worker has ended."""
        active = self._active
        if active is not None and active.turn.message_id == event.message_id:
            active.error = event.sentence

    @on(Worker.StateChanged)
    async def reply_worker_changed(self, event: Worker.StateChanged) -> None:
        """End the reply when its worker ends, however it ended."""
        active = self._active
        if active is None or event.worker is not active.worker:
            return
        if not self.app.is_running:
            # Quitting: the turn has saved the reply itself; the widgets are going away.
            return
        if event.state == WorkerState.ERROR and active.error is None:
            error = active.turn.state.error
            active.error = (
                self._sentence(error, active.turn.provider)
                if error is not None
                else "Something unexpected went wrong while streaming "
                f"({type(event.worker.error).__name__}); the partial reply is kept."
            )
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            await self._finish_reply(active)

    async def _finish_reply(self, active: ActiveReply) -> None:
        if self._active is not active:
            return
        self._active = None
        turn = active.turn
        state = turn.state
        try:
            # Cancelled before the stream even started: the turn never finalised its row.
            turn.abandon()
        except TuichatError as exc:
            self._report(exc)
        sentence = active.error
        if sentence is None and state.error is not None and state.status != "cancelled":
            sentence = self._sentence(state.error, turn.provider)
        stored = self._stored(turn.message_id)
        if active.reasoning is not None:
            active.reasoning.finish()
        alternative = None
        if active.view.is_attached:
            if self.conversation_id is not None:
                try:
                    alternative = self.store.alternative_counts(self.conversation_id).get(
                        turn.message_id
                    )
                except TuichatError:
                    alternative = None
            await active.view.finish(
                status=state.status,
                meta=message_meta(stored, alternative=alternative, hints=self.hints(), last=True)
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
            self._shown[stored.id] = stored
            self._settle_reply(active.view, stored, alternative)
        self.responding = False
        if sentence and active.prompt is not None and not self.prompt.text.strip():
            # Nothing typed is lost: the prompt comes back for another try.
            self.prompt.set_text(active.prompt)
            self._attachments_back(active.files)
        if self.focused is None:
            self.prompt.focus()
        if active.first_exchange and state.status == "complete":
            self._title_in_background(turn)
        self._measure_context()
        await self._reload_sidebar()

    def _settle_reply(
        self, view: ReplyView, stored: StoredMessage, alternative: tuple[int, int] | None
    ) -> None:
        """The reply has ended: the log's window may let it go and re-create it later."""
        pager = pager_of(self.chat_log)
        if pager is None:
            return

        def widgets() -> list[Widget]:
            return self._message_widgets(stored, alternative, self._is_last(stored))

        pager.settle(view, widgets)

    def _stored(self, message_id: int) -> StoredMessage | None:
        try:
            return self.store.get_message(message_id)
        except TuichatError:
            return None

    def _title_in_background(self, turn: Turn) -> None:
        """Ask the model for a better title, when a real provider answered the first prompt."""
        settings = self.runtime.settings
        prompt = turn.user_message
        if not settings.ui.title_from_model or turn.provider.name == "demo" or prompt is None:
            return
        self.generate_title(
            turn.conversation_id,
            turn.provider,
            turn.request.model,
            prompt.content,
            turn.state.content,
            title_from_prompt(prompt.content),
        )

    def action_stop_reply(self) -> None:
        """Stop the streaming reply; what arrived is kept and marked cancelled.

        From the chat log (or the sidebar) it also goes back to the prompt, as Esc does
        there once nothing streams: what is typed next is a prompt, not single-letter
        actions on the selected message (r regenerates, e edits).
        """
        active = self._active
        if active is not None and active.worker is not None:
            active.worker.cancel()
        if self.focused is not self.prompt:
            self.prompt.focus()

    def interrupt(self) -> bool:
        """Ctrl+C: stop the streaming reply, as Esc does; False when nothing streams."""
        if not self.responding:
            return False
        self.action_stop_reply()
        return True

    # -- the prompt library and recall (issue 17; the work is in .prompt_library) ------------

    @on(PromptInput.LibraryRequested, "#prompt")
    def open_prompt_library(self) -> None:
        """``/`` at the start of an empty prompt: pick a saved prompt."""
        self.prompt_library.open_picker()

    def action_search_prompts(self) -> None:
        """Search every prompt sent; the one chosen goes into the prompt."""
        self.prompt_library.search_sent()

    def action_focus_prompt(self) -> None:
        """Esc outside the prompt goes back to it; while editing a prompt, cancels the edit."""
        if self._editing is not None:
            self._cancel_edit()
        self.prompt.focus()

    async def _stop_and_settle(self) -> None:
        active = self._active
        if active is None:
            return
        if active.worker is not None:
            active.worker.cancel()
            await settle(active.worker)
        await self._finish_reply(active)

    # -- errors --------------------------------------------------------------------------------

    async def _show_inline_error(self, sentence: str) -> None:
        log = self.chat_log
        await log.mount(InlineError(sentence))
        log.anchor()
