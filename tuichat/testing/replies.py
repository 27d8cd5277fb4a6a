"""Reading a provider's reply in a test: every event, the failure, the text.

What each provider plugin's tests need around ``stream_chat``; pytest is not needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuichat.errors import ProviderError
from tuichat.protocol import ChatEvent, NativeReply, ReasoningDelta, TextDelta, ToolCall

if TYPE_CHECKING:
    from tuichat.protocol import ChatRequest
    from tuichat.provider import Provider

__all__ = ["collect", "failure", "native_of", "reasoning_of", "text_of", "tool_calls_of"]


async def collect(provider: Provider, request: ChatRequest) -> list[ChatEvent]:
    """Stream ``request`` to its end and return every event, in order.

    Raises:
        ProviderError: The reply failed (use :func:`failure` to expect that).
    """
    return [event async for event in provider.stream_chat(request)]


async def failure(
    provider: Provider, request: ChatRequest
) -> tuple[list[ChatEvent], ProviderError]:
    """Stream ``request``, expecting it to fail: the events that came first, and the error.

    Raises:
        AssertionError: The reply ended without a :class:`~tuichat.errors.ProviderError`.
    """
    events: list[ChatEvent] = []
    try:
        async for event in provider.stream_chat(request):
            events.append(event)
    except ProviderError as exc:
        return events, exc
    raise AssertionError(f"expected a ProviderError; the reply ended after {events!r}")


def text_of(events: list[ChatEvent]) -> str:
    """The reply's text: every :class:`~tuichat.protocol.TextDelta` joined."""
    return "".join(event.text for event in events if isinstance(event, TextDelta))


def reasoning_of(events: list[ChatEvent]) -> str:
    """The reply's reasoning: every :class:`~tuichat.protocol.ReasoningDelta` joined."""
    return "".join(event.text for event in events if isinstance(event, ReasoningDelta))


def tool_calls_of(events: list[ChatEvent]) -> list[ToolCall]:
    """The :class:`~tuichat.protocol.ToolCall` events, in order."""
    return [event for event in events if isinstance(event, ToolCall)]


def native_of(events: list[ChatEvent]) -> NativeReply | None:
    """The reply's :class:`~tuichat.protocol.NativeReply`, if the provider sent one.

    Raises:
        AssertionError: The provider sent more than one.
    """
    natives = [event for event in events if isinstance(event, NativeReply)]
    assert len(natives) <= 1, f"expected at most one NativeReply, got {natives!r}"
    return natives[0] if natives else None
