from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuichat.errors import StoreError
from tuichat.migrations import LATEST_VERSION
from tuichat.store import Conversation, Message, SearchHit, Store, fts_query


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float = 1.0) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    with Store(tmp_path / "data" / "tuichat.sqlite", clock=clock) as opened:
        yield opened


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {entry.name: entry.read_bytes() for entry in sorted(directory.iterdir())}


# -- opening ---------------------------------------------------------------------------------


def test_open_creates_directory_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "tuichat.sqlite"
    with Store.open(path) as store:
        assert store.path == path
        assert path.exists()
    conn = _raw(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    finally:
        conn.close()


def test_memory_store() -> None:
    with Store(":memory:") as store:
        assert store.path is None
        conversation = store.create_conversation(title="in memory")
        store.add_message(conversation.id, "user", "hello there")
        assert [hit.message_id for hit in store.search("hello")] == [1]


def test_corrupt_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "tuichat.sqlite"
    path.write_bytes(os.urandom(8192))
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError) as caught:
        Store(path)
    message = str(caught.value)
    assert str(path) in message and "TUICHAT_DATA_DIR" in message and "move it aside" in message
    assert _snapshot(tmp_path) == before


def test_foreign_sqlite_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "tuichat.sqlite"
    conn = _raw(path)
    conn.execute("CREATE TABLE foo (x)")
    conn.execute("INSERT INTO foo VALUES (42)")
    conn.close()
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError) as caught:
        Store(path)
    message = str(caught.value)
    assert str(path) in message and "another program" in message
    assert "TUICHAT_DATA_DIR" in message
    assert _snapshot(tmp_path) == before


def test_empty_existing_file_is_initialised(tmp_path: Path) -> None:
    path = tmp_path / "tuichat.sqlite"
    path.touch()
    with Store(path) as store:
        assert store.count_conversations() == 0


def test_parent_that_is_a_file_gives_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="TUICHAT_DATA_DIR"):
        Store(blocker / "tuichat.sqlite")


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root ignores directory permissions"
)
def test_unwritable_directory_gives_store_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="permissions"):
            Store(locked / "tuichat.sqlite")
    finally:
        locked.chmod(0o700)


# -- conversations ---------------------------------------------------------------------------


def test_conversation_round_trip(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "tuichat.sqlite"
    params = {"temperature": 0.5, "max_tokens": 100, "stop": ["«x»"]}
    with Store(path, clock=clock) as store:
        created = store.create_conversation(
            title="Title",
            provider="openai",
            model="gpt-x",
            system_prompt="Be brief.",
            params=params,
        )
        clock.tick(3)
        store.update_conversation(created.id, pinned=True, archived=True, draft="half typed")
    with Store(path, clock=clock) as store:
        loaded = store.get_conversation(created.id)
    assert loaded == Conversation(
        id=created.id,
        title="Title",
        created_at=1000.0,
        updated_at=1003.0,
        provider="openai",
        model="gpt-x",
        system_prompt="Be brief.",
        params=params,
        pinned=True,
        archived=True,
        draft="half typed",
    )


def test_create_defaults_and_missing(store: Store) -> None:
    conversation = store.create_conversation()
    assert conversation.title == "" and conversation.params == {} and conversation.draft == ""
    assert not conversation.pinned and not conversation.archived
    assert conversation.provider is None and conversation.system_prompt is None
    assert store.get_conversation(999) is None


def test_listing_order_and_paging(store: Store, clock: FakeClock) -> None:
    ids = []
    for index in range(7):
        clock.tick()
        ids.append(store.create_conversation(title=f"c{index}").id)
    clock.tick()
    store.update_conversation(ids[1], pinned=True)
    clock.tick()
    store.update_conversation(ids[4], archived=True)
    same_time = clock.tick()
    store.update_conversation(ids[5], title="renamed")
    store.update_conversation(ids[6], title="renamed too")
    assert store.get_conversation(ids[5]).updated_at == same_time  # type: ignore[union-attr]

    listed = [c.id for c in store.list_conversations()]
    assert listed == [ids[1], ids[6], ids[5], ids[3], ids[2], ids[0]]
    pages = [
        [c.id for c in store.list_conversations(limit=4, offset=offset)] for offset in (0, 4, 8)
    ]
    assert pages == [listed[:4], listed[4:], []]
    assert [c.id for c in store.list_conversations(archived=True)] == [ids[4]]
    assert store.count_conversations() == 6
    assert store.count_conversations(archived=True) == 1
    assert store.latest_conversation_id() == ids[6]


def test_listing_uses_the_index_without_sorting(tmp_path: Path) -> None:
    path = tmp_path / "tuichat.sqlite"
    with Store(path):
        pass
    conn = _raw(path)
    try:
        plan = " ".join(
            str(row[3])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM conversations WHERE archived = 0 "
                "ORDER BY pinned DESC, updated_at DESC, id DESC LIMIT 10 OFFSET 0"
            )
        )
    finally:
        conn.close()
    assert "conversations_list" in plan
    assert "TEMP B-TREE" not in plan


def test_update_conversation_fields_and_updated_at(store: Store, clock: FakeClock) -> None:
    conversation = store.create_conversation(title="old")
    clock.tick(10)
    drafted = store.update_conversation(conversation.id, draft="typing…")
    assert drafted.draft == "typing…"
    assert drafted.updated_at == conversation.updated_at
    renamed = store.rename_conversation(conversation.id, "new")
    assert renamed.title == "new" and renamed.updated_at == clock.now
    clock.tick()
    changed = store.update_conversation(
        conversation.id, provider="anthropic", model="m", system_prompt=None, params={"a": 1}
    )
    assert (changed.provider, changed.model, changed.params) == ("anthropic", "m", {"a": 1})
    assert changed.updated_at == clock.now
    assert store.update_conversation(conversation.id) == changed


def test_update_conversation_rejects_unknown_field(store: Store) -> None:
    conversation = store.create_conversation()
    with pytest.raises(ValueError, match="colour"):
        store.update_conversation(conversation.id, title="x", colour="red")
    assert store.get_conversation(conversation.id).title == ""  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        store.update_conversation(conversation.id, title=None)


def test_update_missing_conversation_is_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="no longer exists"):
        store.rename_conversation(404, "ghost")
    with pytest.raises(StoreError, match="no longer exists"):
        store.add_message(404, "user", "hi")


def test_delete_cascades_to_messages_and_index(tmp_path: Path) -> None:
    path = tmp_path / "tuichat.sqlite"
    with Store(path) as store:
        doomed = store.create_conversation(title="doomed")
        kept = store.create_conversation(title="kept")
        for word in ("zebra", "zebra giraffe", "giraffe"):
            store.add_message(doomed.id, "user", word)
        store.add_message(kept.id, "user", "giraffe")
        store.delete_conversation(doomed.id)
        store.delete_conversation(doomed.id)
        assert store.get_conversation(doomed.id) is None
        assert store.messages(doomed.id) == []
        assert store.search("zebra") == []
        assert [hit.conversation_id for hit in store.search("giraffe")] == [kept.id]
    conn = _raw(path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM messages_fts_docsize").fetchone()[0] == 1
        conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")
    finally:
        conn.close()


# -- messages --------------------------------------------------------------------------------


def test_message_round_trip_every_field(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "tuichat.sqlite"
    with Store(path, clock=clock) as store:
        conversation = store.create_conversation()
        clock.tick()
        added = store.add_message(
            conversation.id,
            "assistant",
            "partial",
            status="streaming",
            provider="openai",
            model="gpt-x",
            reasoning="hmm",
        )
        assert store.get_conversation(conversation.id).updated_at == 1001.0  # type: ignore[union-attr]
        clock.tick()
        store.update_message(
            added.id,
            content="full answer",
            reasoning="hmm, then yes",
            status="error",
            finish_reason="stop",
            input_tokens=12,
            output_tokens=34,
            ttft_ms=56.5,
            duration_ms=789.25,
            error="The stream broke.",
        )
    with Store(path, clock=clock) as store:
        loaded = store.get_message(added.id)
        assert store.messages(conversation.id) == [loaded]
    assert loaded == Message(
        id=added.id,
        conversation_id=conversation.id,
        position=0,
        role="assistant",
        content="full answer",
        reasoning="hmm, then yes",
        status="error",
        provider="openai",
        model="gpt-x",
        finish_reason="stop",
        input_tokens=12,
        output_tokens=34,
        ttft_ms=56.5,
        duration_ms=789.25,
        error="The stream broke.",
        created_at=1001.0,
        updated_at=1002.0,
    )


def test_update_message_changes_only_given_fields(store: Store, clock: FakeClock) -> None:
    conversation = store.create_conversation()
    message = store.add_message(conversation.id, "assistant", "abc", status="streaming")
    store.update_message(message.id, input_tokens=5, error="x")
    store.update_message(message.id, output_tokens=7)
    loaded = store.get_message(message.id)
    assert loaded is not None
    assert (loaded.content, loaded.status, loaded.input_tokens, loaded.output_tokens) == (
        "abc",
        "streaming",
        5,
        7,
    )
    assert loaded.error == "x"
    clock.tick(4)
    store.update_message(message.id)
    assert store.get_message(message.id).updated_at == clock.now  # type: ignore[union-attr]
    store.update_message(12345, content="ignored")
    assert store.get_message(12345) is None


def test_positions_increment_and_defaults(store: Store) -> None:
    first = store.create_conversation()
    second = store.create_conversation()
    a = store.add_message(first.id, "system", "rules")
    b = store.add_message(first.id, "user", "question")
    c = store.add_message(second.id, "user", "other")
    d = store.add_message(first.id, "assistant", "answer")
    assert [a.position, b.position, d.position] == [0, 1, 2]
    assert c.position == 0
    assert a.status == "complete" and a.reasoning == "" and a.provider is None
    store.delete_message(b.id)
    e = store.add_message(first.id, "user", "again")
    assert [m.position for m in store.messages(first.id)] == [0, 2, 3]
    assert [m.id for m in store.messages(first.id)] == [a.id, d.id, e.id]
    store.delete_message(b.id)
    assert store.get_message(b.id) is None


def test_invalid_role_and_status(store: Store) -> None:
    conversation = store.create_conversation()
    with pytest.raises(ValueError, match="role"):
        store.add_message(conversation.id, "tool", "x")
    with pytest.raises(ValueError, match="status"):
        store.add_message(conversation.id, "user", "x", status="done")
    message = store.add_message(conversation.id, "user", "x")
    with pytest.raises(ValueError, match="status"):
        store.update_message(message.id, status="finished")
    assert store.messages(conversation.id) == [message]


def test_streaming_checkpoint_survives_a_crash(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "tuichat.sqlite"
    crashed = Store(path, clock=clock)
    try:
        conversation = crashed.create_conversation()
        crashed.add_message(conversation.id, "user", "tell me a story")
        reply = crashed.add_message(conversation.id, "assistant", status="streaming")
        clock.tick()
        crashed.update_message(reply.id, content="Once upon")
        clock.tick()
        crashed.update_message(reply.id, content="Once upon a time")
        # No close: the process "dies" here; a new instance must see the last checkpoint.
        with Store(path, clock=clock) as survivor:
            loaded = survivor.get_message(reply.id)
            assert loaded is not None
            assert loaded.content == "Once upon a time"
            assert loaded.status == "streaming"
            assert [hit.message_id for hit in survivor.search("time")] == [reply.id]
    finally:
        crashed.close()


def test_recover_interrupted_marks_only_stale_streams(store: Store, clock: FakeClock) -> None:
    conversation = store.create_conversation()
    stale = store.add_message(conversation.id, "assistant", "old", status="streaming")
    done = store.add_message(conversation.id, "assistant", "fine")
    clock.tick(10)
    fresh = store.add_message(conversation.id, "assistant", "live", status="streaming")
    heartbeat = store.add_message(conversation.id, "assistant", "", status="streaming")
    clock.tick(3)
    store.update_message(heartbeat.id)
    clock.tick(1)
    assert store.recover_interrupted() == 1
    statuses = {m.id: m.status for m in store.messages(conversation.id)}
    assert statuses == {
        stale.id: "interrupted",
        done.id: "complete",
        fresh.id: "streaming",
        heartbeat.id: "streaming",
    }
    assert store.recover_interrupted() == 0
    clock.tick(2)
    assert store.recover_interrupted() == 1
    assert store.get_message(fresh.id).status == "interrupted"  # type: ignore[union-attr]
    assert store.get_message(heartbeat.id).status == "streaming"  # type: ignore[union-attr]
    assert store.recover_interrupted(stale_after=0) == 1
    assert store.recover_interrupted(stale_after=0) == 0


# -- search ----------------------------------------------------------------------------------


def test_search_finds_replies_with_snippet_and_prefix(store: Store, clock: FakeClock) -> None:
    older = store.create_conversation(title="Older")
    store.add_message(older.id, "user", "How do I parse JSON in Python?")
    clock.tick()
    newer = store.create_conversation(title="Newer")
    store.add_message(newer.id, "user", "unrelated question")
    reply = store.add_message(
        newer.id,
        "assistant",
        "Use the json module: json.loads parses a string. " + "filler " * 40 + "Python rocks.",
    )
    hits = store.search("pyth")
    assert [(h.conversation_id, h.message_id) for h in hits] == [
        (newer.id, reply.id),
        (older.id, 1),
    ]
    assert hits[0] == SearchHit(
        conversation_id=newer.id,
        conversation_title="Newer",
        message_id=reply.id,
        position=1,
        role="assistant",
        snippet=hits[0].snippet,
    )
    assert "«Python»" in hits[0].snippet
    assert len(hits[0].snippet.split()) <= 14
    assert "«JSON»" in store.search("python json")[-1].snippet
    assert store.search("json pars", limit=1)[0].message_id == reply.id
    assert store.search("missingword") == []


def test_search_ignores_case_and_diacritics(store: Store) -> None:
    conversation = store.create_conversation()
    message = store.add_message(conversation.id, "assistant", "Un café crème, s'il vous plaît.")
    assert [h.message_id for h in store.search("CAFE creme")] == [message.id]
    assert "«café»" in store.search("cafe")[0].snippet


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        '"unbalanced',
        "*",
        "-",
        "-foo",
        "foo*",
        "AND",
        "a AND b",
        "OR NOT",
        "NEAR(a b)",
        "(",
        ")",
        "a:b",
        "content:x",
        "^start",
        "{x}",
        "+",
        "'",
        "it's",
        "c++ -> x",
        "... ,;!?",
    ],
)
def test_search_never_raises_on_raw_text(store: Store, query: str) -> None:
    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "a AND b foo bar it's content x")
    assert isinstance(store.search(query), list)


def test_search_operators_are_plain_words(store: Store) -> None:
    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "cats and dogs")
    store.add_message(conversation.id, "user", "cats or dogs")
    assert len(store.search("cats AND dogs")) == 1
    assert len(store.search("cats dogs")) == 2


def test_empty_search() -> None:
    with Store(":memory:") as store:
        assert store.search("") == []
        assert store.search("   \t") == []


def test_fts_query_quoting() -> None:
    assert fts_query("") == ""
    assert fts_query('say "hi" now') == '"say" """hi""" "now"*'
    assert fts_query("  a  ") == '"a"*'


# -- concurrency -----------------------------------------------------------------------------


def test_two_stores_writing_concurrently_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "tuichat.sqlite"
    stores = [Store(path), Store(path)]
    try:
        conversation = stores[0].create_conversation(title="shared")
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def writer(store: Store, name: str) -> None:
            try:
                start.wait()
                for index in range(200):
                    store.add_message(conversation.id, "user", f"{name} {index}")
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=writer, args=(store, name))
            for store, name in zip(stores, ("left", "right"), strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        messages = stores[1].messages(conversation.id)
        assert len(messages) == 400
        assert [m.position for m in messages] == list(range(400))
        assert {m.content for m in messages} == {
            f"{name} {index}" for name in ("left", "right") for index in range(200)
        }
    finally:
        for store in stores:
            store.close()


def test_one_store_shared_between_threads(tmp_path: Path) -> None:
    with Store(tmp_path / "tuichat.sqlite") as store:
        conversation = store.create_conversation()

        def writer() -> None:
            for _ in range(50):
                message = store.add_message(conversation.id, "assistant", status="streaming")
                store.update_message(message.id, content="done", status="complete")

        threads = [threading.Thread(target=writer) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        messages = store.messages(conversation.id)
        assert len(messages) == 200
        assert {m.status for m in messages} == {"complete"}


def _open_and_write(path: str, barrier: object, results: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    try:
        with Store(Path(path)) as store:
            conversation = store.create_conversation(title="at once")
            store.add_message(conversation.id, "user", "hi")
        results.put("ok")  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - reported to the test
        results.put(f"{type(exc).__name__}: {exc}")  # type: ignore[attr-defined]


def test_many_processes_creating_the_store_at_once_all_succeed(tmp_path: Path) -> None:
    """Several tuichats started together on a new data directory (a script, a test run
    forking them): switching the new file to WAL answered "locked" at once to all but
    one, and they stopped with "stayed locked too long"."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    for trial in range(30):
        path = tmp_path / f"t{trial}" / "tuichat.db"
        path.parent.mkdir()
        barrier, results = context.Barrier(12), context.Queue()
        workers = [
            context.Process(target=_open_and_write, args=(str(path), barrier, results))
            for _ in range(12)
        ]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join()
        assert outcomes == ["ok"] * 12, outcomes
