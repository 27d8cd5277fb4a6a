"""A conversation that grows in one sitting keeps a bounded log (issue 20).

Every turn used to mount its prompt and reply for good: after 300 turns the log held 600
message widgets with their rendered lines, each later turn laid them all out again, and
a turn cost seven times the tenth. The live log now goes through the same window as an
opened history: the oldest messages, far above the view, are unmounted, and come back
when the log is scrolled up to them.
"""

from __future__ import annotations

import gc
import weakref

import pytest

from tests.app.support import SIZE, chat_screen, replies, send, settle_reply, until, visible_text
from tests.fakes import FakeProvider
from tuichat.app import heap
from tuichat.app.widgets import history
from tuichat.app.widgets.chat_log import message_id_of
from tuichat.app.widgets.history import HistoryPager
from tuichat.app.widgets.message import ReplyView, UserMessage

#: A smaller window than the app's (96 messages), so a few dozen turns prove the bound.
MAX_MOUNTED, FIRST_PAGE, PAGE, LIVE_MOUNTED = 24, 8, 8, 6

#: Three windows' worth of messages.
TURNS = 3 * MAX_MOUNTED // 2


@pytest.fixture(autouse=True)
def small_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "MAX_MOUNTED", MAX_MOUNTED)
    monkeypatch.setattr(history, "FIRST_PAGE", FIRST_PAGE)
    monkeypatch.setattr(history, "PAGE", PAGE)
    monkeypatch.setattr(history, "LIVE_MOUNTED", LIVE_MOUNTED)
    # Replies taller than a screen: what is out of sight by two screens may go.
    paragraphs = "\n\n".join(f"Paragraph {n} of the reply." for n in range(20))
    monkeypatch.setattr(FakeProvider, "default_reply", paragraphs)


def prompts(log) -> list[str]:  # type: ignore[no-untyped-def]
    return [child.text for child in log.children if isinstance(child, UserMessage)]


async def test_a_long_sitting_keeps_a_bounded_log_and_scrolls_back_to_its_start(
    make_app,
) -> None:
    app = make_app(provider="fake")
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        log = screen.chat_log
        most = 0
        for n in range(TURNS):
            await send(pilot, f"prompt number {n}")
            await settle_reply(pilot)
            mounted = [child for child in log.children if message_id_of(child) is not None]
            most = max(most, len(mounted))
        # Nothing per turn stays: the log holds the last few messages, not 2 per turn.
        assert most <= LIVE_MOUNTED + 2
        pager = log._tuichat_history
        assert isinstance(pager, HistoryPager)
        assert len(pager.items) == 2 * TURNS
        assert pager.older >= 2 * TURNS - LIVE_MOUNTED - 2 and pager.newer == 0
        assert pager.pinned is None, "every reply has ended: none is held"
        assert prompts(log)[-1] == f"prompt number {TURNS - 1}"
        assert "prompt number 0" not in prompts(log)
        assert isinstance(log.children[-1], ReplyView)
        assert log.children[-1].status == "complete"

        # Scrolling up brings the first turns back, re-created from the store.
        for _ in range(200):
            log.scroll_home(animate=False, immediate=True)
            await pilot.pause()
            assert len(log.children) <= MAX_MOUNTED + PAGE + 2
            if pager.older == 0:
                break
        assert prompts(log)[0] == "prompt number 0"
        log.scroll_home(animate=False, immediate=True)
        await until(pilot, lambda: "prompt number 0" in visible_text(pilot), "the first prompt")

        # And the next turn still lands at the end, in view.
        await send(pilot, "one more")
        await settle_reply(pilot)
        assert prompts(log)[-1] == "one more"
        assert pager_of_log(log).newer == 0
        await until(pilot, lambda: "one more" in visible_text(pilot), "the new prompt in view")


def pager_of_log(log) -> HistoryPager:  # type: ignore[no-untyped-def]
    pager = log._tuichat_history
    assert isinstance(pager, HistoryPager)
    return pager


async def test_the_replies_a_long_sitting_let_go_are_freed(make_app) -> None:
    """Unmounted replies leave nothing holding them (the window's groups, the screen's
    records, the heap frozen while a reply streamed): after a full collection, none of
    the first half of the sitting lives. (The last few let go may: Textual keeps the
    log's last arrangements, a bounded cache.)"""
    app = make_app(provider="fake")
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        seen: list[weakref.ref[ReplyView]] = []
        for n in range(TURNS):
            await send(pilot, f"prompt number {n}")
            seen.append(weakref.ref(replies(pilot)[-1]))
            await settle_reply(pilot)
        await until(pilot, lambda: heap.streaming_replies() == 0, "the heap to thaw")
        gc.collect()
        assert len(screen.chat_log.query(ReplyView)) <= LIVE_MOUNTED
        assert [ref for ref in seen[: TURNS // 2] if ref() is not None] == []
        assert len([ref for ref in seen if ref() is not None]) <= LIVE_MOUNTED
