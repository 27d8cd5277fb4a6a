"""Imported by Python at start-up in one e2e test only (its directory is put on PYTHONPATH).

It makes the demo provider get the app's main thread stuck for good, mid-reply, once the
file named by ``TUICHAT_TEST_STUCK`` exists. The file says how: ``regex``, inside one C
call that holds the GIL (Textual's number pattern on 40 digits and a letter, issue #21),
where no signal handler and no other thread of the process can run; ``python``, in a
Python loop, where the other threads (the terminal's input thread) still run.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncGenerator
from typing import Any

from tuichat import demo

TEXTUAL_NUMBER = r"[-+]?(?:\d*|\d+_)*\.?(?:\d*|\d+_)*(?:\d[eE]?[-+]?(?:\d*|\d+_)*)?"

_stream_chat = demo.DemoProvider.stream_chat


async def _stuck_stream_chat(self: demo.DemoProvider, request: Any) -> AsyncGenerator[Any, None]:
    async for event in _stream_chat(self, request):
        yield event
        trigger = os.environ["TUICHAT_TEST_STUCK"]
        if os.path.exists(trigger):
            with open(trigger) as how:
                if how.read() == "regex":
                    re.fullmatch(TEXTUAL_NUMBER, "1" * 40 + "a")
            while True:
                pass


demo.DemoProvider.stream_chat = _stuck_stream_chat  # type: ignore[method-assign]
