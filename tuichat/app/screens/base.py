"""What the parts of the chat screen share: its state, its widgets and a few helpers.

The chat screen is one :class:`~textual.screen.Screen` assembled from parts, one module
each: the turn engine and the log (:mod:`.chat`), the conversation list and its actions
(:mod:`.conversation_actions`), models and options (:mod:`.model_actions`) and the message
actions (:mod:`.message_actions`). This base declares what they use from one another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker

from tuichat.attachments import Attachment
from tuichat.catalog import ProviderModels
from tuichat.chat import Turn
from tuichat.chosen import Chosen
from tuichat.errors import TuichatError
from tuichat.keymap import BY_ID, effective_keys
from tuichat.runtime import Runtime
from tuichat.sanitize import neutralize, one_line, redact
from tuichat.session import Session
from tuichat.store import Conversation, Store
from tuichat.store import Message as StoredMessage

from ..bindings import keys_label
from ..frames import PromptFrames
from ..meta import Hints
from ..meter import Meter
from ..multiplexer import usable_key
from ..widgets.chat_log import ChatLog
from ..widgets.message import ReplyView
from ..widgets.prompt import PromptInput
from ..widgets.reasoning import ReasoningView
from ..widgets.sidebar import ConversationList
from ..widgets.status import StatusBar

if TYPE_CHECKING:
    from tuichat.provider import Provider

    from .prompt_library import PromptLibraryPart


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


class ChatScreenBase(PromptFrames, Screen[None]):
    """State and helpers shared by the parts of the chat screen."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """The focused widget. Textual's own repaints the whole screen when the focus moves
    (a full-screen update, ~40 ms with long replies on show, on every Tab); the widgets
    whose look depends on the focus restyle and repaint themselves."""

    responding: reactive[bool] = reactive(False)
    """Whether a reply is streaming (the prompt is locked meanwhile)."""

    runtime: Runtime
    session: Session
    chosen: Chosen
    meter: Meter
    conversation_id: int | None
    now: Callable[[], float]
    catalog: dict[str, ProviderModels]
    _active: ActiveReply | None
    _editing: StoredMessage | None
    _shown: dict[int, StoredMessage]
    _counts: dict[int, tuple[int, int]]
    _live_view: ReplyView | None
    prompt_library: PromptLibraryPart  # issue 17: /, Up and Ctrl+R (made on mount)

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

    # -- keys ---------------------------------------------------------------------------------

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

    # -- messages to the person ---------------------------------------------------------------

    def _sentence(self, error: BaseException, provider: Provider | None = None) -> str:
        secrets = provider.secrets() if provider is not None else []
        return redact(neutralize(str(error)), secrets)

    def _report(self, error: TuichatError) -> None:
        self.notify(one_line(str(error), 400), severity="error", markup=False)

    def tell(self, text: str, *, severity: str = "information", title: str = "") -> None:
        """A toast of plain text (never markup: it may hold a title or a model's words)."""
        self.notify(one_line(text, 400), title=title, severity=severity, markup=False)  # type: ignore[arg-type]

    # -- implemented by ChatScreen ------------------------------------------------------------

    @property
    def attachments(self) -> list[Attachment]:
        """The files that go with the next message, in order."""
        raise NotImplementedError

    def _attachments_sent(self) -> list[Attachment]:
        """The next message went with its files: they leave the prompt (returned)."""
        raise NotImplementedError

    async def _open(
        self, conversation_id: int | None, *, select: int | None = None, save_draft: bool = True
    ) -> None:
        """Show a conversation (None: a fresh one), optionally selecting a message."""
        raise NotImplementedError

    async def _reload_sidebar(self) -> None:
        """Read the sidebar's page(s) again."""
        raise NotImplementedError

    async def _render_log(self, *, live: Turn | None = None, select: int | None = None) -> None:
        """Draw the open conversation's branch again (``live``: its reply streams)."""
        raise NotImplementedError

    async def _stop_and_settle(self) -> None:
        """Stop a streaming reply and wait until it is saved."""
        raise NotImplementedError

    def _start_stream(
        self, turn: Turn, view: ReplyView, prompt: str | None, *, first_exchange: bool = False
    ) -> None:
        """Stream ``turn`` into ``view`` in the reply worker."""
        raise NotImplementedError

    async def _provider_ready(self) -> bool:
        """Whether the provider can be asked; if not, say why in the log."""
        raise NotImplementedError

    def _conversation_for_turn(self) -> Conversation:
        """The open conversation, created now (with the options set for it) if new."""
        raise NotImplementedError

    def _update_note(self) -> None:
        """Refresh the note on the right of the status bar."""
        raise NotImplementedError

    def _save_draft(self) -> None:
        """Save the prompt's text as the open conversation's draft."""
        raise NotImplementedError

    def _show_model(self) -> None:
        """Show the provider and model in the status bar."""
        raise NotImplementedError

    def _selection_note(self) -> str:
        """What the status bar says of the selected message."""
        raise NotImplementedError

    def _cancel_edit(self) -> None:
        """Leave prompt editing; the draft comes back."""
        raise NotImplementedError

    async def _resend_edited(self, text: str) -> bool:
        """Send the prompt being edited as a new branch; returns whether it was sent."""
        raise NotImplementedError

    def _adopt_model(self, provider_name: str, model: str | None) -> None:
        """Chat with a conversation's own provider and model again."""
        raise NotImplementedError

    def _load_draft(self) -> None:
        """Put the open conversation's draft in the prompt."""
        raise NotImplementedError

    def _draft_sent(self, *, was_new: bool) -> None:
        """Forget the draft of a prompt just sent."""
        raise NotImplementedError

    def _target_message(self) -> StoredMessage | None:
        """The selected message while the log has focus, else the last reply."""
        raise NotImplementedError

    def _open_model_picker(
        self, current: tuple[str, str], chosen: Callable[[tuple[str, str] | None], None]
    ) -> None:
        """Show the model picker (``current`` marked); ``chosen`` gets the choice or None."""
        raise NotImplementedError

    def _switch_model(self, provider_name: str, model: str, *, quiet: bool = False) -> bool:
        """Chat with ``provider_name``'s ``model`` from now on, in this conversation."""
        raise NotImplementedError

    def _pending_params(self) -> dict[str, Any]:
        """The options chosen for a conversation not saved yet."""
        raise NotImplementedError

    def _pending_system_override(self) -> str | None:
        """The system prompt chosen for a conversation not saved yet (None: the config's)."""
        raise NotImplementedError

    def summarise_older(self, *, send_after: bool) -> Worker[None]:
        """Summarise the older turns in a worker (then send the prompt, if asked)."""
        raise NotImplementedError

    def send_as_it_is(self) -> None:
        """Send the prompt in the box now, trimming what does not fit."""
        raise NotImplementedError

    def edit_summary(self, summary: StoredMessage) -> None:
        """Let the person rewrite a summary's text (sent in place of what it covers)."""
        raise NotImplementedError

    def _show_costs(self, conversations: Sequence[Conversation]) -> None:
        """Show what these conversations (a sidebar page) cost, and the open one."""
        raise NotImplementedError

    def _show_conversation_cost(self) -> None:
        """Show in the status bar what the open conversation cost so far."""
        raise NotImplementedError

    def _clear_pending_options(self) -> None:
        """Forget them once the conversation is saved."""
        raise NotImplementedError
