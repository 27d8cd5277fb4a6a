"""Attaching files in a real terminal: by ``@`` and by a pasted path, sent to a provider.

The test kit's loopback server runs in this process (its handlers are those of
``python -m tuichat.testing serve``), so the test reads the request tuichat sent.
The paste goes through tmux's ``paste-buffer -p``: bracketed, as a terminal pastes a
file dropped on it.
"""

from __future__ import annotations

import base64
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxSession
from tuichat.testing import PNG_1X1
from tuichat.testing.__main__ import make_handlers
from tuichat.testing.server import WireServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def kit() -> Iterator[WireServer]:
    """The test kit's server, its requests readable here."""
    with WireServer("127.0.0.1", 0) as server:
        for (method, path), handler in make_handlers(20, 0.0).items():
            server.route(method, path, handler)
        yield server


def test_a_file_attached_by_at_and_one_pasted_go_with_the_prompt(
    terminal, app_env: dict[str, str], kit: WireServer, tmp_path: Path
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "shot.png").write_bytes(PNG_1X1)
    notes = files / "my notes.txt"
    notes.write_text("buy milk\n")
    (tmp_path / "config.toml").write_text("[ui]\ncursor_blink = false\ntitle_from_model = false\n")
    env = {**app_env, "OPENAI_API_KEY": "sk-test-openai", "OPENAI_BASE_URL": f"{kit.url}/v1"}
    # Started in the folder: @ completes from the directory tuichat was started in.
    tuichat = shlex.join([sys.executable, "-m", "tuichat", "--model", "openai/wire-model-1"])
    app: TmuxSession = terminal(
        env=env, command=["sh", "-c", f"cd {shlex.quote(str(files))} && exec {tuichat}"]
    )
    app.wait_for("openai · wire-model-1", timeout=30)

    app.type("Describe @sh")
    app.wait_for("shot.png")
    app.keys("Tab")
    app.wait_for("[shot.png · image · 1 KB · 1×1]")

    app.tmux("set-buffer", "--", shlex.quote(str(notes)))
    app.tmux("paste-buffer", "-p", "-t", app.name)
    app.wait_for("my notes.txt ·")  # the chip (its long path wraps)
    assert "Describe" in app.screen()
    app.keys("Enter")
    app.wait_for("complete (stop)", timeout=30)

    [chat] = [r for r in kit.requests if r.method == "POST"]
    user = chat.json()["messages"][-1]
    assert user["role"] == "user"
    parts = user["content"]
    image = f"data:image/png;base64,{base64.b64encode(PNG_1X1).decode()}"
    assert {"type": "image_url", "image_url": {"url": image}} in parts
    [text] = [p["text"] for p in parts if p["type"] == "text"]
    assert text == f"{notes}\n```text\nbuy milk\n```\n\nDescribe "
