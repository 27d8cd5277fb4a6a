"""The page above a long conversation's window is built ahead, and only that page."""

from __future__ import annotations

from typing import Any, cast

from textual.widgets import Static

from tuichat.app.widgets.history import HistoryPager


def test_only_the_page_above_the_window_is_kept_ready() -> None:
    items = [lambda: [Static()] for _ in range(100)]
    pager = HistoryPager(cast(Any, None), items, page=16)
    pager.lo = 50
    assert not pager.prefetch(None, 1.0)
    assert set(pager._ready) == set(range(34, 50))
    pager.lo = 80  # the window moved down (its top was unmounted)
    assert not pager.prefetch(None, 1.0)
    assert set(pager._ready) == set(range(64, 80))
