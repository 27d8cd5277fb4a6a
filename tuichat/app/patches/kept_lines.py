"""Lines already painted survive a widget's growth.

Textual keeps each widget's painted lines (its styles cache) until the widget is marked
dirty, and marks the whole widget dirty whenever its size changes. A streaming reply
grows by a line every few frames: each time, every line of the reply on screen and of
the reply's frame was rendered again (about 60 lines: a third of such a frame's 10 ms),
though only the last few had changed. A widget that knows which of its lines cannot
have changed says so, and those lines are kept through a change of height.

(This reaches into Textual's private ``_size_updated`` and styles cache; Textual is
pinned, and ``tests/app/test_kept_lines.py`` fails if the lines are not kept.)
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget

#: Most lines kept, counting up from the last one kept (a screen is shorter than this;
#: the rest is painted again if it is scrolled back, and memory stays bounded).
KEEP_AT_MOST = 200


class KeptLines(Widget):
    """A widget whose lines above :meth:`lines_unchanged` are kept when it grows."""

    def lines_unchanged(self) -> int:
        """How many lines, from the top, are the same as when last painted."""
        return 0

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        old = self._size
        keep = 0
        if size.width == old.width and size.height != old.height:
            keep = min(self.lines_unchanged(), old.height, size.height)
        saved = {}
        if keep > 0:
            cache = self._styles_cache
            lines, dirty = cache._cache, cache._dirty_lines
            for y in range(max(0, keep - KEEP_AT_MOST), keep):
                strip = lines.get(y)
                if strip is not None and y not in dirty:
                    saved[y] = strip
        resized = super()._size_updated(size, virtual_size, container_size, layout)
        if saved:
            cache = self._styles_cache
            cache._cache.update(saved)
            cache._dirty_lines.difference_update(saved)
        return resized
