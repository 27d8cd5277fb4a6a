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
* otherwise (``xterm*``, ``screen*``, ``tmux*``, ``rxvt*``, ``linux``, ``vt102``/``vt2xx``
  and the other terminals in :data:`SCROLLING_TERMS`): scroll regions too; and those
  that erase in the current colour (:data:`ERASING_TERMS`: not ``screen*``) get runs of
  blank cells erased (``ECH``/``EL``) instead of written (``TUICHAT_OUTPUT=noerase``:
  not).
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


#: ``TERM`` prefixes of terminals that erase in the current background colour (``bce``).
#: Not ``screen``: GNU screen does only when set to (``defbce on``), and tmux, which
#: does, is named ``tmux-*`` or, by default, ``screen``: it gets cells written instead.
ERASING_TERMS = tuple(term for term in SCROLLING_TERMS if term not in ("screen", "st-", "putty"))


def erases_in_colour(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether the terminal named in ``environ`` erases in the current background."""
    if environ.get("TUICHAT_OUTPUT", "").strip().lower() == "noerase":
        return False
    return environ.get("TERM", "").lower().startswith(ERASING_TERMS)


def output_mode(environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """``full``, ``cells`` or ``scroll``: what the terminal named in ``environ`` gets."""
    asked = environ.get("TUICHAT_OUTPUT", "").strip().lower()
    if asked in ("full", "cells"):
        return asked
    # ("noerase": scroll regions but blank cells written; see erases_in_colour.)
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
                diff = None
                if mode != "full":
                    diff = ScreenDiff(
                        app.console._color_system,
                        scroll=mode == "scroll",
                        erase=mode == "scroll" and erases_in_colour(),
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
