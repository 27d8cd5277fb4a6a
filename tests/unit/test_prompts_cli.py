"""``tuichat ask -t NAME -v key=value`` and ``tuichat prompts``, run as a person runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tuichat.store import Store

DATA = Path(__file__).parent.parent / "data" / "prompts"


@pytest.fixture
def run(tmp_path: Path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TUICHAT_", "LLM_")) and not key.endswith("_API_KEY")
    }
    env.update(
        TUICHAT_CONFIG=str(tmp_path / "config.toml"),
        TUICHAT_DATA_DIR=str(tmp_path / "data"),
        TUICHAT_PROVIDERS__DEMO__INSTANT="true",
        TUICHAT_LOAD_PLUGINS="",
        HOME=str(tmp_path / "home"),
    )

    def run(*args: str, stdin: str = "", **extra_env: str):
        return subprocess.run(
            [sys.executable, "-m", "tuichat", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**env, **extra_env},
            timeout=60,
        )

    return run


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "explain.toml").write_text(
        'description = "Explain a topic"\n'
        'prompt = "Explain {{topic}} to {{reader}}."\n'
        'system = "You teach."\n'
        "temperature = 0.4\n"
        "[defaults]\n"
        'reader = "a child"\n'
    )
    (tmp_path / "config.toml").write_text(
        '[presets.terse]\nsystem_prompt = "Answer in one line."\ntemperature = 0.1\n'
    )
    return folder


def test_ask_fills_a_saved_prompt_and_applies_its_system_prompt(run, tmp_path, library) -> None:
    done = run("ask", "-m", "demo/echo", "-t", "explain", "-v", "topic=TLS")
    assert (done.returncode, done.stdout, done.stderr) == (0, "Explain TLS to a child.", "")
    store = Store(tmp_path / "data" / "tuichat.db")
    [conversation] = store.list_conversations()
    assert conversation.system_prompt == "You teach."
    assert conversation.params.get("temperature") == 0.4
    store.close()


def test_the_command_line_wins_over_the_saved_prompt(run, tmp_path, library) -> None:
    done = run(
        "ask", "-m", "demo/echo", "-t", "explain", "-v", "topic=x", "-v", "reader=me", "-s", "S"
    )
    assert done.stdout == "Explain x to me."
    store = Store(tmp_path / "data" / "tuichat.db")
    assert store.list_conversations()[0].system_prompt == "S"
    store.close()


def test_a_preset_takes_its_text_from_the_prompt_or_stdin(run, library) -> None:
    assert run("ask", "-m", "demo/echo", "-t", "terse", "why?").stdout == "why?"
    assert run("ask", "-m", "demo/echo", "-t", "terse", stdin="piped").stdout == "piped"


def test_a_missing_variable_or_an_unknown_one_exits_2_in_one_line(run, library) -> None:
    missing = run("ask", "-m", "demo/echo", "-t", "explain")
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and "needs a value for topic" in missing.stderr
    unknown = run("ask", "-m", "demo/echo", "-t", "explain", "-v", "topic=a", "-v", "tpoic=b")
    assert unknown.returncode == 2 and "has no variable 'tpoic'" in unknown.stderr
    nothing = run("ask", "-m", "demo/echo", "-t", "terse")
    assert nothing.returncode == 2 and "has no text of its own" in nothing.stderr
    absent = run("ask", "-t", "nope")
    assert absent.returncode == 2 and "the prompts: explain, terse" in absent.stderr


def test_prompts_lists_the_files_and_the_presets_as_one_library(run, library) -> None:
    done = run("prompts")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["NAME", "VARIABLES", "ABOUT"]
    assert lines[1].split()[:2] == ["explain", "topic,"]
    assert lines[2].split()[:3] == ["terse", "-", "preset"]
    unknown = run("prompts", "show", "nope")
    assert unknown.returncode == 2 and "No saved prompt is called 'nope'" in unknown.stderr
    shown = run("prompts", "show", "explain").stdout
    assert "variables: topic, reader" in shown and "[prompt]\nExplain {{topic}}" in shown


def test_import_llm_reads_llms_own_folder_and_reports_each_file(run, tmp_path) -> None:
    templates = tmp_path / "llm-home" / "templates"
    templates.parent.mkdir()

    shutil.copytree(DATA / "llm", templates)
    done = run("prompts", "import-llm", LLM_USER_PATH=str(templates.parent))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("4 added, 0 updated, 0 unchanged, 0 kept, 1 failed")
    assert done.stderr.count("tuichat: prompts: failed") == 1
    again = run("prompts", "import-llm", LLM_USER_PATH=str(templates.parent))
    assert again.stdout.startswith("0 added, 0 updated, 4 unchanged")
    assert run("ask", "-m", "demo/echo", "-t", "steampunk", "Txt").stdout.endswith("summarize: Txt")


def test_import_fabric_needs_a_folder_that_exists(run, tmp_path) -> None:
    done = run("prompts", "import-fabric", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and "is not a folder" in done.stderr
    done = run("prompts", "import-fabric", str(DATA / "fabric"))
    assert done.stdout.startswith("2 added, 0 updated, 0 unchanged, 0 kept, 0 failed"), done.stderr
