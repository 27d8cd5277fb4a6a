"""The one reach into Textual's layout bookkeeping (tuichat/app/patches/relayout.py) still holds.

What it fixes is shown by tests/app/test_hostile_text.py's streaming test: a reply frozen
after its first line stays zero lines tall without it.
"""

from __future__ import annotations

from textual.widget import Widget


def test_textual_still_keys_the_box_model_on_layout_updates() -> None:
    widget = Widget()
    assert isinstance(widget._layout_updates, int)
    assert isinstance(widget._layout_required, bool)
    assert hasattr(widget._box_model_cache, "clear")
