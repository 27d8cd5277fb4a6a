"""The prompt box: a soft-wrapping TextArea where Enter sends and Ctrl+J starts a line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, cast

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer
from textual.widgets import TextArea
from textual.widgets.text_area import Document

from ..burst import EnterInBurst
from .path_completer import PathCompleter


class PromptInput(TextArea):
    """Where the person types. Enter sends; Ctrl+J (and Shift+Enter) insert a newline.

    A paste (bracketed paste or Ctrl+V) only inserts text, however many lines it holds:
    sending is always a separate, deliberate Enter. Without bracketed paste a paste comes
    as keys: an Enter amid such a burst is a line break (:mod:`..burst`). The box grows
    with its content up to its CSS ``max-height``. While a reply streams it stays
    writable (the screen adds the ``-responding`` class and decides what Enter does
    then); ``read_only`` locks it.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Send"),
        # Ctrl+J arrives as its own key in every terminal, over SSH and tmux too;
        # Shift+Enter only where the terminal reports it (kitty keyboard protocol).
        Binding("ctrl+j", "newline", "Newline"),
        Binding("shift+enter", "newline", "Newline", show=False),
    ]

    @dataclass
    class Submitted(Message):
        """The person pressed Enter on a prompt that is not blank."""

        prompt_input: PromptInput
        """The prompt box that sent it."""
        text: str
        """The text, exactly as typed."""
        taken: bool = True
        """Whether the text was taken out of the box (not while a reply streams): a
        handler that does not send it puts it back with :meth:`keep`)."""

        @property
        def control(self) -> PromptInput:
            """The prompt box (for ``@on(..., selector)``)."""
            return self.prompt_input

        def keep(self) -> None:
            """The text was not sent: back in the box, in front of anything typed since."""
            if self.taken:
                self.prompt_input.put_back(self.text)

    @dataclass
    class PathsPasted(Message):
        """A paste that named only existing files (a file dropped on the terminal)."""

        prompt_input: PromptInput
        paths: list[str]

        @property
        def control(self) -> PromptInput:
            """The prompt box (for ``@on(..., selector)``)."""
            return self.prompt_input

    @dataclass
    class LibraryRequested(Message):
        """``/`` was typed at the start of an empty prompt: the saved prompts may be picked
        (the ``/`` is in the box; a handler that opens nothing leaves it as typed)."""

        prompt_input: PromptInput

        @property
        def control(self) -> PromptInput:
            """The prompt box (for ``@on(..., selector)``)."""
            return self.prompt_input

    completer: PathCompleter | None = None
    """Gets the keys it answers while its list is open (the ``@`` completer)."""
    paths_in_paste: Callable[[str], list[str] | None] | None = None
    """Tells a paste of file paths (attached, not typed) from text; None: all is text."""
    recall: Callable[[], Sequence[str]] | None = None
    """This conversation's prompts, newest first, for Up in an empty box; None: no recall."""

    def __init__(
        self,
        text: str = "",
        *,
        placeholder: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            text,
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            highlight_cursor_line=False,
            placeholder=placeholder,
            id=id,
            classes=classes,
        )
        self._burst = EnterInBurst()
        self._settle: Timer | None = None
        self._walk = RecallWalk()

    def on_mount(self) -> None:
        """A text given at the start (carried over to compare mode) is added to at its end."""
        if self.text:
            self.move_cursor(self.document.end)

    async def _on_key(self, event: events.Key) -> None:
        # The @ completer's list, while open, answers its keys first (Tab, Enter...).
        if self.completer is not None and self.completer.answer_key(event.key):
            event.stop()
            event.prevent_default()
            return
        # TextArea inserts a newline on Enter in its own key handler, which runs before
        # bindings are looked at: take Enter here, and stop TextArea's handler. The
        # newline keys too: as bindings they ran only once the key had bubbled up to the
        # app, after the characters that followed them (a burst of keys, a paste without
        # bracketed paste) were already in, so the line breaks all landed at the end.
        held = self._burst.arrived(event.time)
        if held == "newline":
            self.action_newline()
        elif held == "send":
            self.action_submit()
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            # An Enter amid a burst of keys is a pasted line break, never a send.
            if self._burst.hold(event.time):
                if self._settle is not None:
                    self._settle.stop()
                self._settle = self.set_timer(self._burst.window, self._burst_ended)
            else:
                self.action_submit()
        elif event.key in ("ctrl+j", "shift+enter"):
            event.stop()
            event.prevent_default()
            self.action_newline()
        elif event.key in ("up", "down") and self._recall_step(-1 if event.key == "up" else 1):
            event.stop()
            event.prevent_default()
        elif event.character == "/" and not self.text and not self.read_only:
            # The / goes in as typed (TextArea's handler runs next): a message may start
            # with one, and the screen decides whether a picker opens over it.
            self.post_message(self.LibraryRequested(self))

    def _recall_step(self, step: int) -> bool:
        """Up (-1) or Down (1) through this conversation's prompts, as a shell's history:
        Up only from an empty box or from the first line of a prompt recalled and not
        edited since, Down from its last line. Returns whether the key was used."""
        if self.read_only or self.recall is None:
            return False
        row = self.cursor_location[0]
        walking = self._walk.showing(self.text)
        if step < 0:
            # Anywhere else Up moves the cursor: the text is the person's.
            allowed = (walking and row == 0) or (not walking and not self.text)
        else:
            allowed = walking and row == self.document.line_count - 1
        if not allowed:
            return False
        if not walking:
            self._walk.start(self.recall())
        text = self._walk.step(-step)
        if text is None:
            return walking  # at the oldest: the key is spent, the text stays
        self.set_text(text)
        return True

    async def _on_paste(self, event: events.Paste) -> None:
        # Runs before TextArea's own handler (Textual calls each class's in turn):
        # preventing the default keeps a paste of paths out of the text.
        paths = self.paths_in_paste(event.text) if self.paths_in_paste else None
        if paths and not self.read_only:
            event.stop()
            event.prevent_default()
            self.post_message(self.PathsPasted(self, paths))

    def _burst_ended(self) -> None:
        """No key followed the held Enter closely: it was pressed to send."""
        if self._burst.settle():
            self.action_submit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show Send and Newline as unavailable while the box is locked, and Send while a
        reply streams (Enter then keeps the text; the screen says why)."""
        if action in ("submit", "newline") and self.read_only:
            return None
        if action == "submit" and self.has_class("-responding"):
            return None
        return True

    def action_submit(self) -> None:
        """Post :class:`Submitted` unless the box is blank or read-only.

        The text is taken out of the box at once (unless a reply streams: then Enter
        keeps it): keys that follow Enter closely (a burst, a slow link, a paste without
        bracketed paste) land in an empty box instead of being wiped with the text sent.
        """
        if self.read_only or not self.text.strip():
            return
        text = self.text
        self._walk.stop()
        taken = not self.has_class("-responding")
        if taken:
            self.clear()
        self.post_message(self.Submitted(self, text, taken))

    def put_back(self, text: str) -> None:
        """Put a submitted text that was not sent back in front of whatever was typed
        since, the cursor where it was."""
        document = cast(Document, self.document)  # a plain TextArea's is a Document
        index = document.get_index_from_location(self.cursor_location)
        self.load_text(text + self.text)
        document = cast(Document, self.document)
        self.move_cursor(document.get_location_from_index(len(text) + index))

    def action_newline(self) -> None:
        """Insert a newline at the cursor (replacing any selection)."""
        if self.read_only:
            return
        self.replace("\n", *self.selection, maintain_selection_offset=False)
        self.scroll_cursor_visible()

    def set_text(self, text: str) -> None:
        """Replace the content and put the cursor at its end."""
        self.load_text(text)
        self.move_cursor(self.document.end)


class RecallWalk:
    """Where Up and Down are in the list of earlier prompts (-1: the empty box)."""

    def __init__(self) -> None:
        self._prompts: list[str] = []
        self._index = -1
        self._shown: str | None = None

    def start(self, prompts: Sequence[str]) -> None:
        """Begin a walk over ``prompts`` (newest first), from the empty box."""
        self._prompts = list(prompts)
        self._index = -1
        self._shown = ""

    def stop(self) -> None:
        """Forget the walk (the prompt was sent)."""
        self._index = -1
        self._shown = None

    def showing(self, text: str) -> bool:
        """Whether the box still holds what the walk put there (not edited since)."""
        return self._shown is not None and self._index >= 0 and text == self._shown

    def step(self, older: int) -> str | None:
        """The text one older (1) or newer (-1) prompt away, '' past the newest; None
        past the oldest."""
        index = self._index + older
        if index >= len(self._prompts) or index < -1:
            return None
        self._index = index
        self._shown = self._prompts[index] if index >= 0 else None
        return self._prompts[index] if index >= 0 else ""
