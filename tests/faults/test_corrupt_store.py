"""A damaged or foreign database file: one clear sentence, exit 2, the file untouched.

tuichat must never write to a database file it cannot use: the person may need it (a
backup to recover, another program's data). Every command that opens the store, the app
included, stops before its first write with one line naming the file and the fix, and
leaves the file byte for byte as it was, with no journal beside it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.app.support import SIZE, chat_screen
from tests.faults.conftest import tuichat_command
from tuichat.app.app import TuichatApp
from tuichat.cli import main
from tuichat.runtime import Runtime
from tuichat.store import Store


def _tuichat_store(path: Path) -> bytes:
    with Store(path) as store:
        for number in range(20):
            conversation = store.create_conversation(title=f"conversation {number}")
            for _ in range(8):
                store.add_message(conversation.id, "user", "words " * 300)
    return path.read_bytes()


def _foreign(path: Path) -> bytes:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    connection.execute("INSERT INTO contacts VALUES ('Ada', '555-0100')")
    connection.commit()
    connection.close()
    return path.read_bytes()


def _newer(path: Path) -> bytes:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE conversations (id INTEGER PRIMARY KEY)")
    connection.execute("PRAGMA user_version = 999")
    connection.commit()
    connection.close()
    return path.read_bytes()


#: Files that are not a usable tuichat store, by how they came about.
CASES: dict[str, Callable[[Path], bytes]] = {
    "random-bytes": lambda path: bytes(range(256)) * 64,
    "text-file": lambda path: b"my notes, not a database\n" * 400,
    "foreign-sqlite": _foreign,
    "truncated": lambda path: _tuichat_store(path)[:8192],
    "damaged-schema-page": lambda path: (lambda d: d[:100] + b"\xff" * 3000 + d[3100:])(
        _tuichat_store(path)
    ),
    "newer-schema": _newer,
}

#: The words the sentence must hold, by case: the fix the person can apply.
FIXES = {
    "newer-schema": "upgrade tuichat",
    "foreign-sqlite": "another program's SQLite database",
}

COMMANDS = {
    "ask": ["ask", "-m", "demo/echo", "hello"],
    "tui": [],
    "export": ["export", "--all"],
}


def snapshot(directory: Path) -> dict[str, str]:
    """Every file in ``directory`` and the hash of its bytes."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.iterdir())
    }


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(CASES))
def test_an_unusable_store_stops_with_one_sentence_and_stays_untouched(
    case: str,
    command: str,
    process_env: Callable[..., dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    database = data_dir / "tuichat.db"
    scratch = tmp_path / "scratch.db"
    database.write_bytes(CASES[case](scratch))
    before = snapshot(data_dir)

    if command == "tui":
        # The app for real: it must stop before Textual takes the terminal.
        done = subprocess.run(
            tuichat_command(*COMMANDS[command]),
            env=process_env(),
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        code, out, err = done.returncode, done.stdout, done.stderr
    else:
        # The same code as a process runs, without paying for a start-up each time.
        monkeypatch.setenv("TUICHAT_PROVIDERS__DEMO__INSTANT", "true")
        code = main(COMMANDS[command])
        out, err = capsys.readouterr()

    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    sentence = err.removeprefix("tuichat: ")
    assert str(database) in sentence
    assert FIXES.get(case, "move it aside") in sentence
    if case != "newer-schema":
        assert "TUICHAT_DATA_DIR" in sentence
    # Not one byte written, no journal or WAL file made beside it.
    assert snapshot(data_dir) == before


def test_damage_found_later_stops_ask_with_the_same_sentence(
    process_env: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    """SQLite only notices a damaged page when it reads it; then tuichat stops the same way."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    database = data_dir / "tuichat.db"
    data = bytearray(_tuichat_store(tmp_path / "scratch.db"))
    data[20_000:24_096] = b"\xee" * 4096  # a page of the messages table
    database.write_bytes(bytes(data))

    done = subprocess.run(
        tuichat_command("export", "--all"),
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"The conversation store {database} is damaged; move it aside" in done.stderr


async def test_damage_found_while_the_app_runs_is_a_message_not_a_crash(
    build_runtime: Callable[..., Runtime], tmp_path: Path
) -> None:
    database = tmp_path / "damaged.db"
    data = bytearray(_tuichat_store(tmp_path / "scratch.db"))
    data[20_000:24_096] = b"\xee" * 4096
    database.write_bytes(bytes(data))
    notes: list[str] = []
    runtime = build_runtime(store=Store(database))
    app = TuichatApp(runtime, provider="demo")
    app.notify = lambda message, **kwargs: notes.append(str(message))  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        # Open every conversation the sidebar lists; some of their pages are damaged.
        sidebar = screen.sidebar
        for conversation_id in list(sidebar.conversation_ids):
            sidebar.post_message(sidebar.Selected(sidebar, conversation_id))
            await pilot.pause()
        assert app.is_running
        assert any("is damaged; move it aside" in note for note in notes), notes
    assert os.path.exists(database)
