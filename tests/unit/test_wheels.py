"""The wheels of tuichat and its three plugins build, and ``tuichat[all]`` installs from
them alone (no index) into a fresh venv where ``tuichat plugins`` lists the three."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ("tuichat-openai", "tuichat-anthropic", "tuichat-gemini")


def sources(target: Path) -> list[Path]:
    """Copies of the four projects: building writes build/ and *.egg-info beside the
    sources, and the checkout must stay as it is."""
    skip = shutil.ignore_patterns(
        ".venv", "__pycache__", "build", "dist", "*.egg-info", "tests", "benchmarks"
    )
    core = target / "tuichat-src"
    core.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, core / name)
    shutil.copytree(ROOT / "tuichat", core / "tuichat", ignore=skip)
    plugins = [shutil.copytree(ROOT / "plugins" / n, target / n, ignore=skip) for n in PLUGINS]
    return [core, *plugins]


def dependencies_only(target: Path) -> Path:
    """This venv's site-packages without tuichat or its plugins (links to the rest).

    A fresh venv offline has no index to take tuichat's dependencies (Textual, httpx,
    pydantic...) from; pointed at these, pip counts them as installed, so tuichat and
    the plugins can only come from the wheels. (``--system-site-packages`` would point at
    the base interpreter's packages, not this venv's.)
    """
    target.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = entry.name.lower()
        if name.startswith(("tuichat", "__editable__")) or name.endswith(".pth"):
            continue
        (target / entry.name).symlink_to(entry)
    return target


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "TUICHAT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_tuichat_all_installs_from_the_built_wheels_with_no_index(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    pip(
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--no-cache-dir",
        "--wheel-dir",
        str(wheels),
        *map(str, sources(tmp_path)),
    )
    built = sorted(path.name.split("-")[0] for path in wheels.glob("*.whl"))
    assert built == ["tuichat", "tuichat_anthropic", "tuichat_gemini", "tuichat_openai"]

    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = dependencies_only(tmp_path / "deps")
    (Path(purelib) / "tuichat-deps.pth").write_text(f"{deps}\n", encoding="utf-8")

    pip(
        "--python",
        str(python),
        "install",
        "--no-index",
        "--no-cache-dir",
        "--find-links",
        str(wheels),
        "tuichat[all]",
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith("TUICHAT_")}
    env.update(TUICHAT_CONFIG=str(tmp_path / "c.toml"), TUICHAT_DATA_DIR=str(tmp_path / "d"))
    listed = subprocess.run(
        [str(python), "-m", "tuichat", "plugins"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # not the checkout: its tuichat/ must not be what is imported
        timeout=60,
        check=True,
    ).stdout
    for plugin in PLUGINS:
        assert plugin in listed, listed
    where = subprocess.run(
        [str(python), "-c", "import tuichat, tuichat_openai; print(tuichat.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert where.startswith(purelib), where
