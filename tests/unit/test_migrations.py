from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tuichat import migrations
from tuichat.errors import StoreError
from tuichat.migrations import LATEST_VERSION, migrate, split_script, user_version
from tuichat.store import Store


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _names(conn: sqlite3.Connection, kind: str) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))
    return {row[0] for row in rows}


def test_migrate_empty_database_to_latest(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "db.sqlite")
    try:
        assert user_version(conn) == 0
        assert migrate(conn) == LATEST_VERSION == 4
        assert user_version(conn) == LATEST_VERSION
        assert {"conversations", "messages", "messages_fts"} <= _names(conn, "table")
        assert {"conversations_list", "messages_streaming"} <= _names(conn, "index")
        assert {
            "messages_fts_insert",
            "messages_fts_delete",
            "messages_fts_update",
        } <= _names(conn, "trigger")
        assert not conn.in_transaction
    finally:
        conn.close()


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    conn = _connect(path)
    try:
        migrate(conn)
        schema = sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
        assert migrate(conn) == LATEST_VERSION
        assert sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()) == (
            schema
        )
    finally:
        conn.close()
    for _ in range(2):
        with Store(path) as store:
            store.create_conversation(title="again")
    with Store(path) as store:
        assert store.count_conversations() == 2


def test_newer_user_version_is_refused(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "db.sqlite")
    try:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
        with pytest.raises(StoreError, match="newer tuichat.*upgrade tuichat"):
            migrate(conn)
        assert user_version(conn) == LATEST_VERSION + 1
        assert _names(conn, "table") == set()
    finally:
        conn.close()


def test_store_refuses_newer_database_without_touching_it(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with Store(path):
        pass
    conn = _connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store(path)
    message = str(caught.value)
    assert str(path) in message
    assert "newer tuichat" in message and message.endswith("upgrade tuichat.")
    assert path.read_bytes() == before


def test_failing_migration_rolls_back_whole_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, broken])
    monkeypatch.setattr(migrations, "LATEST_VERSION", LATEST_VERSION + 1)
    conn = _connect(tmp_path / "db.sqlite")
    try:
        with pytest.raises(RuntimeError, match="boom"):
            migrate(conn)
        assert user_version(conn) == LATEST_VERSION
        assert "half_done" not in _names(conn, "table")
        assert "conversations" in _names(conn, "table")
        assert not conn.in_transaction
    finally:
        conn.close()


def test_callable_migration_is_applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def add_column(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE conversations ADD COLUMN colour TEXT")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, add_column])
    monkeypatch.setattr(migrations, "LATEST_VERSION", LATEST_VERSION + 1)
    conn = _connect(tmp_path / "db.sqlite")
    try:
        assert migrate(conn) == LATEST_VERSION + 1
        columns = {row[1] for row in conn.execute("PRAGMA table_info(conversations)")}
        assert "colour" in columns
    finally:
        conn.close()


def test_split_script_keeps_trigger_bodies_whole() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (x);
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        INSERT INTO t VALUES (1);
        INSERT INTO t VALUES (2);
    END;
    """
    statements = split_script(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    first = migrations.MIGRATIONS[0]
    assert isinstance(first, str)
    assert len(split_script(first)) == 8


def test_status_only_update_does_not_touch_the_index(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "db.sqlite")
    try:
        migrate(conn)
        conn.execute("INSERT INTO conversations (id) VALUES (1)")
        conn.execute(
            "INSERT INTO messages (id, conversation_id, position, role, content, status) "
            "VALUES (1, 1, 0, 'assistant', 'hello', 'streaming')"
        )
        fts_pages = conn.execute("SELECT * FROM messages_fts_data").fetchall()
        conn.execute("UPDATE messages SET status = 'complete', updated_at = 5 WHERE id = 1")
        conn.execute("UPDATE messages SET content = 'hello' WHERE id = 1")
        assert conn.execute("SELECT * FROM messages_fts_data").fetchall() == fts_pages
        conn.execute("UPDATE messages SET content = 'goodbye' WHERE id = 1")
        assert conn.execute("SELECT * FROM messages_fts_data").fetchall() != fts_pages
        conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
        hits = conn.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'goodbye'")
        assert hits.fetchall() == [(1,)]
    finally:
        conn.close()
