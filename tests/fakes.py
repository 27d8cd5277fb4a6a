"""A scripted fake provider that any test can register: replies, failures, frozen streams.

Register it with :func:`register_fake` (or ``pm.register(tests.fakes, name="fake")``);
the runtime then knows a ``fake`` provider whose instance (``runtime.provider("fake")``)
plays the :class:`Script` objects queued in its ``scripts`` list, one per reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pluggy

from tuichat.errors import ProviderError
from tuichat.hookspecs import hookimpl
from tuichat.provider import (
    ChatEvent,
    ChatRequest,
    Finish,
    ModelInfo,
    Provider,
    ProviderSettings,
    TextDelta,
    Usage,
)


@dataclass
class Script:
    """What one ``stream_chat`` call does, in order.

    1. yields ``deltas`` (strings become :class:`TextDelta`; events pass as they are);
    2. if ``block`` is set: sets the provider's ``waiting`` event, then waits on ``block``
       (an Event nobody sets freezes the stream mid-reply);
    3. raises ``error`` if set; else yields ``usage`` and ``finish`` (when not None).
    """

    deltas: Sequence[str | ChatEvent] = ()
    usage: Usage | None = None
    finish: Finish | None = field(default_factory=lambda: Finish("stop", "stop"))
    error: BaseException | None = None
    block: asyncio.Event | None = None


class FakeSettings(ProviderSettings):
    """Settings of ``[providers.fake]``: no key, no retries unless asked."""

    default_model: str = "fake-model"
    max_retries: int = 0


class FakeProvider(Provider):
    """Plays scripts; records requests and whether each stream was closed early.

    Attributes:
        scripts: Scripts still to play, one per ``stream_chat`` call. When empty, the
            reply is ``default_reply``.
        requests: Every request received.
        waiting: Set when a script reaches its ``block``.
        closed_early: How many streams were closed (cancelled) before they ended.
        finished: How many streams ran to their end.
    """

    name: ClassVar[str] = "fake"
    display_name: ClassVar[str] = "Fake"
    Settings: ClassVar[type[ProviderSettings]] = FakeSettings
    requires_key: ClassVar[bool] = False

    #: The reply when no script is queued.
    default_reply: ClassVar[str] = "Fake reply."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scripts: list[Script] = []
        self.requests: list[ChatRequest] = []
        self.waiting = asyncio.Event()
        self.closed_early = 0
        self.finished = 0
        self.token_count: int | None = None
        self.counted: list[ChatRequest] = []

    async def count_tokens(self, request: ChatRequest) -> int | None:
        """``token_count`` (None: no counting endpoint, as the default provider);
        each request asked about is kept in ``counted``."""
        self.counted.append(request)
        return self.token_count

    def queue(self, *scripts: Script) -> FakeProvider:
        """Add scripts to play; returns the provider (for chaining)."""
        self.scripts.extend(scripts)
        return self

    async def list_models(self) -> list[ModelInfo]:
        """One model."""
        return [ModelInfo(id="fake-model", provider=self.instance_name, name="Fake")]

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[ChatEvent, None]:
        """Play the next script."""
        self.requests.append(request)
        script = self.scripts.pop(0) if self.scripts else Script(deltas=[self.default_reply])
        ended = False
        try:
            for delta in script.deltas:
                yield TextDelta(delta) if isinstance(delta, str) else delta
            if script.block is not None:
                self.waiting.set()
                await script.block.wait()
            if script.error is not None:
                ended = True
                raise script.error
            if script.usage is not None:
                yield script.usage
            if script.finish is not None:
                yield script.finish
            ended = True
        finally:
            if ended:
                self.finished += 1
            else:
                self.closed_early += 1


@hookimpl
def register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`FakeProvider`."""
    register(FakeProvider)


def register_fake(pm: pluggy.PluginManager) -> None:
    """Register this module's provider with a plugin manager (once)."""
    import sys

    module = sys.modules[__name__]
    if not pm.is_registered(module):
        pm.register(module, name="fake")


def failing(error: ProviderError, *deltas: str) -> Script:
    """A script that sends ``deltas`` then raises ``error``."""
    return Script(deltas=deltas, error=error)


def frozen(*deltas: str, block: asyncio.Event | None = None) -> Script:
    """A script that sends ``deltas`` then waits on ``block`` (forever by default)."""
    return Script(deltas=deltas, block=block or asyncio.Event())
