"""``python -m tuichat`` with the prompt left writable while a reply streams (benchmark 2 only).

tuichat locks its prompt while a reply streams, so a key press during a stream changes
nothing on screen. To time what a key press waits for while the reply renders, this
starts the same app but undoes the lock right after the screen sets it.
"""

from __future__ import annotations

import sys

from tuichat.app.screens.chat import ChatScreen
from tuichat.cli import main

_lock = ChatScreen.watch_responding


def _writable(self: ChatScreen, responding: bool) -> None:
    _lock(self, responding)
    self.prompt.read_only = False


ChatScreen.watch_responding = _writable  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
