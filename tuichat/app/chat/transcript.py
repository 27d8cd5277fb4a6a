"""The chat log's content: the open conversation's branch drawn through a window of
mounted messages, the live reply's place in it, and which message actions aim at.

Owns what is on show (``shown``: the branch's messages by id, ``counts``: the versions of
edited prompts) so that every other part asks here rather than keeping its own copy.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from tuichat.chat import Turn
from tuichat.errors import TuichatError
from tuichat.store import Message as StoredMessage
from tuichat.summaries import is_summary

from ..meta import message_meta, meta_line
from ..widgets.chat_log import message_dom_id
from ..widgets.history import HistoryPager, WidgetFactory, first_mounted, fixed, pager_of
from ..widgets.message import InlineError, ReplyView, SummaryView, UserMessage
from ..widgets.reasoning import ReasoningView
from ..widgets.welcome import WelcomePanel

if TYPE_CHECKING:
    from ..screens.chat import ChatScreen


def reasoning_dom_id(message_id: int) -> str:
    """The DOM id of the reasoning shown above reply ``message_id``."""
    return f"r{message_id}"


class Transcript:
    """What the chat log shows of the open conversation."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen
        self.shown: dict[int, StoredMessage] = {}
        """The branch on show, by message id, in order."""
        self.counts: dict[int, tuple[int, int]] = {}
        """(rank, total) of each message that has other versions."""
        self.live_view: ReplyView | None = None
        """The streaming reply's view, once drawn."""

    async def render(self, *, live: Turn | None = None, select: int | None = None) -> None:
        """Draw the branch on show of the open conversation.

        Args:
            live: A turn whose reply streams: drawn as a live reply, returned through
                ``self.live_view``.
            select: A message to select and scroll to.
        """
        messages: list[StoredMessage] = []
        counts: dict[int, tuple[int, int]] = {}
        if self.screen.conversation_id is not None:
            try:
                messages = self.screen.store.messages(self.screen.conversation_id)
                counts = self.screen.store.alternative_counts(self.screen.conversation_id)
            except TuichatError as exc:
                self.screen.report(exc)
                return
        self.shown = {message.id: message for message in messages}
        self.counts = counts
        self.screen.files.load_infos()
        self.live_view = None
        # A long history is shown through a window of mounted messages (HistoryPager):
        # the last ones now, others as the log is scrolled, so 2,000 open as fast as 40.
        items: list[WidgetFactory] = []
        pinned: int | None = None
        for index, message in enumerate(messages):
            last = index == len(messages) - 1
            if live is not None and message.id == live.message_id:
                view = self.live_reply_view(live)
                self.live_view = view
                items.append(fixed(view))
                pinned = index
                continue
            items.append(partial(self.message_widgets, message, counts.get(message.id), last))
        log = self.screen.chat_log
        pager = HistoryPager(log, items, pinned=pinned)
        widgets = pager.window(first_mounted([message.id for message in messages], select))
        welcome = not widgets and self.screen.is_demo
        if welcome:
            widgets.append(
                WelcomePanel(sidebar_key=self.screen.key_hint("toggle-sidebar"), id="welcome")
            )
        with self.screen.app.batch_update():
            await log.remove_children()
            await log.mount_all(widgets)
        pager.install()
        if select is not None and select in self.shown:
            # After the layout, so the log knows where the message is.
            self.screen.call_after_refresh(log.select, select, top=True)
        elif welcome:
            # Read from its headline (anchored to the end, a short terminal opened the
            # card halfway down); sending anchors the log again.
            log.scroll_home(animate=False, immediate=True)
            log.select(None, scroll=False)
        else:
            # Anchored: stays scrolled to the end as the layout settles and replies arrive.
            log.anchor()
            log.select(None, scroll=False)
        self.screen.status.update_note()
        self.screen.status.measure_context()

    def message_widgets(
        self, message: StoredMessage, alternative: tuple[int, int] | None, last: bool
    ) -> list[Widget]:
        dom_id = message_dom_id(message.id)
        if is_summary(message):
            return [SummaryView(message.content, message.meta, id=dom_id)]
        if message.role != "assistant":
            widgets: list[Widget] = [
                UserMessage(message.content, id=dom_id, classes=f"-{message.role}"),
                *self.screen.files.lines(message.id),
            ]
            if alternative is not None:
                widgets.append(self._branch_note(alternative))
            return widgets
        widgets = []
        if message.reasoning:
            widgets.append(
                ReasoningView(
                    message.reasoning,
                    toggle_key=self.screen.key_hint("toggle-reasoning"),
                    id=reasoning_dom_id(message.id),
                )
            )
        if message.meta.get("rounds"):
            widgets.extend(self.screen.tools.call_views(message))
        error = message.error if message.status in ("error", "interrupted") else None
        widgets.append(
            ReplyView(
                message.content,
                status=message.status,
                error=error,
                meta=message_meta(
                    message, alternative=alternative, hints=self.screen.hints(), last=last
                ),
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

    def live_reply_view(
        self, turn: Turn, *, meta: str | None = None, message_id: int | None = None
    ) -> ReplyView:
        """The view ``turn``'s reply streams into (``meta``: instead of the usual line;
        ``message_id``: the message it stands for, if not the turn's own)."""
        return ReplyView(
            turn.state.content,
            streaming=True,
            status="streaming",
            fps=self.screen.runtime.ui.fps,
            hold=self.screen.input_pending,
            typing=self.screen.typing,
            meta=self.live_meta(turn) if meta is None else meta,
            id=message_dom_id(turn.message_id if message_id is None else message_id),
        )

    # -- one turn ------------------------------------------------------------------------------

    async def append_turn(self, turn: Turn, text: str) -> ReplyView | None:
        """Show a new turn's prompt and live reply at the end of the log, through its
        window of mounted messages (the oldest ones far above go: a long sitting keeps a
        bounded log); returns the live reply's view."""
        log = self.screen.chat_log
        pager = pager_of(log)
        if pager is None or not pager.at_end:
            # The window shows older messages (Home): draw the end again, from the store.
            await self.render(live=turn)
            return self.live_view
        await log.query("#welcome").remove()
        view = self.live_reply_view(turn)
        stored_user = turn.user_message
        user = UserMessage(text, id=message_dom_id(stored_user.id) if stored_user else None)
        factory: WidgetFactory = fixed(user)
        if stored_user is not None:
            factory = partial(self.message_widgets, stored_user, None, False)
            self.shown[stored_user.id] = stored_user
        lines = self.screen.files.lines(stored_user.id if stored_user else None)
        items: list[tuple[WidgetFactory, list[Widget]]] = [
            (factory, [user, *lines]),
            (fixed(view), [view]),
        ]
        self.shown[turn.message_id] = turn.assistant_message
        self.live_view = view
        await pager.extend(items)
        return view

    def live_meta(self, turn: Turn, *, note: str | None = None) -> str:
        return meta_line(
            provider=turn.provider.instance_name,
            model=turn.request.model,
            status="streaming",
            omitted=turn.omitted,
            left_out=turn.left_out,
            note=note,
        )

    def stored(self, message_id: int) -> StoredMessage | None:
        try:
            return self.screen.store.get_message(message_id)
        except TuichatError:
            return None

    # -- what actions aim at -------------------------------------------------------------

    def target_message(self) -> StoredMessage | None:
        """The selected message while the log has focus, else the last reply."""
        log = self.screen.chat_log
        if log.has_focus and log.selected_id is not None:
            return self.shown.get(log.selected_id)
        return self.last_reply()

    def last_reply(self) -> StoredMessage | None:
        """The last reply on show."""
        # Asked for every footer binding on every refresh: walk from the end, never the
        # whole (growing) conversation.
        for message in reversed(self.shown.values()):
            if message.role == "assistant":
                return message
        return None

    def is_last(self, message: StoredMessage) -> bool:
        """Whether ``message`` ends the branch on show."""
        return next(reversed(self.shown), None) == message.id

    def first_message_id(self) -> int | None:
        """The branch's first message."""
        return next(iter(self.shown), None)

    async def show_error(self, sentence: str) -> None:
        """A sentence at the end of the log (a turn that could not start)."""
        log = self.screen.chat_log
        await log.mount(InlineError(sentence))
        log.anchor()
