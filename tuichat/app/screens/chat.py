"""The chat screen: sidebar | chat log, status bar and prompt. It orchestrates a turn.

The screen is the only place where the store, the providers and the widgets meet: the
widgets post messages up, the screen reads and writes the store, drives
:class:`~tuichat.chat.Turn` in a worker and passes data back down.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Markdown
from textual.worker import Worker, WorkerState

from tuichat.chat import Turn
from tuichat.errors import TuichatError
from tuichat.http import RetryPolicy
from tuichat.provider import Provider, Retrying, TextDelta
from tuichat.runtime import Runtime
from tuichat.sanitize import neutralize, one_line, redact
from tuichat.store import Message as StoredMessage
from tuichat.store import Store

from ..widgets.message import InlineError, ReplyView, UserMessage, reply_meta
from ..widgets.prompt import PromptInput
from ..widgets.sidebar import ConversationList
from ..widgets.status import StatusBar
from ..widgets.welcome import WelcomePanel
from .delete import DeleteScreen
from .rename import RenameScreen

#: Conversations per sidebar page.
SIDEBAR_PAGE = 50

#: Below this many columns the sidebar starts hidden.
NARROW_COLUMNS = 100


@dataclass
class ActiveReply:
    """The reply being streamed and what is needed to end it well."""

    turn: Turn
    """The turn (its row, its state)."""
    view: ReplyView
    """Where the reply is drawn."""
    prompt: str
    """The prompt text, put back in the input box if the reply fails."""
    worker: Worker[None] | None = None
    """The worker streaming it."""
    error: str | None = None
    """The error sentence, once the worker reported one."""


class ChatScreen(Screen[None]):
    """The main screen: conversations on the left, the chat on the right."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop_reply", "Stop"),
        # Priority: the prompt (a TextArea) binds some of these keys itself (Ctrl+D).
        Binding("ctrl+n", "new_conversation", "New", priority=True),
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", priority=True),
        Binding("f2", "rename_conversation", "Rename", priority=True),
        Binding("ctrl+d", "delete_conversation", "Delete", priority=True),
        # The app's own Ctrl+Q binding runs (it is checked first); this one only puts
        # Quit in the footer, which shows the first priority binding it meets.
        Binding("ctrl+q", "app.quit", "Quit", priority=True),
    ]

    # Focus the prompt from the first frame: keys typed while the rest loads land there.
    AUTO_FOCUS = "#prompt"

    responding: reactive[bool] = reactive(False)
    """Whether a reply is streaming (the prompt is locked meanwhile)."""

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
    ) -> None:
        """Create it.

        Args:
            runtime: Settings, providers and store.
            provider: Provider instance to chat with (default: the runtime's choice).
            model: Model (or ``provider/model``) to chat with.
            clock: Replaces the turns' monotonic clock (tests, for stable timings).
        """
        super().__init__()
        self.runtime = runtime
        self._clock = clock
        self._startup_error: str | None = None
        try:
            self.provider, self.model = runtime.resolve(provider, model)
        except TuichatError as exc:
            # cli.py checks this before starting; still, never die here: fall back.
            self._startup_error = neutralize(str(exc))
            self.provider, self.model = runtime.resolve("demo", None)
        self._sidebar_choice: bool | None = None
        self.conversation_id: int | None = None
        """The conversation in the chat log; None until the first prompt is saved."""
        self._active: ActiveReply | None = None

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Sidebar | (chat log, status bar, prompt), and the footer."""
        with Horizontal(id="body"):
            yield ConversationList(id="sidebar")
            with Vertical(id="chat-column"):
                yield VerticalScroll(id="chat-log", can_focus_children=False)
                yield StatusBar(id="status-bar")
                yield PromptInput(
                    id="prompt", placeholder="Message · Enter sends · Ctrl+J new line"
                )
        yield Footer()

    @property
    def chat_log(self) -> VerticalScroll:
        """The scrolling chat log."""
        return self.query_one("#chat-log", VerticalScroll)

    @property
    def prompt(self) -> PromptInput:
        """The prompt box."""
        return self.query_one("#prompt", PromptInput)

    @property
    def sidebar(self) -> ConversationList:
        """The conversation list."""
        return self.query_one("#sidebar", ConversationList)

    @property
    def store(self) -> Store:
        """The conversation store."""
        return self.runtime.store

    @property
    def is_demo(self) -> bool:
        """Whether the offline demo provider answers."""
        return self.provider.name == "demo"

    async def on_mount(self) -> None:
        """Apply the UI settings, load the sidebar and show a fresh conversation."""
        ui = self.runtime.settings.ui
        self.prompt.focus()
        self._place_sidebar()
        self.prompt.cursor_blink = ui.cursor_blink
        self.query_one(StatusBar).show_model(
            self.provider.instance_name, self.model, demo=self.is_demo
        )
        await self._reload_sidebar()
        await self._open(None)
        if self._startup_error:
            await self.chat_log.mount(InlineError(self._startup_error))

    def on_resize(self) -> None:
        """Hide the sidebar in a narrow terminal, unless the person chose otherwise."""
        self._place_sidebar()

    def on_screen_resume(self) -> None:
        """The terminal may have been resized while a dialog was on top."""
        self._place_sidebar()

    def _place_sidebar(self) -> None:
        show = self._sidebar_choice
        if show is None:
            show = self.runtime.settings.ui.sidebar and self.app.size.width >= NARROW_COLUMNS
        if not show and self.sidebar.has_focus_within:
            self.prompt.focus()
        self.set_class(not show, "-no-sidebar")

    def watch_responding(self, responding: bool) -> None:
        """Lock the prompt while a reply streams, and show Esc in the footer."""
        prompt = self.prompt
        prompt.read_only = responding
        prompt.set_class(responding, "-responding")
        self.query_one(StatusBar).show_note("responding… Esc stops" if responding else "")
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer Esc only while a reply streams; dim Rename and Delete with nothing saved."""
        if action == "stop_reply":
            return self.responding
        if action in ("rename_conversation", "delete_conversation"):
            try:
                target = self._target_conversation()
            except NoMatches:  # asked before the screen is composed
                return True
            return True if target is not None else None
        return True

    # -- conversations -------------------------------------------------------------------------

    async def _reload_sidebar(self) -> None:
        limit = max(SIDEBAR_PAGE, self.sidebar.count)
        try:
            page = self.store.list_conversations(limit=limit)
        except TuichatError as exc:
            self._report(exc)
            return
        await self.sidebar.set_conversations(page, has_more=len(page) == limit)

    @on(ConversationList.NeedMore, "#sidebar")
    async def load_more_conversations(self) -> None:
        """Send the sidebar the next page of conversations."""
        sidebar = self.sidebar
        try:
            page = self.store.list_conversations(limit=SIDEBAR_PAGE, offset=sidebar.count)
        except TuichatError as exc:
            self._report(exc)
            return
        await sidebar.add_conversations(page, has_more=len(page) == SIDEBAR_PAGE)

    @on(ConversationList.Selected, "#sidebar")
    async def open_selected_conversation(self, event: ConversationList.Selected) -> None:
        """Open the conversation chosen in the sidebar."""
        if event.conversation_id != self.conversation_id:
            await self._stop_and_settle()
            await self._open(event.conversation_id)
        self.prompt.focus()

    async def _open(self, conversation_id: int | None) -> None:
        """Show a conversation (None: a fresh one, not stored until its first prompt)."""
        messages: list[StoredMessage] = []
        if conversation_id is not None:
            try:
                messages = self.store.messages(conversation_id)
            except TuichatError as exc:
                self._report(exc)
                return
        self.conversation_id = conversation_id
        log = self.chat_log
        widgets: list[Widget] = [self._message_widget(message) for message in messages]
        if not widgets and self.is_demo:
            widgets.append(WelcomePanel(id="welcome"))
        with self.app.batch_update():
            await log.remove_children()
            await log.mount_all(widgets)
        # Anchored: stays scrolled to the end as the layout settles and replies arrive.
        log.anchor()
        self.sidebar.mark_active(conversation_id)
        self.refresh_bindings()

    def _message_widget(self, message: StoredMessage) -> Widget:
        if message.role != "assistant":
            return UserMessage(message.content, classes=f"-{message.role}")
        error = message.error if message.status in ("error", "interrupted") else None
        return ReplyView(
            message.content,
            status=message.status,
            error=error,
            meta=reply_meta(
                provider=message.provider,
                model=message.model,
                status=message.status,
                input_tokens=message.input_tokens,
                output_tokens=message.output_tokens,
                ttft_ms=message.ttft_ms,
            ),
        )

    def _target_conversation(self) -> int | None:
        """The highlighted conversation when the sidebar has focus, else the open one."""
        sidebar = self.sidebar
        if sidebar.has_focus_within and sidebar.highlighted_id is not None:
            return sidebar.highlighted_id
        return self.conversation_id

    async def action_new_conversation(self) -> None:
        """Start a fresh conversation (stopping a streaming reply first)."""
        await self._stop_and_settle()
        await self._open(None)
        self.prompt.focus()

    def action_toggle_sidebar(self) -> None:
        """Show or hide the sidebar (and keep it so whatever the terminal's width)."""
        self._sidebar_choice = self.has_class("-no-sidebar")
        self._place_sidebar()

    def action_rename_conversation(self) -> None:
        """Ask for a new title of the open (or highlighted) conversation."""
        target = self._target_conversation()
        conversation = self.store.get_conversation(target) if target is not None else None
        if conversation is None:
            self.notify("Send a first message before renaming.", markup=False)
            return

        async def rename(title: str | None) -> None:
            if title is None:
                return
            try:
                self.store.rename_conversation(conversation.id, title)
            except TuichatError as exc:
                self._report(exc)
            await self._reload_sidebar()

        self.app.push_screen(RenameScreen(conversation.title), rename)

    def action_delete_conversation(self) -> None:
        """Delete the open (or highlighted) conversation, after asking."""
        target = self._target_conversation()
        conversation = self.store.get_conversation(target) if target is not None else None
        if conversation is None:
            self.notify("This conversation is not saved yet.", markup=False)
            return

        async def delete(confirmed: bool | None) -> None:
            if not confirmed:
                return
            if conversation.id == self.conversation_id:
                await self._stop_and_settle()
            try:
                self.store.delete_conversation(conversation.id)
            except TuichatError as exc:
                self._report(exc)
            if conversation.id == self.conversation_id:
                await self._open(None)
            await self._reload_sidebar()

        self.app.push_screen(DeleteScreen(conversation.title), delete)

    # -- one turn ------------------------------------------------------------------------------

    @on(PromptInput.Submitted, "#prompt")
    async def send_prompt(self, event: PromptInput.Submitted) -> None:
        """Save the prompt, start the reply and stream it in a worker."""
        if self.responding:
            return
        text = event.text
        provider, model = self.provider, self.model
        if provider.needs_key() and not provider.has_key():
            names = " or ".join(provider.key_env_names()) or (
                f"api_key in [providers.{provider.instance_name}]"
            )
            await self._show_inline_error(
                f"{provider.label} needs an API key and none is set; set {names} "
                "and restart tuichat (see 'tuichat providers')."
            )
            return
        try:
            turn = self._begin_turn(provider, model, text)
        except TuichatError as exc:
            await self._show_inline_error(self._sentence(exc, provider))
            return
        self.prompt.clear()
        self.responding = True
        view = ReplyView(
            streaming=True,
            status="streaming",
            fps=self.runtime.settings.ui.fps,
            meta=reply_meta(provider=provider.instance_name, model=model, status="streaming"),
        )
        log = self.chat_log
        await log.query("#welcome").remove()
        await log.mount_all([UserMessage(text), view])
        log.anchor()
        self._active = ActiveReply(turn, view, text)
        self._active.worker = self.stream_reply(turn, view)
        self.sidebar.mark_active(self.conversation_id)
        self.refresh_bindings()
        await self._reload_sidebar()

    def _begin_turn(self, provider: Provider, model: str, text: str) -> Turn:
        settings = self.runtime.settings
        store = self.store
        conversation = None
        if self.conversation_id is not None:
            conversation = store.get_conversation(self.conversation_id)
        if conversation is None:
            conversation = store.create_conversation(
                provider=provider.instance_name,
                model=model,
                system_prompt=settings.system_prompt,
            )
            self.conversation_id = conversation.id
        system = conversation.system_prompt
        return Turn.begin(
            store,
            provider,
            conversation.id,
            text,
            model=model,
            system=system if system is not None else settings.system_prompt,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            policy=RetryPolicy(settings.retry.base_delay, settings.retry.max_delay),
            **({"clock": self._clock} if self._clock is not None else {}),
        )

    @work(exclusive=True, group="reply", exit_on_error=False)
    async def stream_reply(self, turn: Turn, view: ReplyView) -> None:
        """Stream the reply into ``view``; the turn saves it as it goes.

        Provider errors are posted as :class:`ReplyFailed`; anything else ends the
        worker in the ERROR state, which :meth:`reply_worker_changed` turns into an
        inline error. Cancelling the worker (Esc) closes the provider's stream at once.
        """
        provider = turn.provider
        retrying = False
        try:
            async with aclosing(turn.stream()) as events:
                async for event in events:
                    if isinstance(event, TextDelta):
                        if retrying:
                            retrying = False
                            view.set_meta(self._live_meta(turn))
                        await view.append(event.text)
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

    def _live_meta(self, turn: Turn, *, note: str | None = None) -> str:
        return reply_meta(
            provider=turn.provider.instance_name,
            model=turn.request.model,
            status="streaming",
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
        if active.view.is_attached:
            await active.view.finish(
                status=state.status,
                meta=reply_meta(
                    provider=turn.provider.instance_name,
                    model=turn.request.model,
                    status=state.status,
                    input_tokens=state.input_tokens,
                    output_tokens=state.output_tokens,
                    ttft_ms=state.ttft_ms,
                ),
            )
            if sentence:
                active.view.show_error(sentence)
        self.responding = False
        if sentence and not self.prompt.text.strip():
            # Nothing typed is lost: the prompt comes back for another try.
            self.prompt.set_text(active.prompt)
        if self.focused is None:
            self.prompt.focus()
        await self._reload_sidebar()

    def action_stop_reply(self) -> None:
        """Stop the streaming reply; what arrived is kept and marked cancelled."""
        active = self._active
        if active is not None and active.worker is not None:
            active.worker.cancel()

    async def _stop_and_settle(self) -> None:
        """Stop a streaming reply and wait until it is saved and drawn as cancelled."""
        active = self._active
        if active is None:
            return
        if active.worker is not None:
            active.worker.cancel()
            await settle(active.worker)
        await self._finish_reply(active)

    # -- errors --------------------------------------------------------------------------------

    def _sentence(self, error: BaseException, provider: Provider | None = None) -> str:
        secrets = provider.secrets() if provider is not None else []
        return redact(neutralize(str(error)), secrets)

    async def _show_inline_error(self, sentence: str) -> None:
        log = self.chat_log
        await log.mount(InlineError(sentence))
        log.anchor()

    def _report(self, error: TuichatError) -> None:
        self.notify(one_line(str(error), 400), severity="error", markup=False)

    @on(Markdown.LinkClicked)
    def show_link(self, event: Markdown.LinkClicked) -> None:
        """Links are never opened by a click: show where they lead instead."""
        event.stop()
        self.notify(one_line(event.href, 300), title="Link", markup=False)


async def settle(worker: Worker[None]) -> None:
    """Wait for ``worker`` to end, however it ends."""
    try:
        await worker.wait()
    except Exception:  # WorkerCancelled, WorkerFailed: the worker's state says which
        pass
