"""Settings of the whole test run (tests/ and plugins/*/tests alike)."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Give child processes an empty stdin unless the run has a terminal.

    ``tuichat ask PROMPT`` reads text piped on stdin (and sends it after the prompt), so
    a child that inherits the runner's stdin would wait on it when the runner was started
    from a pipe that stays open (a background job, some CI runners). The tests must not
    depend on how the runner was started: without a terminal, stdin is /dev/null.
    """
    if os.isatty(0):
        return
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
