"""The conversation sidebar: one page of conversations at a time, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, ListItem, ListView

from tuichat.sanitize import one_line
from tuichat.store import Conversation

#: Rows from the end of the loaded list at which the next page is asked for.
NEAR_END = 5


class ConversationItem(ListItem):
    """One row of the sidebar: a conversation's title, as plain text."""

    def __init__(self, conversation: Conversation) -> None:
        """Create it.

        Args:
            conversation: The conversation shown.
        """
        title = one_line(conversation.title, 200) or "New conversation"
        if conversation.pinned:
            title = f"* {title}"
        super().__init__(Label(Content(title), classes="conversation-title"))
        self.conversation_id = conversation.id
        """The conversation's row id."""
        self.set_class(not conversation.title, "-untitled")
        self.set_class(conversation.pinned, "-pinned")


class ConversationList(Widget):
    """The list of conversations; the screen feeds it pages and it asks for more.

    The screen passes pages of :class:`~tuichat.store.Conversation` records in with
    :meth:`set_conversations` and :meth:`add_conversations`; when the person scrolls or
    moves near the end of what is loaded, the list posts :class:`NeedMore`. Opening a
    conversation (Enter or a click) posts :class:`Selected`.
    """

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

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        """Create it.

        Args:
            id: The widget id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self.has_more = False
        """Whether the store holds conversations not loaded yet."""
        self._asked = False
        self._active_id: int | None = None

    def compose(self) -> ComposeResult:
        """A heading and the list itself."""
        yield Label("Conversations", classes="sidebar-heading")
        yield ListView(id="conversation-items")

    def on_mount(self) -> None:
        """Watch scrolling, to ask for the next page near the end."""
        self.watch(self._list, "scroll_y", self._check_near_end, init=False)

    @property
    def _list(self) -> ListView:
        return self.query_one("#conversation-items", ListView)

    @property
    def count(self) -> int:
        """How many conversations are loaded."""
        return len(self._list)

    @property
    def conversation_ids(self) -> list[int]:
        """The loaded conversations' ids, in display order."""
        return [item.conversation_id for item in self._list.query(ConversationItem)]

    @property
    def highlighted_id(self) -> int | None:
        """The conversation under the cursor, if any."""
        item = self._list.highlighted_child
        return item.conversation_id if isinstance(item, ConversationItem) else None

    @property
    def active_id(self) -> int | None:
        """The conversation open in the chat log (marked in the list)."""
        return self._active_id

    def mark_active(self, conversation_id: int | None) -> None:
        """Mark the conversation open in the chat log.

        Args:
            conversation_id: Its id, or None for a new, unsaved conversation.
        """
        self._active_id = conversation_id
        for index, item in enumerate(self._list.query(ConversationItem)):
            active = item.conversation_id == conversation_id
            item.set_class(active, "-active")
            if active:
                self._list.index = index

    async def set_conversations(
        self, conversations: Sequence[Conversation], *, has_more: bool
    ) -> None:
        """Replace the list by the first page(s).

        Args:
            conversations: Conversations in display order.
            has_more: Whether the store holds more after these.
        """
        listing = self._list
        keep = self.highlighted_id
        with self.app.batch_update():
            await listing.clear()
            await listing.extend(ConversationItem(c) for c in conversations)
        self._loaded(has_more)
        self.mark_active(self._active_id)
        if self._active_id is None:
            ids = self.conversation_ids
            listing.index = ids.index(keep) if keep in ids else (0 if ids else None)

    async def add_conversations(
        self, conversations: Sequence[Conversation], *, has_more: bool
    ) -> None:
        """Append the next page.

        Args:
            conversations: Conversations following the loaded ones.
            has_more: Whether the store holds more after these.
        """
        known = set(self.conversation_ids)
        fresh = [c for c in conversations if c.id not in known]
        if fresh:
            await self._list.extend(ConversationItem(c) for c in fresh)
            self.mark_active(self._active_id)
        self._loaded(has_more)

    def _loaded(self, has_more: bool) -> None:
        self.has_more = has_more
        self._asked = False
        # The list may not fill the sidebar: look again once it has been laid out.
        self.call_after_refresh(self._check_near_end)

    def _check_near_end(self) -> None:
        if not self.has_more or self._asked or not self.is_attached or not self.display:
            return
        listing = self._list
        if listing.virtual_size.height < len(listing):
            # Not laid out yet: the scroll figures would say "at the end".
            self.call_after_refresh(self._check_near_end)
            return
        index = listing.index
        near_index = index is not None and index >= len(listing) - NEAR_END
        near_scroll = listing.max_scroll_y - listing.scroll_y <= NEAR_END
        if near_index or near_scroll:
            self._asked = True
            self.post_message(self.NeedMore(self))

    @on(ListView.Highlighted, "#conversation-items")
    def _highlighted(self, event: ListView.Highlighted) -> None:
        event.stop()
        self._check_near_end()

    @on(ListView.Selected, "#conversation-items")
    def _selected(self, event: ListView.Selected) -> None:
        event.stop()
        if isinstance(event.item, ConversationItem):
            self.post_message(self.Selected(self, event.item.conversation_id))
