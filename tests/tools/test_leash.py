"""The leash a stdio server runs on (tuichat/tools/leash.py), run as tuichat runs it: by
path, in a session of its own."""

from __future__ import annotations

import os
import subprocess
import sys

from tuichat.tools import leash


def run_leash(parent: int, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", leash.__file__, str(parent), "--", *command],
        capture_output=True,
        text=True,
        timeout=30,
        start_new_session=True,
    )


def test_the_server_runs_and_its_exit_code_comes_back() -> None:
    done = run_leash(os.getpid(), sys.executable, "-c", "print('hi'); raise SystemExit(7)")
    assert (done.returncode, done.stdout) == (7, "hi\n")


def test_nothing_starts_when_the_parent_is_already_gone() -> None:
    """tuichat died between starting the leash and the leash's request to the kernel."""
    not_our_parent = os.getpid() + 1_000_000
    done = run_leash(not_our_parent, sys.executable, "-c", "print('started')")
    assert (done.returncode, done.stdout) == (1, "")


def test_a_command_that_cannot_run_is_one_line_on_stderr() -> None:
    done = run_leash(os.getpid(), "/nonexistent/server")
    assert done.returncode == 127
    assert done.stderr.startswith("cannot run '/nonexistent/server'")
    assert done.stderr.count("\n") == 1
