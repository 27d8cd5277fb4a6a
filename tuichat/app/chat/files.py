"""The chat screen's attachments: the files going with the next message.

Files come from an ``@path`` typed in the prompt, a pasted path (a file dropped on the
terminal), or the file picker; they show as chips above the prompt until the message
is sent. Paths are relative to the directory tuichat was started in, ``~`` expanded;
over SSH they are the files of the machine tuichat runs on. Reading happens in a
thread: a large file does not stall the screen. A file that cannot be attached is
said in one sentence; the prompt's text and the other chips stay.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual.widgets.text_area import Document

from tuichat.attachment_reader import read_attachments, read_path
from tuichat.attachments import Attachment, AttachmentError
from tuichat.errors import TuichatError
from tuichat.store import AttachmentInfo
from tuichat.store import Message as StoredMessage

from ..attach_paths import AtFragment, at_fragment, completions, pasted_paths, resolve
from ..widgets.attachment_chips import AttachmentChips
from ..widgets.attachment_lines import AttachmentLines
from ..widgets.path_completer import PathCompleter

if TYPE_CHECKING:
    from ..screens.chat import ChatScreen

#: The settings key of the chips' files, kept until they are sent.
DRAFT_ATTACHMENTS_KEY = "draft_attachments"


class Files:
    """Attachments in the chat screen."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen
        self.launch_dir = Path.cwd()
        """Where relative paths start: the directory tuichat was started in."""
        self._attachments: list[Attachment] = []
        # Where each chip's file was read (by its name): kept so the chips outlive a quit.
        self._read_from: dict[str, str] = {}
        self._attachment_infos: dict[int, list[AttachmentInfo]] = {}
        # The start of an @fragment whose list Esc closed: it stays closed until another.
        self._completion_closed_at: int | None = None

    def mounted(self) -> None:
        """Hand the prompt the completer and the test for pasted paths."""
        prompt = self.screen.prompt
        prompt.completer = self.completer
        prompt.paths_in_paste = lambda text: pasted_paths(text, self.launch_dir)
        self.screen.run_worker(
            self._restore_attachments(), group="attachments", exit_on_error=False
        )

    @property
    def completer(self) -> PathCompleter:
        """The @ path completer above the prompt."""
        return self.screen.query_one("#path-completer", PathCompleter)

    @property
    def chips(self) -> AttachmentChips:
        """The row of chips above the prompt."""
        return self.screen.query_one("#attachment-chips", AttachmentChips)

    @property
    def attachments(self) -> list[Attachment]:
        """The files that go with the next message, in order."""
        return list(self._attachments)

    async def attach(self, paths: list[str]) -> bool:
        """Read ``paths`` and add them as chips; say in one sentence what failed.

        Returns:
            Whether every path was attached (those before a failure are kept).
        """
        for path in paths:
            shown = os.path.expanduser(path) if path.startswith("~") else path
            target = str(resolve(path, self.launch_dir))
            try:
                attached = await asyncio.to_thread(read_attachments, [target])
            except AttachmentError as exc:
                self.screen.tell(
                    str(exc).replace(target, shown), severity="error", title="Attachment"
                )
                return False
            for attachment in attached.attachments:
                name = attachment.name.replace(target, shown, 1)
                if any(a.name == name for a in self._attachments):
                    continue  # attached already: once is enough
                self._attachments.append(dataclasses.replace(attachment, name=name))
                self._read_from[name] = attachment.name
            for note in attached.notes:
                self.screen.tell(note.replace(target, shown), title="Attachment")
        self._show_chips()
        return True

    def _show_chips(self) -> None:
        chips = self.chips
        chips.show(list(self._attachments))
        if not self._attachments and chips.has_focus:
            self.screen.prompt.focus()
        self._save_attachments()

    # -- kept across a restart, like the prompt's draft ----------------------------------------

    def _save_attachments(self) -> None:
        """Remember the chips' files (their paths, not their bytes) for the next start."""
        kept = [
            {"name": a.name, "path": self._read_from[a.name]}
            for a in self._attachments
            if a.name in self._read_from
        ]
        try:
            self.screen.store.set_setting(DRAFT_ATTACHMENTS_KEY, kept or None)
        except TuichatError:
            return  # only a draft: not worth a toast

    async def _restore_attachments(self) -> None:
        """The chips of the last run, read again from their files (a file gone is said)."""
        try:
            kept = self.screen.store.get_setting(DRAFT_ATTACHMENTS_KEY, None)
        except TuichatError:
            return
        if not isinstance(kept, list):
            return
        for entry in kept:
            if not isinstance(entry, dict):
                continue
            name, path = entry.get("name"), entry.get("path")
            if not isinstance(name, str) or not isinstance(path, str):
                continue
            try:
                attachment = await asyncio.to_thread(read_path, path)
            except AttachmentError as exc:
                self.screen.tell(
                    f"{name} (attached before tuichat quit) is left out: {exc}",
                    severity="warning",
                    title="Attachment",
                )
                continue
            if not any(a.name == name for a in self._attachments):
                self._attachments.append(dataclasses.replace(attachment, name=name))
                self._read_from[name] = path
        self._show_chips()

    def remove(self, index: int) -> None:
        """Take the file at ``index`` off the next message."""
        if 0 <= index < len(self._attachments):
            del self._attachments[index]
        self._show_chips()

    def sent(self) -> list[Attachment]:
        """The message went with its files: the chips go (returned, for a retry)."""
        sent, self._attachments = self._attachments, []
        self._show_chips()
        return sent

    def back(self, files: list[Attachment]) -> None:
        """A message that failed comes back with its files, before any added since."""
        names = {a.name for a in files}
        self._attachments = [*files, *(a for a in self._attachments if a.name not in names)]
        self._show_chips()

    # -- in the log ----------------------------------------------------------------------------

    def load_infos(self) -> None:
        """What the log shows of the open conversation's files: one query, no bytes."""
        self._attachment_infos = {}
        if self.screen.conversation_id is None:
            return
        try:
            self._attachment_infos = self.screen.store.attachment_infos(self.screen.conversation_id)
        except TuichatError as exc:
            self.screen.report(exc)

    def remember(self, message: StoredMessage | None, files: list[Attachment]) -> None:
        """A prompt just sent carries ``files``: the log shows them without a query."""
        if message is None or not files:
            return
        self._attachment_infos[message.id] = [
            AttachmentInfo(f.name, f.kind, f.media_type, f.size, f.sha256, f.width, f.height)
            for f in files
        ]

    def lines(self, message_id: int | None) -> list[AttachmentLines]:
        """The lines naming a prompt's files (none when it has none)."""
        files = self._attachment_infos.get(message_id) if message_id is not None else None
        return [AttachmentLines(files)] if files else []

    # -- the file picker -----------------------------------------------------------------------

    def attach_file(self) -> None:
        """Choose a file to attach in a tree of the directory tuichat was started in."""

        async def chosen(path: Path | None) -> None:
            self.screen.prompt.focus()
            if path is not None:
                await self.attach([self._as_typed(path)])

        from ..screens.file_picker import FilePickerScreen  # (not before the first frame)

        self.screen.app.push_screen(FilePickerScreen(self.launch_dir), chosen)

    def _as_typed(self, path: Path) -> str:
        """A path as a person would type it: relative to the start directory when inside."""
        try:
            return str(path.relative_to(self.launch_dir))
        except ValueError:
            return str(path)

    # -- the image viewer ----------------------------------------------------------------------

    def open_attachment(self) -> None:
        """Open the selected prompt's first image in the viewer."""
        selected = self.screen.chat_log.selected_id
        message = self.screen.transcript.shown.get(selected) if selected is not None else None
        if message is None:
            return
        try:
            files = self.screen.store.message_attachments([message.id]).get(message.id, [])
        except TuichatError as exc:
            self.screen.tell(str(exc), severity="error")
            return
        image = next((f for f in files if f.kind == "image"), None)
        if image is None:
            self.screen.tell("This message has no image; select a prompt that carries one.")
            return
        from ..screens.image_viewer import ImageViewerScreen  # (not before the first frame)

        self.screen.app.push_screen(ImageViewerScreen(image))

    # -- @ paths and pasted paths -------------------------------------------------------------

    def _fragment(self) -> AtFragment | None:
        prompt = self.screen.prompt
        if prompt.selection.start != prompt.selection.end:
            return None
        cursor = cast(Document, prompt.document).get_index_from_location(prompt.cursor_location)
        return at_fragment(prompt.text, cursor)

    def complete_path(self) -> None:
        """Offer the paths that complete the @fragment before the cursor."""
        fragment = self._fragment()
        completer = self.completer
        if fragment is None or fragment.start == self._completion_closed_at:
            if fragment is None:
                self._completion_closed_at = None
            completer.close()
            return
        completer.show_paths(completions(fragment.path, self.launch_dir))

    def completion_dismissed(self) -> None:
        """Esc: no list for this @fragment any more (another @ opens one)."""
        fragment = self._fragment()
        self._completion_closed_at = fragment.start if fragment is not None else None

    async def path_chosen(self, path: str) -> None:
        """A folder goes on completing inside it; a file becomes a chip and leaves the text."""
        fragment = self._fragment()
        prompt = self.screen.prompt
        if fragment is None:
            self.completer.close()
            return
        document = cast(Document, prompt.document)
        start = document.get_location_from_index(fragment.start)
        end = document.get_location_from_index(fragment.end)
        if path.endswith("/"):
            prompt.replace(f"@{path}", start, end)
            return
        prompt.replace("", start, end)
        self.completer.close()
        await self.attach([path])

    def prompt_blurred(self) -> None:
        """The list closes when the prompt loses the focus."""
        if not self.screen.prompt.has_focus:
            self.completer.close()
