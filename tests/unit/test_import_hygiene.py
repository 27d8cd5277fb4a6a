"""The headless core never imports Textual; `ask` stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = [
    "tuichat",
    "tuichat.cli",
    "tuichat.ask",
    "tuichat.chat",
    "tuichat.compare",
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
    "tuichat.serve",
    "tuichat.serve.cli",
    "tuichat.serve.settings",
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


def test_provider_plugins_never_import_textual() -> None:
    modules = imported_after("import tuichat_openai, tuichat_anthropic, tuichat_gemini")
    assert "textual" not in modules


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_widgets_only_receive_attributes_and_send_messages() -> None:
    """Widgets never reach for screens, the app, providers, HTTP or plugins (DESIGN §1)."""
    forbidden = (
        "tuichat.app.screens",
        "tuichat.app.app",
        "tuichat.runtime",
        "tuichat.http",
        "tuichat.plugins",
        "tuichat.chat",
        "httpx",
    )
    widgets = Path(__file__).resolve().parents[2] / "tuichat" / "app" / "widgets"
    for path in widgets.glob("*.py"):
        bad = {name for name in _imports(path) if name.startswith(forbidden)}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_store_knows_nothing_of_textual_or_http() -> None:
    core = Path(__file__).resolve().parents[2] / "tuichat"
    for name in ("store.py", "migrations.py"):
        bad = {m for m in _imports(core / name) if m.startswith(("textual", "httpx", "rich"))}
        assert not bad, f"{name} imports {sorted(bad)}"
