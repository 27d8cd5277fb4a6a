"""A partial update renders only the widgets it touches.

Textual's ``Compositor._get_renders`` picks the widgets to render for a partial update by
whether their *clip* (the region of the container they sit in) overlaps the update,
not their own region. A widget laid out directly in a full-width container has that
container as its clip, so every frame of a streaming reply (a few lines of the log)
asked the footer, the prompt, the status bar and the sidebar for all their lines too:
~12 widgets a frame instead of ~4, a third of the frame's time in the profile of a
2,000-token reply at 100 tokens/s. Their lines come from the styles cache, and
``_render_chops`` throws them away (they are outside every span), so skipping them
changes nothing on screen.

This module's :func:`install` replaces the method with a copy that also requires the
widget's visible part (its region within its clip) to overlap the update. Textual 8.2.8
(``textual/_compositor.py``: ``Compositor._get_renders``, hashed in
:data:`tuichat.app.patches.RELIES_ON`); the report for upstream is in
``docs/upstream.md``. ``tests/app/test_render_crop.py`` checks that a frame renders
only the widgets it touches and that what is shown equals a paint from scratch.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip

_STOCK = Compositor._get_renders


def _get_renders(
    self: Compositor, crop: Region | None = None
) -> Iterable[tuple[Region, Region, list[Strip]]]:
    """Textual's ``_get_renders``, but a widget is rendered for ``crop`` only when the
    part of it on screen overlaps ``crop``."""
    if not crop:
        yield from _STOCK(self, crop)
        return
    intersection = Region.intersection
    contains_region = Region.contains_region
    crop_overlaps = crop.overlaps
    for widget, (region, clip) in list(self.visible_widgets.items()):
        shown = intersection(region, clip)
        if not (shown.width and shown.height and crop_overlaps(shown)):
            continue
        if contains_region(clip, region):
            yield region, clip, widget.render_lines(Region(0, 0, region.width, region.height))
        else:
            new_x, new_y, new_width, new_height = shown
            yield (
                region,
                clip,
                widget.render_lines(
                    Region(new_x - region.x, new_y - region.y, new_width, new_height)
                ),
            )


# The stock method stays reachable (``inspect.unwrap``): tests/app/test_patches.py hashes it.
_get_renders.__wrapped__ = _STOCK  # type: ignore[attr-defined]


def install() -> None:
    """Render partial updates this way from now on (idempotent)."""
    Compositor._get_renders = _get_renders  # type: ignore[method-assign]
