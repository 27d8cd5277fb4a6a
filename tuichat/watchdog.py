"""Keep tuichat answerable: a busy main loop is logged, and a hang-up always ends it.

A long-running handler on the main thread (issue #21: a regular expression backtracking
for hours inside one C call) blocks the Python signal handlers and every other thread:
Ctrl+Q, Esc and SIGHUP go unanswered and the process outlives its terminal. The
:class:`Watchdog` starts a small process, :mod:`tuichat.sentinel`, and feeds it:

- a heartbeat from the loop (:meth:`Watchdog.beat`, every 0.1 s) naming the replies
  streaming, through a pipe;
- on SIGHUP or SIGTERM, the stacks of every thread, written by ``faulthandler`` from C
  into a pipe per signal, which works even when no Python code can run; the signal then
  goes on to the loop's own handler (:class:`~tuichat.signals.SignalCatcher`) as before.

The sentinel logs a loop that has not beaten for 0.5 s with what it was running
(``faulthandler`` dumps the stacks into the log on SIGUSR2), and when a termination
signal is not answered for 1.5 s it marks the streaming replies ``interrupted`` and ends
the process. Nothing here imports Textual; POSIX only (elsewhere :meth:`Watchdog.start`
does nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from tuichat.sentinel import SentinelConfig
from tuichat.signals import interruption_sentence, termination_signals

#: How often the loop should call :meth:`Watchdog.beat`, in seconds.
BEAT_INTERVAL = 0.1

#: The error sentence saved with a reply cut short by a quit the loop could not answer.
QUIT_SENTENCE = (
    "The reply was interrupted because tuichat was quit while it was not answering; "
    "the partial reply is kept, try again for the rest."
)

#: A log grown past this is moved aside (``.1``) when the next tuichat starts.
LOG_LIMIT = 1_000_000


class Watchdog:
    """The parent's side of the watchdog (see the module's docstring).

    Attributes:
        running: Whether the sentinel process was started and not stopped.
    """

    def __init__(
        self,
        log: Path,
        *,
        database: Path | None = None,
        streaming: Callable[[], Iterable[int]] = lambda: (),
        busy_after: float = 0.5,
        grace: float = 1.5,
    ) -> None:
        """Create it; nothing starts until :meth:`start`.

        Args:
            log: The log file (created; moved aside to ``.1`` past 1 MB).
            database: The store's file (None: in memory, nothing to save from outside).
            streaming: The message ids of the replies streaming now.
            busy_after: Seconds without a heartbeat logged as a busy loop.
            grace: Seconds a termination signal may go unanswered before the end.
        """
        self._log_path = log
        self._database = database
        self._streaming = streaming
        self._busy_after = busy_after
        self._grace = grace
        self._process: subprocess.Popen[bytes] | None = None
        self._control = -1
        self._log: IO[str] | None = None
        self._registered: list[int] = []
        self._ends: list[int] = []
        self._beating: asyncio.TimerHandle | None = None
        # The input thread writes the quit key: the pipe must not close under it (its
        # number could be reused by another file meanwhile).
        self._closing = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether the sentinel runs (as far as this process knows)."""
        return self._process is not None

    def start(self) -> bool:
        """Start the sentinel and hook the signals. Call it on the main thread, after the
        loop's signal handlers are installed (``faulthandler`` passes the signals on to them).

        Returns:
            Whether it started (not on Windows, or when the log cannot be opened).
        """
        usr2 = getattr(signal, "SIGUSR2", None)
        if self._process is not None or usr2 is None or not hasattr(faulthandler, "register"):
            return False
        try:
            self._log = _open_log(self._log_path)
        except OSError:
            return False
        control_read, self._control = _pipe()
        pipes = {signum: _pipe() for signum in termination_signals()}
        reads = [control_read, *(read for read, _ in pipes.values())]
        self._ends = [self._control, *(write for _, write in pipes.values())]
        config = SentinelConfig(
            parent=os.getpid(),
            control=control_read,
            signals={int(signum): read for signum, (read, _) in pipes.items()},
            reasons={int(signum): interruption_sentence(signum) for signum in pipes},
            log=str(self._log_path),
            quit_reason=QUIT_SENTENCE,
            database=str(self._database) if self._database is not None else None,
            busy_after=self._busy_after,
            grace=self._grace,
        )
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tuichat.sentinel", config.to_json()],
                pass_fds=reads,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._log,
                # Not in the terminal's process group: no SIGHUP or Ctrl+Z of its own.
                start_new_session=True,
                env=_child_environment(),
            )
        except OSError:
            self._close(self._ends)
            return False
        finally:
            self._close(reads)
        for signum, (_, write) in pipes.items():
            faulthandler.register(signum, file=write, all_threads=True, chain=True)
            self._registered.append(signum)
        faulthandler.register(usr2, file=self._log, all_threads=True, chain=False)
        self._registered.append(usr2)
        self.beat()
        return True

    def beat(self) -> None:
        """Tell the sentinel the loop is alive, and which replies stream now."""
        if self._control < 0:
            return
        ids = " ".join(str(int(message_id)) for message_id in self._streaming())
        try:
            os.write(self._control, f"beat {ids}\n".encode())
        except BlockingIOError:
            pass  # the sentinel is behind: the next beat says the same
        except OSError:
            self._control = -1  # it is gone; nothing to tell any more

    def beat_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Beat every :data:`BEAT_INTERVAL` seconds from ``loop`` until :meth:`stop`.

        Straight on the loop, not on a framework's timer: a beat says the loop runs
        callbacks, whatever the app around it is doing (starting, exiting, suspended).
        """

        def beat() -> None:
            self.beat()
            self._beating = loop.call_later(BEAT_INTERVAL, beat)

        if self._control >= 0:
            beat()

    def quit_pressed(self) -> None:
        """The quit key was read (from any thread: the terminal's input thread reads keys
        while the loop may be stuck). Unless the loop beats again within the grace time,
        the sentinel saves the streaming replies and ends tuichat."""
        with self._closing, contextlib.suppress(OSError):
            if self._control >= 0:
                os.write(self._control, b"quit\n")  # one short write: never interleaved

    def stop(self) -> None:
        """Unhook the signals and let the sentinel go. Call it before the loop's own signal
        handlers are removed (unhooking puts back the handler that was there before)."""
        if self._beating is not None:
            self._beating.cancel()
            self._beating = None
        for signum in self._registered:
            faulthandler.unregister(signum)
        self._registered = []
        with self._closing:
            ends, self._ends, self._control = self._ends, [], -1
            self._close(ends)  # the sentinel sees the end of its pipe and exits
        process, self._process = self._process, None
        if process is not None:
            try:
                process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    @staticmethod
    def _close(fds: Iterable[int]) -> None:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _pipe() -> tuple[int, int]:
    """A pipe whose writing end never blocks (a signal handler writes to it)."""
    read, write = os.pipe()
    os.set_blocking(write, False)
    return read, write


def _open_log(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        if path.stat().st_size > LOG_LIMIT:
            path.replace(path.with_name(path.name + ".1"))
    return open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (kept open)


def _child_environment() -> dict[str, str]:
    """What the sentinel needs to find this tuichat's code, and nothing else (no keys)."""
    package_root = str(Path(__file__).resolve().parent.parent)
    paths = [package_root, os.environ.get("PYTHONPATH", "")]
    env = {"PYTHONPATH": os.pathsep.join(filter(None, paths))}
    for name in ("PATH", "SYSTEMROOT", "TMPDIR", "LANG", "LC_ALL"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env
