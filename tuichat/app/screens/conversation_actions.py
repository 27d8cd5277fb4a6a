"""The chat screen's conversation actions: the sidebar (pages, pin, archive, restore), new,
rename, delete, search, export, and drafts kept per conversation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.css.query import NoMatches

from tuichat import export
from tuichat.errors import TuichatError
from tuichat.sanitize import one_line
from tuichat.store import Conversation, SearchHit

from ..later import Later
from ..widgets.prompt import PromptInput
from ..widgets.sidebar import UNTITLED, ConversationList
from .base import ChatScreenBase
from .delete import DeleteScreen
from .export import ExportScreen, default_export_path
from .rename import RenameScreen
from .search import LIMIT as SEARCH_LIMIT
from .search import SearchScreen

#: Conversations per sidebar page.
SIDEBAR_PAGE = 50

#: Seconds of quiet typing before the draft is saved.
DRAFT_DELAY = 0.5

#: Settings key of the draft of a conversation not saved yet.
NEW_DRAFT_KEY = "draft:new"

_TARGETED = frozenset(
    {
        "rename_conversation",
        "delete_conversation",
        "export_conversation",
        "pin_conversation",
        "archive_conversation",
    }
)


class ConversationActions(ChatScreenBase):
    """Sidebar, conversation and draft actions of the chat screen."""

    def _init_conversation_actions(self) -> None:
        self._archive_view = False
        self._draft_soon = Later(self, self._save_draft)
        # (conversation id or None, text) last written, to skip writes that change nothing.
        self._draft_written: tuple[int | None, str] | None = None
        self._last_search = ""
        self._prompt_text = ""

    def _check_conversation_action(self, action: str) -> Any:
        if action in _TARGETED:
            return True if self._target_conversation() is not None else None
        return NotImplemented

    def _target_conversation(self) -> int | None:
        """The highlighted conversation when the sidebar has focus, else the open one."""
        sidebar = self.sidebar
        if sidebar.has_focus_within and sidebar.highlighted_id is not None:
            return sidebar.highlighted_id
        return self.conversation_id

    # -- the list ------------------------------------------------------------------------------

    async def _reload_sidebar(self) -> None:
        sidebar = self.sidebar
        limit = max(SIDEBAR_PAGE, sidebar.count)
        try:
            page = self.store.list_conversations(limit=limit, archived=self._archive_view)
        except TuichatError as exc:
            self._report(exc)
            return
        await sidebar.set_conversations(page, has_more=len(page) == limit)
        self._show_costs(page)

    @on(ConversationList.NeedMore, "#sidebar")
    async def load_more_conversations(self) -> None:
        """Send the sidebar the next page of conversations."""
        sidebar = self.sidebar
        try:
            page = self.store.list_conversations(
                limit=SIDEBAR_PAGE, offset=sidebar.count, archived=self._archive_view
            )
        except TuichatError as exc:
            self._report(exc)
            return
        await sidebar.add_conversations(page, has_more=len(page) == SIDEBAR_PAGE)
        self._show_costs(page)

    @on(ConversationList.Selected, "#sidebar")
    async def open_selected_conversation(self, event: ConversationList.Selected) -> None:
        """Open the conversation chosen in the sidebar."""
        if event.conversation_id != self.conversation_id:
            await self._stop_and_settle()
            await self._open(event.conversation_id)
        self.prompt.focus()

    async def action_toggle_archive(self) -> None:
        """Show the archive in the sidebar, or the conversations again."""
        self._archive_view = not self._archive_view
        self.sidebar.show_archive(self._archive_view)
        await self._reload_sidebar()
        if not self.sidebar.has_focus_within:
            self.sidebar.option_list.focus()

    # -- actions on one conversation -----------------------------------------------------------

    def _conversation(self, conversation_id: int | None) -> Conversation | None:
        if conversation_id is None:
            return None
        try:
            return self.store.get_conversation(conversation_id)
        except TuichatError as exc:
            self._report(exc)
            return None

    async def action_new_conversation(self) -> None:
        """Start a fresh conversation (stopping a streaming reply first)."""
        await self._stop_and_settle()
        await self._open(None)
        self.prompt.focus()

    def action_rename_conversation(self) -> None:
        """Ask for a new title of the open (or highlighted) conversation."""
        conversation = self._conversation(self._target_conversation())
        if conversation is None:
            self.tell("Send a first message before renaming.")
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
        conversation = self._conversation(self._target_conversation())
        if conversation is None:
            self.tell("This conversation is not saved yet.")
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
                await self._open(None, save_draft=False)
            await self._reload_sidebar()

        self.app.push_screen(DeleteScreen(conversation.title), delete)

    async def action_pin_conversation(self) -> None:
        """Pin the highlighted (or open) conversation on top of the list, or unpin it."""
        conversation = self._conversation(self._target_conversation())
        if conversation is None:
            self.tell("Send a first message before pinning.")
            return
        try:
            self.store.update_conversation(conversation.id, pinned=not conversation.pinned)
        except TuichatError as exc:
            self._report(exc)
            return
        await self._reload_sidebar()
        self.sidebar.highlight(conversation.id)
        title = one_line(conversation.title, 60) or UNTITLED
        self.tell(f"Unpinned “{title}”." if conversation.pinned else f"Pinned “{title}”.")

    async def action_archive_conversation(self) -> None:
        """Archive the highlighted (or open) conversation; in the archive, restore it."""
        conversation = self._conversation(self._target_conversation())
        if conversation is None:
            self.tell("Send a first message before archiving.")
            return
        sidebar = self.sidebar
        ids = sidebar.conversation_ids
        following = None
        if conversation.id in ids:
            # Keep the cursor where it was: on the next row, as a list does after a removal.
            index = ids.index(conversation.id)
            rest = ids[index + 1 :] or ids[:index][-1:]
            following = rest[0] if rest else None
        try:
            self.store.update_conversation(conversation.id, archived=not conversation.archived)
        except TuichatError as exc:
            self._report(exc)
            return
        await self._reload_sidebar()
        if following is not None:
            sidebar.highlight(following)
        title = one_line(conversation.title, 60) or UNTITLED
        if conversation.archived:
            self.tell(f"Restored “{title}” from the archive.")
        else:
            key = self.key_hint("toggle-archive")
            self.tell(f"Archived “{title}”; {key} in the sidebar shows the archive.")

    # -- search --------------------------------------------------------------------------------

    def action_search(self) -> None:
        """Search every prompt and reply; the result chosen opens at its message."""
        screen = SearchScreen(
            lambda query: self.store.search(query, limit=SEARCH_LIMIT), self._last_search
        )

        async def chosen(hit: SearchHit | None) -> None:
            self._last_search = screen.query_text
            if hit is not None:
                await self.open_search_hit(hit)

        self.app.push_screen(screen, chosen)

    async def open_search_hit(self, hit: SearchHit) -> None:
        """Open the hit's conversation on the branch holding it, scrolled to the message."""
        await self._stop_and_settle()
        try:
            branch = self.store.messages(hit.conversation_id)
            if hit.message_id not in {message.id for message in branch}:
                # The hit is in an older version of an edited prompt: show that branch.
                self.store.show_branch(hit.message_id)
        except TuichatError as exc:
            self._report(exc)
            return
        await self._open(hit.conversation_id, select=hit.message_id)
        self.chat_log.focus()

    # -- export --------------------------------------------------------------------------------

    def action_export_conversation(self) -> None:
        """Export the open (or highlighted) conversation to a file (Markdown or JSON)."""
        conversation = self._conversation(self._target_conversation())
        if conversation is None:
            self.tell("Send a first message before exporting.")
            return
        # In the directory tuichat was started from, as a shell command's output would go;
        # the dialog says where, and any path can be typed.
        suggested = default_export_path(Path(), conversation.id, conversation.title)

        def write(path: Path | None) -> None:
            if path is None:
                return
            try:
                # One writer with `tuichat export -o`: images and PDFs beside the Markdown.
                bundle = export.collect(self.store, [conversation])
                export.write_file(path, bundle, fmt=export.format_for(path))
            except TuichatError as exc:
                self._report(exc)
                return
            except OSError as exc:
                self.tell(
                    f"Could not write {path}: {exc.strerror or exc}; choose another file.",
                    severity="error",
                )
                return
            self.tell(f"Exported to {path}", title="Export")

        self.app.push_screen(ExportScreen(suggested), write)

    # -- drafts --------------------------------------------------------------------------------

    @on(PromptInput.Changed, "#prompt")
    def draft_changed(self) -> None:
        """Save the unsent text soon (typing must not write on every key)."""
        if self._editing is not None:
            return
        # Kept on every change: when quitting, the prompt is gone before the screen.
        # (Saved while a reply streams too: the next message may be written meanwhile.)
        self._prompt_text = self.prompt.text
        self._draft_soon.arm(DRAFT_DELAY)
        self.meter.typed(len(self._prompt_text))

    def _save_draft(self) -> None:
        """Write the prompt's text as the open conversation's draft, if it changed."""
        self._draft_soon.cancel()
        if self._editing is not None:
            return
        try:
            text = self.prompt.text
        except NoMatches:
            # Quitting: the prompt is gone already; its last text was kept on each change.
            text = self._prompt_text
        owner = self.conversation_id
        if self._draft_written == (owner, text):
            return
        try:
            if owner is None:
                self.store.set_setting(NEW_DRAFT_KEY, text or None)
            else:
                self.store.update_conversation(owner, draft=text)
        except TuichatError:
            # Another window may have deleted the conversation; a draft is not worth a toast.
            return
        self._draft_written = (owner, text)

    def _load_draft(self) -> None:
        """Put the open conversation's draft in the prompt (after a switch or a restart)."""
        owner = self.conversation_id
        try:
            if owner is None:
                value = self.store.get_setting(NEW_DRAFT_KEY, "")
                text = value if isinstance(value, str) else ""
            else:
                conversation = self.store.get_conversation(owner)
                text = conversation.draft if conversation is not None else ""
        except TuichatError:
            text = ""
        self._draft_soon.cancel()
        if not self.prompt.read_only:
            self.prompt.set_text(text)
        self._prompt_text = text
        self._draft_written = (owner, text)

    def _draft_sent(self, *, was_new: bool) -> None:
        """The prompt was sent: its draft is gone."""
        self._draft_soon.cancel()
        # (Enter took the text out of the box at once: keys typed since are the next draft.)
        self._prompt_text = self.prompt.text
        try:
            if was_new:
                self.store.set_setting(NEW_DRAFT_KEY, None)
            if self.conversation_id is not None:
                self.store.update_conversation(self.conversation_id, draft="")
        except TuichatError:
            return
        self._draft_written = (self.conversation_id, "")

    def on_unmount(self) -> None:
        """Quitting: keep what was typed."""
        try:
            self._save_draft()
        except Exception:  # noqa: BLE001 - never let quitting fail over a draft
            pass
