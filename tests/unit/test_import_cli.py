"""``tuichat import`` as a person runs it: a real process, its summary line and exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit import import_samples as samples
from tuichat.cli import IMPORT_DATABASES, IMPORT_FORMATS
from tuichat.importers import DATABASES, FORMATS, Progress
from tuichat.store import Store


@pytest.fixture
def run(tmp_path: Path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TUICHAT_", "XDG_", "LLM_", "OTERM_"))
    }
    env.update(
        TUICHAT_CONFIG=str(tmp_path / "config.toml"),
        TUICHAT_DATA_DIR=str(tmp_path / "data"),
        TUICHAT_LOAD_PLUGINS="",
        HOME=str(tmp_path / "home"),
    )

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tuichat", "import", *args],
            input="",
            capture_output=True,
            text=True,
            env={**env, **extra_env},
            timeout=60,
        )

    return run


def export_file(tmp_path: Path, *conversations: object) -> str:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(list(conversations)), encoding="utf-8")
    return str(path)


def stored_titles(tmp_path: Path) -> list[str]:
    with Store(tmp_path / "data" / "tuichat.db") as store:
        return sorted(c.title for c in store.list_conversations())


def test_an_import_prints_one_summary_line_and_exits_0(run, tmp_path) -> None:
    result = run(export_file(tmp_path, samples.chatgpt_with_edits()))

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "imported 1 conversation (7 messages), skipped 0 already imported, 0 failed\n"
    )
    assert result.stderr == ""  # Not a terminal: no progress bar.
    assert stored_titles(tmp_path) == ["Arithmetic"]


def test_a_second_import_is_nothing_to_do_and_exits_0(run, tmp_path) -> None:
    path = export_file(tmp_path, samples.chatgpt_with_edits())
    run(path)

    result = run(path)

    assert result.returncode == 0
    assert "imported 0 conversations (0 messages), skipped 1 already imported" in result.stdout


def test_a_failed_conversation_gets_one_line_naming_it_and_the_rest_exit_0(run, tmp_path) -> None:
    broken = samples.chatgpt_linear("bad", "Broken \x1b[31mone")
    broken["mapping"] = {}
    result = run(export_file(tmp_path, samples.chatgpt_linear("ok", "Fine"), broken))

    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"tuichat: import: {tmp_path / 'conversations.json'}: Broken [31mone: "
        "no messages ('mapping' is missing or empty)"
    ]
    assert result.stdout.endswith("skipped 0 already imported, 1 failed\n")


def test_everything_failing_exits_1(run, tmp_path) -> None:
    broken = samples.chatgpt_linear("bad", "Broken")
    broken["mapping"] = {}

    result = run(export_file(tmp_path, broken))

    assert result.returncode == 1
    assert "imported 0 conversations (0 messages), skipped 0 already imported, 1 failed" in (
        result.stdout
    )


def test_an_empty_export_is_nothing_to_do(run, tmp_path) -> None:
    result = run(export_file(tmp_path))

    assert result.returncode == 0
    assert result.stdout.startswith("imported 0 conversations")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "Name the files to import"),
        (("missing.json",), "Cannot read missing.json"),
        (("--format", "yaml", "x.json"), "invalid choice: 'yaml'"),
        (("--from", "oterm"), "There is no oterm database at"),
        (("--from", "oterm", "--format", "elia", "x.db"), "disagree"),
    ],
)
def test_usage_errors_exit_2_with_one_line(run, args, says) -> None:
    result = run(*args)

    assert result.returncode == 2
    assert says in result.stderr
    assert result.stderr.count("tuichat:") == 1


def test_a_file_in_no_known_format_exits_2(run, tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello", encoding="utf-8")

    result = run(str(path))

    assert result.returncode == 2
    assert "no format tuichat imports" in result.stderr


def test_dry_run_writes_nothing(run, tmp_path) -> None:
    result = run("--dry-run", export_file(tmp_path, samples.chatgpt_with_edits()))

    assert result.returncode == 0
    assert result.stdout.startswith("would import 1 conversation (7 messages)")
    assert stored_titles(tmp_path) == []


def test_from_finds_the_programs_database_where_it_keeps_it(run, tmp_path) -> None:
    oterm_dir = tmp_path / "home" / ".local" / "share" / "oterm"
    oterm_dir.mkdir(parents=True)
    samples.oterm_database(oterm_dir / "store.db")
    llm_dir = tmp_path / "llm"
    llm_dir.mkdir()
    samples.llm_database(llm_dir / "logs.db")
    elia_dir = tmp_path / "xdg" / "elia"
    elia_dir.mkdir(parents=True)
    samples.elia_database(elia_dir / "elia.sqlite")

    assert run("--from", "oterm").returncode == 0
    assert run("--from", "llm", LLM_USER_PATH=str(llm_dir)).returncode == 0
    assert run("--from", "elia", XDG_DATA_HOME=str(tmp_path / "xdg")).returncode == 0

    assert stored_titles(tmp_path) == ["Capital cities", "Llama talk", "Rust lifetimes"]


def test_the_command_line_offers_every_format_the_importers_read() -> None:
    assert IMPORT_FORMATS == FORMATS and IMPORT_DATABASES == DATABASES


def test_the_progress_bar_draws_only_on_a_terminal(tmp_path) -> None:
    ticks = iter(float(second) for second in range(10))
    drawn: list[str] = []

    class Terminal:
        def write(self, text: str) -> None:
            drawn.append(text)

        def flush(self) -> None:
            pass

    bar = Progress(Terminal(), enabled=True, clock=lambda: next(ticks))  # type: ignore[arg-type]
    bar.update(3, 0.5)
    bar.clear()
    Progress(Terminal(), enabled=False).update(3, 0.5)  # type: ignore[arg-type]

    assert drawn == ["\r[" + "#" * 15 + " " * 15 + "]  50%  3 conversations\x1b[K", "\r\x1b[K"]
