"""``tuichat doctor``: each check, one line per problem, the exit status."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path
from typing import ClassVar

from tests.fakes import FakeProvider
from tuichat import doctor
from tuichat.cli import main
from tuichat.errors import NetworkError
from tuichat.hookspecs import hookimpl
from tuichat.provider import ModelInfo


class Unreachable(FakeProvider):
    name: ClassVar[str] = "unreachable"

    async def list_models(self) -> list[ModelInfo]:
        raise NetworkError(
            "Could not connect to unreachable at http://127.0.0.1:9 (connection refused); "
            "is the server running?",
            provider="unreachable",
        )


class KeyNeeded(FakeProvider):
    name: ClassVar[str] = "keyed"
    requires_key: ClassVar[bool] = True
    key_env: ClassVar[tuple[str, ...]] = ("KEYED_API_KEY",)


class Plugin:
    @hookimpl
    def register_providers(self, register) -> None:
        register(Unreachable)
        register(KeyNeeded)


def by_name(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {check.name: check for check in checks}


def test_providers_keys_and_reachability(build_runtime) -> None:
    runtime = build_runtime(
        {"providers": {"demo": {"instant": True}, "keyed": {}}}, fake=True, plugins=(Plugin(),)
    )
    checks = by_name(doctor.run_checks(runtime=runtime, env={}, terminal=None))
    assert checks["demo key"].status == "ok"
    assert checks["demo reach"].status == "ok"
    assert "2 models" in checks["demo reach"].detail
    assert checks["fake reach"].status == "ok"
    assert checks["unreachable reach"].status == "fail"
    assert "connection refused" in checks["unreachable reach"].detail
    # A configured provider without its key fails, and says which variable to set.
    assert checks["keyed key"].status == "fail"
    assert "KEYED_API_KEY" in checks["keyed key"].detail
    assert "keyed reach" not in checks
    assert checks["store"].status == "ok"


def test_offline_skips_the_servers(build_runtime) -> None:
    runtime = build_runtime(fake=True, plugins=(Plugin(),))
    checks = by_name(doctor.run_checks(runtime=runtime, env={}, terminal=None, probe=False))
    assert "unreachable reach" not in checks
    assert checks["unreachable key"].status == "ok"


def test_terminal_size() -> None:
    assert doctor.check_terminal(os.terminal_size((120, 40))).status == "ok"
    narrow = doctor.check_terminal(os.terminal_size((80, 24)))
    assert narrow.status == "ok" and "Ctrl+B" in narrow.detail
    small = doctor.check_terminal(os.terminal_size((60, 20)))
    assert small.status == "warn" and "60x20" in small.detail
    assert doctor.check_terminal(None).status == "warn"


def test_colours() -> None:
    assert doctor.check_colours({"NO_COLOR": "1"}).detail.startswith("NO_COLOR")
    assert "256" in doctor.check_colours({"TERM": "xterm-256color"}).detail
    assert "true colour" in doctor.check_colours({"TERM": "x", "COLORTERM": "truecolor"}).detail
    assert doctor.check_colours({"TERM": "xterm"}).status == "warn"
    assert doctor.check_colours({}).status == "warn"


def fake_tmux(options: dict[str, str]):
    def run(args, **kwargs):
        value = options.get(args[-1])
        return subprocess.CompletedProcess(args, 0 if value else 1, stdout=f"{value or ''}\n")

    return run


def test_clipboard_inside_tmux_needs_set_clipboard() -> None:
    env = {"TMUX": "/tmp/x,1,0"}
    none = lambda _: None  # noqa: E731
    good = doctor.check_clipboard(env, which=none, run=fake_tmux({"set-clipboard": "on"}))
    assert good.status == "ok" and "set-clipboard on" in good.detail
    bad = doctor.check_clipboard(env, which=none, run=fake_tmux({"set-clipboard": "external"}))
    assert bad.status == "warn" and "set -g set-clipboard on" in bad.detail


def test_clipboard_over_ssh_and_locally() -> None:
    none = lambda _: None  # noqa: E731
    ssh = doctor.check_clipboard({"SSH_TTY": "/dev/pts/1"}, which=none)
    assert ssh.status == "ok" and "over SSH" in ssh.detail
    assert doctor.check_clipboard({}, which=none).status == "warn"
    local = doctor.check_clipboard({"DISPLAY": ":0"}, which=lambda name: f"/usr/bin/{name}")
    assert local.status == "ok" and "xclip" in local.detail


def test_report_prints_one_line_each_and_the_status() -> None:
    out = io.StringIO()
    checks = [doctor.Check("config", "ok", "here"), doctor.Check("x reach", "fail", "down")]
    assert doctor.report(checks, out) == 1
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["ok    config   here", "FAIL  x reach  down"]
    assert doctor.report(checks[:1], io.StringIO()) == 0


def test_warnings_are_not_summed_up_as_all_good() -> None:
    out = io.StringIO()
    checks = [doctor.Check("config", "ok", "here"), doctor.Check("colours", "warn", "TERM unset")]
    assert doctor.report(checks, out) == 0
    assert "All good." not in out.getvalue()
    assert out.getvalue().endswith("No problem found; 1 warning above.\n")
    everything = io.StringIO()
    assert doctor.report(checks[:1], everything) == 0
    assert everything.getvalue().endswith("All good.\n")


def test_the_command_reports_a_broken_config(isolated_env: Path, capsys, monkeypatch) -> None:
    isolated_env.write_text("[ui]\nfps = 500\n")
    assert main(["doctor", "--offline"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  config" in out and "line 2" in out and "ui.fps" in out
    assert "1 problem found." in out


def test_the_command_passes_with_the_demo(isolated_env: Path, capsys) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "demo reach" in out and ("All good." in out or "No problem found" in out)


def test_the_command_fails_on_a_provider_the_app_would_refuse(isolated_env: Path, capsys) -> None:
    isolated_env.write_text('provider = "nosuch"\n')
    assert main(["doctor", "--offline"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  provider" in out and "Unknown provider 'nosuch'" in out, out
    assert str(isolated_env) in out
    assert "All good." not in out
