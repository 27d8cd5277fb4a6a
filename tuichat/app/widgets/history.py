"""Mount a long conversation lazily: the last messages at once, older ones on scrolling up.

Every mounted widget costs layout and memory (2,000 messages mounted at once took 16 s
and 350 MB), so a conversation opens with its last :data:`FIRST_PAGE` messages; the
older ones wait as factories and are mounted :data:`PAGE` at a time, above the others,
whenever the log is scrolled near its top. The view does not jump: the scroll offset
grows by the height that was added above.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TypeVar

from textual.containers import ScrollableContainer
from textual.widget import Widget

#: Messages mounted when a conversation opens.
FIRST_PAGE = 30

#: Older messages mounted each time the log nears its top (small: each page is drawn
#: while the person scrolls, so it must not stall a frame for long).
PAGE = 16

_T = TypeVar("_T")

WidgetFactory = Callable[[], Sequence[Widget]]


def first_mounted(items: Sequence[_T], keep: _T | None = None, page: int = FIRST_PAGE) -> int:
    """Index of the first item to mount now: the last ``page`` ones, and ``keep`` too."""
    start = max(0, len(items) - page)
    if keep is not None and keep in items:
        start = min(start, items.index(keep))
    return start


class HistoryPager:
    """Older messages of the log, mounted a page at a time as the log nears its top."""

    def __init__(self, log: ScrollableContainer, older: list[WidgetFactory], page: int = PAGE):
        """Create it.

        Args:
            log: The scrolling log.
            older: One factory per message not mounted yet, oldest first.
            page: Messages mounted per step.
        """
        self.log = log
        self.older = older
        self.page = page
        self._loading = False

    @property
    def remaining(self) -> int:
        """Messages not mounted yet."""
        return len(self.older)

    @classmethod
    def install(cls, log: ScrollableContainer, older: list[WidgetFactory]) -> HistoryPager:
        """Give ``log`` its older messages (replacing any previous ones)."""
        pager = cls(log, older)
        log._tuichat_history = pager  # type: ignore[attr-defined]
        if not getattr(log, "_tuichat_history_watched", False):
            log._tuichat_history_watched = True  # type: ignore[attr-defined]
            log.watch(log, "scroll_y", lambda: _scrolled(log), init=False)
        if older:
            # A log shorter than the screen never scrolls: fill it up now.
            log.call_after_refresh(_scrolled, log)
        return pager

    def near_top(self) -> bool:
        """Whether the view is within two screens of the top of what is mounted."""
        log = self.log
        return log.scroll_y <= max(1, 2 * log.size.height)

    async def load_more(self) -> int:
        """Mount the next page of older messages above the others; returns how many."""
        if self._loading or not self.older:
            return 0
        self._loading = True
        try:
            log = self.log
            factories = self.older[-self.page :]
            del self.older[-self.page :]
            widgets = [widget for factory in factories for widget in factory()]
            # Keep the first message in view where it is: find it, mount above, put it
            # back at the same distance from the top (whoever scrolled meanwhile).
            y = log.scroll_y
            anchor = next(
                (child for child in log.children if child.virtual_region.bottom > y), None
            )
            offset = anchor.virtual_region.y - y if anchor is not None else 0
            # (No batch_update here: it would hold back the layout this waits for; the
            # new messages may show for one frame before the offset is restored.)
            if log.children:
                await log.mount_all(widgets, before=0)
            else:
                await log.mount_all(widgets)
            await _next_refresh(log)
            following = log.is_anchored and not getattr(log, "_anchor_released", True)
            if anchor is not None and anchor.is_attached and not following:
                log.scroll_to(
                    y=anchor.virtual_region.y - offset,
                    animate=False,
                    immediate=True,
                    release_anchor=False,
                )
            return len(factories)
        finally:
            self._loading = False


async def _next_refresh(widget: Widget, timeout: float = 1.0) -> None:
    """Wait until the screen has laid out (and would have painted) once more."""
    done = asyncio.Event()
    widget.call_after_refresh(done.set)
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except TimeoutError:
        pass


def _scrolled(log: ScrollableContainer) -> None:
    pager: HistoryPager | None = getattr(log, "_tuichat_history", None)
    if pager is None or not pager.older or pager._loading or not log.is_attached:
        return
    if pager.near_top():
        log.run_worker(_fill(pager), group="history", exclusive=True, exit_on_error=False)


async def _fill(pager: HistoryPager) -> None:
    # Keep going while the view is still near the top (Home, or a short log).
    while pager.older and pager.near_top() and pager.log.is_attached:
        if not await pager.load_more():
            break
