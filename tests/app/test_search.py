"""Full-text search from the app: results with snippets, opening at the matching message."""

from __future__ import annotations

from tests.app.support import SIZE, chat_screen, until, visible_text
from tuichat.app.screens.search import SearchScreen, snippet_content
from tuichat.runtime import Runtime


def seed_long(runtime: Runtime) -> tuple[int, int]:
    """A long conversation whose 30th reply mentions a zebra; returns (conversation, message)."""
    store = runtime.store
    store.create_conversation(title="Unrelated")
    conversation = store.create_conversation(title="Animals", provider="fake", model="fake-model")
    target = 0
    for n in range(40):
        store.add_message(conversation.id, "user", f"question number {n}")
        text = "A zebra has stripes." if n == 30 else f"plain answer {n}\n\n" + "line\n" * 5
        reply = store.add_message(
            conversation.id, "assistant", text, provider="fake", model="fake-model"
        )
        if n == 30:
            target = reply.id
    return conversation.id, target


async def open_search(pilot, query: str) -> SearchScreen:
    await pilot.press("ctrl+f")
    await until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen), "the search")
    screen = pilot.app.screen
    assert isinstance(screen, SearchScreen)
    await pilot.press(*query)
    # (Results of a query half typed may show first: wait for the whole query's.)
    await until(pilot, lambda: screen.settled and bool(screen.hits), "results")
    return screen


async def test_search_shows_snippets_and_opens_at_the_message(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    conversation_id, target = seed_long(runtime)
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        chat = chat_screen(pilot)
        search = await open_search(pilot, "zebr")  # a prefix finds it while typing
        [hit] = search.hits
        assert (hit.conversation_id, hit.message_id) == (conversation_id, target)
        text = visible_text(pilot)
        assert "Animals" in text and "A zebra has stripes." in text and "1 result" in text
        await pilot.press("enter")
        await until(pilot, lambda: chat.conversation_id == conversation_id, "it to open")
        await until(pilot, lambda: chat.chat_log.selected_id == target, "the hit selected")
        log = chat.chat_log
        assert chat.focused is log
        widget = log.widget_for(target)
        assert widget is not None
        # Scrolled to the message (after the layout settles: a loaded machine takes a few
        # frames): it is on screen, although it is far from the end.
        await until(
            pilot,
            lambda: (
                log.region.overlaps(widget.region) and "A zebra has stripes." in visible_text(pilot)
            ),
            "the hit scrolled into view",
        )
        assert log.scroll_y < log.max_scroll_y


async def test_search_finds_prompts_and_replies_and_marks_the_words(
    make_app, build_runtime
) -> None:
    runtime = build_runtime(fake=True)
    store = runtime.store
    one = store.create_conversation(title="Paris")
    store.add_message(one.id, "user", "What is the capital of France?")
    store.add_message(one.id, "assistant", "The capital of France is Paris.")
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        search = await open_search(pilot, "capital france")
        assert [hit.role for hit in search.hits] == ["user", "assistant"]
        assert "2 results" in visible_text(pilot)
        content = snippet_content(search.hits[1].snippet)
        marked = [content.plain[span.start : span.end] for span in content.spans]
        assert marked == ["capital", "France"]
        assert "«" not in content.plain
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SearchScreen), "it to close")
        assert chat_screen(pilot).conversation_id is None


async def test_a_hit_in_an_older_branch_opens_that_branch(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    store = runtime.store
    conversation = store.create_conversation(title="Branches")
    question = store.add_message(conversation.id, "user", "tell me about owls")
    old = store.add_message(conversation.id, "assistant", "Owls hoot at night.")
    store.add_message(conversation.id, "user", "tell me about cats", parent_id=question.parent_id)
    store.add_message(conversation.id, "assistant", "Cats purr.")
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        chat = chat_screen(pilot)
        await open_search(pilot, "hoot")
        await pilot.press("enter")
        await until(pilot, lambda: chat.chat_log.selected_id == old.id, "the owl reply")
        assert [m.content for m in store.messages(conversation.id)] == [
            "tell me about owls",
            "Owls hoot at night.",
        ]
        assert "Cats purr." not in visible_text(pilot)


async def test_hostile_snippets_render_literally(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    store = runtime.store
    conversation = store.create_conversation(title="[bold]x[/bold] [@click=app.quit]q[/]")
    store.add_message(
        conversation.id, "assistant", "needle [link=x]y[/link] \x1b]52;c;ZXZpbA==\x07"
    )
    app = make_app(runtime=runtime)
    async with app.run_test(size=SIZE) as pilot:
        await open_search(pilot, "needle")
        text = visible_text(pilot)
        assert "[bold]x[/bold] [@click=app.quit]q[/]" in text
        assert "[link=x]y[/link]" in text
        assert "\x1b" not in text and "\x07" not in text
