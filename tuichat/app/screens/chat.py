"""The chat screen: sidebar | chat log, status bar and prompt.

The screen composes the widgets and its parts (:mod:`tuichat.app.chat`): it owns what
they all read (the open conversation, who the chat is with), routes each key and each
widget's message to the part whose job it is, and starts a turn through the engine
(:class:`~tuichat.session.Session`), handing it to the reply controller.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import TextArea
from textual.worker import Worker

from tuichat.catalog import ProviderModels
from tuichat.chosen import Chosen
from tuichat.errors import TuichatError
from tuichat.keymap import BY_ID, effective_keys
from tuichat.runtime import Runtime
from tuichat.sanitize import neutralize, one_line, redact
from tuichat.session import Session
from tuichat.store import Store

from ..bindings import bindings_for, keys_label
from ..chat import routed
from ..chat.comparing import Comparing
from ..chat.conversations import Conversations
from ..chat.drafts import Drafts
from ..chat.files import Files
from ..chat.fit import Fit
from ..chat.messages import MessageActions
from ..chat.models import Models
from ..chat.prompt_library import PromptLibraryPart
from ..chat.replies import Replies, ReplyFailed
from ..chat.status import StatusLine
from ..chat.tools import Tools
from ..chat.transcript import Transcript
from ..frames import PromptFrames
from ..meta import Hints
from ..meter import Meter
from ..multiplexer import usable_key
from ..widgets.attachment_chips import AttachmentChips
from ..widgets.chat_log import ChatLog
from ..widgets.footer import KeysFooter
from ..widgets.message import InlineError
from ..widgets.path_completer import PathCompleter
from ..widgets.prompt import PromptInput
from ..widgets.sidebar import ConversationList
from ..widgets.status import StatusBar
from .help import HelpScreen

if TYPE_CHECKING:
    from tuichat.provider import Provider

#: Below this many columns the sidebar starts hidden.
NARROW_COLUMNS = 100

#: The empty prompt's hint (another one shows while a reply streams).
PLACEHOLDER = "Message · Enter sends · Ctrl+J new line"


class ChatScreen(PromptFrames, Screen[None]):
    """The main screen: conversations on the left, the chat on the right."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings_for("global"))

    # Focus the prompt from the first frame: keys typed while the rest loads land there.
    AUTO_FOCUS = "#prompt"

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """The focused widget. Textual's own repaints the whole screen when the focus moves
    (a full-screen update, ~40 ms with long replies on show, on every Tab); the widgets
    whose look depends on the focus restyle and repaint themselves."""

    responding: reactive[bool] = reactive(False)
    """Whether a reply is streaming (the prompt is locked meanwhile)."""

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
        self.now = now or time.time
        # Who the chat is with; the boot cache's two phases stay inside it.
        self.chosen = Chosen(runtime, provider, model)
        self.conversation_id: int | None = None
        """The conversation in the chat log; None until the first prompt is saved."""
        self.catalog: dict[str, ProviderModels] = {}
        """Each provider instance's models, as last fetched."""
        self.session = Session(runtime, models=lambda: self.catalog.values(), clock=clock)
        self._sidebar_choice: bool | None = None
        self.status = StatusLine(self)
        self.meter = Meter(self.session, self.status.show_meter)
        self.transcript = Transcript(self)
        self.replies = Replies(self)
        self.conversations = Conversations(self)
        self.drafts = Drafts(self)
        self.models = Models(self)
        self.messages = MessageActions(self)
        self.comparing = Comparing(self)
        self.tools = Tools(self)
        self.files = Files(self)
        self.fit = Fit(self)
        self.prompt_library = PromptLibraryPart(self)

    async def runtime_loaded(self) -> None:
        """The settings and plugins are in: resolve the provider, fetch model lists."""
        chosen = self.chosen
        if not chosen.resolved:
            shown = (chosen.name, chosen.model, chosen.demo)
            chosen.resolve()
            if shown != (chosen.name, chosen.model, chosen.demo):
                self.status.show_model()
        self.models.load_catalog()
        if chosen.startup_error:
            await self.chat_log.mount(InlineError(chosen.startup_error))
            chosen.startup_error = None

    # -- widgets and services -----------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The conversation store."""
        return self.runtime.store

    @property
    def chat_log(self) -> ChatLog:
        """The scrolling chat log."""
        return self.query_one("#chat-log", ChatLog)

    @property
    def prompt(self) -> PromptInput:
        """The prompt box."""
        return self.query_one("#prompt", PromptInput)

    @property
    def sidebar(self) -> ConversationList:
        """The conversation list."""
        return self.query_one("#sidebar", ConversationList)

    @property
    def status_bar(self) -> StatusBar:
        """The line above the prompt."""
        return self.query_one("#status-bar", StatusBar)

    @property
    def provider(self) -> Provider:
        """The provider the chat is with (always resolved: see :class:`Chosen`)."""
        return self.chosen.provider

    @property
    def model(self) -> str:
        """The model the chat is with."""
        return self.chosen.model

    @property
    def is_demo(self) -> bool:
        """Whether the offline demo provider answers."""
        return self.chosen.demo

    @property
    def provider_name(self) -> str:
        """The provider instance the chat is with, as the status bar names it."""
        return self.chosen.name

    def key_hint(self, binding_id: str) -> str:
        """How the key(s) of an action read, after the person's ``[keymap]`` (``Ctrl+T``)."""
        keys = effective_keys(BY_ID[binding_id], self.runtime.keymap)
        # Inside tmux, not a key tmux keeps for itself (Ctrl+B: F4 shows the sidebar).
        return keys_label(usable_key(keys))

    def hints(self) -> Hints:
        """The keys offered under an unfinished reply."""
        return Hints(
            self.key_hint("continue-last"),
            self.key_hint("regenerate-last"),
            self.key_hint("show-comparison"),
        )

    def sentence(self, error: BaseException, provider: Provider | None = None) -> str:
        """``error`` as one sentence fit to show (neutralised, ``provider``'s keys redacted)."""
        secrets = provider.secrets() if provider is not None else []
        return redact(neutralize(str(error)), secrets)

    def report(self, error: TuichatError) -> None:
        """An error toast with the error's one sentence."""
        self.notify(one_line(str(error), 400), severity="error", markup=False)

    def tell(self, text: str, *, severity: str = "information", title: str = "") -> None:
        """A toast of plain text (never markup: it may hold a title or a model's words)."""
        self.notify(one_line(text, 400), title=title, severity=severity, markup=False)  # type: ignore[arg-type]

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
        self.prompt.focus()
        self.files.mounted()
        self.prompt_library.mounted()
        self.apply_ui()
        self.status.show_model()
        await self.conversations.reload()
        await self.open_conversation(None, save_draft=False)
        if self.runtime.loaded:
            await self.runtime_loaded()

    def on_unmount(self) -> None:
        """Quitting: keep what was typed."""
        self.drafts.save_on_quit()

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
        self.status.update_note()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Say which actions apply now (the footer dims or hides the others)."""
        try:
            return self._check(action)
        except NoMatches:  # asked before the screen is composed, or while it is removed
            return True

    def _check(self, action: str) -> bool | None:
        if action == "stop_reply":
            return self.responding
        if action == "focus_prompt":
            return not self.responding and (
                self.messages.editing is not None or self.focused is not self.prompt
            )
        for check in (self.conversations.check, self.messages.check, self.comparing.check):
            verdict = check(action)
            if verdict is not NotImplemented:
                return cast("bool | None", verdict)
        return True

    # -- a conversation ------------------------------------------------------------------------

    async def open_conversation(
        self, conversation_id: int | None, *, select: int | None = None, save_draft: bool = True
    ) -> None:
        """Show a conversation (None: a fresh one, not stored until its first prompt).

        Args:
            conversation_id: The conversation, or None.
            select: A message to select and scroll to (a search hit).
            save_draft: Save the prompt's text as the draft of the conversation left.
        """
        if save_draft:
            self.drafts.save()
        conversation = None
        if conversation_id is not None:
            try:
                conversation = self.store.get_conversation(conversation_id)
            except TuichatError as exc:
                self.report(exc)
                return
            if conversation is None:
                self.tell("That conversation no longer exists.", severity="warning")
                conversation_id = None
        self.conversation_id = conversation_id
        self.messages.editing = None
        if conversation is not None and conversation.provider:
            self.models.adopt(conversation.provider, conversation.model)
        await self.transcript.render(select=select)
        self.drafts.load()
        self.sidebar.mark_active(conversation_id)
        self.refresh_bindings()

    # -- one turn ------------------------------------------------------------------------------

    @on(PromptInput.Submitted, "#prompt")
    async def send_prompt(self, event: PromptInput.Submitted) -> None:
        """Enter in the prompt: the reply controller starts the turn (or says why not)."""
        await self.replies.send_prompt(event)

    def interrupt(self) -> bool:
        """Ctrl+C: stop the streaming reply, as Esc does; False when nothing streams."""
        return self.replies.interrupt()

    # -- keys: each is one part's job ----------------------------------------------------------

    def action_focus_prompt(self) -> None:
        """Esc outside the prompt goes back to it; while editing a prompt, cancels the edit."""
        if self.messages.editing is not None:
            self.messages.cancel_edit()
        self.prompt.focus()

    def action_pick_theme(self) -> None:
        """Choose the colour theme (the app remembers it)."""
        self.app.action_change_theme()

    def action_help(self) -> None:
        """Show every key."""
        self.app.push_screen(HelpScreen(self.runtime.keymap))

    action_stop_reply = routed("replies", Replies.stop)

    action_toggle_archive = routed("conversations", Conversations.toggle_archive)
    action_new_conversation = routed("conversations", Conversations.new_conversation)
    action_rename_conversation = routed("conversations", Conversations.rename_conversation)
    action_delete_conversation = routed("conversations", Conversations.delete_conversation)
    action_pin_conversation = routed("conversations", Conversations.pin_conversation)
    action_archive_conversation = routed("conversations", Conversations.archive_conversation)
    action_search = routed("conversations", Conversations.search)
    action_export_conversation = routed("conversations", Conversations.export_conversation)

    action_select_message = routed("messages", MessageActions.select_message)
    action_select_edge = routed("messages", MessageActions.select_edge)
    action_copy_message = routed("messages", MessageActions.copy_message)
    action_copy_code = routed("messages", MessageActions.copy_code)
    action_regenerate = routed("messages", MessageActions.regenerate)
    action_regenerate_last = routed("messages", MessageActions.regenerate_last)
    action_continue_reply = routed("messages", MessageActions.continue_reply)
    action_continue_last = routed("messages", MessageActions.continue_last)
    action_edit_prompt = routed("messages", MessageActions.edit_prompt)
    action_delete_message = routed("messages", MessageActions.delete_message)
    action_alternative = routed("messages", MessageActions.alternative)
    action_toggle_reasoning = routed("messages", MessageActions.toggle_reasoning)
    action_open_editor = routed("messages", MessageActions.open_editor)

    action_pick_model = routed("models", Models.pick_model)
    action_conversation_options = routed("models", Models.conversation_options)

    action_compare = routed("comparing", Comparing.compare)
    action_show_comparison = routed("comparing", Comparing.show_comparison)

    action_pick_tools = routed("tools", Tools.pick_tools)
    action_toggle_tool_calls = routed("tools", Tools.toggle_tool_calls)

    action_attach_file = routed("files", Files.attach_file)
    action_open_attachment = routed("files", Files.open_attachment)

    action_search_prompts = routed("prompt_library", PromptLibraryPart.search_sent)

    action_count_tokens = routed("fit", Fit.count_tokens)
    action_summarise_conversation = routed("fit", Fit.summarise_conversation)

    # -- what the widgets and workers report ---------------------------------------------------

    @on(ReplyFailed)
    def reply_failed(self, event: ReplyFailed) -> None:
        """The reply worker caught an error: kept until the worker has ended."""
        self.replies.failed(event)

    @on(Worker.StateChanged)
    async def worker_changed(self, event: Worker.StateChanged) -> None:
        """A worker ended: if it streamed the reply, the reply ends."""
        await self.replies.worker_changed(event)

    @on(ConversationList.NeedMore, "#sidebar")
    async def sidebar_needs_more(self) -> None:
        """Send the sidebar the next page of conversations."""
        await self.conversations.load_more()

    @on(ConversationList.Selected, "#sidebar")
    async def sidebar_selected(self, event: ConversationList.Selected) -> None:
        """Open the conversation chosen in the sidebar."""
        await self.conversations.open_selected(event.conversation_id)

    @on(PromptInput.Changed, "#prompt")
    def prompt_changed(self) -> None:
        """The prompt's text changed: its draft is saved soon, the meter follows."""
        self.drafts.changed()

    @on(TextArea.Changed, "#prompt")
    def complete_path(self) -> None:
        """Offer the paths that complete an ``@fragment`` before the cursor."""
        self.files.complete_path()

    @on(PathCompleter.Dismissed)
    def completion_dismissed(self) -> None:
        """Esc in the path list: no list for this ``@fragment`` any more."""
        self.files.completion_dismissed()

    @on(PathCompleter.Chosen)
    async def path_chosen(self, event: PathCompleter.Chosen) -> None:
        """A path chosen in the list."""
        await self.files.path_chosen(event.path)

    @on(PromptInput.PathsPasted)
    async def paths_pasted(self, event: PromptInput.PathsPasted) -> None:
        """A dropped file: attached, not typed."""
        await self.files.attach(event.paths)

    @on(AttachmentChips.Remove)
    def remove_attachment(self, event: AttachmentChips.Remove) -> None:
        """Take the chosen file off the next message."""
        self.files.remove(event.index)

    @on(PromptInput.LibraryRequested, "#prompt")
    def open_prompt_library(self) -> None:
        """``/`` at the start of an empty prompt: pick a saved prompt."""
        self.prompt_library.open_picker()

    @on(ChatLog.SelectionChanged, "#chat-log")
    def selection_changed(self) -> None:
        """Show what the selected message offers, and which actions apply to it."""
        self.status.update_note()
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        """Focus moves: the actions that apply change (the footer shows them)."""
        self.status.update_note()

    def on_descendant_blur(self) -> None:
        """See :meth:`on_descendant_focus`; the path list closes with the prompt's focus."""
        self.status.update_note()
        self.files.prompt_blurred()
