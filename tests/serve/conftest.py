"""Fixtures for the ``tuichat serve`` tests (see :mod:`tests.serve.server`).

Without the ``serve`` extra (Starlette, uvicorn) there is nothing to test: the
directory is left out of collection rather than failing.
"""

from __future__ import annotations

from importlib.util import find_spec

if find_spec("starlette") is None or find_spec("uvicorn") is None:
    collect_ignore_glob = ["test_*.py"]
else:
    from tests.serve.server import _join_stopped_servers, serve  # noqa: F401 - fixtures
