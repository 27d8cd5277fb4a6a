"""The watchdog's other half: a small process that ends tuichat when tuichat cannot.

A Python signal handler runs on the main thread between two bytecodes. When the main
thread is inside one long C call (a regular expression backtracking, issue #21) it never
gets there, and no thread of the process gets the GIL either: SIGHUP is noted and nothing
more happens, while the process burns a core for good. Only C code still runs in such a
process: the C part of a signal handler. So :mod:`tuichat.watchdog` has
``faulthandler`` write, from C, into a pipe when SIGHUP or SIGTERM arrives (the stack
of every thread, which says what was running), and the loop writes a heartbeat line
naming the replies streaming into another pipe. This process reads both pipes:

- no heartbeat for ``busy_after`` seconds: it logs that the main loop is busy and asks
  for the stacks (SIGUSR2, answered by ``faulthandler`` from C into the log);
- a termination signal, then no heartbeat for ``grace`` seconds (or ``deadline``
  seconds in all), or the quit key read by the input thread and no heartbeat for
  ``grace`` seconds after it: it marks the replies that were streaming ``interrupted`` (their text
  is in the store up to the last checkpoint, half a second at most before the loop
  stopped: a stuck loop receives nothing more) and kills tuichat.

It ends when tuichat closes the heartbeat pipe (a normal exit) or dies. Run it with
``python -m tuichat.sentinel CONFIG_JSON``; it imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: How often the pipes and the clock are looked at, in seconds.
POLL = 0.1

#: Busy spells whose stacks are logged per run (then only their durations: the log of a
#: long session of slow moments must not grow without end).
STACKS_LOGGED = 20


@dataclass
class SentinelConfig:
    """What the sentinel watches and how (sent as JSON on its command line)."""

    parent: int
    """tuichat's process id."""
    control: int
    """The heartbeat pipe's read end (lines ``beat ID ID...``)."""
    signals: dict[int, int]
    """Signal number -> read end of the pipe ``faulthandler`` writes to on that signal."""
    reasons: dict[int, str]
    """Signal number -> the error sentence saved with a reply it cut short."""
    log: str
    """The log file (appended to)."""
    quit_reason: str = ""
    """The error sentence saved with a reply cut short by a quit the loop never answered."""
    database: str | None = None
    """The store holding the streaming replies (None: an in-memory store, nothing to save)."""
    busy_after: float = 0.5
    """Seconds without a heartbeat that count as a busy main loop (logged)."""
    grace: float = 1.5
    """After a termination signal, seconds without a heartbeat before tuichat is ended."""
    deadline: float = 10.0
    """After a termination signal, seconds before tuichat is ended, heartbeat or not."""

    def to_json(self) -> str:
        """The config as the sentinel's command-line argument."""
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> SentinelConfig:
        """Read the command-line argument back."""
        data: dict[str, Any] = json.loads(text)
        data["signals"] = {int(k): v for k, v in data["signals"].items()}
        data["reasons"] = {int(k): v for k, v in data["reasons"].items()}
        return cls(**data)


@dataclass
class _State:
    last_beat: float
    streaming: list[int] = field(default_factory=list)
    stalled_since: float | None = None
    stalls: int = 0
    signalled: tuple[int, float] | None = None
    quit_asked: float | None = None
    pending: bytes = b""


class Sentinel:
    """Watch one tuichat process (see the module's docstring)."""

    def __init__(self, config: SentinelConfig) -> None:
        self.config = config
        self._state = _State(last_beat=time.monotonic())

    def log(self, line: str) -> None:
        """Append one line, stamped, to the log."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.config.log, "a", encoding="utf-8") as log:
            log.write(f"{stamp} tuichat[{self.config.parent}] {line}\n")

    def run(self) -> int:
        """Watch until tuichat exits (0) or has been ended (1)."""
        config = self.config
        watched = [config.control, *config.signals.values()]
        while True:
            ready, _, _ = select.select(watched, [], [], POLL)
            now = time.monotonic()
            for fd in ready:
                data = _read(fd)
                if fd == config.control:
                    if not data:
                        return 0  # tuichat closed the pipe: a normal exit
                    self._heartbeats(data, now)
                elif data:
                    signum = next(s for s, f in config.signals.items() if f == fd)
                    self._signalled(signum, data, now)
            if not _alive(config.parent):
                return 0
            if self._check(now):
                return 1

    def _heartbeats(self, data: bytes, now: float) -> None:
        state = self._state
        lines = (state.pending + data).split(b"\n")
        state.pending = lines.pop()
        for line in lines:
            words = line.split()
            if words[:1] == [b"quit"]:
                state.quit_asked = now  # the quit key, read by the input thread
                continue
            state.streaming = [int(word) for word in words[1:] if word.isdigit()]
            state.last_beat = now
            # A beat after the quit key: the loop runs, it will see the key itself.
            state.quit_asked = None
            if state.stalled_since is not None:
                self.log(f"main loop answered again after {now - state.stalled_since:.1f} s")
                state.stalled_since = None

    def _signalled(self, signum: int, stacks: bytes, now: float) -> None:
        # faulthandler writes the stacks in many small pieces: one heading, then them.
        state = self._state
        if state.signalled is None or state.signalled[0] != signum:
            state.signalled = (signum, now)
            self.log(f"{signal.Signals(signum).name} received; the threads were running:")
        with open(self.config.log, "ab") as log:
            log.write(stacks)

    def _check(self, now: float) -> bool:
        """Log a busy loop; end tuichat if a signal went unanswered. True once ended."""
        config, state = self.config, self._state
        stalled = now - state.last_beat >= config.busy_after
        if stalled and _stopped(config.parent):
            state.last_beat, stalled = now, False  # Ctrl+Z: not busy, just stopped
        if stalled and state.stalled_since is None:
            state.stalled_since = state.last_beat
            state.stalls += 1
            busy = f"main loop busy for {now - state.last_beat:.1f} s"
            if state.stalls > STACKS_LOGGED:
                self.log(busy)
            else:
                self.log(f"{busy}; the threads are running:")
                with contextlib.suppress(OSError):
                    os.kill(config.parent, signal.SIGUSR2)  # faulthandler: stacks into the log
        if state.quit_asked is not None and now - state.quit_asked >= config.grace:
            self._end(None, now - state.quit_asked)
            return True
        if state.signalled is None:
            return False
        signum, received = state.signalled
        quiet = now - max(received, state.last_beat)
        if quiet < config.grace and now - received < config.deadline:
            return False
        self._end(signum, now - received)
        return True

    def _end(self, signum: int | None, waited: float) -> None:
        """Save the streaming replies as interrupted, then kill tuichat. ``signum`` is the
        signal that went unanswered (None: the quit key)."""
        config, state = self.config, self._state
        saved = 0
        if config.database and state.streaming:
            from tuichat.store import Store

            reason = config.quit_reason if signum is None else config.reasons.get(signum, "")
            try:
                with Store(config.database) as store:
                    saved = store.mark_interrupted(state.streaming, reason)
            except Exception as exc:  # the kill below matters more than the save
                self.log(f"could not mark the streaming replies interrupted: {exc}")
        what = "the quit key" if signum is None else signal.Signals(signum).name
        self.log(
            f"{what} not answered for {waited:.1f} s: ending tuichat "
            f"({saved} streaming repl{'y' if saved == 1 else 'ies'} saved as interrupted)"
        )
        with contextlib.suppress(OSError):
            os.kill(config.parent, signal.SIGKILL)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    # The sentinel is tuichat's child: once tuichat is gone it has another parent.
    return os.getppid() == pid


def _stopped(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] in ("T", "t")


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m tuichat.sentinel CONFIG_JSON``."""
    args = sys.argv[1:] if argv is None else argv
    # The terminal's signals are tuichat's to handle; this process must outlive them.
    for name in ("SIGHUP", "SIGINT", "SIGTERM", "SIGTSTP", "SIGTTIN", "SIGTTOU"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    return Sentinel(SentinelConfig.from_json(args[0])).run()


if __name__ == "__main__":
    raise SystemExit(main())
