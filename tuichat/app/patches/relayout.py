"""Ask Textual to measure a widget again, even when a layout is already pending for it.

``Widget.refresh(layout=True)`` bumps the widget's ``_layout_updates`` (part of its box
model's cache key) only when no layout is pending yet. A layout the screen runs for
another reason before the pending one is handled caches the widget's box model under
that bumped key; the pending layout then finds it in the cache and keeps the stale
height. A streaming reply whose first line arrived in that window stayed zero lines
tall until more text came (tests/app/test_hostile_text.py, a reply frozen after one
line).

Textual 8.2.8 (``textual/widget.py``: ``refresh``, ``_get_box_model``, both hashed in
:data:`tuichat.app.patches.RELIES_ON`). Upstream: to be reported with the reproduction
above (docs/upstream.md). ``tests/app/test_relayout.py`` fails if Textual drops the
attributes this relies on.
"""

from __future__ import annotations

from textual.geometry import Region
from textual.widget import Widget


def relayout(widget: Widget, *regions: Region) -> None:
    """``widget.refresh(*regions, layout=True)``, measured again even if a layout was
    pending (only ``regions`` are repainted, as with ``refresh``)."""
    if widget._layout_required:
        # A layout may have run since the flag was set: its cached box model must not
        # answer for the new height.
        widget._box_model_cache.clear()
    widget.refresh(*regions, layout=True)
