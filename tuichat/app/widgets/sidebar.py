"""The conversation sidebar: pages of conversations grouped by date, pinned ones on top.

One :class:`~textual.widgets.OptionList` holds the rows (a single widget that draws only
the lines on screen), so 10,000 conversations cost no more to show than 10: the screen
reads them from SQLite a page at a time, when the cursor or the scroll nears the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tuichat.keymap import BY_ID
from tuichat.sanitize import one_line
from tuichat.store import Conversation

from ..bindings import bindings_for

#: Rows from the end of the loaded list at which the next page is asked for.
NEAR_END = 5

#: The date groups, in display order (pinned conversations come first whatever their date).
GROUPS = ("Pinned", "Today", "Previous 7 days", "Older")

#: Shown for a conversation without a title yet.
UNTITLED = "New conversation"


def date_group(updated_at: float, now: float) -> str:
    """The sidebar group of a conversation last changed at ``updated_at``.

    Days are calendar days in local time: "Today" starts at local midnight, "Previous 7
    days" covers the seven days before it.

    Args:
        updated_at: Unix seconds.
        now: Unix seconds of "now".

    Returns:
        ``Today``, ``Previous 7 days`` or ``Older``.
    """
    today = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    when = datetime.fromtimestamp(updated_at)
    if when >= today:
        return "Today"
    if when >= today - timedelta(days=7):
        return "Previous 7 days"
    return "Older"


def _row_id(conversation_id: int) -> str:
    return f"c{conversation_id}"


class ConversationList(Widget, can_focus=False):
    """The list of conversations; the screen feeds it pages and it asks for more.

    The screen passes pages of :class:`~tuichat.store.Conversation` records in with
    :meth:`set_conversations` and :meth:`add_conversations`; when the person scrolls or
    moves near the end of what is loaded, the list posts :class:`NeedMore`. Opening a
    conversation (Enter or a click) posts :class:`Selected`. Its keys (pin, archive...)
    are the sidebar actions of :mod:`tuichat.keymap`, carried out by the screen.
    """

    BINDINGS: ClassVar[list[BindingType]] = list(bindings_for("sidebar", namespace="screen."))

    @dataclass
    class Selected(Message):
        """The person opened a conversation."""

        conversation_list: ConversationList
        """The list that sent it."""
        conversation_id: int
        """The conversation's row id."""

        @property
        def control(self) -> ConversationList:
            """The list (for ``@on(..., selector)``)."""
            return self.conversation_list

    @dataclass
    class NeedMore(Message):
        """The person reached the end of the loaded conversations; send the next page."""

        conversation_list: ConversationList
        """The list that sent it."""

        @property
        def control(self) -> ConversationList:
            """The list (for ``@on(..., selector)``)."""
            return self.conversation_list

    def __init__(
        self,
        *,
        now: Callable[[], float] = time.time,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Create it.

        Args:
            now: Source of "now" for the date groups (tests pass a fixed one).
            id: The widget id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self.now = now
        """Source of "now" for the date groups."""
        self.has_more = False
        """Whether the store holds conversations not loaded yet."""
        self.archived = False
        """Whether the list shows the archive instead of the conversations."""
        self._asked = False
        self._active_id: int | None = None
        self._conversations: dict[int, Conversation] = {}
        # What each conversation cost, as shown beside its title (kept across reloads).
        self._costs: dict[int, str] = {}
        self._order: list[int] = []
        self._last_group: str | None = None

    def compose(self) -> ComposeResult:
        """A heading and the list itself."""
        yield Label("Conversations", id="sidebar-heading", classes="sidebar-heading")
        yield OptionList(id="conversation-items")

    def on_mount(self) -> None:
        """Watch scrolling, to ask for the next page near the end."""
        self.watch(self.option_list, "scroll_y", self._check_near_end, init=False)

    @property
    def option_list(self) -> OptionList:
        """The list of rows (focus this one)."""
        return self.query_one("#conversation-items", OptionList)

    @property
    def count(self) -> int:
        """How many conversations are loaded (group headings not counted)."""
        return len(self._order)

    @property
    def conversation_ids(self) -> list[int]:
        """The loaded conversations' ids, in display order."""
        return list(self._order)

    @property
    def highlighted_id(self) -> int | None:
        """The conversation under the cursor, if any."""
        option = self.option_list.highlighted_option
        if option is None or option.id is None or not option.id.startswith("c"):
            return None
        return int(option.id[1:])

    @property
    def active_id(self) -> int | None:
        """The conversation open in the chat log (marked in the list)."""
        return self._active_id

    def conversation(self, conversation_id: int) -> Conversation | None:
        """The loaded record of a conversation, if it is loaded."""
        return self._conversations.get(conversation_id)

    def show_archive(self, archived: bool) -> None:
        """Say which list is shown (the screen reloads the rows).

        Args:
            archived: True for the archive.
        """
        self.archived = archived
        heading = "Archive · A: conversations" if archived else "Conversations"
        self.query_one("#sidebar-heading", Label).update(heading)
        self.set_class(archived, "-archive")
        # In the archive the archive key restores: the footer says so.
        label = "Restore" if archived else BY_ID["archive-conversation"].footer
        for key, bindings in self._bindings.key_to_bindings.items():
            self._bindings.key_to_bindings[key] = [
                replace(binding, description=label)
                if binding.id == "archive-conversation"
                else binding
                for binding in bindings
            ]
        self.refresh_bindings()

    def mark_active(self, conversation_id: int | None) -> None:
        """Mark the conversation open in the chat log (and move the cursor to it).

        Args:
            conversation_id: Its id, or None for a new, unsaved conversation.
        """
        previous, self._active_id = self._active_id, conversation_id
        options = self.option_list
        for changed in {previous, conversation_id}:
            if changed is not None and changed in self._conversations:
                options.replace_option_prompt(_row_id(changed), self._prompt(changed))
        if conversation_id is not None and conversation_id in self._conversations:
            options.highlighted = options.get_option_index(_row_id(conversation_id))

    def show_costs(self, costs: Mapping[int, str]) -> None:
        """Show what each loaded conversation cost ('' or left out: nothing shown);
        only the rows whose figure changed are redrawn."""
        options = self.option_list
        for conversation_id, text in costs.items():
            if self._costs.get(conversation_id, "") == text:
                continue
            self._costs[conversation_id] = text
            if conversation_id in self._conversations:
                options.replace_option_prompt(
                    _row_id(conversation_id), self._prompt(conversation_id)
                )

    def highlight(self, conversation_id: int) -> None:
        """Move the cursor to a loaded conversation (without opening it)."""
        if conversation_id in self._conversations:
            options = self.option_list
            options.highlighted = options.get_option_index(_row_id(conversation_id))

    async def set_conversations(
        self, conversations: Sequence[Conversation], *, has_more: bool
    ) -> None:
        """Replace the list by the first page(s).

        Args:
            conversations: Conversations in display order.
            has_more: Whether the store holds more after these.
        """
        if self._order and has_more == self.has_more and self._same_rows(conversations):
            # What the list shows is unchanged (a reply ended in the conversation already
            # at the top): rebuilding it would repaint the whole sidebar in the frame of
            # whatever the person types next.
            for conversation in conversations:
                self._conversations[conversation.id] = conversation
            self._loaded(has_more)
            return
        keep = self.highlighted_id
        self._conversations.clear()
        self._order.clear()
        self._last_group = None
        options = self.option_list
        options.clear_options()
        options.add_options(self._options(conversations))
        self._loaded(has_more)
        if self._active_id in self._conversations:
            self.mark_active(self._active_id)
        elif keep in self._conversations:
            assert keep is not None
            self.highlight(keep)
        elif self._order:
            self.highlight(self._order[0])

    async def add_conversations(
        self, conversations: Sequence[Conversation], *, has_more: bool
    ) -> None:
        """Append the next page.

        Args:
            conversations: Conversations following the loaded ones.
            has_more: Whether the store holds more after these.
        """
        fresh = [c for c in conversations if c.id not in self._conversations]
        if fresh:
            options = self.option_list
            highlighted = options.highlighted
            options.add_options(self._options(fresh))
            # Adding options must not move the cursor the person is using.
            options.highlighted = highlighted
        self._loaded(has_more)

    def _same_rows(self, conversations: Sequence[Conversation]) -> bool:
        """Whether ``conversations`` would show exactly the rows shown now."""
        if [c.id for c in conversations] != self._order:
            return False
        now = self.now()
        for conversation in conversations:
            shown = self._conversations[conversation.id]
            if (
                conversation.title != shown.title
                or conversation.pinned != shown.pinned
                or self._group(conversation, now) != self._group(shown, now)
            ):
                return False
        return True

    @staticmethod
    def _group(conversation: Conversation, now: float) -> str:
        return "Pinned" if conversation.pinned else date_group(conversation.updated_at, now)

    def _options(self, conversations: Sequence[Conversation]) -> list[Option]:
        now = self.now()
        rows: list[Option] = []
        for conversation in conversations:
            group = self._group(conversation, now)
            if group != self._last_group:
                self._last_group = group
                rows.append(
                    Option(
                        Content.styled(group, "bold $text-muted"), id=f"h-{group}", disabled=True
                    )
                )
            self._conversations[conversation.id] = conversation
            self._order.append(conversation.id)
            rows.append(Option(self._prompt(conversation.id), id=_row_id(conversation.id)))
        return rows

    def _prompt(self, conversation_id: int) -> Content:
        conversation = self._conversations[conversation_id]
        # Content, never markup: a title is untrusted (the model may have written it).
        title = one_line(conversation.title, 200)
        text = Content(title) if title else Content.styled(UNTITLED, "italic $text-muted")
        cost = self._costs.get(conversation_id)
        if cost:
            text = Content.assemble(text, " ", Content.styled(cost, "$text-muted"))
        if conversation_id == self._active_id:
            # Bold and underlined, not coloured: it must show on the cursor's highlight, in
            # 256 colours and with NO_COLOR alike.
            text = text.stylize("bold underline")
        return text

    def _loaded(self, has_more: bool) -> None:
        self.has_more = has_more
        self._asked = False
        # The list may not fill the sidebar: look again once it has been laid out.
        self.call_after_refresh(self._check_near_end)

    def _check_near_end(self) -> None:
        if not self.has_more or self._asked or not self.is_attached or not self.display:
            return
        options = self.option_list
        if not options.size.height:
            # Not laid out yet: the scroll figures would say "at the end".
            self.call_after_refresh(self._check_near_end)
            return
        index = options.highlighted
        near_index = index is not None and index >= options.option_count - NEAR_END
        near_scroll = options.max_scroll_y - options.scroll_y <= NEAR_END
        if near_index or near_scroll:
            self._asked = True
            self.post_message(self.NeedMore(self))

    @on(OptionList.OptionHighlighted, "#conversation-items")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._check_near_end()

    @on(OptionList.OptionSelected, "#conversation-items")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id
        if option_id is not None and option_id.startswith("c"):
            self.post_message(self.Selected(self, int(option_id[1:])))
