"""Drive a program in a real terminal: a private tmux server, send-keys, capture-pane."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path


class TmuxError(AssertionError):
    """The screen never showed what a test waited for."""


class TmuxSession:
    """One tmux session on its own socket, running ``command`` in a ``width``x``height`` pane.

    The pane stays open after the command exits (``remain-on-exit``), so a test can read
    the exit status and what was printed last.
    """

    def __init__(
        self,
        command: list[str],
        *,
        socket_dir: Path,
        env: Mapping[str, str] | None = None,
        width: int = 120,
        height: int = 40,
    ) -> None:
        self.socket = str(socket_dir / f"tmux-{uuid.uuid4().hex[:8]}")
        self.name = "t"
        self.command = command
        self.env = dict(env or {})
        self.width = width
        self.height = height

    def tmux(self, *args: str, check: bool = True) -> str:
        """Run a tmux command against this session's server and return its stdout."""
        done = subprocess.run(
            ["tmux", "-S", self.socket, "-f", os.devnull, *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if check and done.returncode != 0:
            raise TmuxError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self) -> TmuxSession:
        """Start the session with the command in its only pane."""
        # pytest's readline import can leave COLUMNS/LINES (80x24) in the C-level
        # environment tmux children inherit; the program must measure the pane instead.
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        inner = f"env -u COLUMNS -u LINES {exports} {shlex.join(self.command)}"
        self.tmux(
            "new-session",
            "-d",
            "-s",
            self.name,
            "-x",
            str(self.width),
            "-y",
            str(self.height),
            "sh",
            "-c",
            f"{inner}; echo EXIT=$?; sleep 600",
        )
        self.tmux("set-option", "-t", self.name, "status", "off")
        return self

    def stop(self) -> None:
        """Kill the tmux server (and with it the program)."""
        self.tmux("kill-server", check=False)

    def __enter__(self) -> TmuxSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def keys(self, *keys: str, literal: bool = False) -> None:
        """Send keys (``Enter``, ``C-q``...) or, with ``literal``, text as typed."""
        flags = ["-l"] if literal else []
        self.tmux("send-keys", "-t", self.name, *flags, *keys)

    def type(self, text: str) -> None:
        """Type ``text`` character by character, as a person would."""
        self.keys(text, literal=True)

    def screen(self, *, escapes: bool = False) -> str:
        """The visible pane: plain text, or with the escape sequences tmux keeps."""
        flags = ["-e"] if escapes else []
        return self.tmux("capture-pane", "-p", "-t", self.name, *flags)

    def wait_for(
        self, what: str | Callable[[str], bool], *, timeout: float = 20.0, interval: float = 0.05
    ) -> str:
        """Poll the screen until it shows ``what`` (or the predicate holds); return it."""
        test = (lambda screen: what in screen) if isinstance(what, str) else what
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if test(screen):
                return screen
            time.sleep(interval)
        raise TmuxError(f"the screen never showed {what!r}; it showed:\n{screen}")


def tmux_available() -> bool:
    """Whether the tmux binary is installed."""
    return shutil.which("tmux") is not None


def child_pids(pid: int) -> list[int]:
    """The direct children of process ``pid`` (Linux ``/proc``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def pane_program(session: TmuxSession, timeout: float = 20.0) -> int:
    """The pid of the program a session runs (the child of the pane's shell)."""
    shell = int(session.tmux("display-message", "-p", "-t", session.name, "#{pane_pid}").strip())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in child_pids(shell):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if command and command[0] not in (b"sleep", b"/bin/sleep", b"/usr/bin/sleep"):
                return pid
        time.sleep(0.02)
    raise TmuxError(f"no program started under the pane's shell ({shell})")


def wait_until(
    condition: Callable[[], bool], *, timeout: float = 20.0, what: str = "", interval: float = 0.02
) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TmuxError(f"timed out waiting for {what or condition}")
        time.sleep(interval)
