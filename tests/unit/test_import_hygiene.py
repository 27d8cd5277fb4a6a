"""Imports go one way: the headless core never imports the app, serve, the command line
or Textual; plugins use the declared plugin API only; `ask` stays light."""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules_below(path: Path, prefix: str) -> list[str]:
    """Every module of the package at ``path``, found on disk, none of them imported.

    Not ``pkgutil.walk_packages``: it imports each package to look inside, the app's
    among them, and a module added tomorrow must be checked without anyone listing it.
    """
    found = []
    for info in pkgutil.iter_modules([str(path)], prefix):
        found.append(info.name)
        if info.ispkg:
            found += modules_below(path / info.name.rpartition(".")[2], info.name + ".")
    return found


#: Every module outside the full-screen app; ``__main__`` modules run when imported.
HEADLESS = [
    name
    for name in ["tuichat", *modules_below(ROOT / "tuichat", "tuichat.")]
    if not name.startswith("tuichat.app") and not name.endswith("__main__")
]


def imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(done.stdout.split())


def test_the_walk_finds_the_modules_of_every_layer() -> None:
    assert {"tuichat.chat", "tuichat.serve.app", "tuichat.testing.server"} <= set(HEADLESS)
    assert "tuichat.app.app" not in HEADLESS


def test_importing_everything_but_the_app_does_not_import_textual() -> None:
    modules = imported_after("\n".join(f"import {name}" for name in HEADLESS))
    assert "textual" not in modules


def test_imports_go_one_way_as_the_contracts_in_pyproject_say() -> None:
    """The core never imports the command line, serve or the app; the app never imports
    serve; widgets never reach for screens, providers, HTTP or the store (DESIGN §1)."""
    # import-linter's own command line, as a developer runs it (`lint-imports`).
    lint = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"
    done = subprocess.run(
        [sys.executable, "-c", lint, "--config", "pyproject.toml", "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_plugins_import_only_the_declared_plugin_api() -> None:
    """import-linter reads packages only; the plugins are single modules, so read them here."""
    from tuichat import plugin_api

    for name in ("tuichat_openai", "tuichat_anthropic", "tuichat_gemini"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                bad = [a.name for a in node.names if a.name.split(".")[0] in ("tuichat", "textual")]
                assert not bad, f"{name} line {node.lineno} imports {bad}"
            elif isinstance(node, ast.ImportFrom) and node.module:
                top = node.module.split(".")[0]
                assert top != "textual", f"{name} line {node.lineno} imports Textual"
                if top != "tuichat":
                    continue
                where = f"{name} line {node.lineno}: from {node.module}"
                assert node.module == "tuichat.plugin_api", f"{where}; use tuichat.plugin_api"
                undeclared = {a.name for a in node.names} - set(plugin_api.__all__)
                assert not undeclared, f"{where} import {sorted(undeclared)}: not in its __all__"


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
