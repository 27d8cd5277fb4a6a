"""Run an MCP server's command so that it cannot outlive tuichat, even after ``kill -9``.

tuichat starts ``python -I leash.py PARENT_PID -- COMMAND ARGS...`` in place of the
command (the ``mcp`` package gives it a session of its own, so nothing of the
terminal reaches it). The leash runs the command as its child and waits:

- it asks Linux to send it SIGTERM when tuichat dies (``PR_SET_PDEATHSIG``), then
  checks that tuichat is still its parent (it may have died before the request);
  elsewhere it polls its parent's id;
- when tuichat goes, it stops the whole process group (the server and whatever the
  server started: ``npx`` and ``uvx`` run the real server as a grandchild), SIGTERM
  first, SIGKILL after a grace period;
- when the server ends by itself (tuichat closed its stdin), it ends with the
  server's exit code, after stopping anything the server left behind.

Standard library only, run by path with ``-I``: it must start fast and import
nothing of tuichat's (the server's environment has none of tuichat's variables).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

#: Seconds the process group gets between SIGTERM and SIGKILL.
GRACE = 2.0

#: Seconds between two looks at the parent's id where Linux's request is not available.
POLL = 0.5

_PR_SET_PDEATHSIG = 1


def _ask_linux_for_sigterm_on_parent_death() -> bool:
    """Whether the kernel will send SIGTERM when the parent dies."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _signal_all(child: subprocess.Popen[bytes], signum: int) -> None:
    """Send ``signum`` to the server and all it started: our process group, when it is
    ours alone (the ``mcp`` package starts us in a session of our own); else to the
    server only, never to a group we share with others."""
    try:
        if os.getpgrp() == os.getpid():
            os.killpg(0, signum)
        elif child.poll() is None:
            child.send_signal(signum)
    except OSError:
        pass


def _stop_group(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's group, wait up to :data:`GRACE`, then SIGKILL it (and us)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _signal_all(child, signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    _signal_all(child, signal.SIGKILL)  # what ignored SIGTERM; the leash may go with it
    os._exit(1)


def _reap_leftovers(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM what the server left running in the group (the leash ignores it)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _signal_all(child, signal.SIGTERM)


def main(argv: list[str]) -> int:
    """Run the command after ``--`` on the leash of process ``argv[0]``."""
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: leash.py PARENT_PID -- COMMAND [ARGS...]\n")
        return 2
    parent = int(argv[0])
    command = argv[2:]
    notified = _ask_linux_for_sigterm_on_parent_death()
    if os.getppid() != parent:
        return 1  # tuichat died before the request took effect: start nothing
    try:
        child = subprocess.Popen(command)
    except OSError as exc:
        sys.stderr.write(f"cannot run {command[0]!r}: {exc.strerror or exc}\n")
        return 127
    signal.signal(signal.SIGTERM, lambda _signum, _frame: _stop_group(child))
    # The server holds stdin and stdout now; our copies would only delay its EOF.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    if notified:
        code = child.wait()
    else:
        while (code_or_none := child.poll()) is None:
            if os.getppid() != parent:
                _stop_group(child)
            time.sleep(POLL)
        code = code_or_none
    _reap_leftovers(child)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
