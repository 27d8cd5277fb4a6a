"""Drawing an image in the terminal with ``textual-image``, loaded only when one is opened.

``textual-image`` asks the terminal what it supports when it is imported (it writes a
query and reads the answer from stdin), which cannot work once Textual reads stdin: the
answer would arrive as keys. So it is imported with stdout looking like no terminal
(no query is sent) and the method is chosen here from the environment, the way
terminals announce themselves: Kitty's graphics protocol in Kitty, Sixel in terminals
known to draw it, and coloured half blocks everywhere else (inside tmux too, which
passes graphics through only when configured to).
"""

from __future__ import annotations

import fcntl
import struct
import sys
import termios
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from textual.widget import Widget

Method = Literal["kitty", "sixel", "halfcell"]

#: A cell's pixels when the terminal does not say (a VT340's, as textual-image assumes).
DEFAULT_CELL = (10, 20)

_SIXEL_TERMS = ("foot", "foot-extra", "mlterm", "yaft-256color", "contour")
_SIXEL_PROGRAMS = ("WezTerm", "iTerm.app", "contour")


def method_for(environ: Mapping[str, str]) -> Method:
    """How to draw an image in the terminal ``environ`` describes."""
    if environ.get("TMUX") or environ.get("STY"):
        return "halfcell"
    if environ.get("TERM") == "xterm-kitty" or environ.get("KITTY_WINDOW_ID"):
        return "kitty"
    if (
        environ.get("TERM", "") in _SIXEL_TERMS
        or environ.get("TERM_PROGRAM", "") in _SIXEL_PROGRAMS
        or environ.get("KONSOLE_VERSION")
    ):
        return "sixel"
    return "halfcell"


def cell_pixels() -> tuple[int, int]:
    """A cell's width and height in pixels, from the terminal's window size (no query)."""
    try:
        packed = fcntl.ioctl(sys.__stdout__.fileno(), termios.TIOCGWINSZ, b"\0" * 8)  # type: ignore[union-attr]
        rows, columns, width, height = struct.unpack("HHHH", packed)
    except (OSError, AttributeError, ValueError):
        return DEFAULT_CELL
    if not (rows and columns and width and height):
        return DEFAULT_CELL
    return width // columns, height // rows


def fit(
    pixels: tuple[int, int], cell: tuple[int, int], room: tuple[int, int], method: Method
) -> tuple[int, int]:
    """The image's size in cells: its real size, made smaller (never larger) to fit ``room``.

    Half blocks draw two pixels per cell, one above the other, so there a cell is taken
    as one pixel wide and two high.
    """
    width, height = pixels
    cell_w, cell_h = (1, 2) if method == "halfcell" else cell
    columns, rows = max(1, round(width / cell_w)), max(1, round(height / cell_h))
    # The cells' own shape matters for the aspect: scale both sides by one factor.
    scale = min(1.0, room[0] / columns, room[1] / rows)
    return max(1, int(columns * scale)), max(1, int(rows * scale))


class _NotATerminal:
    """Stands for stdout while textual-image is imported: answers that it is no tty."""

    def __init__(self, real: object) -> None:
        self._real = real

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


@contextmanager
def _no_terminal_queries() -> Iterator[None]:
    real = sys.__stdout__
    sys.__stdout__ = _NotATerminal(real)  # type: ignore[misc,assignment]
    try:
        yield
    finally:
        sys.__stdout__ = real  # type: ignore[misc]


def image_widget(data: bytes, method: Method, cell: tuple[int, int], id: str) -> Widget:
    """A widget drawing the image ``data`` by ``method`` (size it with CSS width/height)."""
    import io

    with _no_terminal_queries():
        from textual_image import _terminal
        from textual_image._terminal import CellSize

        # Its renderables size images by the cell's pixels; give them the real ones.
        _terminal.get_cell_size._result = CellSize(*cell)  # type: ignore[attr-defined]
        from textual_image.widget import HalfcellImage, SixelImage, TGPImage

    kinds: dict[Method, type[Widget]] = {
        "kitty": TGPImage,
        "sixel": SixelImage,
        "halfcell": HalfcellImage,
    }
    return kinds[method](io.BytesIO(data), id=id)  # type: ignore[arg-type]
