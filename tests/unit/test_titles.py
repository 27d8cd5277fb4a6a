"""Titles asked of the model: the request, the cleaning, failures never raised."""

from __future__ import annotations

import asyncio

from tests.fakes import FakeProvider, Script, failing, frozen
from tuichat.errors import ServerError
from tuichat.titles import clean_title, generate_title, title_request


def provider(*scripts: Script) -> FakeProvider:
    fake = FakeProvider(settings=FakeProvider.Settings(), client=None)  # type: ignore[arg-type]
    return fake.queue(*scripts)


def test_the_request_is_small_and_quotes_the_exchange() -> None:
    request = title_request("m", "p" * 5000, "the reply")
    assert request.max_tokens == 40 and request.system is None
    [message] = request.messages
    assert "<reply>\nthe reply\n</reply>" in message.content
    assert len(message.content) < 4000


def test_clean_title() -> None:
    assert clean_title('Title: "Trip to Lisbon".') == "Trip to Lisbon"
    assert clean_title("## **Rust vs Go**\nBecause...") == "Rust vs Go"
    assert clean_title("   ") is None
    assert clean_title('""') is None
    assert len(clean_title("word " * 40) or "") <= 60
    assert "\x1b" not in (clean_title("\x1b]0;evil\x07Name") or "")


async def test_generate_title_returns_the_cleaned_answer() -> None:
    fake = provider(Script(deltas=["“Lisbon ", "tips”"]))
    assert await generate_title(fake, "m", "prompt", "reply") == "Lisbon tips"


async def test_generate_title_swallows_errors_and_timeouts() -> None:
    assert (
        await generate_title(
            provider(failing(ServerError("boom", provider="f", status=500))), "m", "p", "r"
        )
        is None
    )
    slow = provider(frozen("never"))
    assert await generate_title(slow, "m", "p", "r", timeout=0.05) is None
    assert slow.closed_early == 1


async def test_generate_title_can_be_cancelled() -> None:
    slow = provider(frozen())
    task = asyncio.create_task(generate_title(slow, "m", "p", "r"))
    await asyncio.sleep(0.01)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    else:  # pragma: no cover - must not swallow a cancellation
        raise AssertionError("cancellation was swallowed")
