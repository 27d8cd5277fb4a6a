"""``tuichat install`` / ``uninstall``: pip in tuichat's own interpreter, as llm does."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tuichat import installer
from tuichat.cli import main
from tuichat.errors import UsageError

ECHO = Path(__file__).resolve().parents[1] / "data" / "tuichat-echo"
PIP = [sys.executable, "-m", "pip"]


def test_install_runs_pip_of_this_interpreter_with_the_flags_given() -> None:
    options = installer.PipOptions(upgrade=True, no_index=True, find_links=("/wheels",))

    argv = installer.install_argv(["tuichat-echo", "./local"], options)

    assert argv == [
        *PIP,
        "install",
        "--upgrade",
        "--no-index",
        "--find-links",
        "/wheels",
        "tuichat-echo",
        "./local",
    ]


def test_editable_applies_to_each_path() -> None:
    argv = installer.install_argv(["a", "b"], installer.PipOptions(editable=True))

    assert argv == [*PIP, "install", "--editable", "a", "--editable", "b"]


def test_uninstall_never_asks() -> None:
    assert installer.uninstall_argv(["tuichat-echo"]) == [
        *PIP,
        "uninstall",
        "--yes",
        "tuichat-echo",
    ]


@pytest.mark.parametrize(
    "name", ["tuichat", "TuiChat", "tuichat==0.1.0", "httpx", "Pydantic_Settings", "pip"]
)
def test_tuichat_and_what_it_needs_are_never_uninstalled(name: str) -> None:
    with pytest.raises(UsageError, match="does not remove"):
        installer.uninstall_argv(["tuichat-echo", name])


def test_what_tuichat_needs_is_protected_down_the_tree_but_not_its_extras() -> None:
    kept = installer.protected()

    assert {"tuichat", "textual", "httpx", "pydantic-settings", "mcp"} <= kept
    assert {"httpcore", "pydantic-core"} <= kept  # needed by what tuichat needs
    assert "openai" not in kept and "pytest" not in kept  # the test extra's only


def test_uninstalling_tuichat_exits_2_with_one_sentence(capsys) -> None:
    assert main(["uninstall", "tuichat"]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not remove tuichat itself" in err


def test_an_environment_without_pip_or_uv_is_told_what_to_do(monkeypatch) -> None:
    monkeypatch.setattr(installer.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(installer.shutil, "which", lambda name: None)

    with pytest.raises(UsageError, match="pipx inject tuichat NAME"):
        installer.install_argv(["tuichat-echo"], installer.PipOptions())


def test_without_pip_uv_is_aimed_at_this_interpreter(monkeypatch) -> None:
    monkeypatch.setattr(installer.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(installer.shutil, "which", lambda name: "/usr/bin/uv")

    argv = installer.install_argv(["tuichat-echo"], installer.PipOptions())

    assert argv == ["/usr/bin/uv", "pip", "install", "--python", sys.executable, "tuichat-echo"]
    assert installer.uninstall_argv(["x"]) == [
        "/usr/bin/uv",
        "pip",
        "uninstall",
        "--python",
        sys.executable,
        "x",
    ]


# -- a real install, into a fresh environment ------------------------------------------------


def fresh_venv(root: Path) -> Path:
    """A new venv (with pip) that also sees this test venv's packages, tuichat included.

    ``site.addsitedir`` (not a plain path line) so that this venv's editable installs,
    themselves .pth files, are processed too. The new venv's own site-packages comes
    first: what ``tuichat install`` puts there is what is found.
    """
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    line = f"import site; site.addsitedir({ours!r})\n"
    (Path(purelib) / "tuichat-test-host.pth").write_text(line, encoding="utf-8")
    return python


def tuichat(python: Path, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUICHAT_", "PIP_"))}
    env.update(TUICHAT_CONFIG=str(root / "config.toml"), TUICHAT_DATA_DIR=str(root / "data"))
    return subprocess.run(
        [str(python), "-m", "tuichat", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        cwd=root,
    )


@pytest.fixture(scope="module")
def python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fresh venv's interpreter, made once for this module (about 10 s)."""
    return fresh_venv(tmp_path_factory.mktemp("fresh"))


@pytest.mark.slow
def test_an_installed_plugin_package_shows_up_and_uninstalls(python: Path, tmp_path: Path) -> None:
    offline = ("--no-index", "--no-build-isolation", "--no-deps", "--no-cache-dir")

    done = tuichat(python, tmp_path, "install", *offline, str(ECHO))

    assert done.returncode == 0, done.stderr
    plugins = tuichat(python, tmp_path, "plugins").stdout
    assert "tuichat-echo" in plugins and "1.2.3" in plugins
    gone = tuichat(python, tmp_path, "uninstall", "tuichat-echo")
    assert gone.returncode == 0, gone.stderr
    assert "tuichat-echo" not in tuichat(python, tmp_path, "plugins").stdout


@pytest.mark.slow
def test_a_package_pip_cannot_find_exits_1(python: Path, tmp_path: Path) -> None:
    done = tuichat(python, tmp_path, "install", "--no-index", "tuichat-no-such-plugin")

    assert done.returncode == 1
    assert "tuichat-no-such-plugin" in done.stderr
