"""``tuichat serve``: the providers as an HTTP API (native, SSE and OpenAI-compatible).

Needs the ``serve`` extra (``pip install 'tuichat[serve]'``: Starlette and uvicorn).
This package's ``__init__`` and :mod:`tuichat.serve.settings` import neither, so the
command line can refer to serve without the extra installed; the application itself
lives in :mod:`tuichat.serve.app`. The ``[serve]`` settings are configuration, so they
live in the core (:mod:`tuichat.serve_settings`).
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import TYPE_CHECKING, TextIO

from tuichat.errors import ConfigError

if TYPE_CHECKING:
    from tuichat.serve_settings import ServeSettings

if TYPE_CHECKING:
    from tuichat.runtime import Runtime

__all__ = ["ServeSettings", "bind_socket", "check_bind", "is_loopback", "run", "url_for"]


def __getattr__(name: str) -> object:
    # pydantic (via the settings) costs ~0.1 s: keep `tuichat --help` and `ask` from paying it.
    if name == "ServeSettings":
        from tuichat import serve_settings

        return getattr(serve_settings, name)
    raise AttributeError(name)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or name."""
    from tuichat.serve_settings import is_loopback as check

    return check(host)


def check_bind(settings: ServeSettings) -> None:
    """Refuse to listen beyond this machine without a token.

    Raises:
        ConfigError: ``host`` is not loopback and no token is set.
    """
    if not is_loopback(settings.host) and settings.token_value() is None:
        raise ConfigError(
            f"Refusing to listen on {settings.host} without a token, since anyone who can "
            "reach it could spend your API keys; set TUICHAT_SERVE__TOKEN (or token in "
            "[serve]), or listen on 127.0.0.1."
        )


def url_for(host: str, port: int) -> str:
    """The base URL clients use for ``host`` and ``port``."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves, so a busy port is one clear line and port 0's
    real number is known before the server starts.

    Raises:
        ConfigError: The address cannot be used.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(
            f"Cannot listen on {host}: {exc.strerror or exc}; check --host."
        ) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        # Listen now: a client that connects as soon as the URL is printed waits in the
        # backlog instead of being refused while uvicorn starts.
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"Cannot listen on {url_for(host, port)}: {exc.strerror or exc}; "
            "choose another --port or stop what uses it."
        ) from None
    return sock


class _NoQueryString(logging.Filter):
    """Drop query strings from uvicorn's access log lines (they may carry secrets)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].partition("?")[0], *args[3:])
        return True


def run(runtime: Runtime, settings: ServeSettings, *, out: TextIO | None = None) -> int:
    """Serve until interrupted; prints the base URL as the first line of ``out``.

    Args:
        runtime: The runtime (closed when the server stops).
        settings: Where to listen, CORS, token, saving.
        out: Where the URL line goes (default: stdout).

    Returns:
        The exit code: 0 after a clean stop, 1 if the server failed to start. Ctrl+C
        stops the server gracefully, then raises ``KeyboardInterrupt`` (uvicorn
        re-raises the signal), which the command line reports as 130.

    Raises:
        ConfigError: A non-loopback bind without a token, a busy port, the extra not
            installed, or a store that cannot be opened.
    """
    check_bind(settings)
    try:
        import uvicorn

        from tuichat.serve.app import create_app
    except ImportError as exc:
        raise ConfigError(
            f"tuichat serve needs its optional dependencies ({exc.name} is missing); "
            "install them with: pip install 'tuichat[serve]'."
        ) from None
    if settings.save:
        runtime.store  # noqa: B018 - open it now: a bad database stops here, in one line
    sock = bind_socket(settings.host, settings.port)
    port = sock.getsockname()[1]
    app = create_app(runtime, config=settings)
    config = uvicorn.Config(
        app,
        log_level="info",
        access_log=settings.access_log,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    logging.getLogger("uvicorn.access").addFilter(_NoQueryString())
    server = uvicorn.Server(config)
    out = out or sys.stdout
    out.write(url_for(settings.host, port) + "\n")
    out.flush()
    if not is_loopback(settings.host):
        sys.stderr.write(
            "tuichat serve: warning: this is plain HTTP; put TLS in front of it (a reverse "
            "proxy) before the token crosses a network you do not trust.\n"
        )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0 if server.started else 1
