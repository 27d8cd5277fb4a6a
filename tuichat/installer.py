"""``tuichat install`` / ``tuichat uninstall``: plugins into tuichat's own environment.

As ``llm install`` does: pip runs in the interpreter tuichat runs in (``sys.executable -m
pip``), so a plugin lands where tuichat's entry points are read, whether tuichat came
from pipx, a venv or a checkout. An environment without pip (``uv tool install``) gets
``uv pip`` aimed at the same interpreter when uv is on the PATH. Uninstalling tuichat
itself, or a package it needs to run, is refused: it would leave a broken command.
Headless.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata

from tuichat.errors import UsageError

#: A requirement's distribution name, before any version, extra or marker.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True, slots=True)
class PipOptions:
    """What ``tuichat install`` passes on to pip, as llm's ``install`` does."""

    editable: bool = False
    upgrade: bool = False
    force_reinstall: bool = False
    pre: bool = False
    no_cache_dir: bool = False
    no_index: bool = False
    no_deps: bool = False
    no_build_isolation: bool = False
    find_links: tuple[str, ...] = ()

    def flags(self) -> list[str]:
        """The pip flags, in a fixed order."""
        named = [
            (self.upgrade, "--upgrade"),
            (self.force_reinstall, "--force-reinstall"),
            (self.pre, "--pre"),
            (self.no_cache_dir, "--no-cache-dir"),
            (self.no_index, "--no-index"),
            (self.no_deps, "--no-deps"),
            (self.no_build_isolation, "--no-build-isolation"),
        ]
        flags = [flag for on, flag in named if on]
        for place in self.find_links:
            flags += ["--find-links", place]
        return flags


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them (``Tuichat_Echo`` is ``tuichat-echo``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def protected() -> frozenset[str]:
    """tuichat, what it needs to run (its dependencies' dependencies too, not its
    extras'), and pip, which installs plugins."""
    names = {"pip"}
    waiting = ["tuichat"]
    while waiting:
        name = normalize(waiting.pop())
        if name in names:
            continue
        names.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            _, _, marker = requirement.partition(";")
            if "extra" in marker:
                continue  # only with an extra (serve, test): tuichat runs without it
            match = _NAME.match(requirement.strip())
            if match:
                waiting.append(match.group(0))
    return frozenset(names)


def _base() -> list[str]:
    """How to run pip for this interpreter.

    Raises:
        UsageError: Neither pip nor uv can install into this environment.
    """
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    uv = shutil.which("uv")
    if uv is not None:
        return [uv, "pip"]
    raise UsageError(
        f"tuichat's environment ({sys.prefix}) has no pip; add plugins with "
        "'uv tool install tuichat --with NAME' or 'pipx inject tuichat NAME' instead."
    )


def _target(base: list[str]) -> list[str]:
    # uv pip picks an environment of its own unless told which interpreter is meant.
    return ["--python", sys.executable] if base[0] != sys.executable else []


def install_argv(packages: Sequence[str], options: PipOptions) -> list[str]:
    """The command that installs ``packages`` (names, paths, URLs) beside tuichat."""
    base = _base()
    argv = [*base, "install", *_target(base), *options.flags()]
    if options.editable:
        # pip's -e takes one path each, as llm's --editable does.
        for package in packages:
            argv += ["--editable", package]
        return argv
    return argv + list(packages)


def uninstall_argv(packages: Sequence[str]) -> list[str]:
    """The command that removes ``packages`` (never asking: naming them was the yes).

    Raises:
        UsageError: One of them is tuichat or a package it needs.
    """
    keep = protected()
    for package in packages:
        match = _NAME.match(package.strip())
        name = normalize(match.group(0)) if match else ""
        if name == "tuichat":
            raise UsageError(
                "tuichat uninstall does not remove tuichat itself; uninstall it the way it "
                "was installed (pipx uninstall tuichat, or pip in its environment)."
            )
        if name in keep:
            raise UsageError(
                f"tuichat uninstall does not remove {package}: tuichat needs it to run."
            )
    base = _base()
    flags = [] if base[0] != sys.executable else ["--yes"]
    return [*base, "uninstall", *_target(base), *flags, *packages]


def run(argv: Sequence[str]) -> int:
    """Run pip with the terminal's streams (its progress and errors are for the person)."""
    return subprocess.call(list(argv))
