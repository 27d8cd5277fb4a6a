"""The command line, run as a person runs it: a real process, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuichat.demo import GUIDE


@pytest.fixture
def run(tmp_path: Path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TUICHAT_") and not key.endswith("_API_KEY")
    }
    env.update(
        TUICHAT_CONFIG=str(tmp_path / "config.toml"),
        TUICHAT_DATA_DIR=str(tmp_path / "data"),
        TUICHAT_PROVIDERS__DEMO__INSTANT="true",
        TUICHAT_LOAD_PLUGINS="",
    )

    def run(*args: str, stdin: str | None = None, **extra_env: str):
        # No stdin given: an empty one, as a script run from cron has (ask reads a pipe).
        return subprocess.run(
            [sys.executable, "-m", "tuichat", *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            env={**env, **extra_env},
            timeout=60,
        )

    return run


def test_ask_streams_the_demo_reply_and_exits_0(run) -> None:
    done = run("ask", "-p", "demo", "hello")
    assert (done.returncode, done.stdout, done.stderr) == (0, GUIDE, "")


def test_ask_with_an_unknown_provider_exits_2_naming_the_installed_ones(run) -> None:
    done = run("ask", "-p", "nosuch", "x")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "Unknown provider 'nosuch'" in done.stderr and "demo" in done.stderr


def test_ask_reads_the_prompt_from_stdin(run) -> None:
    assert run("ask", "-m", "demo/echo", stdin="piped words\n").stdout == "piped words"
    assert run("ask", "-m", "demo/echo", "-", stdin="dash").stdout == "dash"


def test_an_empty_prompt_is_a_usage_error(run) -> None:
    done = run("ask", "-p", "demo", stdin="  \n")
    assert done.returncode == 2 and "prompt is empty" in done.stderr


def test_ask_saves_the_turn_where_the_tui_and_export_see_it(run) -> None:
    run("ask", "-m", "demo/echo", "remember me")
    exported = json.loads(run("export", "--format", "json").stdout)
    assert exported["title"] == "remember me"
    assert [(m["role"], m["content"], m["status"]) for m in exported["messages"]] == [
        ("user", "remember me", "complete"),
        ("assistant", "remember me", "complete"),
    ]
    markdown = run("export").stdout
    assert markdown.startswith("# remember me") and "## You" in markdown


def test_continue_adds_to_the_latest_conversation(run) -> None:
    run("ask", "-m", "demo/echo", "first")
    run("ask", "-c", "-m", "demo/echo", "second")
    exported = json.loads(run("export", "--format", "json").stdout)
    assert [m["content"] for m in exported["messages"]] == ["first", "first", "second", "second"]


def test_no_save_leaves_the_store_alone(run) -> None:
    assert run("ask", "--no-save", "-m", "demo/echo", "secret").returncode == 0
    done = run("export")
    assert done.returncode == 2 and "no conversations" in done.stderr


def test_a_length_finish_warns_on_stderr_and_still_exits_0(run) -> None:
    done = run("ask", "-p", "demo", "--max-tokens", "3", "hello")
    assert done.returncode == 0
    assert done.stdout == "# Welcome to "
    assert "max tokens" in done.stderr


def test_control_characters_are_neutralised_unless_raw(run) -> None:
    hostile = "a\x1b]52;c;SGVsbG8=\x07b\x9bc\td"
    shown = run("ask", "-m", "demo/echo", hostile).stdout
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert shown.startswith("a") and "\td" in shown
    assert run("ask", "--raw", "-m", "demo/echo", hostile).stdout == hostile


def test_bad_flags_and_values_exit_2_with_one_line(run) -> None:
    for args in (
        ["ask", "--temperature", "9", "x"],
        ["ask", "--max-tokens", "-1", "x"],
        ["ask", "--bogus"],
        ["export", "--format", "pdf"],
    ):
        done = run(*args)
        assert done.returncode == 2, args
        assert done.stderr.strip().splitlines()[-1].startswith("tuichat: ")


def test_a_bad_config_file_exits_2_with_one_line(run, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[ui]\nfps = 'x'\n")
    done = run("ask", "-p", "demo", "hi")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "line 2" in done.stderr and "ui.fps" in done.stderr


def test_providers_plugins_models_and_version(run) -> None:
    providers = run("providers").stdout
    assert "demo" in providers and "not needed" in providers
    plugins = run("plugins").stdout
    assert "tuichat (built-in)" in plugins
    assert run("models", "-p", "demo").stdout.split() == ["demo", "echo"]
    assert run("--version").stdout.startswith("tuichat ")


def test_export_of_a_missing_conversation_is_a_usage_error(run) -> None:
    done = run("export", "42")
    assert done.returncode == 2 and "no conversation 42" in done.stderr


def test_ask_continue_stays_with_the_conversations_own_provider(run) -> None:
    other = {"TUICHAT_PROVIDERS__OTHER__PLUGIN": "demo"}
    assert run("ask", "-p", "other", "-m", "echo", "first", **other).returncode == 0
    assert run("ask", "-c", "second", **other).stdout == "second"
    exported = json.loads(run("export", "--format", "json", **other).stdout)
    answered_by = [(m["provider"], m["model"]) for m in exported["messages"][1::2]]
    assert answered_by == [("other", "echo"), ("other", "echo")]


def test_ask_continue_with_another_provider_named_uses_it(run) -> None:
    other = {"TUICHAT_PROVIDERS__OTHER__PLUGIN": "demo"}
    run("ask", "-p", "other", "-m", "echo", "first", **other)
    run("ask", "-c", "-m", "demo/echo", "second", **other)
    exported = json.loads(run("export", "--format", "json", **other).stdout)
    assert [m["provider"] for m in exported["messages"][1::2]] == ["other", "demo"]


@pytest.mark.parametrize("command", [("ask", "x"), ()])
def test_an_unknown_provider_prefix_is_an_error_naming_the_providers(run, command) -> None:
    done = run(*command[:1], "-m", "antropic/claude-sonnet-4-6", *command[1:])
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "Unknown provider 'antropic'" in done.stderr and "demo" in done.stderr


def test_a_prompt_and_piped_text_are_both_sent_the_text_fenced(run) -> None:
    done = run("ask", "-m", "demo/echo", "summarise:", stdin="log line 1\nlog line 2\n")
    assert done.stdout == "summarise:\n\n```\nlog line 1\nlog line 2\n```"


def test_piped_text_holding_a_fence_gets_a_longer_one(run) -> None:
    done = run("ask", "-m", "demo/echo", "review:", stdin="```py\nx = 1\n```\n")
    assert done.stdout == "review:\n\n````\n```py\nx = 1\n```\n````"


def test_list_shows_the_ids_that_ask_and_export_take(run) -> None:
    assert run("list").stdout == "No conversations yet.\n"
    run("ask", "-m", "demo/echo", "first chat")
    run("ask", "-m", "demo/echo", "second \x1b]0;owned\x07chat")
    listed = run("list")
    assert listed.returncode == 0
    header, newest, oldest = listed.stdout.splitlines()
    assert header.split() == ["ID", "TITLE", "MODEL", "UPDATED"]
    assert newest.startswith("2 ") and "demo/echo" in newest and "\x1b" not in newest
    assert oldest.split()[:4] == ["1", "first", "chat", "demo/echo"]
    rows = json.loads(run("list", "--json").stdout)
    assert [(row["id"], row["model"], row["provider"]) for row in rows] == [
        (2, "echo", "demo"),
        (1, "echo", "demo"),
    ]
    assert rows[1]["title"] == "first chat" and "\x1b" not in rows[0]["title"]
    # The id listed is the one the other commands take.
    again = run("ask", "--conversation", str(rows[1]["id"]), "-m", "demo/echo", "more")
    assert again.returncode == 0
    assert run("list", "--json").stdout.count('"id": 1') == 1
