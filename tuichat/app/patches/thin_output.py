"""The app writes each frame as :class:`~.screen_diff.ScreenDiff` encodes it.

Mixed into the app, this overrides Textual's private ``App._display`` (Textual 8.2.8):
the compositor's update is swapped for the cells that changed (and a scroll of the rows
that moved) just before Textual writes it, inside Textual's own synchronized update.
Everything else about a frame (when it is drawn, the cursor, the write itself) is
Textual's. ``tests/app/test_patches.py`` fails when ``App._display`` changes.

Which terminals get what (decided once, when the first frame is written):

* ``TUICHAT_OUTPUT=full``: Textual's output unchanged (every touched line in full).
* ``TUICHAT_OUTPUT=cells``, or a ``TERM`` not known to take scroll regions: only the
  cells that changed, with the cursor moves and colours Textual itself writes.
* otherwise (``xterm*``, ``screen*``, ``tmux*``, ``rxvt*``, ``linux``, ``vt1xx``/``vt2xx``
  and the other terminals in :data:`SCROLLING_TERMS`): scroll regions too.
"""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console
from textual._compositor import CompositorUpdate
from textual.screen import Screen

from .screen_diff import ScreenDiff

#: ``TERM`` prefixes of terminals that take DECSTBM with IL/DL (VT102 and later).
SCROLLING_TERMS = (
    "xterm",
    "screen",
    "tmux",
    "rxvt",
    "linux",
    "vt102",
    "vt2",
    "vt3",
    "vt4",
    "vt5",
    "alacritty",
    "kitty",
    "foot",
    "wezterm",
    "konsole",
    "gnome",
    "putty",
    "iterm",
    "ghostty",
    "contour",
    "st-",
    "mlterm",
)


def output_mode(environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """``full``, ``cells`` or ``scroll``: what the terminal named in ``environ`` gets."""
    asked = environ.get("TUICHAT_OUTPUT", "").strip().lower()
    if asked in ("full", "cells"):
        return asked
    term = environ.get("TERM", "").lower()
    if term.startswith(SCROLLING_TERMS) or term == "st":
        return "scroll"
    return "cells"


class _Encoded(CompositorUpdate):
    """A frame already encoded."""

    def __init__(self, text: str) -> None:
        self.text = text

    def render_segments(self, console: Console) -> str:
        return self.text


class ThinOutput:
    """Mixed into a Textual ``App`` (before it): frames are written as diffs."""

    _screen_diff: ScreenDiff | None | bool = False  # False: not decided yet

    def _display(self, screen: Screen[Any], renderable: Any) -> None:
        app: Any = self
        if (
            isinstance(renderable, CompositorUpdate)
            and not app._batch_count
            and app._running
            and not app._closed
            and not app.is_headless
            and app._driver is not None
            and not app._driver.is_inline
        ):
            diff = self._screen_diff
            if diff is False:
                mode = output_mode()
                diff = (
                    None
                    if mode == "full"
                    else ScreenDiff(app.console._color_system, scroll=mode == "scroll")
                )
                self._screen_diff = diff
            if isinstance(diff, ScreenDiff):
                renderable = self._encode(diff, screen, renderable)
        super()._display(screen, renderable)  # type: ignore[misc]

    def _encode(self, diff: ScreenDiff, screen: Screen[Any], update: CompositorUpdate) -> Any:
        app: Any = self
        width, height = app.size
        try:
            text = diff.encode(update, width, height)
        except Exception:  # never a broken screen: Textual's output, and a full repaint
            text = None
            diff.forget()
        if text is not None:
            return _Encoded(text)
        if diff.rows is None:
            # What the terminal shows is unknown from here: Textual writes this frame,
            # and the next one repaints the whole screen (and is taken in again).
            screen.refresh()
        return update
