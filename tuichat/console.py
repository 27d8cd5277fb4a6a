"""How a command talks to the terminal: exit codes, one-line failures, warnings.

Shared by ``tuichat`` (:mod:`tuichat.cli`), ``tuichat ask`` (:mod:`tuichat.ask`) and
``python -m tuichat.serve``, so the core never has to import the command line to say
something the way it does. Cheap to import: ``ask --help`` must stay fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tuichat.runtime import Runtime
    from tuichat.store import Store

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PROVIDER",
    "EXIT_USAGE",
    "fail",
    "open_store",
    "warn",
]

#: Done.
EXIT_OK = 0
#: A provider or network error (and anything unexpected).
EXIT_PROVIDER = 1
#: A usage or configuration error.
EXIT_USAGE = 2
#: Stopped by Ctrl+C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


def fail(exc: BaseException, *, stream: TextIO | None = None) -> int:
    """Print one line for ``exc`` on stderr and return its exit code."""
    from tuichat.errors import TuichatError
    from tuichat.sanitize import strip_controls

    stream = stream or sys.stderr
    stream.write(f"tuichat: {strip_controls(str(exc))}\n")
    stream.flush()
    return exc.exit_code if isinstance(exc, TuichatError) else EXIT_PROVIDER


def warn(runtime: Runtime, stream: TextIO) -> None:
    """Print the config's warnings (a key file others can read), one line each."""
    for warning in runtime.config.warnings:
        stream.write(f"tuichat: warning: {warning}\n")
    stream.flush()


def open_store(runtime: Runtime) -> Store:
    """Open the conversation store, or stop: a file that cannot be used exits with 2.

    The store never writes to a file it cannot use (damaged, another program's), so
    the file stays as it was; the error sentence says to move it aside.

    Raises:
        StoreUnusable: The file cannot be opened as a tuichat store.
    """
    from tuichat.errors import StoreError, StoreUnusable

    try:
        return runtime.store
    except StoreError as exc:
        raise StoreUnusable(str(exc)) from None
