"""Every place tuichat reaches into Textual's or Rich's internals, one module each.

Textual is pinned (8.2.8); each module here says what it changes and why, and
``docs/upstream.md`` holds the report for upstream. :data:`RELIES_ON` names every private
function a patch copies, replaces or depends on, with a hash of its source:
``tests/app/test_patches.py`` fails when an upgrade changes one, so the patch is looked at
again before it silently does the wrong thing. Each patch also has a behaviour test.

* :mod:`.frame_timer`: the screen's update timer (``Timer._run``), frames paced from the
  last frame.
* :mod:`.kept_lines`: lines kept through a widget's growth (``Widget._size_updated``,
  the styles cache).
* :mod:`.decoder`: the Linux driver's input decoder (``linux_driver.getincrementaldecoder``).
* :mod:`.token_markdown`: Rich's ``Markdown`` without its ``__init__`` (no second parse).
* :mod:`.screen_diff` and :mod:`.thin_output`: frames written as what changed on the
  terminal (``App._display``, the compositor's updates).
* :mod:`.writer_backlog`: whether the driver's writer thread still holds a frame (frames
  follow what the terminal drains).
* :mod:`.relayout`: a widget measured again when it grew while a layout was pending
  (``Widget.refresh``, the box model cache).
* :mod:`.render_crop`: a partial update renders only the widgets it touches
  (``Compositor._get_renders``).

Not modules of their own (one line each, listed in ``docs/architecture.md``): the
``focused`` reactive without repaint (``screens/chat.py``) and the footer's private
``FooterKey`` import (``widgets/footer.py``).
"""

from __future__ import annotations

#: ``module:qualified name`` of each private Textual/Rich function a patch depends on,
#: with the first 16 hex digits of the SHA-256 of its source (Textual 8.2.8, Rich 14).
RELIES_ON: dict[str, str] = {
    # frame_timer: replaces _run, calls _tick, reads _active, _interval, _repeat.
    "textual.timer:Timer._run": "60c942a84c1a8765",
    "textual.timer:Timer._tick": "131880e700f4ae71",
    # kept_lines: wraps _size_updated, edits the styles cache's lines.
    "textual.widget:Widget._size_updated": "21ffb00b8a983315",
    "textual._styles_cache:StylesCache.set_dirty": "78552ddea7506bd9",
    "textual._styles_cache:StylesCache.clear": "a9e24439a441c22a",
    # decoder: the input thread looks the decoder up by its module-level name.
    "textual.drivers.linux_driver:LinuxDriver.run_input_thread": "d796af6d69db337d",
    # token_markdown: sets what __init__ would have set.
    "rich.markdown:Markdown.__init__": "f62a531a8a981101",
    # thin_output / screen_diff: overrides _display, reads the compositor's updates.
    "textual.app:App._display": "4b78dff6669a455c",
    "textual._compositor:ChopsUpdate.render_segments": "4c1cdb567e0b8354",
    "textual._compositor:LayoutUpdate.render_segments": "ff329c722506c983",
    "textual._compositor:Compositor.render_partial_update": "888dccc892d8ecc2",
    "textual._compositor:Compositor.render_full_update": "ce99ccda4d2449b7",
    # relayout: clears the box model cache refresh(layout=True) leaves stale.
    "textual.widget:Widget.refresh": "b1ce3392c9c00870",
    "textual.widget:Widget._get_box_model": "2af27ebacc60142b",
    # render_crop: replaces _get_renders with a copy that skips untouched widgets.
    "textual._compositor:Compositor._get_renders": "8ac93299aa5d3bef",
    # writer_backlog: reads the writer thread's queue.
    "textual.drivers._writer_thread:WriterThread.run": "314021aab4f52726",
}
