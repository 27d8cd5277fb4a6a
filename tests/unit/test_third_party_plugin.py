"""A plugin package installed on its own shows up everywhere and can chat."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "data" / "tuichat-echo"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-install tests/data/tuichat-echo into its own directory (not the venv)."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(PACKAGE),
        ],
        check=True,
        timeout=180,
        cwd=build,
        capture_output=True,
    )
    return target


def tuichat(target: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUICHAT_")}
    env.update(
        PYTHONPATH=str(target),
        TUICHAT_CONFIG=str(tmp_path / "config.toml"),
        TUICHAT_DATA_DIR=str(tmp_path / "data"),
    )
    return subprocess.run(
        [sys.executable, "-m", "tuichat", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_the_installed_plugin_is_listed_with_its_version(installed: Path, tmp_path: Path) -> None:
    plugins = tuichat(installed, tmp_path, "plugins").stdout
    [line] = [line for line in plugins.splitlines() if line.startswith("echo ")]
    assert line.split() == ["echo", "tuichat-echo", "1.2.3", "echo"]
    providers = tuichat(installed, tmp_path, "providers").stdout
    assert any(line.split()[:2] == ["echo", "echo"] for line in providers.splitlines()[1:])


def test_the_installed_plugin_chats(installed: Path, tmp_path: Path) -> None:
    done = tuichat(installed, tmp_path, "ask", "-p", "echo", "hello plugin world")
    assert (done.returncode, done.stdout, done.stderr) == (0, "HELLO PLUGIN WORLD ", "")
    assert tuichat(installed, tmp_path, "models", "-p", "echo").stdout.split() == ["shout"]


def test_without_the_package_the_provider_is_unknown(tmp_path: Path) -> None:
    done = tuichat(tmp_path, tmp_path, "ask", "-p", "echo", "hi")
    assert done.returncode == 2 and "Unknown provider 'echo'" in done.stderr
