"""``tuichat doctor``: check what a working setup needs, one line per check.

Config, plugins, the conversation store, each provider instance (key present, server
reachable), the terminal (size, colours) and the clipboard route. Every problem is
explained in one line that says what to do. Exit status 0 when nothing failed (warnings
allowed), 1 otherwise. Headless: no Textual here.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

from tuichat import clipboard
from tuichat.errors import TuichatError
from tuichat.sanitize import neutralize, one_line, redact

if TYPE_CHECKING:
    from tuichat.provider import Provider
    from tuichat.runtime import Runtime

Status = Literal["ok", "warn", "fail", "skip"]

#: Seconds each provider gets to list its models.
PROBE_TIMEOUT = 10.0

#: The smallest terminal the app is laid out for.
MIN_COLUMNS, MIN_LINES = 80, 24

_MARKS: dict[Status, str] = {"ok": "ok", "warn": "warn", "fail": "FAIL", "skip": "skip"}


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one check."""

    name: str
    """What was checked (``config``, ``openai key``...)."""
    status: Status
    """``ok``, ``warn``, ``fail`` or ``skip``."""
    detail: str
    """One line: what was found, or what is wrong and what to do."""

    def line(self, width: int) -> str:
        """``FAIL  openai reach  <detail>``, the name padded to ``width``."""
        return f"{_MARKS[self.status]:<4}  {self.name:<{width}}  {one_line(self.detail, 400)}"


def check_terminal(size: os.terminal_size | None) -> Check:
    """The terminal's size: the app is made for 80x24 and more."""
    if size is None:
        return Check(
            "terminal",
            "warn",
            "stdout is not a terminal; run tuichat doctor in the terminal "
            "you chat in to check its size.",
        )
    shown = f"{size.columns}x{size.lines}"
    if size.columns < MIN_COLUMNS or size.lines < MIN_LINES:
        return Check(
            "terminal",
            "warn",
            f"{shown} is smaller than {MIN_COLUMNS}x{MIN_LINES}; enlarge the window, or parts "
            "of the app will be cut off.",
        )
    note = " (the sidebar starts hidden below 100 columns; Ctrl+B shows it)"
    return Check("terminal", "ok", shown + (note if size.columns < 100 else ""))


def check_colours(env: Mapping[str, str]) -> Check:
    """The colours the terminal is said to support (TERM, COLORTERM, NO_COLOR)."""
    if "NO_COLOR" in env:
        return Check("colours", "ok", "NO_COLOR is set: the app draws in shades of grey.")
    term = env.get("TERM", "")
    colorterm = env.get("COLORTERM", "").lower()
    if colorterm in ("truecolor", "24bit"):
        return Check("colours", "ok", f"true colour (COLORTERM={colorterm}, TERM={term})")
    if "256color" in term:
        return Check("colours", "ok", f"256 colours (TERM={term})")
    if not term or term == "dumb":
        return Check(
            "colours", "warn", f"TERM is {term or 'unset'}; set TERM=xterm-256color for colours."
        )
    return Check(
        "colours",
        "warn",
        f"TERM={term} promises few colours; set TERM=xterm-256color (or COLORTERM=truecolor) "
        "if your terminal can do more.",
    )


def tmux_option(name: str, run: Callable[..., subprocess.CompletedProcess[str]]) -> str | None:
    """A global tmux option's value (None when tmux cannot be asked)."""
    try:
        done = run(
            ["tmux", "show-options", "-gv", name],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def check_clipboard(
    env: Mapping[str, str],
    *,
    which: Callable[[str], str | None] = shutil.which,
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> Check:
    """How a copy reaches the clipboard here, and whether tmux lets it through."""
    route = clipboard.route("", env, which=which)
    native = f" and {route.native[0]}" if route.native else ""
    if clipboard.in_tmux(env):
        setting = tmux_option("set-clipboard", run)
        passthrough = tmux_option("allow-passthrough", run)
        if setting == "on" or passthrough in ("on", "all"):
            how = "set-clipboard on" if setting == "on" else "allow-passthrough on"
            return Check("clipboard", "ok", f"OSC 52 inside tmux ({how}){native}")
        return Check(
            "clipboard",
            "warn",
            f"inside tmux with set-clipboard {setting or 'unknown'}: copies reach your clipboard "
            "only after 'tmux set -g set-clipboard on' (add it to ~/.tmux.conf)"
            + (f"; {route.native[0]} works meanwhile" if route.native else "."),
        )
    if clipboard.in_screen(env):
        return Check("clipboard", "ok", f"OSC 52 through GNU screen's passthrough{native}")
    if clipboard.is_remote(env):
        return Check(
            "clipboard",
            "ok",
            "OSC 52 over SSH: your own terminal must allow clipboard writes (most do; "
            "macOS Terminal.app does not: use iTerm2, kitty, WezTerm...).",
        )
    if route.native:
        return Check("clipboard", "ok", f"OSC 52{native}")
    return Check(
        "clipboard",
        "warn",
        "OSC 52 only: no local clipboard tool found; install wl-clipboard or xclip if your "
        "terminal ignores OSC 52.",
    )


async def _probe(runtime: Runtime, name: str, timeout: float) -> Check:
    from tuichat import catalog

    provider = runtime.provider(name)
    entry = await catalog.fetch(provider, timeout=timeout)
    if entry.error:
        sentence = redact(neutralize(entry.error), provider.secrets())
        return Check(f"{name} reach", "fail", sentence)
    count = len(entry.models)
    where = provider.settings.base_url or "built in"
    return Check(
        f"{name} reach",
        "ok",
        f"{where} answered with {count} model{'s' if count != 1 else ''}",
    )


def check_providers(
    runtime: Runtime, *, probe: bool = True, timeout: float = PROBE_TIMEOUT
) -> list[Check]:
    """Each provider instance: is there a key, does the server answer its models request."""
    checks: list[Check] = []
    to_probe: list[str] = []
    default = None
    try:
        default = runtime.default_provider_name()
    except TuichatError:
        default = None
    if default is not None and default not in runtime.instance_names():
        # The app refuses to start with it: doctor must not say all is well.
        where = f"'provider' in {runtime.config.path} or TUICHAT_PROVIDER"
        checks.append(
            Check("provider", "fail", f"{runtime.unknown_provider(default)} It is set by {where}.")
        )
        default = None
    for name in runtime.instance_names():
        try:
            info = runtime.describe(name)
        except TuichatError as exc:
            checks.append(Check(f"{name}", "fail", str(exc)))
            continue
        if info.has_key:
            checks.append(Check(f"{name} key", "ok", _key_origin(runtime.provider(name))))
        elif not info.requires_key:
            checks.append(Check(f"{name} key", "ok", "not needed"))
        else:
            env_names = runtime.provider(name).key_env_names()
            hint = " or ".join(env_names) or f"api_key in [providers.{name}]"
            status: Status = "fail" if name == default or info.configured else "skip"
            checks.append(Check(f"{name} key", status, f"missing: set {hint} to chat with {name}."))
            continue
        to_probe.append(name)
    if probe and to_probe:

        async def probe_all() -> list[Check]:
            try:
                return list(
                    await asyncio.gather(*(_probe(runtime, name, timeout) for name in to_probe))
                )
            finally:
                await runtime.aclose()

        probed = {check.name: check for check in asyncio.run(probe_all())}
        merged: list[Check] = []
        for check in checks:
            merged.append(check)
            reach = probed.get(check.name.replace(" key", " reach"))
            if reach is not None and check.name.endswith(" key"):
                merged.append(reach)
        checks = merged
    return checks


def check_discovery(runtime: Runtime, *, probe: bool = True) -> Check:
    """Local model servers on their usual ports; those found join the provider checks."""
    options = runtime.settings.discovery
    if not options.enabled:
        return Check(
            "local servers",
            "skip",
            f"not looked for: [discovery] enabled = false in {runtime.config.path}.",
        )
    if not probe:
        return Check("local servers", "skip", "not looked for (--offline).")

    async def discover() -> None:
        try:
            await runtime.discover()
        finally:
            await runtime.aclose()

    asyncio.run(discover())
    found = runtime.found
    if not found:
        ports = ", ".join(str(port) for port in options.ports.values())
        return Check("local servers", "ok", f"none answered on 127.0.0.1 ports {ports}")
    shown = "; ".join(
        f"{item.describe()} ({len(item.models)} model{'s' if len(item.models) != 1 else ''})"
        for item in found
    )
    return Check("local servers", "ok", f"{shown}; 'tuichat providers --save-found' keeps them")


def check_store(runtime: Runtime) -> Check:
    """The conversation store opens (and is ours)."""
    from tuichat import locations

    path = locations.database_path()
    try:
        store = runtime.store
        count = store.count_conversations() + store.count_conversations(archived=True)
    except TuichatError as exc:
        return Check("store", "fail", str(exc))
    return Check("store", "ok", f"{path} ({count} conversation{'s' if count != 1 else ''})")


def run_checks(
    *,
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    terminal: os.terminal_size | None = None,
    probe: bool = True,
    load_entrypoints: bool = True,
    runtime: Runtime | None = None,
) -> list[Check]:
    """Run every check, in order; a broken config skips the checks that need it.

    Args:
        config_path: The config file (default: the usual place).
        env: The environment (default: ``os.environ``).
        terminal: The terminal's size, None when not a terminal.
        probe: Whether to ask each provider's server for its models.
        load_entrypoints: Whether to load installed plugins (tests pass False).
        runtime: A runtime to check instead of loading one (tests).

    Returns:
        The checks.
    """
    env = os.environ if env is None else env
    checks: list[Check] = []
    if runtime is None:
        from tuichat.runtime import Runtime

        try:
            runtime = Runtime.load(config_path=config_path, load_entrypoints=load_entrypoints)
        except TuichatError as exc:
            checks.append(Check("config", "fail", str(exc)))
    if runtime is not None:
        config = runtime.config
        where = str(config.path) if config.text else f"{config.path} (absent: defaults)"
        checks.append(Check("config", "ok", where))
        for warning in getattr(config, "warnings", ()):
            checks.append(Check("config", "warn", warning))
        plugins = ", ".join(runtime.registry.names())
        checks.append(Check("plugins", "ok", f"providers: {plugins}"))
        checks.append(check_store(runtime))
        checks.append(check_discovery(runtime, probe=probe))
        checks.extend(check_providers(runtime, probe=probe))
    checks.append(check_terminal(terminal))
    checks.append(check_colours(env))
    checks.append(check_clipboard(env))
    return checks


def report(checks: Sequence[Check], out: TextIO) -> int:
    """Print the checks; the exit status (1 if any failed)."""
    width = max((len(check.name) for check in checks), default=0)
    for check in checks:
        out.write(check.line(width) + "\n")
    failed = [check for check in checks if check.status == "fail"]
    if failed:
        out.write(f"\n{len(failed)} problem{'s' if len(failed) != 1 else ''} found.\n")
        return 1
    warned = sum(check.status == "warn" for check in checks)
    if warned:
        # Not "All good." under warnings: they still want a look.
        plural = "s" if warned != 1 else ""
        out.write(f"\nNo problem found; {warned} warning{plural} above.\n")
    else:
        out.write("\nAll good.\n")
    return 0


def terminal_size(stream: TextIO) -> os.terminal_size | None:
    """The size of the terminal ``stream`` writes to, or None when it is not one."""
    try:
        if not stream.isatty():
            return None
        return os.get_terminal_size(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None


def _key_origin(provider: Provider) -> str:
    """Where a present key came from: a variable, and the ``.env`` file that set it."""
    from tuichat import dotenv

    if provider.settings.api_key is not None or provider.settings.api_key_cmd:
        return "present (from the config)"
    for name in provider.key_env_names():
        if os.environ.get(name, "").strip():
            source = dotenv.source_of(name)
            return f"present ({name}, from {source})" if source else f"present ({name})"
    return "present"
