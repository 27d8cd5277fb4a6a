"""The headless core never imports Textual; `ask` stays light."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "tuichat",
    "tuichat.cli",
    "tuichat.ask",
    "tuichat.chat",
    "tuichat.config",
    "tuichat.demo",
    "tuichat.errors",
    "tuichat.export",
    "tuichat.hookspecs",
    "tuichat.http",
    "tuichat.locations",
    "tuichat.migrations",
    "tuichat.plugins",
    "tuichat.provider",
    "tuichat.runtime",
    "tuichat.sanitize",
    "tuichat.store",
    "tuichat.testing",
]


def imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


def test_importing_the_core_does_not_import_textual() -> None:
    modules = imported_after("\n".join(f"import {name}" for name in CORE))
    assert "textual" not in modules


def test_ask_help_does_not_import_textual_nor_load_plugins() -> None:
    code = (
        "import contextlib, io\n"
        "from tuichat.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['ask', '--help'])\n"
    )
    modules = imported_after(code)
    assert "textual" not in modules
    assert "httpx" not in modules
