"""The sidebar: date groups, pin, archive and restore, delete from the list, paging at scale,
drafts kept per conversation, and titles (from the prompt, then from the model)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.support import (
    SIZE,
    chat_screen,
    fake,
    send,
    settle_reply,
    toasts,
    until,
    visible_text,
)
from tests.fakes import Script, failing, frozen
from tuichat.app.screens.delete import DeleteScreen
from tuichat.app.widgets.sidebar import date_group
from tuichat.errors import ServerError
from tuichat.store import Store

#: 2023-11-15 12:00:00 UTC: a Wednesday noon, far from any midnight in UTC.
NOON = 1_700_049_600.0
DAY = 86_400.0


class Clock:
    """A store clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC for the test, so calendar days do not depend on the machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def rows(pilot) -> list[str]:
    """The sidebar's rows as shown (headings included)."""
    options = chat_screen(pilot).sidebar.option_list
    return [str(option.prompt) for option in options.options]


def test_date_groups_follow_calendar_days(utc) -> None:
    assert date_group(NOON - 60, NOON) == "Today"
    assert date_group(NOON - 12 * 3600, NOON) == "Today"  # midnight exactly
    assert date_group(NOON - 12 * 3600 - 1, NOON) == "Previous 7 days"
    assert date_group(NOON - 7 * DAY - 12 * 3600, NOON) == "Previous 7 days"
    assert date_group(NOON - 8 * DAY, NOON) == "Older"


async def test_conversations_are_grouped_by_date_with_pinned_on_top(
    make_app, build_runtime, tmp_path: Path, utc
) -> None:
    clock = Clock(NOON - 40 * DAY)
    store = Store(tmp_path / "grouped.db", clock=clock)
    ids = {}
    for title, age in [
        ("Old notes", 40 * DAY),
        ("Last week", 3 * DAY),
        ("Pinned plan", 20 * DAY),
        ("This morning", 3600),
        ("Just now", 60),
    ]:
        clock.now = NOON - age
        ids[title] = store.create_conversation(title=title).id
    store.update_conversation(ids["Pinned plan"], pinned=True)
    app = make_app(runtime=build_runtime(fake=True, store=store), now=lambda: NOON)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert rows(pilot) == [
            "Pinned",
            "Pinned plan",
            "Today",
            "Just now",
            "This morning",
            "Previous 7 days",
            "Last week",
            "Older",
            "Old notes",
        ]
        sidebar = chat_screen(pilot).sidebar
        # Headings are not conversations: the cursor skips them and they are not counted.
        assert sidebar.count == 5
        sidebar.option_list.focus()
        await pilot.press("home")
        assert sidebar.highlighted_id == ids["Pinned plan"]
        await pilot.press("down")
        assert sidebar.highlighted_id == ids["Just now"]


async def test_p_pins_and_unpins_the_highlighted_conversation(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    first = runtime.store.create_conversation(title="first").id
    runtime.store.create_conversation(title="second")
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        sidebar = chat_screen(pilot).sidebar
        sidebar.option_list.focus()
        await pilot.press("end")
        assert sidebar.highlighted_id == first
        await pilot.press("p")
        await until(pilot, lambda: rows(pilot)[:2] == ["Pinned", "first"], "first pinned")
        assert runtime.store.get_conversation(first).pinned
        assert sidebar.highlighted_id == first
        await pilot.press("p")
        await until(pilot, lambda: "Pinned" not in rows(pilot), "first unpinned")
        assert not runtime.store.get_conversation(first).pinned


async def test_a_archives_and_the_archive_restores(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    keep = runtime.store.create_conversation(title="keep").id
    old = runtime.store.create_conversation(title="old stuff").id
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        sidebar = screen.sidebar
        sidebar.option_list.focus()
        await pilot.press("home")
        assert sidebar.highlighted_id == old
        await pilot.press("a")
        await until(pilot, lambda: sidebar.conversation_ids == [keep], "old archived")
        assert runtime.store.get_conversation(old).archived
        assert any(t.startswith("Archived “old stuff”") for t in toasts(pilot))

        await pilot.press("A")  # the archive
        await until(pilot, lambda: sidebar.conversation_ids == [old], "the archive")
        assert "Archive" in visible_text(pilot)
        await pilot.press("home", "a")  # restore
        await until(pilot, lambda: sidebar.conversation_ids == [], "old restored")
        assert not runtime.store.get_conversation(old).archived

        await pilot.press("A")  # back to the conversations
        await until(pilot, lambda: sidebar.conversation_ids == [old, keep], "both listed")


async def test_d_in_the_sidebar_deletes_after_asking(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    doomed = runtime.store.create_conversation(title="doomed").id
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        screen.sidebar.option_list.focus()
        await pilot.press("home", "d")
        await until(pilot, lambda: isinstance(app.screen, DeleteScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: screen.sidebar.conversation_ids == [], "it gone")
        assert runtime.store.get_conversation(doomed) is None


def bulk(path: Path, count: int) -> None:
    """Write ``count`` conversations straight into a fresh store (fast)."""
    Store(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)",
            ((f"chat {n}", float(n), float(n)) for n in range(count)),
        )
    conn.close()


async def first_page_time(make_app, build_runtime, path: Path, count: int) -> float:
    """Seconds from starting the app to its sidebar showing the first page; checks that
    only pages are ever read."""
    store = Store(path)
    reads: list[int] = []
    original = store.list_conversations

    def counting(*, limit: int = 100, offset: int = 0, archived: bool = False):
        reads.append(limit)
        return original(limit=limit, offset=offset, archived=archived)

    store.list_conversations = counting  # type: ignore[method-assign]
    app = make_app(runtime=build_runtime(fake=True, store=store))
    started = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        sidebar = chat_screen(pilot).sidebar
        expected = min(count, 50)
        await until(pilot, lambda: sidebar.count == expected, "the first page")
        elapsed = time.perf_counter() - started
        # Only pages are read, never the whole table.
        assert reads and max(reads) == 50
        assert sidebar.count == expected
    return elapsed


async def test_ten_thousand_conversations_open_as_fast_as_ten(
    make_app, build_runtime, tmp_path: Path
) -> None:
    timings = {}
    for count in (10, 10_000):
        path = tmp_path / f"{count}.db"
        bulk(path, count)
        timings[count] = await first_page_time(make_app, build_runtime, path, count)
    # Generous bounds: a shared machine is noisy, a full read would be far slower.
    assert timings[10_000] < timings[10] * 3 + 1.0, timings


async def test_a_draft_is_kept_per_conversation_and_across_restarts(
    make_app, build_runtime, tmp_path: Path
) -> None:
    runtime = build_runtime(fake=True)
    store = runtime.store
    one = store.create_conversation(title="one").id
    two = store.create_conversation(title="two").id
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        screen.prompt.insert("unsent for a new chat")
        await pilot.pause()
        await screen.open_conversation(one)
        assert screen.prompt.text == ""
        screen.prompt.insert("half a thought")
        await pilot.pause()
        await screen.open_conversation(two)
        assert screen.prompt.text == ""
        await screen.open_conversation(one)
        assert screen.prompt.text == "half a thought"
        await screen.open_conversation(None)
        assert screen.prompt.text == "unsent for a new chat"
        await screen.open_conversation(one)
        screen.prompt.insert(", and more")
        await pilot.pause()  # (the change is seen; the save after the typing pause is not)
        # Quit before the typing pause: the draft is saved on the way out.
    with Store(tmp_path / "data" / "tuichat.db") as reopened:
        assert reopened.get_conversation(one).draft == "half a thought, and more"
        assert reopened.get_conversation(two).draft == ""

    again = make_app(runtime=build_runtime(fake=True))
    async with again.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        assert screen.prompt.text == "unsent for a new chat"
        await screen.open_conversation(one)
        assert screen.prompt.text == "half a thought, and more"


async def test_sending_clears_the_draft(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "sent")
        await settle_reply(pilot)
        await pilot.pause(0.6)
        store = app.runtime.store
        assert store.get_conversation(screen.conversation_id).draft == ""
        assert store.get_setting("draft:new") is None


async def test_quitting_mid_reply_keeps_no_stale_draft(make_app, tmp_path: Path) -> None:
    app = make_app(frozen("thinking..."))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "already sent")
        await until(pilot, lambda: screen.responding, "the reply to start")
        conversation_id = screen.conversation_id
    with Store(tmp_path / "data" / "tuichat.db") as store:
        assert store.get_conversation(conversation_id).draft == ""


def title_settings() -> dict:
    return {"providers": {"demo": {"instant": True}}, "ui": {"title_from_model": True}}


async def test_a_real_provider_titles_the_conversation_in_the_background(make_app) -> None:
    app = make_app(
        Script(deltas=["Lisbon has trams, tiles and custard tarts."]),
        Script(deltas=['Title: "Lisbon travel ', 'tips".']),
        settings=title_settings(),
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "What should I see in Lisbon?\nI have three days.")
        await settle_reply(pilot)
        store = app.runtime.store
        conversation_id = screen.conversation_id
        await until(
            pilot,
            lambda: store.get_conversation(conversation_id).title == "Lisbon travel tips",
            "the model's title",
        )
        await until(pilot, lambda: "Lisbon travel tips" in visible_text(pilot), "it shown")
        title_request = fake(app.runtime).requests[1]
        assert title_request.max_tokens == 40
        assert "What should I see in Lisbon?" in title_request.messages[0].content


async def test_a_failed_title_keeps_the_prompt_title(make_app) -> None:
    app = make_app(
        Script(deltas=["Answer."]),
        failing(ServerError("server error", provider="fake", status=500)),
        settings=title_settings(),
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "first words of the prompt")
        await settle_reply(pilot)
        await until(pilot, lambda: len(fake(app.runtime).requests) == 2, "the title request")
        for worker in list(app.workers):
            if worker.group == "title":
                await worker.wait()
        title = app.runtime.store.get_conversation(screen.conversation_id).title
        assert title == "first words of the prompt"
        assert not screen.query("InlineError")


async def test_the_demo_never_asks_for_a_title(make_app) -> None:
    app = make_app(settings=title_settings())
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await settle_reply(pilot)
        assert not [w for w in app.workers if w.group == "title"]
        [conversation] = app.runtime.store.list_conversations()
        assert conversation.title == "hello"


async def test_a_reply_ending_in_the_top_conversation_leaves_the_sidebar_as_it_is(
    make_app,
) -> None:
    """The list is read again when a reply ends; when it shows the same rows, the options
    stay (rebuilt, the whole sidebar repainted in the next key press's frame)."""
    app = make_app(Script(deltas=["One."]), Script(deltas=["Two."]), Script(deltas=["Three."]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "first question")
        await settle_reply(pilot)
        options = screen.sidebar.option_list
        before = list(options.options)
        assert rows(pilot)[1:] == ["first question"]

        await send(pilot, "second question")
        await settle_reply(pilot)
        assert list(options.options) == before
        assert all(a is b for a, b in zip(options.options, before, strict=True)), "not rebuilt"
        stored = app.runtime.store.get_conversation(screen.conversation_id)
        assert screen.sidebar._conversations[stored.id] == stored, "its data is fresh"

        # A new title is a change: the row shows it.
        app.runtime.store.rename_conversation(stored.id, "renamed")
        await send(pilot, "third question")
        await settle_reply(pilot)
        await until(pilot, lambda: rows(pilot)[1:] == ["renamed"], "the new title shown")


async def test_in_the_archive_the_archive_key_reads_restore(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    kept = runtime.store.create_conversation(title="Old chat", provider="demo", model="demo")
    runtime.store.update_conversation(kept.id, archived=True)
    app = make_app(runtime=runtime)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = chat_screen(pilot)
        screen.sidebar.option_list.focus()
        await pilot.pause()
        assert "a Archive" in visible_text(pilot)
        await pilot.press("A")
        await until(pilot, lambda: "a Restore" in visible_text(pilot), "the footer to say Restore")
        assert "a Archive " not in visible_text(pilot)
        await pilot.press("A")
        await until(pilot, lambda: "a Archive" in visible_text(pilot), "Archive again")
