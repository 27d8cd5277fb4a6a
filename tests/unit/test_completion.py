"""``tuichat completion bash|zsh|fish``: scripts made from the argparse parser, valid in
their shell, completing commands, options and the values the parser knows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tuichat import completion
from tuichat.cli import build_parser


def script(shell: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tuichat", "completion", shell],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def needs(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")


# -- bash ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bash") / "tuichat.bash"
    path.write_text(script("bash"), encoding="utf-8")
    return path


def complete_bash(path: Path, *words: str, cwd: Path | None = None) -> list[str]:
    """What bash offers for the command line ``words`` (the last one being completed),
    calling the script's function as bash's ``complete -F`` would."""
    program = (
        'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
        "_tuichat; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program, "bash", str(path), *words],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        timeout=30,
    )
    return [line for line in done.stdout.splitlines() if line]


def test_the_bash_script_is_valid_bash(bash_script: Path) -> None:
    subprocess.run(["bash", "-n", str(bash_script)], check=True)


def test_bash_completes_the_commands(bash_script: Path) -> None:
    assert complete_bash(bash_script, "tuichat", "prov") == ["providers"]
    every = complete_bash(bash_script, "tuichat", "")
    assert {"ask", "providers", "install", "uninstall", "completion", "import"} <= set(every)


def test_bash_skips_the_value_of_a_global_option(bash_script: Path) -> None:
    assert complete_bash(bash_script, "tuichat", "-p", "openai", "ex") == ["export"]


def test_bash_completes_each_commands_options_and_known_values(bash_script: Path) -> None:
    assert complete_bash(bash_script, "tuichat", "ask", "--no") == ["--no-save"]
    assert complete_bash(bash_script, "tuichat", "providers", "--sa") == ["--save-found"]
    assert complete_bash(bash_script, "tuichat", "export", "--format", "") == ["md", "json"]
    assert complete_bash(bash_script, "tuichat", "completion", "") == ["bash", "zsh", "fish"]
    # A free value (a model name) gets nothing rather than the command list.
    assert complete_bash(bash_script, "tuichat", "ask", "-m", "") == []


def test_bash_completes_paths_where_a_path_goes(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "conversations.json").write_text("[]", encoding="utf-8")

    assert complete_bash(bash_script, "tuichat", "import", "conv", cwd=tmp_path) == [
        "conversations.json"
    ]
    assert complete_bash(bash_script, "tuichat", "ask", "-a", "conv", cwd=tmp_path) == [
        "conversations.json"
    ]


# -- zsh and fish -------------------------------------------------------------------------------


def test_the_zsh_script_is_valid_and_registers_itself(tmp_path: Path) -> None:
    needs("zsh")
    path = tmp_path / "_tuichat"
    path.write_text(script("zsh"), encoding="utf-8")
    subprocess.run(["zsh", "-n", str(path)], check=True)
    program = f"autoload -U compinit && compinit -u -D; source {path}; print -r -- $_comps[tuichat]"
    env = {**os.environ, "HOME": str(tmp_path), "ZDOTDIR": str(tmp_path)}
    done = subprocess.run(
        ["zsh", "-f", "-c", program], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "_tuichat"


def complete_fish(path: Path, line: str, home: Path) -> list[str]:
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")}
    done = subprocess.run(
        ["fish", "--no-config", "-c", f"source {path}; complete -C {line!r}"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=30,
    )
    return [row.split("\t")[0] for row in done.stdout.splitlines()]


def test_the_fish_script_is_valid_and_completes(tmp_path: Path) -> None:
    needs("fish")
    path = tmp_path / "tuichat.fish"
    path.write_text(script("fish"), encoding="utf-8")
    subprocess.run(["fish", "--no-execute", str(path)], check=True)

    assert complete_fish(path, "tuichat prov", tmp_path) == ["providers"]
    assert complete_fish(path, "tuichat ask --no", tmp_path) == ["--no-save"]
    assert sorted(complete_fish(path, "tuichat export --format ", tmp_path)) == ["json", "md"]


# -- the model ----------------------------------------------------------------------------------


def test_every_command_of_the_parser_is_in_every_script() -> None:
    parser = build_parser()
    names = [command.name for command in completion.describe(parser).commands]
    assert "completion" in names and "serve" in names
    for shell in completion.SHELLS:
        text = completion.script(parser, shell)
        assert all(name in text for name in names), shell


def test_an_unknown_shell_is_refused_by_the_parser(capsys) -> None:
    from tuichat.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["completion", "powershell"])
    assert stopped.value.code == 2
    assert "invalid choice: 'powershell'" in capsys.readouterr().err
