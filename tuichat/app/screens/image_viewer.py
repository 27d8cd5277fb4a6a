"""The image viewer: one image of a message, at its real size when the screen has room.

Drawn with Kitty's graphics protocol or Sixel where the terminal speaks them, else in
coloured half blocks (see :mod:`..images`); shrunk to fit, never enlarged. Esc or q
closes it.
"""

from __future__ import annotations

import os
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Middle
from textual.screen import ModalScreen
from textual.widgets import Label

from tuichat.attachments import Attachment

from ..images import Method, cell_pixels, fit, image_widget, method_for
from ..widgets.attachment_chips import describe


class ImageViewerScreen(ModalScreen[None]):
    """Show ``image`` over the chat until Esc."""

    DEFAULT_CSS = """
    ImageViewerScreen { background: $background 90%; }
    #image-heading { width: 100%; height: 1; padding: 0 1; background: $primary-muted; }
    #image-room { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(self, image: Attachment, method: Method | None = None) -> None:
        """Create it.

        Args:
            image: The image attachment, bytes included.
            method: How to draw it (default: what the terminal announces).
        """
        super().__init__()
        self._image = image
        self._method = method or method_for(os.environ)
        self._cell = cell_pixels()

    def compose(self) -> ComposeResult:
        """A line naming the image, then the image, centred."""
        yield Label(f"{describe(self._image)} · Esc closes", id="image-heading", markup=False)
        with Middle(id="image-room"), Center():
            yield image_widget(self._image.data, self._method, self._cell, id="image")

    def on_resize(self) -> None:
        """Size the image for the room there is (again, when the terminal is resized)."""
        self._size_image()

    def on_mount(self) -> None:
        """Size the image once the screen has its size."""
        self._size_image()

    def _size_image(self) -> None:
        image = self._image
        if not (image.width and image.height):
            return
        found = self.query("#image")
        if not found:
            return  # not composed yet: sized once mounted
        room = (self.size.width, max(1, self.size.height - 1))
        columns, rows = fit((image.width, image.height), self._cell, room, self._method)
        widget = found.first()
        widget.styles.width = columns
        widget.styles.height = rows

    def action_close(self) -> None:
        """Back to the chat."""
        self.dismiss(None)
