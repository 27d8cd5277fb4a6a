"""A frame of a streaming reply renders the widgets it touches, not every widget.

(That what is shown stays right is the far-end test's job: ``test_screen_diff.py``
compares the terminal fed these partial updates with a full repaint.)
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from textual.widget import Widget

from tests.app.support import send, settle_reply
from tests.fakes import FakeProvider, Script
from tuichat.protocol import ChatEvent, ChatRequest, TextDelta


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """How many times each kind of widget was asked for its lines."""
    counts: collections.Counter[str] = collections.Counter()
    stock = Widget.render_lines

    def render_lines(self: Widget, crop: Any) -> Any:
        counts[type(self).__name__] += 1
        return stock(self, crop)

    monkeypatch.setattr(Widget, "render_lines", render_lines)
    return counts


async def test_the_footer_prompt_and_sidebar_are_not_rendered_for_the_replys_frames(
    make_app: Any, monkeypatch: pytest.MonkeyPatch, renders: collections.Counter[str]
) -> None:
    words = [f"word{n} " + ("\n\n" if n % 12 == 0 else "") for n in range(240)]

    async def paced(self: FakeProvider, request: ChatRequest) -> AsyncGenerator[ChatEvent]:
        for word in words:
            await asyncio.sleep(0.01)
            yield TextDelta(word)

    monkeypatch.setattr(FakeProvider, "stream_chat", paced)
    app = make_app(Script(["unused"]))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        renders.clear()
        await send(pilot, "Go")
        await settle_reply(pilot)
    frames = renders["MarkdownText"]
    assert frames >= 40, renders
    # (Before, each was rendered for every frame: as often as the reply's body.)
    for untouched in ("KeysFooter", "ConversationList", "PromptInput"):
        assert renders[untouched] < frames / 3, (untouched, renders)
