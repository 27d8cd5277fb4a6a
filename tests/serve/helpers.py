"""Small helpers shared by the serve tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse

#: A one-turn native request for the Anthropic provider.
HELLO: dict[str, Any] = {
    "messages": [{"role": "user", "content": "Say hello"}],
    "model": "anthropic/claude-sonnet-4-5",
}


async def sse_events(
    url: str, body: Any, *, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, list[ServerSentEvent]]:
    """POST ``body`` and read the whole event stream (parsed by httpx-sse)."""
    async with (
        httpx.AsyncClient(timeout=10) as client,
        aconnect_sse(client, "POST", url, json=body, headers=dict(headers or {})) as source,
    ):
        events = [event async for event in source.aiter_sse()]
        return source.response, events


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``check()`` holds (state another thread writes), or fail."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)
