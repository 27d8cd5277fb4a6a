"""Two tuichat processes on one database (two SSH sessions): nothing lost, no lock errors.

Two processes run ``tuichat ask`` in a tight loop against the same store while a third
streams a slow reply (checkpointing every half second) and the app, in this process,
streams another one. Every message must be there, complete, and nobody may have been
told "database is locked".
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.app.support import SIZE, chat_screen, replies, settle_reply, visible_text
from tests.e2e.streams import PacedReply, openai_env, serve_paced
from tests.faults.conftest import PLUGINS, tuichat_command
from tuichat.app.app import TuichatApp
from tuichat.runtime import Runtime
from tuichat.store import Store
from tuichat.testing.server import WireServer

#: Asks per looping process.
ROUNDS = 30

_LOOP = """
import sys
from tuichat.cli import main
tag, rounds = sys.argv[1], int(sys.argv[2])
for i in range(rounds):
    code = main(["ask", "-m", "demo/echo", f"{tag}-{i}"])
    if code:
        sys.exit(code)
"""


async def test_two_processes_and_the_app_share_one_store(
    process_env: Callable[..., dict[str, str]],
    build_runtime: Callable[..., Runtime],
    tmp_path: Path,
) -> None:
    slow_cli, slow_app = PacedReply(count=100, rate=60), PacedReply(count=100, rate=60)
    with WireServer() as cli_server, WireServer() as app_server:
        serve_paced(cli_server, slow_cli)
        serve_paced(app_server, slow_app)
        env = process_env(TUICHAT_PROVIDERS__DEMO__INSTANT="true", TUICHAT_LOAD_PLUGINS="")
        loops = [
            subprocess.Popen(
                [sys.executable, "-c", _LOOP, tag, str(ROUNDS)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for tag in ("one", "two")
        ]
        streaming = subprocess.Popen(
            tuichat_command("ask", "stream to me"),
            env=process_env(**openai_env(cli_server)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        runtime = build_runtime(
            {
                "providers": {"openai": {"base_url": f"{app_server.url}/v1", "api_key": "k" * 20}},
                "ui": {"title_from_model": False},
            },
            plugins=PLUGINS,
        )
        app = TuichatApp(runtime, provider="openai")
        async with app.run_test(size=SIZE) as pilot:
            chat_screen(pilot).prompt.insert("and to me")
            await pilot.press("enter")
            await settle_reply(pilot)
            [reply] = replies(pilot)
            assert reply.status == "complete"
            assert reply.text == "".join(slow_app.tokens)
            assert "locked" not in visible_text(pilot)
        results = [process.communicate(timeout=120) for process in [*loops, streaming]]

    for process, (_, stderr) in zip([*loops, streaming], results, strict=True):
        assert process.returncode == 0, stderr
        assert stderr == "", stderr
    assert results[2][0] == "".join(slow_cli.tokens)

    with Store(tmp_path / "data" / "tuichat.db") as store:
        conversations = store.list_conversations(limit=1000)
        turns = {}
        for conversation in conversations:
            messages = store.messages(conversation.id)
            assert [(m.role, m.status) for m in messages] == [
                ("user", "complete"),
                ("assistant", "complete"),
            ]
            turns[messages[0].content] = messages[1].content
    expected = {f"{tag}-{i}": f"{tag}-{i}" for tag in ("one", "two") for i in range(ROUNDS)}
    expected["stream to me"] = "".join(slow_cli.tokens)
    expected["and to me"] = "".join(slow_app.tokens)
    assert turns == expected
