"""A tuichat core whose main thread gets stuck mid-reply: the watchdog's test subject.

``python -m tests.faults.stuck_loop DATA_DIR HOW`` streams one reply into the store in
``DATA_DIR`` with the same pieces the app uses (a :class:`~tuichat.chat.Turn`, the
:class:`~tuichat.signals.SignalCatcher`, the :class:`~tuichat.watchdog.Watchdog`
beating from the loop), then, once the first text is checkpointed, prints ``stuck`` and
blocks its main thread for good, ``HOW``:

- ``regex``: inside one C call that holds the GIL (Textual's number pattern, 40 digits
  and a letter; issue #21): no Python code of the process runs again;
- ``python``: in a Python loop: other threads run, the signal handlers do not.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from tests.fakes import FakeProvider, frozen
from tuichat.chat import Turn, live_turns
from tuichat.signals import SignalCatcher
from tuichat.store import Store
from tuichat.watchdog import Watchdog

TEXTUAL_NUMBER = r"[-+]?(?:\d*|\d+_)*\.?(?:\d*|\d+_)*(?:\d[eE]?[-+]?(?:\d*|\d+_)*)?"


def stuck_forever(how: str) -> None:
    if how == "regex":
        re.fullmatch(TEXTUAL_NUMBER, "1" * 40 + "a")
    while True:
        pass


async def main(data: Path, how: str) -> None:
    store = Store(data / "tuichat.db")
    provider = FakeProvider(settings=FakeProvider.Settings(), client=None)  # type: ignore[arg-type]
    provider.queue(frozen("Once upon a time"))
    conversation = store.create_conversation(title="story")
    turn = Turn.begin(
        store, provider, conversation.id, "tell me a story", model="m", checkpoint_interval=0.05
    )
    task = asyncio.current_task()
    assert task is not None
    SignalCatcher(lambda signum: task.cancel()).install()
    watchdog = Watchdog(
        data / "tuichat.log",
        database=store.path,
        streaming=lambda: [t.message_id for t in live_turns()],
    )
    assert watchdog.start()
    watchdog.beat_on(asyncio.get_running_loop())
    async for _event in turn.stream():
        while store.get_message(turn.message_id).content != "Once upon a time":  # type: ignore[union-attr]
            await asyncio.sleep(0.01)
        print("stuck", flush=True)
        stuck_forever(how)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
