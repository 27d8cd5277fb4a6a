"""Helpers for Pilot tests of the full-screen app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot

from tests.fakes import FakeProvider
from tuichat.app.screens.chat import ChatScreen
from tuichat.app.widgets.message import ReplyView
from tuichat.app.workers import settle
from tuichat.runtime import Runtime

#: Every Pilot test runs at this terminal size unless it needs another.
SIZE = (120, 40)

#: Longest a test waits for a condition before failing.
TIMEOUT = 10.0


def fake(runtime: Runtime) -> FakeProvider:
    """The runtime's fake provider instance."""
    provider = runtime.provider("fake")
    assert isinstance(provider, FakeProvider)
    return provider


async def until(pilot: Pilot[None], condition: Callable[[], bool], what: str = "") -> None:
    """Let the app run until ``condition()`` holds (fails after :data:`TIMEOUT`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.01)


def chat_screen(pilot: Pilot[None]) -> ChatScreen:
    """The chat screen (the base of the stack)."""
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, ChatScreen)
    return screen


async def settle_reply(pilot: Pilot[None]) -> None:
    """Wait until no reply streams and the screen has drawn how the last one ended."""
    for worker in list(pilot.app.workers):
        if worker.group == "reply":
            await settle(worker)
    screen = chat_screen(pilot)
    await until(pilot, lambda: not screen.responding, "the reply to end")
    await pilot.pause()


async def send(pilot: Pilot[None], text: str) -> None:
    """Type ``text`` into the prompt and press Enter (without waiting for the reply)."""
    screen = chat_screen(pilot)
    screen.prompt.focus()
    screen.prompt.insert(text)
    await pilot.press("enter")
    await pilot.pause()


def replies(pilot: Pilot[None]) -> list[ReplyView]:
    """The replies in the chat log, in order."""
    return list(chat_screen(pilot).chat_log.query(ReplyView))


def visible_text(pilot: Pilot[None]) -> str:
    """Every character the top screen shows, line by line (what a terminal would show)."""
    strips = pilot.app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def toasts(pilot: Pilot[None]) -> list[str]:
    """The messages of the toasts raised so far (``run_test`` does not draw them)."""
    return [notification.message for notification in pilot.app._notifications]


class ReplyApp(App[None]):
    """A reply widget alone in a scrolling log (tests of the widget itself)."""

    def __init__(self, view: ReplyView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield self.view
