"""A bad config, met by every command: one line naming the file, the line or key, the fix.

Each case is tried with ``tuichat ask``, the app (``tuichat``: it stops before the
screen switches) and ``tuichat providers``, through the command line's ``main`` in this
process (the same code a process runs, without paying for a start-up each time); a few
run as real processes too. None may crash, print a traceback or say more than one line;
each exits with 2.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.app.support import SIZE, chat_screen, settle_reply, visible_text
from tests.faults.conftest import PLUGINS, tuichat_command
from tuichat.app.app import TuichatApp
from tuichat.cli import main
from tuichat.runtime import Runtime
from tuichat.testing.contract import closed_port_url


@dataclass(frozen=True)
class BadConfig:
    """A config file (or environment) and the words its one line must hold."""

    text: str | bytes | None
    says: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


CASES: dict[str, BadConfig] = {
    "invalid-toml": BadConfig(
        '[ui\ntheme = "nord"\n', ("is not valid TOML", "at line 1", "fix that line")
    ),
    "duplicate-key": BadConfig(
        'model = "a"\nmodel = "b"\n', ("is not valid TOML", "at line 2", "fix that line")
    ),
    "unknown-key": BadConfig(
        '[ui]\nthme = "nord"\n', ("line 2", "unknown key 'ui.thme'", "did you mean 'ui.theme'?")
    ),
    "unknown-table": BadConfig(
        '[colours]\nprompt = "red"\n', ("line 1", "unknown key 'colours'", "the keys there are")
    ),
    "wrong-type": BadConfig(
        '[ui]\nfps = "fast"\n', ("line 2", "'ui.fps'", "valid integer", "(got 'fast')")
    ),
    "out-of-range": BadConfig(
        "temperature = 5\n", ("line 1", "'temperature'", "less than or equal to 2")
    ),
    "provider-wrong-type": BadConfig(
        '[providers.openai]\napi_key = "sk-x"\nread_timeout = "slow"\n',
        ("line 3", "'providers.openai.read_timeout'", "valid number"),
    ),
    "provider-unknown-key": BadConfig(
        '[providers.openai]\nbase_ur = "http://127.0.0.1:9/v1"\n',
        ("line 2", "'providers.openai.base_ur'", "did you mean 'providers.openai.base_url'?"),
    ),
    "unknown-plugin": BadConfig(
        '[providers.local]\nplugin = "olama"\n',
        ("line 2", "uses unknown plugin 'olama'", "Set plugin to one of them"),
    ),
    "tls-verify-off": BadConfig(
        "[http]\nverify = false\n",
        ("line 2", "cannot turn TLS verification off", "set ca_bundle in [http]"),
    ),
    "ca-bundle-missing": BadConfig(
        '[http]\nca_bundle = "/nonexistent/ca.pem"\n',
        ("line 2", "'http.ca_bundle' names no file", "give the path of a PEM certificate file"),
    ),
    "ca-bundle-not-pem": BadConfig(
        "[http]\nca_bundle = '{config}'\n",
        ("[http] ca_bundle", "is not a usable PEM certificate file", "point it at the PEM file"),
    ),
    "key-command-fails": BadConfig(
        '[providers.openai]\napi_key_cmd = "false"\n',
        ("api_key_cmd 'false' exited with status 1", "run it yourself to see why"),
    ),
    "unknown-provider": BadConfig(
        'provider = "nosuch"\n', ("Unknown provider 'nosuch'", "see 'tuichat providers'")
    ),
    "keymap-unknown-action": BadConfig(
        '[keymap]\nlaunch-rockets = "ctrl+r"\n', ("line 1", "'keymap'", "unknown action")
    ),
    "env-wrong-type": BadConfig(
        None, ("the environment variable TUICHAT_UI__FPS", "'ui.fps'"), (("TUICHAT_UI__FPS", "x"),)
    ),
    "not-utf8": BadConfig(
        b'model = "ok"\n# caf\xe9\n', ("is not UTF-8 text", "on line 2", "save it as UTF-8")
    ),
    "a-directory": BadConfig(
        None, ("Cannot read config file", "Is a directory", "point TUICHAT_CONFIG at a file")
    ),
    "mcp-two-transports": BadConfig(
        '[mcp.files]\ncommand = "npx"\nurl = "http://127.0.0.1:9/mcp"\n',
        ("line 1", "'mcp.files' needs exactly one of command", "or url"),
    ),
    "mcp-approve": BadConfig(
        '[mcp.files]\ncommand = "npx"\napprove = "never"\n',
        ("line 3", "'mcp.files.approve'", "'ask' or 'always'", "(got 'never')"),
    ),
    "tools-max-steps": BadConfig(
        "[tools]\nmax_steps = 0\n", ("line 2", "'tools.max_steps'", "greater than or equal to 1")
    ),
}

COMMANDS = {
    "ask": ["ask", "hello"],
    "tui": [],
    "providers": ["providers"],
}

#: Cases that are not an error for a command: ``providers`` lists instances without
#: choosing one or running ``api_key_cmd``; the app runs the command at the first prompt.
NOT_AN_ERROR = {
    ("key-command-fails", "tui"),
    ("key-command-fails", "providers"),
    ("unknown-provider", "providers"),
}

#: A few cases run as real processes, one per kind of failure.
IN_A_PROCESS = [("invalid-toml", "tui"), ("unknown-key", "ask"), ("not-utf8", "providers")]


def write_case(name: str, path: Path) -> None:
    """Put the case's config at ``path`` (readable by its owner only: no key warning)."""
    case = CASES[name]
    if name == "a-directory":
        path.mkdir()
        return
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    elif case.text is not None:
        path.write_text(case.text.format(config=path))
    if path.exists():
        path.chmod(0o600)


def check_one_line(name: str, config: Path, code: int, stdout: str, stderr: str) -> None:
    """Exit 2, nothing on stdout, one line on stderr holding the case's words."""
    assert code == 2, stderr
    assert stdout == ""
    assert stderr.startswith("tuichat: ") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    if name not in ("key-command-fails", "unknown-provider"):
        assert str(config) in stderr
    for words in CASES[name].says:
        assert words in stderr, f"{words!r} not in {stderr!r}"


@pytest.fixture
def offline_keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Keys for every provider, and base URLs where nothing listens: no request can
    leave this machine whatever a case lets through."""
    dead = closed_port_url()
    variables = {"OPENAI_API_KEY": "sk-test-key-0123456789"}
    for name in ("OPENAI", "ANTHROPIC", "GEMINI"):
        variables[f"{name}_BASE_URL"] = dead + ("/v1" if name == "OPENAI" else "")
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    return variables


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_config_is_one_line_naming_the_file_the_place_and_the_fix(
    name: str,
    command: str,
    isolated_env: Path,
    offline_keys: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if (name, command) in NOT_AN_ERROR:
        pytest.skip("not an error for this command (see NOT_AN_ERROR)")
    write_case(name, isolated_env)
    for key, value in CASES[name].env:
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(TuichatApp, "run", _must_not_start)
    code = main(COMMANDS[command])
    out, err = capsys.readouterr()
    check_one_line(name, isolated_env, code, out, err)


def _must_not_start(self: TuichatApp, *args: object, **kwargs: object) -> None:
    raise AssertionError("the app started despite the bad config")


@pytest.mark.parametrize(("name", "command"), IN_A_PROCESS)
def test_a_bad_config_in_a_real_process(
    name: str,
    command: str,
    process_env: Callable[..., dict[str, str]],
    offline_keys: dict[str, str],
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    write_case(name, config)
    done = subprocess.run(
        tuichat_command(*COMMANDS[command]),
        env=process_env(**offline_keys, **dict(CASES[name].env)),
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    check_one_line(name, config, done.returncode, done.stdout, done.stderr)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: no permission error")
def test_an_unreadable_config_file(
    process_env: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('model = "x"\n')
    config.chmod(0)
    done = subprocess.run(
        tuichat_command("providers"), env=process_env(), capture_output=True, text=True
    )
    assert done.returncode == 2
    assert f"Cannot read config file {config}: Permission denied; fix its permissions" in (
        done.stderr
    )


@pytest.mark.parametrize(
    ("provider", "variables"),
    [
        ("openai", "OPENAI_API_KEY"),
        ("anthropic", "ANTHROPIC_API_KEY"),
        ("gemini", "GEMINI_API_KEY or GOOGLE_API_KEY"),
    ],
)
def test_a_missing_api_key_names_the_variable_to_set(
    provider: str, variables: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "-p", provider, "hello"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == (
        "",
        f"tuichat: {provider} needs an API key and none is set; set {variables} "
        "(see 'tuichat providers').\n",
    )


async def test_a_failing_key_command_is_an_inline_error_in_the_app(
    build_runtime: Callable[..., Runtime],
) -> None:
    runtime = build_runtime(
        {"providers": {"openai": {"api_key_cmd": "false", "base_url": closed_port_url()}}},
        plugins=PLUGINS,
    )
    app = TuichatApp(runtime, provider="openai")
    async with app.run_test(size=SIZE) as pilot:
        chat_screen(pilot).prompt.insert("hello")
        await pilot.press("enter")
        await settle_reply(pilot)
        shown = visible_text(pilot)
        assert "api_key_cmd 'false' exited with status 1" in " ".join(shown.split())
        assert app.is_running and chat_screen(pilot).prompt.text == "hello"


KEY_FILE = '[providers.openai]\napi_key = "sk-readable-0123456789"\n'


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_a_key_in_a_file_others_can_read_is_warned_about(
    mode: int, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = isolated_env
    config.write_text(KEY_FILE)
    config.chmod(mode)
    assert main(["providers"]) == 0
    out, err = capsys.readouterr()
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        assert err == (
            f"tuichat: warning: {config} holds an API key and other users can read it; run "
            f"'chmod 600 {config}' (or move the key to an environment variable or "
            "api_key_cmd).\n"
        )
    else:
        assert err == ""
    assert "sk-readable-0123456789" not in out + err


async def test_the_app_shows_the_key_file_warning_as_a_toast(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(KEY_FILE)
    config.chmod(0o644)
    runtime = Runtime.load(config_path=config, load_entrypoints=False)
    app = TuichatApp(runtime, provider="demo")
    shown: list[str] = []
    app.notify = lambda message, **kwargs: shown.append(str(message))  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
    assert any(f"run 'chmod 600 {config}'" in message for message in shown), shown
