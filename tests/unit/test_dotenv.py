"""``.env`` files beside the config (and, when allowed, in the working directory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tuichat import dotenv


def test_the_common_format_is_read() -> None:
    text = "\n".join(
        [
            "# keys",
            "export OPENAI_API_KEY=sk-plain  # a comment",
            "ANTHROPIC_API_KEY='sk-ant-#not-a-comment'",
            'GEMINI_API_KEY="line\\nbreak \\"quoted\\""',
            "EMPTY=",
            "not a line",
            "1BAD=x",
        ]
    )
    assert dotenv.parse(text) == {
        "OPENAI_API_KEY": "sk-plain",
        "ANTHROPIC_API_KEY": "sk-ant-#not-a-comment",
        "GEMINI_API_KEY": 'line\nbreak "quoted"',
        "EMPTY": "",
    }


def test_a_variable_already_set_is_never_overridden(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=from-file\nB=from-file\n")
    environ = {"A": "already"}
    assert dotenv.load(tmp_path / ".env", environ) == ["B"]
    assert environ == {"A": "already", "B": "from-file"}
    assert dotenv.source_of("B") == tmp_path / ".env"


def test_the_working_directorys_env_is_read_only_when_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir, work = tmp_path / "config", tmp_path / "work"
    config_dir.mkdir()
    work.mkdir()
    (work / ".env").write_text("FROM_CWD=yes\n")
    monkeypatch.chdir(work)
    environ: dict[str, str] = {}
    dotenv.load_for(config_dir / "config.toml", environ)
    assert "FROM_CWD" not in environ
    (config_dir / ".env").write_text(f"{dotenv.IN_CWD}=1\n")
    dotenv.load_for(config_dir / "config.toml", environ)
    assert environ["FROM_CWD"] == "yes"


def test_a_key_in_the_env_beside_the_config_lets_ask_chat_and_doctor_says_where(
    tmp_path: Path,
) -> None:
    config = tmp_path / "conf" / "config.toml"
    config.parent.mkdir()
    (config.parent / ".env").write_text("OPENAI_API_KEY=sk-from-dotenv\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(TUICHAT_CONFIG=str(config), TUICHAT_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run(
        [sys.executable, "-m", "tuichat", "doctor", "--offline"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    line = next(line for line in done.stdout.splitlines() if "openai key" in line)
    assert f"present (OPENAI_API_KEY, from {config.parent / '.env'})" in line
    assert "sk-from-dotenv" not in done.stdout + done.stderr
