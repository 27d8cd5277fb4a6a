"""Fixtures for end-to-end tests in a real terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.sshd import SSHServer, missing_tools
from tests.e2e.tmux import TmuxSession, tmux_available


@pytest.fixture
def app_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a tuichat process: temp config and data, no keys, no proxies."""
    env = {
        "TUICHAT_CONFIG": str(tmp_path / "config.toml"),
        "TUICHAT_DATA_DIR": str(tmp_path / "data"),
        # Never the machine's own model-server ports (tests/conftest.py says why).
        "TUICHAT_DISCOVERY__ENABLED": "false",
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    return env


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., TmuxSession]]:
    """Start tuichat (or another command) in a private tmux server; cleaned up after."""
    if not tmux_available():
        pytest.skip("tmux is not installed (bash scripts/test installs it)")
    sessions: list[TmuxSession] = []

    def start(
        *args: str,
        env: dict[str, str],
        width: int = 120,
        height: int = 40,
        command: list[str] | None = None,
    ) -> TmuxSession:
        session = TmuxSession(
            command or [sys.executable, "-m", "tuichat", *args],
            socket_dir=tmp_path,
            env=env,
            width=width,
            height=height,
        )
        sessions.append(session.start())
        return session

    yield start
    for session in sessions:
        session.stop()


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SSHServer]:
    """A private OpenSSH server on 127.0.0.1 (skipped only if OpenSSH is not installed)."""
    missing = missing_tools()
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not installed (bash scripts/test installs openssh-server "
            "and openssh-client where it can)"
        )
    server = SSHServer(tmp_path / "sshd").start()
    try:
        yield server
    finally:
        server.stop()
