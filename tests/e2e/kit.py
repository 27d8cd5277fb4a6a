"""The test kit's loopback server (``python -m tuichat.testing serve``) for e2e tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def kit_server(*args: str) -> Iterator[str]:
    """Run the kit's server with ``args``; yields its base URL, stops it after."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tuichat.testing", "serve", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
