"""Leaving cleanly when the terminal goes away (SIGHUP) or the system asks (SIGTERM).

An SSH session that drops sends SIGHUP to the programs in its terminal; ``kill`` and
service managers send SIGTERM. Either way a reply may be streaming: it must be saved
and marked ``interrupted`` (not ``cancelled``: the person did not stop it), and the
process must exit with ``128 + signal`` and no traceback.

:class:`SignalCatcher` does that on an asyncio loop, for the TUI and for ``tuichat ask``
alike. It must not import Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable

from tuichat.chat import live_turns

#: The signals that end tuichat cleanly, and how each is put to the person.
_CAUSES: dict[str, str] = {
    "SIGHUP": "the terminal went away (SIGHUP, a closed window or a dropped SSH session)",
    "SIGTERM": "tuichat was told to stop (SIGTERM)",
}


def termination_signals() -> list[signal.Signals]:
    """The signals handled on this platform (Windows has no SIGHUP)."""
    return [getattr(signal, name) for name in _CAUSES if hasattr(signal, name)]


def exit_code(signum: int) -> int:
    """The shell's convention for a process ended by ``signum``: 128 + its number."""
    return 128 + signum


def cause(signum: int) -> str:
    """Why tuichat stopped, as words (``the terminal went away (SIGHUP...)``)."""
    name = signal.Signals(signum).name
    return _CAUSES.get(name, f"tuichat received {name}")


def interruption_sentence(signum: int) -> str:
    """The error sentence saved with a reply cut short by ``signum``."""
    return (
        f"The reply was interrupted because {cause(signum)}; the partial reply is kept, "
        "try again for the rest."
    )


def _is_hangup(signum: int) -> bool:
    return hasattr(signal, "SIGHUP") and signum == signal.SIGHUP


class SignalCatcher:
    """Turn SIGHUP and SIGTERM into a clean, saved exit on an asyncio loop.

    On the first signal every live :class:`~tuichat.chat.Turn` is marked to end as
    ``interrupted``, a hung-up terminal's file descriptors are pointed at ``/dev/null``
    (writing to a hung-up terminal fails with EIO, which would turn the exit into a
    traceback or a hang), and ``on_signal`` is called to stop the program. A second
    signal while stopping is not caught: it ends the process the default way.

    Attributes:
        received: The first signal caught, or None.
    """

    def __init__(self, on_signal: Callable[[int], None] | None = None) -> None:
        """Create it; nothing is installed until :meth:`install`.

        Args:
            on_signal: Called on the loop with the signal number, once; it should
                cancel the running reply (or exit the app) so the turn saves itself.
        """
        self._on_signal = on_signal
        self._loop: asyncio.AbstractEventLoop | None = None
        self._terminal_fds: list[int] = []
        self.received: int | None = None

    def install(
        self,
        on_signal: Callable[[int], None] | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> SignalCatcher:
        """Handle the signals on ``loop`` (default: the running loop).

        Which of stdin, stdout and stderr are terminals is noted now: after a hangup a
        terminal no longer answers ``isatty``.

        Args:
            on_signal: Replaces the callback given to the constructor.
            loop: The loop to handle them on.

        Returns:
            The catcher itself.
        """
        if on_signal is not None:
            self._on_signal = on_signal
        self._loop = loop or asyncio.get_running_loop()
        self._terminal_fds = [fd for fd in (0, 1, 2) if _isatty(fd)]
        for signum in termination_signals():
            # Not every loop can (Windows' proactor loop): then the default applies.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                self._loop.add_signal_handler(signum, self._handle, signum)
        return self

    def remove(self) -> None:
        """Stop handling the signals (the defaults apply again)."""
        loop, self._loop = self._loop, None
        if loop is None or loop.is_closed():
            return
        for signum in termination_signals():
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signum)

    def _handle(self, signum: int) -> None:
        if self.received is not None:
            # Already stopping and told again: stop now, the default way.
            self.remove()
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.received = signum
        for turn in live_turns():
            turn.interrupt(interruption_sentence(signum))
        if _is_hangup(signum):
            self._silence_terminal()
        if self._on_signal is not None:
            self._on_signal(signum)

    def _silence_terminal(self) -> None:
        """Point the hung-up terminal's descriptors at /dev/null: reads end, writes vanish."""
        try:
            devnull = os.open(os.devnull, os.O_RDWR)
        except OSError:
            return
        try:
            for fd in self._terminal_fds:
                with contextlib.suppress(OSError):
                    os.dup2(devnull, fd)
        finally:
            os.close(devnull)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False
