"""The README's commands work as written from a fresh clone (a newcomer copies them)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
ACTIVATE = "source .venv/bin/activate"


def shell_lines(text: str) -> list[str]:
    """The lines of the README's ```bash blocks, in order."""
    blocks = re.findall(r"^```bash\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_bare_tuichat_commands_come_after_the_venv_is_activated() -> None:
    lines = shell_lines(README.read_text(encoding="utf-8"))
    bare = [i for i, line in enumerate(lines) if re.search(r"(^|\s)tuichat(\s|$)", line)]
    assert bare, "the README shows tuichat commands"
    assert ACTIVATE in lines and lines.index(ACTIVATE) < bare[0], lines[bare[0]]


def test_every_pip_install_uses_the_clones_venv() -> None:
    text = README.read_text(encoding="utf-8")
    installs = re.findall(r"([^\s`]*pip) install", text)
    assert installs and all(pip == ".venv/bin/pip" for pip in installs), installs
    assert "'tuichat[serve]'" not in text  # not on an index: the extra is installed from here


def test_titles_asked_of_the_model_are_announced_with_the_switch() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert "title_from_model = false" in text and "asks the same model for a short title" in text
