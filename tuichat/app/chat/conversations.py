"""The chat screen's conversations: the sidebar (pages, pin, archive, restore), new,
rename, delete, search and export of one conversation.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuichat import export
from tuichat.errors import TuichatError
from tuichat.sanitize import one_line
from tuichat.store import Conversation, SearchHit

from ..screens.delete import DeleteScreen
from ..screens.export import ExportScreen, default_export_path
from ..screens.rename import RenameScreen
from ..screens.search import LIMIT as SEARCH_LIMIT
from ..screens.search import SearchScreen
from ..widgets.sidebar import UNTITLED

if TYPE_CHECKING:
    from ..screens.chat import ChatScreen

#: Conversations per sidebar page.
SIDEBAR_PAGE = 50

_TARGETED = frozenset(
    {
        "rename_conversation",
        "delete_conversation",
        "export_conversation",
        "pin_conversation",
        "archive_conversation",
    }
)


class Conversations:
    """The sidebar and the actions on one conversation."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen
        self._archive_view = False
        self._last_search = ""

    def check(self, action: str) -> Any:
        """Whether a conversation action applies (NotImplemented: not one of these)."""
        if action in _TARGETED:
            return True if self.target() is not None else None
        return NotImplemented

    def target(self) -> int | None:
        """The highlighted conversation when the sidebar has focus, else the open one."""
        sidebar = self.screen.sidebar
        if sidebar.has_focus_within and sidebar.highlighted_id is not None:
            return sidebar.highlighted_id
        return self.screen.conversation_id

    # -- the list ------------------------------------------------------------------------------

    async def reload(self) -> None:
        """Read the sidebar's page(s) again."""
        sidebar = self.screen.sidebar
        limit = max(SIDEBAR_PAGE, sidebar.count)
        try:
            page = self.screen.store.list_conversations(limit=limit, archived=self._archive_view)
        except TuichatError as exc:
            self.screen.report(exc)
            return
        await sidebar.set_conversations(page, has_more=len(page) == limit)
        self.screen.fit.show_costs(page)

    async def load_more(self) -> None:
        """Send the sidebar the next page of conversations."""
        sidebar = self.screen.sidebar
        try:
            page = self.screen.store.list_conversations(
                limit=SIDEBAR_PAGE, offset=sidebar.count, archived=self._archive_view
            )
        except TuichatError as exc:
            self.screen.report(exc)
            return
        await sidebar.add_conversations(page, has_more=len(page) == SIDEBAR_PAGE)
        self.screen.fit.show_costs(page)

    async def open_selected(self, conversation_id: int) -> None:
        """Open the conversation chosen in the sidebar."""
        if conversation_id != self.screen.conversation_id:
            await self.screen.replies.stop_and_settle()
            await self.screen.open_conversation(conversation_id)
        self.screen.prompt.focus()

    async def toggle_archive(self) -> None:
        """Show the archive in the sidebar, or the conversations again."""
        self._archive_view = not self._archive_view
        self.screen.sidebar.show_archive(self._archive_view)
        await self.reload()
        if not self.screen.sidebar.has_focus_within:
            self.screen.sidebar.option_list.focus()

    # -- actions on one conversation -----------------------------------------------------------

    def _conversation(self, conversation_id: int | None) -> Conversation | None:
        if conversation_id is None:
            return None
        try:
            return self.screen.store.get_conversation(conversation_id)
        except TuichatError as exc:
            self.screen.report(exc)
            return None

    async def new_conversation(self) -> None:
        """Start a fresh conversation (stopping a streaming reply first)."""
        await self.screen.replies.stop_and_settle()
        await self.screen.open_conversation(None)
        self.screen.prompt.focus()

    def rename_conversation(self) -> None:
        """Ask for a new title of the open (or highlighted) conversation."""
        conversation = self._conversation(self.target())
        if conversation is None:
            self.screen.tell("Send a first message before renaming.")
            return

        async def rename(title: str | None) -> None:
            if title is None:
                return
            try:
                self.screen.store.rename_conversation(conversation.id, title)
            except TuichatError as exc:
                self.screen.report(exc)
            await self.reload()

        self.screen.app.push_screen(RenameScreen(conversation.title), rename)

    def delete_conversation(self) -> None:
        """Delete the open (or highlighted) conversation, after asking."""
        conversation = self._conversation(self.target())
        if conversation is None:
            self.screen.tell("This conversation is not saved yet.")
            return

        async def delete(confirmed: bool | None) -> None:
            if not confirmed:
                return
            if conversation.id == self.screen.conversation_id:
                await self.screen.replies.stop_and_settle()
            try:
                self.screen.store.delete_conversation(conversation.id)
            except TuichatError as exc:
                self.screen.report(exc)
            if conversation.id == self.screen.conversation_id:
                await self.screen.open_conversation(None, save_draft=False)
            await self.reload()

        self.screen.app.push_screen(DeleteScreen(conversation.title), delete)

    async def pin_conversation(self) -> None:
        """Pin the highlighted (or open) conversation on top of the list, or unpin it."""
        conversation = self._conversation(self.target())
        if conversation is None:
            self.screen.tell("Send a first message before pinning.")
            return
        try:
            self.screen.store.update_conversation(conversation.id, pinned=not conversation.pinned)
        except TuichatError as exc:
            self.screen.report(exc)
            return
        await self.reload()
        self.screen.sidebar.highlight(conversation.id)
        title = one_line(conversation.title, 60) or UNTITLED
        self.screen.tell(f"Unpinned “{title}”." if conversation.pinned else f"Pinned “{title}”.")

    async def archive_conversation(self) -> None:
        """Archive the highlighted (or open) conversation; in the archive, restore it."""
        conversation = self._conversation(self.target())
        if conversation is None:
            self.screen.tell("Send a first message before archiving.")
            return
        sidebar = self.screen.sidebar
        ids = sidebar.conversation_ids
        following = None
        if conversation.id in ids:
            # Keep the cursor where it was: on the next row, as a list does after a removal.
            index = ids.index(conversation.id)
            rest = ids[index + 1 :] or ids[:index][-1:]
            following = rest[0] if rest else None
        try:
            self.screen.store.update_conversation(
                conversation.id, archived=not conversation.archived
            )
        except TuichatError as exc:
            self.screen.report(exc)
            return
        await self.reload()
        if following is not None:
            sidebar.highlight(following)
        title = one_line(conversation.title, 60) or UNTITLED
        if conversation.archived:
            self.screen.tell(f"Restored “{title}” from the archive.")
        else:
            key = self.screen.key_hint("toggle-archive")
            self.screen.tell(f"Archived “{title}”; {key} in the sidebar shows the archive.")

    # -- search --------------------------------------------------------------------------------

    def search(self) -> None:
        """Search every prompt and reply; the result chosen opens at its message."""
        screen = SearchScreen(
            lambda query: self.screen.store.search(query, limit=SEARCH_LIMIT), self._last_search
        )

        async def chosen(hit: SearchHit | None) -> None:
            self._last_search = screen.query_text
            if hit is not None:
                await self.open_search_hit(hit)

        self.screen.app.push_screen(screen, chosen)

    async def open_search_hit(self, hit: SearchHit) -> None:
        """Open the hit's conversation on the branch holding it, scrolled to the message."""
        await self.screen.replies.stop_and_settle()
        try:
            branch = self.screen.store.messages(hit.conversation_id)
            if hit.message_id not in {message.id for message in branch}:
                # The hit is in an older version of an edited prompt: show that branch.
                self.screen.store.show_branch(hit.message_id)
        except TuichatError as exc:
            self.screen.report(exc)
            return
        await self.screen.open_conversation(hit.conversation_id, select=hit.message_id)
        self.screen.chat_log.focus()

    # -- export --------------------------------------------------------------------------------

    def export_conversation(self) -> None:
        """Export the open (or highlighted) conversation to a file (Markdown or JSON)."""
        conversation = self._conversation(self.target())
        if conversation is None:
            self.screen.tell("Send a first message before exporting.")
            return
        # In the directory tuichat was started from, as a shell command's output would go;
        # the dialog says where, and any path can be typed.
        suggested = default_export_path(Path(), conversation.id, conversation.title)

        def write(path: Path | None) -> None:
            if path is None:
                return
            try:
                # One writer with `tuichat export -o`: images and PDFs beside the Markdown.
                bundle = export.collect(self.screen.store, [conversation])
                export.write_file(path, bundle, fmt=export.format_for(path))
            except TuichatError as exc:
                self.screen.report(exc)
                return
            except OSError as exc:
                self.screen.tell(
                    f"Could not write {path}: {exc.strerror or exc}; choose another file.",
                    severity="error",
                )
                return
            self.screen.tell(f"Exported to {path}", title="Export")

        self.screen.app.push_screen(ExportScreen(suggested), write)
