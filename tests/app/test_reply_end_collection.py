"""A full collection due as a reply ends waits until the reply's last lines are on screen.

With a long history open, the full collection that runs when the last reply stops
streaming (so that a sitting that never pauses still frees what its log let go) takes a
second. It ran inside the reply's end, before the last blocks were drawn: streaming 2,000
tokens at the end of 2,000 messages showed its end 0.7 s later than before (issue 20).
"""

from __future__ import annotations

from tests.app.support import SIZE, fake, send, settle_reply, until, visible_text
from tests.fakes import Script
from tuichat.app import heap


async def test_the_collection_due_at_a_reply_end_runs_once_its_last_line_is_shown(
    make_app,
) -> None:
    app = make_app(provider="fake")
    async with app.run_test(size=SIZE) as pilot:
        shown_at_collection: list[bool] = []
        now = [0.0]
        app.collector.uninstall()
        # Due as soon as the reply ends (never earlier: the person is never idle here).
        app.collector = heap.IdleCollector(
            lambda: 0.0,
            pending=lambda: heap.DUE,
            collect=lambda: shown_at_collection.append("THE-END" in visible_text(pilot)),
            clock=lambda: now[0],
        )
        app.collector.install()
        now[0] = heap.AFTER_REPLY
        # A burst: the whole reply arrives within one frame, its end not drawn yet.
        paragraphs = [f"Paragraph {n} of a long reply.\n\n" for n in range(60)]
        fake(app.runtime).queue(Script(deltas=[*paragraphs, "THE-END"]))
        await send(pilot, "a long answer, please")
        await settle_reply(pilot)
        await until(pilot, lambda: bool(shown_at_collection), "the collection")
        assert shown_at_collection == [True]
        assert heap.streaming_replies() == 0
