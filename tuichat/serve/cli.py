"""The ``tuichat serve`` command line: its options, and running it.

Only :mod:`argparse` is imported at module level, so the main parser can add these
options without loading Starlette or uvicorn (``tuichat --help`` stays fast).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuichat.runtime import Runtime
    from tuichat.serve_settings import ServeSettings

__all__ = ["add_serve_arguments", "run_serve", "serve_settings"]

DESCRIPTION = (
    "Serve the configured providers over HTTP: POST /api/chat, POST /api/chat/stream "
    "(server-sent events), and an OpenAI-compatible POST /v1/chat/completions and "
    "GET /v1/models. Listens on 127.0.0.1 unless told otherwise; any other address needs "
    "a token (TUICHAT_SERVE__TOKEN or token in [serve])."
)


#: The option that sets each ServeSettings field, for error messages.
_OPTIONS = {
    "host": "--host",
    "port": "--port",
    "cors_origins": "--cors-origin",
    "save": "--save",
    "access_log": "--access-log",
}


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {value}")
    return value


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``serve``'s options to ``parser`` (each overrides the ``[serve]`` table)."""
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, help="port to listen on (0: any free port)")
    parser.add_argument(
        "--cors-origin",
        action="append",
        dest="cors_origins",
        metavar="ORIGIN",
        help="allow browser requests from ORIGIN (http://localhost:3000); repeatable",
    )
    save = parser.add_mutually_exclusive_group()
    save.add_argument(
        "--save",
        action="store_true",
        default=None,
        help="save served conversations to the store (they show in the TUI)",
    )
    save.add_argument("--no-save", dest="save", action="store_false", help="do not save them")
    parser.add_argument(
        "--access-log",
        action="store_true",
        default=None,
        help="log one line per request (paths without query strings)",
    )


def serve_settings(args: argparse.Namespace, base: ServeSettings) -> ServeSettings:
    """``base`` (the ``[serve]`` table) with the command line's options applied.

    Raises:
        UsageError: An option value is invalid (an origin with a path...).
    """
    from pydantic import ValidationError

    from tuichat.errors import UsageError
    from tuichat.serve_settings import ServeSettings

    changes: dict[str, Any] = {
        name: getattr(args, name, None)
        for name in ("host", "port", "cors_origins", "save", "access_log")
        if getattr(args, name, None) is not None
    }
    try:
        return ServeSettings.model_validate({**base.model_dump(), **changes})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        option = _OPTIONS.get(field, f"[serve] {field}")
        message = first["msg"].removeprefix("Value error, ")
        raise UsageError(f"{option}: {message}.") from None


def run_serve(args: argparse.Namespace, runtime: Runtime) -> int:
    """Run ``tuichat serve`` with ``args``; returns the exit code.

    Raises:
        TuichatError: One line for the person (a non-loopback bind without a token...).
    """
    from tuichat.serve import run
    from tuichat.serve_settings import ServeSettings

    base = getattr(runtime.settings, "serve", None) or ServeSettings()
    return run(runtime, serve_settings(args, base))
