"""A long conversation opens with its last messages mounted; older ones mount on scrolling up."""

from __future__ import annotations

from tests.app.support import SIZE, chat_screen, send, settle_reply, until, visible_text
from tests.fakes import Script
from tuichat.app.widgets.history import FIRST_PAGE, MAX_MOUNTED, PAGE, HistoryPager
from tuichat.app.widgets.message import ReplyView, UserMessage
from tuichat.runtime import Runtime

TURNS = 200


def seed(runtime: Runtime) -> int:
    store = runtime.store
    conversation = store.create_conversation(title="Long", provider="fake", model="fake-model")
    for n in range(TURNS):
        store.add_message(conversation.id, "user", f"question {n}")
        store.add_message(
            conversation.id,
            "assistant",
            f"## Answer {n}\n\nSome *text* for answer {n}.\n\n- one\n- two\n",
            provider="fake",
            model="fake-model",
        )
    return conversation.id


def mounted(log) -> list[str]:  # type: ignore[no-untyped-def]
    texts = []
    for child in log.children:
        if isinstance(child, UserMessage):
            texts.append(child.text)
        elif isinstance(child, ReplyView):
            texts.append(child.text.split("\n")[0])
    return texts


async def test_a_long_conversation_mounts_lazily_and_loads_older_messages(
    make_app, build_runtime
) -> None:
    runtime = build_runtime(fake=True)
    conversation_id = seed(runtime)
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await screen.open_conversation(conversation_id)
        await pilot.pause()
        log = screen.chat_log
        shown = mounted(log)
        assert len(shown) == FIRST_PAGE
        assert shown[-1] == f"## Answer {TURNS - 1}"
        assert f"Some text for answer {TURNS - 1}." in visible_text(pilot)
        assert log.scroll_y == log.max_scroll_y
        pager = log._tuichat_history
        assert isinstance(pager, HistoryPager)
        assert (pager.older, pager.newer) == (2 * TURNS - FIRST_PAGE, 0)

        # At the top, older messages mount above and the view stays put.
        pager._busy = True  # (hold the automatic loading while getting there)
        log.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        # (The scrollbar's columns are left out: its thumb moves, rightly.)
        top_before = [line[:-3] for line in visible_text(pilot).splitlines()[:8]]
        pager._busy = False
        assert await pager.load_more() == PAGE
        await pilot.pause()
        assert len(mounted(log)) == FIRST_PAGE + PAGE
        assert log.scroll_y > 0
        top_after = [line[:-3] for line in visible_text(pilot).splitlines()[:8]]
        assert top_after == top_before, "the view must not jump"

        # Home again and again reaches the very first message; the window stays bounded
        # (messages far below are unmounted).
        for _ in range(200):
            log.scroll_home(animate=False, immediate=True)
            await pilot.pause()
            assert len(mounted(log)) <= MAX_MOUNTED + PAGE  # (one page over, until trimmed)
            if mounted(log)[0] == "question 0":
                break
        assert mounted(log)[0] == "question 0"
        assert pager.older == 0 and pager.newer > 0
        log.scroll_home(animate=False, immediate=True)
        await until(pilot, lambda: "question 0" in visible_text(pilot), "the first message")

        # End again and again comes back to the last message.
        for _ in range(200):
            log.scroll_end(animate=False, immediate=True)
            await pilot.pause()
            assert len(mounted(log)) <= MAX_MOUNTED + PAGE  # (one page over, until trimmed)
            if pager.newer == 0 and not pager._busy:
                break
        log.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert mounted(log)[-1] == f"## Answer {TURNS - 1}"
        assert f"Some text for answer {TURNS - 1}." in visible_text(pilot)


async def test_home_and_end_jump_to_the_ends_of_a_long_conversation(
    make_app, build_runtime
) -> None:
    """Home in the log shows the first message at once, not page by page through 400."""
    runtime = build_runtime(fake=True)
    conversation_id = seed(runtime)
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await screen.open_conversation(conversation_id)
        await pilot.pause()
        log = screen.chat_log
        log.focus()
        await pilot.pause()
        first = runtime.store.messages(conversation_id)[0]
        last = runtime.store.messages(conversation_id)[-1]

        await pilot.press("home")
        await until(pilot, lambda: log.selected_id == first.id, "the first message selected")
        shown = mounted(log)
        assert shown[0] == "question 0"
        assert len(shown) <= FIRST_PAGE + 2 * PAGE, "a window at the top, not everything"
        pager = log._tuichat_history
        assert pager.older == 0 and pager.newer > 0
        await until(pilot, lambda: "question 0" in visible_text(pilot), "it in view")

        await pilot.press("end")
        await until(pilot, lambda: log.selected_id == last.id, "the last message selected")
        assert mounted(log)[-1] == f"## Answer {TURNS - 1}"
        assert log._tuichat_history.newer == 0
        await until(pilot, lambda: f"Some text for answer {TURNS - 1}." in visible_text(pilot))


async def test_opening_at_an_early_message_mounts_a_page_from_it(make_app, build_runtime) -> None:
    """A search hit near the start of a long conversation mounts a page, not the 390
    messages after it; scrolling down mounts the newer ones."""
    runtime = build_runtime(fake=True)
    conversation_id = seed(runtime)
    target = runtime.store.messages(conversation_id)[10]
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await screen.open_conversation(conversation_id, select=target.id)
        await pilot.pause()
        log = screen.chat_log
        pager = log._tuichat_history
        assert len(mounted(log)) <= FIRST_PAGE + 2 * PAGE
        assert pager.newer > 0
        await until(pilot, lambda: log.selected_id == target.id, "the hit selected")
        await until(pilot, lambda: target.content in visible_text(pilot), "the hit in view")
        for _ in range(100):
            log.scroll_end(animate=False, immediate=True)
            await pilot.pause()
            if pager.newer == 0 and not pager._busy:
                break
        assert pager.newer == 0


async def test_home_and_end_keep_what_was_sent_since_the_conversation_opened(
    make_app, build_runtime
) -> None:
    """The log is drawn again from the store: a prompt and reply sent after opening
    survive Home and End (they are not in the window the conversation opened with)."""
    runtime = build_runtime(fake=True)
    conversation_id = seed(runtime)
    app = make_app(Script(deltas=["NEW REPLY TEXT"]), runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await screen.open_conversation(conversation_id)
        await pilot.pause()
        await send(pilot, "NEW PROMPT")
        await settle_reply(pilot)
        log = screen.chat_log
        log.focus()
        await pilot.pause()
        await pilot.press("home")
        await until(pilot, lambda: mounted(log)[:1] == ["question 0"], "the first message")
        await pilot.press("end")
        await until(pilot, lambda: mounted(log)[-2:] == ["NEW PROMPT", "NEW REPLY TEXT"], "end")
        await until(pilot, lambda: "NEW REPLY TEXT" in visible_text(pilot), "the reply in view")


async def test_the_page_above_is_rendered_ahead_so_mounting_it_renders_nothing(
    make_app, build_runtime
) -> None:
    runtime = build_runtime(fake=True)
    conversation_id = seed(runtime)
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await screen.open_conversation(conversation_id)
        log = screen.chat_log
        pager = log._tuichat_history
        assert isinstance(pager, HistoryPager)
        await until(pilot, lambda: pager._prepared_above is not None, "the page above ready")
        ready = [w for group in pager._ready.values() for w in group]
        replies = [w for w in ready if isinstance(w, ReplyView)]
        assert len(ready) == PAGE and len(replies) == PAGE // 2
        renders = {id(r): r.body.document.block_renders for r in replies if r.body}
        assert all(renders.values()), "rendered before being mounted"

        assert await pager.load_more() == PAGE
        await pilot.pause()
        assert all(r.is_mounted for r in replies), "the prepared widgets themselves mounted"
        after = {id(r): r.body.document.block_renders for r in replies if r.body}
        assert after == renders, "their layout found every block rendered at its width"
        # And the next page up is prepared in turn.
        await until(
            pilot, lambda: pager._prepared_above == (pager.lo, log.size.width), "the next page"
        )
