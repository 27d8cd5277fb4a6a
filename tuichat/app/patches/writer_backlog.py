"""Whether the terminal has taken the last frame yet: frames follow what it drains.

Textual's Linux driver hands each write to a thread (``WriterThread``) through a queue of
30; when the terminal reads slowly (a thin SSH link), that thread blocks in ``write`` or
``flush``, the queue fills with frames that are stale before they are sent, and then the
app itself blocks on the 31st. The screen's frame timer asks :func:`output_pending`
before it draws: while the last frame has not left, it waits (the compositor keeps
collecting what changed, so the next frame carries all of it and nothing is lost).

Reads the writer thread's private ``_queue`` (Textual 8.2.8); ``tests/app/test_patches.py``
fails when ``WriterThread.run`` changes.
"""

from __future__ import annotations

from typing import Any


def output_pending(driver: Any) -> bool:
    """Whether writes handed to ``driver`` wait in its queue or are being written."""
    thread = getattr(driver, "_writer_thread", None)
    queue = getattr(thread, "_queue", None)
    if queue is not None and not queue.empty():
        return True
    return bool(getattr(getattr(driver, "_file", None), "busy", False))
