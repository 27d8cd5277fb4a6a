"""Surviving the terminal: a Textual driver that a hang-up or a stray byte cannot kill.

When an SSH session drops, the kernel hangs up its terminal: from then on every write
to it fails with EIO. Textual writes from a background thread; if that thread dies on
EIO, the writes queue up (30 at most) and the next one blocks the app for good, so the
SIGHUP handler that saves the reply never gets to finish. The driver here swallows
those failures (the output has nowhere to go anyway) and turns an input error into the
SIGHUP it stands for, so :class:`~tuichat.signals.SignalCatcher` always gets its turn.

Input that is not UTF-8 (a binary paste, a terminal set to Latin-1) made Textual's input
thread raise ``UnicodeDecodeError`` and the app die with a traceback; here such bytes
arrive as U+FFFD instead.

The same driver tells the input-first gate (:mod:`tuichat.app.input_first`) about a key
the moment its thread reads it, so a streaming reply steps aside before the key even
reaches the app.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import IO, Any

from textual import events
from textual.driver import Driver
from textual.message import Message

from .patches.decoder import install_lenient_decoder

try:
    from textual.drivers.linux_driver import LinuxDriver
except ImportError:  # Windows: no termios, no hang-ups to survive
    LinuxDriver = None  # type: ignore[assignment,misc]


#: Input a streaming reply lets through first (as the app's; not mouse moves: floods).
_FIRST = (events.Key, events.Paste, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)


class _TolerantOutput:
    """A text stream that drops what it cannot write instead of raising.

    Attributes:
        gone: Whether a write failed (the terminal is gone).
        busy: Whether a write or flush is under way (the terminal is slow to take it).
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self.gone = False
        self.busy = False

    def write(self, text: str) -> int:
        """Write ``text``, or drop it once the terminal is gone."""
        if not self.gone:
            self.busy = True
            try:
                return self._stream.write(text)
            except (OSError, ValueError):
                self.gone = True
            finally:
                self.busy = False
        return len(text)

    def flush(self) -> None:
        """Flush, unless the terminal is gone."""
        if not self.gone:
            self.busy = True
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self.gone = True
            finally:
                self.busy = False

    def fileno(self) -> int:
        """The terminal's descriptor (Textual asks it for the window size)."""
        return self._stream.fileno()

    def isatty(self) -> bool:
        """Whether it still is a terminal."""
        return not self.gone and self._stream.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


if LinuxDriver is not None:

    class HangupSafeDriver(LinuxDriver):
        """Textual's Linux driver, made safe against a hung-up terminal."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._file = _TolerantOutput(self._file)  # type: ignore[arg-type,assignment]
            install_lenient_decoder()

        def process_message(self, message: Message) -> None:
            """Pass on what the input thread parsed; input closes the gate at once, and
            the quit key reaches the watchdog even when the loop cannot take it."""
            if isinstance(message, _FIRST):
                gate = getattr(self._app, "input_first", None)
                if gate is not None:
                    gate.incoming()
            if isinstance(message, events.Key) and message.key in getattr(
                self._app, "quit_keys", ()
            ):
                watchdog = getattr(self._app, "watchdog", None)
                if watchdog is not None:
                    watchdog.quit_pressed()
            super().process_message(message)

        def run_input_thread(self) -> None:
            """Read keys; a terminal that fails to read has hung up: say so with SIGHUP."""
            try:
                super().run_input_thread()
            except OSError:
                # Textual would "panic" with a traceback on the (dead) screen. The
                # kernel sends SIGHUP too; sending it again is harmless (caught once).
                with contextlib.suppress(OSError):
                    os.kill(os.getpid(), signal.SIGHUP)


def hangup_safe(driver_class: type[Driver]) -> type[Driver]:
    """``driver_class``, or its hang-up-safe version when it is the Linux driver."""
    if LinuxDriver is not None and driver_class is LinuxDriver:
        return HangupSafeDriver
    return driver_class
