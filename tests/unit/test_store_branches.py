"""Store v2: branches (edit and regenerate keep alternatives), message meta, settings."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuichat import migrations
from tuichat.migrations import migrate, split_script
from tuichat.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "tuichat.db") as opened:
        yield opened


def contents(store: Store, conversation_id: int) -> list[str]:
    return [m.content for m in store.messages(conversation_id)]


def test_messages_follow_each_other_and_the_head_moves(store: Store) -> None:
    conversation = store.create_conversation()
    assert conversation.head_id is None
    a = store.add_message(conversation.id, "user", "a")
    b = store.add_message(conversation.id, "assistant", "b")
    assert (a.parent_id, b.parent_id) == (None, a.id)
    assert store.get_conversation(conversation.id).head_id == b.id  # type: ignore[union-attr]


def test_an_edited_prompt_starts_a_branch_and_keeps_the_old_one(store: Store) -> None:
    c = store.create_conversation().id
    q1 = store.add_message(c, "user", "q1")
    store.add_message(c, "assistant", "r1")
    q2 = store.add_message(c, "user", "q2")
    r2 = store.add_message(c, "assistant", "r2")
    edited = store.add_message(c, "user", "q2 edited", parent_id=q2.parent_id)
    store.add_message(c, "assistant", "r2'")
    assert contents(store, c) == ["q1", "r1", "q2 edited", "r2'"]
    assert [m.content for m in store.alternatives(edited.id)] == ["q2", "q2 edited"]
    assert len(store.all_messages(c)) == 6
    # Back to the first version: its newest continuation is shown again.
    assert store.show_branch(q2.id) == r2.id
    assert contents(store, c) == ["q1", "r1", "q2", "r2"]
    # Editing the very first prompt starts the conversation anew.
    store.add_message(c, "user", "q1 again", parent_id=None)
    assert contents(store, c) == ["q1 again"]
    assert [m.content for m in store.alternatives(q1.id)] == ["q1", "q1 again"]


def test_a_regenerated_reply_is_an_alternative(store: Store) -> None:
    c = store.create_conversation().id
    q = store.add_message(c, "user", "q")
    r = store.add_message(c, "assistant", "first")
    store.set_head(c, q.id)
    assert contents(store, c) == ["q"]
    store.add_message(c, "assistant", "second")
    assert contents(store, c) == ["q", "second"]
    assert [m.content for m in store.alternatives(r.id)] == ["first", "second"]


def test_set_head_refuses_a_message_of_another_conversation(store: Store) -> None:
    one = store.create_conversation().id
    other = store.create_conversation().id
    message = store.add_message(other, "user", "x")
    with pytest.raises(ValueError, match="not part of conversation"):
        store.set_head(one, message.id)
    with pytest.raises(ValueError, match="not part of conversation"):
        store.add_message(one, "user", "y", parent_id=message.id)


def test_deleting_a_message_keeps_what_followed_it(store: Store) -> None:
    c = store.create_conversation().id
    store.add_message(c, "user", "q1")
    r1 = store.add_message(c, "assistant", "r1")
    store.add_message(c, "user", "q2")
    r2 = store.add_message(c, "assistant", "r2")
    store.delete_message(r1.id)
    assert contents(store, c) == ["q1", "q2", "r2"]
    store.delete_message(r2.id)
    assert contents(store, c) == ["q1", "q2"]
    assert store.add_message(c, "assistant", "r2 again").content == "r2 again"
    assert contents(store, c) == ["q1", "q2", "r2 again"]


def test_message_meta_is_kept(store: Store) -> None:
    c = store.create_conversation().id
    message = store.add_message(c, "assistant", "x", meta={"omitted": 3})
    assert message.meta == {"omitted": 3}
    store.update_message(message.id, meta={"omitted": 4})
    assert store.get_message(message.id).meta == {"omitted": 4}  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        store.update_message(message.id, meta=[1])  # type: ignore[arg-type]


def test_settings_keep_json_values(store: Store) -> None:
    assert store.get_setting("theme") is None
    assert store.get_setting("theme", "x") == "x"
    store.set_setting("theme", "nord")
    store.set_setting("models", {"demo": ["demo", "echo"]})
    assert store.get_setting("theme") == "nord"
    store.set_setting("theme", "dracula")
    assert store.get_setting("theme") == "dracula"
    assert store.get_setting("models") == {"demo": ["demo", "echo"]}
    store.set_setting("theme", None)
    assert store.get_setting("theme") is None


def test_v1_conversations_become_one_branch_each(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    first = migrations.MIGRATIONS[0]
    assert isinstance(first, str)
    for statement in split_script(first):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")
    conn.execute("INSERT INTO conversations (id, title) VALUES (1, 'one'), (2, 'empty')")
    for position, (role, text) in enumerate(
        [("user", "q1"), ("assistant", "r1"), ("user", "q2"), ("assistant", "r2")]
    ):
        # Gaps in positions, as after deletions in v1.
        conn.execute(
            "INSERT INTO messages (conversation_id, position, role, content) VALUES (1, ?, ?, ?)",
            (position * 3, role, text),
        )
    conn.close()
    with Store(path) as store:
        assert contents(store, 1) == ["q1", "r1", "q2", "r2"]
        assert contents(store, 2) == []
        messages = store.messages(1)
        assert [m.parent_id for m in messages] == [None] + [m.id for m in messages[:-1]]
        assert store.get_conversation(1).head_id == messages[-1].id  # type: ignore[union-attr]
        assert store.search("q2")[0].message_id == messages[2].id
        store.add_message(1, "user", "q3")
        assert contents(store, 1)[-1] == "q3"


def test_v2_applies_in_one_transaction(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    try:
        assert migrate(conn) >= 2
        columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
        assert {"parent_id", "meta"} <= columns
        assert "head_id" in {row[1] for row in conn.execute("PRAGMA table_info(conversations)")}
    finally:
        conn.close()


def test_alternative_counts_rank_siblings(store: Store) -> None:
    c = store.create_conversation().id
    q = store.add_message(c, "user", "q")
    r1 = store.add_message(c, "assistant", "r1")
    store.set_head(c, q.id)
    r2 = store.add_message(c, "assistant", "r2")
    assert store.alternative_counts(c) == {r1.id: (1, 2), r2.id: (2, 2)}


def test_children_are_the_messages_that_follow_one(store: Store) -> None:
    c = store.create_conversation().id
    q = store.add_message(c, "user", "q")
    r1 = store.add_message(c, "assistant", "r1", parent_id=q.id)
    r2 = store.add_message(c, "assistant", "r2", parent_id=q.id)
    follow = store.add_message(c, "user", "more", parent_id=r1.id)
    assert [m.id for m in store.children(q.id)] == [r1.id, r2.id]
    assert [m.id for m in store.children(r1.id)] == [follow.id]
    assert store.children(r2.id) == [] and store.children(9999) == []
