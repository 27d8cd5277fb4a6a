"""The footer rebuilds only when the keys it shows change, and keeps no removed keys alive."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from tests.app.support import SIZE, chat_screen, visible_text
from tests.fakes import Script
from tuichat.app.widgets.footer import KeysFooter


async def test_focus_moves_do_not_pile_up_footer_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = chat_screen(pilot).query_one(KeysFooter)
        for _ in range(40):
            await pilot.press("tab")
        await pilot.pause()
        watchers = getattr(footer, "__watchers", {}).get("compact", [])
        shown = len(footer.query(FooterKey))
        # Textual binds every key widget to the footer and forgot removed ones: 40 focus
        # moves left hundreds behind. Only the keys on show (and the last set) remain.
        assert len(watchers) <= 2 * shown + 2, (len(watchers), shown)


async def test_the_footer_is_not_rebuilt_when_its_keys_stay_the_same(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = chat_screen(pilot)
        footer = screen.query_one(KeysFooter)
        before = list(footer.query(FooterKey))
        for _ in range(5):
            screen.refresh_bindings()
            await pilot.pause()
        assert list(footer.query(FooterKey)) == before, "the same key widgets, not rebuilt"


@pytest.mark.parametrize("width", [80, 60, 120])
async def test_the_footer_keeps_the_keys_most_needed_at_every_width(make_app, width) -> None:
    app = make_app(Script(deltas=["hi"]))
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        footer = visible_text(pilot).splitlines()[-1]
        assert "⏎ Send" in footer and "^q Quit" in footer and "f1 Help" in footer, footer
        if width >= 80:
            assert "f3 Compare" in footer and "^l Model" in footer, footer
        # Nothing is cut mid-word at the edge.
        assert footer.rstrip().endswith("palette"), footer
