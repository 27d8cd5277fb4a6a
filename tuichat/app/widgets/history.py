"""Show a long conversation through a window of mounted messages.

Every mounted widget costs layout and memory (2,000 messages mounted at once took 16 s
and 350 MB, and every later mount re-lays them all out), so the log holds a window of
at most :data:`MAX_MOUNTED` messages. A conversation opens with its last
:data:`FIRST_PAGE` messages; when the view nears the top of the window, the
:data:`PAGE` messages before it are mounted above, and when it nears the bottom, the
ones after it below; messages far on the other side are unmounted again. Messages wait
as factories (cheap), and the view never jumps: the first message in view keeps its
distance from the top of the log. A conversation opened at a message far from its end
(a search hit, Home) mounts a page from that message, not everything after it.

Mounting a page of Markdown replies costs their rendering (a reply with a table and
highlighted code takes tens of milliseconds), and it used to come all at once, in the
layout that made room for them: the scrolling froze for a third of a second. So while
older messages remain, the page above the window is built and rendered ahead, a few
milliseconds at a time (:data:`PREFETCH_BUDGET` every :data:`PREFETCH_EVERY`); when the
view reaches it, mounting it only lays it out.

A conversation that grows while it is shown (a long sitting) goes through the same
window: each turn's messages are appended to it (:meth:`HistoryPager.extend`) and the
oldest ones, far above the view, are unmounted again, so a turn costs the same at the
300th as at the 10th. A live reply stays pinned until it has ended; then the screen
swaps its item for a factory that re-creates it from the store (:meth:`HistoryPager.settle`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from textual.containers import ScrollableContainer
from textual.widget import Widget

from .. import heap
from .markdown_text import MarkdownText
from .message import ReplyView

if TYPE_CHECKING:
    from ..render import RenderContext

#: Messages mounted when a conversation opens.
FIRST_PAGE = 30

#: Messages mounted at once when the view nears an edge of the window (small: each page
#: is laid out and drawn while the person scrolls).
PAGE = 16

#: Most messages mounted at once; beyond, the far side of the window is unmounted.
MAX_MOUNTED = 96

#: Messages kept mounted at the end of a conversation that grows in the sitting (more
#: come back as the log is scrolled up): every mounted message is laid out again at each
#: line of a streaming reply, and its rendered lines (some 12,000 objects for a 400-token
#: reply) are walked by each full garbage collection.
LIVE_MOUNTED = 12

#: How often the page above the window is prepared a little further (seconds).
PREFETCH_EVERY = 0.05

#: Most seconds of preparing per step (a key press waits at most about this long).
PREFETCH_BUDGET = 0.006

_T = TypeVar("_T")

WidgetFactory = Callable[[], Sequence[Widget]]


def first_mounted(items: Sequence[_T], keep: _T | None = None, page: int = FIRST_PAGE) -> int:
    """Index of the first item to mount now: the last ``page`` ones, and ``keep`` too."""
    start = max(0, len(items) - page)
    if keep is not None and keep in items:
        start = min(start, items.index(keep))
    return start


def fixed(*widgets: Widget) -> WidgetFactory:
    """A factory for widgets that exist already (a live reply): mounted once, never again."""
    return lambda: list(widgets)


class HistoryPager:
    """The messages of the log, mounted through a window that follows the view."""

    def __init__(
        self,
        log: ScrollableContainer,
        items: list[WidgetFactory],
        *,
        pinned: int | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> None:
        """Create it.

        Args:
            log: The scrolling log.
            items: One factory per message, in order.
            pinned: A message that is never unmounted (the reply streaming now).
            page: Messages mounted per step (default :data:`PAGE`).
            limit: Most messages mounted at once (default :data:`MAX_MOUNTED`).
        """
        self.log = log
        self.items = items
        self.pinned = pinned
        self.page = page = PAGE if page is None else page
        limit = MAX_MOUNTED if limit is None else limit
        self.limit = max(limit, FIRST_PAGE + 2 * page)
        self.lo = self.hi = len(items)
        self.groups: dict[int, list[Widget]] = {}
        self._ready: dict[int, list[Widget]] = {}
        """Messages above the window built (and rendered) ahead, not mounted yet."""
        self._prepared_above: tuple[int, int] | None = None
        """The window's first message and the log's width when the page above it was
        last found ready."""
        self._busy = False
        self._filling = False

    @property
    def older(self) -> int:
        """Messages before the window."""
        return self.lo

    @property
    def newer(self) -> int:
        """Messages after the window."""
        return len(self.items) - self.hi

    @property
    def remaining(self) -> int:
        """Messages not mounted."""
        return self.older + self.newer

    def _build(self, start: int, end: int) -> list[Widget]:
        widgets: list[Widget] = []
        for index in range(start, end):
            group = self._ready.pop(index, None) or list(self.items[index]())
            self.groups[index] = group
            widgets.extend(group)
        return widgets

    def prefetch(self, measure: tuple[int, RenderContext] | None, budget: float) -> bool:
        """Build and render the page above the window, for about ``budget`` seconds.

        Args:
            measure: The width and context a reply's body is drawn at (from a mounted
                one); None to only build the widgets.
            budget: Most seconds to spend now.

        Returns:
            Whether more remains to prepare.
        """
        if self._busy:
            return True
        above = range(max(0, self.lo - self.page), self.lo)
        for index in [index for index in self._ready if index not in above]:
            del self._ready[index]  # the window moved on: built for nothing, let go
        deadline = time.perf_counter() + budget
        for index in range(self.lo - 1, max(0, self.lo - self.page) - 1, -1):
            group = self._ready.get(index)
            if group is None:
                group = self._ready[index] = list(self.items[index]())
            for widget in group:
                if measure is None or not isinstance(widget, ReplyView):
                    continue
                left = deadline - time.perf_counter()
                if left <= 0 or not widget.prepare(*measure, left):
                    return True
            if time.perf_counter() >= deadline:
                return index > max(0, self.lo - self.page)
        return False

    def window(self, start: int) -> list[Widget]:
        """The widgets of the first window, to mount: messages ``start`` to the end, or
        a first page from ``start`` when the end is far (the rest loads as it scrolls)."""
        total = len(self.items)
        end = total if total - start <= self.limit else start + FIRST_PAGE
        self.lo, self.hi = start, end
        return self._build(start, end)

    def install(self) -> HistoryPager:
        """Watch the log's scrolling (replacing any previous pager of this log)."""
        log = self.log
        log._tuichat_history = self  # type: ignore[attr-defined]
        if not getattr(log, "_tuichat_history_watched", False):
            log._tuichat_history_watched = True  # type: ignore[attr-defined]
            log.watch(log, "scroll_y", lambda: _scrolled(log), init=False)
            log.set_interval(PREFETCH_EVERY, lambda: _prefetch(log), name="history-prefetch")
        if self.remaining:
            # A log shorter than the screen never scrolls: fill it up now.
            log.call_after_refresh(_scrolled, log)
        return self

    # -- a growing conversation ------------------------------------------------------------

    @property
    def at_end(self) -> bool:
        """Whether the window reaches the last message (new ones can be appended)."""
        return self.hi == len(self.items)

    async def extend(self, items: Sequence[tuple[WidgetFactory, list[Widget]]]) -> None:
        """Append messages after the last one and mount them (the window must be at the
        end): each is its factory and the widgets it shows now; the last one is pinned
        (the reply streaming). Older messages far above the view are unmounted next."""
        if not items:
            return
        start = len(self.items)
        widgets: list[Widget] = []
        for offset, (factory, group) in enumerate(items):
            self.items.append(factory)
            self.groups[start + offset] = list(group)
            widgets.extend(group)
        self.hi = len(self.items)
        self.pinned = self.hi - 1
        await self.log.mount_all(widgets)
        if self.hi - self.lo > LIVE_MOUNTED:
            self.log.run_worker(self._trim_older(), group="history", exit_on_error=False)

    async def _trim_older(self) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            async with _KeepView(self.log):
                await self._trim(from_bottom=False, limit=LIVE_MOUNTED)
        finally:
            self._busy = False

    def index_of(self, widget: Widget) -> int | None:
        """The message whose mounted widgets include ``widget`` (the newest first)."""
        for index in range(self.hi - 1, self.lo - 1, -1):
            if any(member is widget for member in self.groups.get(index, ())):
                return index
        return None

    def join(self, widget: Widget, to: Widget) -> None:
        """``widget`` was mounted beside ``to`` (a reply's reasoning): it belongs to the
        same message, and is unmounted with it."""
        index = self.index_of(to)
        if index is not None:
            group = self.groups[index]
            group.insert(group.index(to), widget)

    def replace(self, old: Widget, new: Widget) -> None:
        """``new`` took ``old``'s place in the log (a reply continued live): pinned until
        it is settled."""
        index = self.index_of(old)
        if index is not None:
            group = self.groups[index]
            group[group.index(old)] = new
            self.items[index] = fixed(*group)
            self.pinned = index

    def settle(self, widget: Widget, factory: WidgetFactory) -> None:
        """The message showing ``widget`` has ended: from now on it is re-created by
        ``factory`` (its widgets are let go once unmounted), and may be unmounted."""
        index = self.index_of(widget)
        if index is None:
            return
        self.items[index] = factory
        if self.pinned == index:
            self.pinned = None

    # -- where the view is -------------------------------------------------------------------

    def _top(self) -> int:
        group = self.groups.get(self.lo)
        return group[0].virtual_region.y if group else 0

    def _bottom(self) -> int:
        group = self.groups.get(self.hi - 1)
        return group[-1].virtual_region.bottom if group else 0

    def near_top(self) -> bool:
        """Whether the view is within two screens of the first mounted message."""
        log = self.log
        return self.lo > 0 and log.scroll_y - self._top() <= max(1, 2 * log.size.height)

    def near_bottom(self) -> bool:
        """Whether the view is within two screens of the last mounted message."""
        log = self.log
        view_bottom = log.scroll_y + log.size.height
        return self.newer > 0 and self._bottom() - view_bottom <= max(1, 2 * log.size.height)

    # -- moving the window ---------------------------------------------------------------------

    async def load_more(self) -> int:
        """Mount the page of messages before the window; returns how many."""
        if self._busy or not self.lo:
            return 0
        self._busy = True
        try:
            start = max(0, self.lo - self.page)
            widgets = self._build(start, self.lo)
            first = self.groups[self.lo][0] if self.lo in self.groups else None
            async with _KeepView(self.log):
                if first is not None and first.parent is self.log:
                    await self.log.mount_all(widgets, before=first)
                else:
                    await self.log.mount_all(widgets, before=0)
                count, self.lo = self.lo - start, start
                await self._trim(from_bottom=True)
            return count
        finally:
            self._busy = False

    async def load_newer(self) -> int:
        """Mount the page of messages after the window; returns how many."""
        if self._busy or not self.newer:
            return 0
        self._busy = True
        try:
            end = min(len(self.items), self.hi + self.page)
            widgets = self._build(self.hi, end)
            last = self.groups[self.hi - 1][-1] if self.hi - 1 in self.groups else None
            async with _KeepView(self.log):
                if last is not None and last.parent is self.log:
                    await self.log.mount_all(widgets, after=last)
                else:
                    await self.log.mount_all(widgets)
                count, self.hi = end - self.hi, end
                await self._trim(from_bottom=False)
            return count
        finally:
            self._busy = False

    async def _trim(self, *, from_bottom: bool, limit: int | None = None) -> None:
        """Unmount messages on the far side of the window, out of sight, over the limit
        (default: :attr:`limit`)."""
        log = self.log
        await _next_refresh(log)
        doomed: list[Widget] = []
        view_top, view_bottom = log.scroll_y, log.scroll_y + log.size.height
        margin = 2 * log.size.height
        most = self.limit if limit is None else limit
        while self.hi - self.lo > most:
            index = self.hi - 1 if from_bottom else self.lo
            if index == self.pinned:
                break
            group = [widget for widget in self.groups.get(index, []) if widget.parent is log]
            if group:
                region_top = group[0].virtual_region.y
                region_bottom = group[-1].virtual_region.bottom
                if from_bottom and region_top < view_bottom + margin:
                    break
                if not from_bottom and region_bottom > view_top - margin:
                    break
            doomed += group
            del self.groups[index]
            if from_bottom:
                self.hi -= 1
            else:
                self.lo += 1
        if doomed:
            await log.remove_children(doomed)


class _KeepView:
    """Keep the first message in view at the same place while the log changes around it."""

    def __init__(self, log: ScrollableContainer) -> None:
        self.log = log
        self.anchor: Widget | None = None
        self.offset: float = 0.0

    async def __aenter__(self) -> _KeepView:
        y = self.log.scroll_y
        self.anchor = next(
            (child for child in self.log.children if child.virtual_region.bottom > y), None
        )
        if self.anchor is not None:
            self.offset = self.anchor.virtual_region.y - y
        return self

    async def __aexit__(self, *exc: object) -> None:
        log, anchor = self.log, self.anchor
        # (No batch_update: it would hold back the layout waited for here; new messages
        # may show for one frame before the offset is restored.)
        await _next_refresh(log)
        following = log.is_anchored and not getattr(log, "_anchor_released", True)
        if anchor is not None and anchor.parent is log and not following:
            log.scroll_to(
                y=anchor.virtual_region.y - self.offset,
                animate=False,
                immediate=True,
                release_anchor=False,
            )


async def _next_refresh(widget: Widget, timeout: float = 1.0) -> None:
    """Wait until the screen has laid out (and would have painted) once more."""
    done = asyncio.Event()
    widget.call_after_refresh(done.set)
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except TimeoutError:
        pass


def pager_of(log: ScrollableContainer) -> HistoryPager | None:
    """The pager showing ``log``'s messages, if one is installed."""
    return getattr(log, "_tuichat_history", None)


def _prefetch(log: ScrollableContainer) -> None:
    pager = pager_of(log)
    if pager is None or not pager.lo or pager._filling or not log.is_attached:
        return
    if heap.streaming_replies():
        return  # the reply comes first; the page above can wait
    if pager._prepared_above == (pager.lo, log.size.width):
        return
    measure = None
    for body in log.query(MarkdownText):
        measure = body.measure()
        if measure is not None:
            break
    if not pager.prefetch(measure, PREFETCH_BUDGET) and measure is not None:
        pager._prepared_above = (pager.lo, log.size.width)


def _scrolled(log: ScrollableContainer) -> None:
    pager = pager_of(log)
    if pager is None or pager._busy or pager._filling or not pager.remaining:
        return
    if log.is_attached and (pager.near_top() or pager.near_bottom()):
        pager._filling = True
        log.run_worker(_fill(pager), group="history", exit_on_error=False)


async def _fill(pager: HistoryPager) -> None:
    # Keep going while the view is still near an edge (Home, End, or a short log).
    try:
        while pager.log.is_attached and pager_of(pager.log) is pager:
            if pager.near_top():
                if not await pager.load_more():
                    break
            elif pager.near_bottom():
                if not await pager.load_newer():
                    break
            else:
                break
    finally:
        pager._filling = False
