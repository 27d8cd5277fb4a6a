"""Input that is not UTF-8 arrives as U+FFFD instead of killing the app.

Textual 8.2.8's ``LinuxDriver.run_input_thread`` makes its decoder from the module-level
name ``textual.drivers.linux_driver.getincrementaldecoder`` with ``errors="strict"``: a
binary paste or a terminal set to Latin-1 raised ``UnicodeDecodeError`` in the input
thread and the app died with a traceback. There is no other way in than replacing that
name (process-wide; every Linux driver then decodes leniently, which is what any of
them wants). ``tests/app/test_patches.py`` fails when ``run_input_thread`` changes.
Upstream: ``docs/upstream.md``.
"""

from __future__ import annotations

import codecs
import functools
from collections.abc import Callable


def lenient_decoder(encoding: str) -> Callable[[], codecs.IncrementalDecoder]:
    """``codecs.getincrementaldecoder``, replacing undecodable bytes instead of raising."""
    return functools.partial(codecs.getincrementaldecoder(encoding), errors="replace")


def install_lenient_decoder() -> None:
    """Make the Linux driver's input thread decode with :func:`lenient_decoder`."""
    try:
        from textual.drivers import linux_driver
    except ImportError:  # Windows: no Linux driver
        return
    linux_driver.getincrementaldecoder = lenient_decoder  # type: ignore[attr-defined,assignment]
