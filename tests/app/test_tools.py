"""Tools in the TUI: F9 picks a conversation's servers, a call waits for approval in a
modal (a key typed before it showed does not count), each call is a block above the
reply, and a reopened conversation shows its calls (issue 15).

The tool server is real: ``tests/tools/mcp_server.py`` over stdio through the ``mcp``
package. The model is the scripted fake provider, allowed to call tools.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import SelectionList

from tests.app.support import chat_screen, send, settle_reply, until
from tests.fakes import FakeProvider, Script
from tuichat.app.screens.approve_tool import ApproveToolScreen
from tuichat.app.screens.pick_tools import PickToolsScreen
from tuichat.app.widgets.tool_call import ToolCallView
from tuichat.protocol import Finish, ToolCall

SERVER = Path(__file__).parents[1] / "tools" / "mcp_server.py"
SETTINGS: dict[str, Any] = {
    "mcp": {"calc": {"command": sys.executable, "args": [str(SERVER)]}},
}


@pytest.fixture(autouse=True)
def fake_calls_tools(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(FakeProvider, "supports_tools", True)
    yield


def calls(*tool_calls: ToolCall, text: str = "") -> Script:
    return Script(
        deltas=[text, *tool_calls] if text else list(tool_calls),
        finish=Finish("tool_calls", "tool_calls"),
    )


ADD = ToolCall("call_1", "add", '{"a": 2, "b": 3}')


async def offer_calc(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("f9")
    await until(pilot, lambda: isinstance(pilot.app.screen, PickToolsScreen), "the picker")
    pilot.app.screen.query_one(SelectionList).select("calc")
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(pilot.app.screen, PickToolsScreen), "it closed")


async def approval(pilot) -> ApproveToolScreen:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: isinstance(pilot.app.screen, ApproveToolScreen), "the approval")
    screen = pilot.app.screen
    assert isinstance(screen, ApproveToolScreen)
    return screen


async def test_an_approved_call_runs_and_shows_as_a_block_above_the_reply(make_app) -> None:
    app = make_app(calls(ADD, text="Adding."), Script(deltas=["It is 5."]), settings=SETTINGS)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = chat_screen(pilot)
        await offer_calc(pilot)
        await send(pilot, "2+3?")
        modal = await approval(pilot)
        assert (modal.tool, modal.server, modal.call.arguments) == ("add", "calc", ADD.arguments)
        await pilot.press("y")
        await settle_reply(pilot)

        [block] = chat.chat_log.query(ToolCallView)
        assert (block.tool, block.state, block.result) == ("add", "ok", "5")
        reply = chat.store.messages(chat.conversation_id)[-1]
        assert reply.content == "Adding.\n\nIt is 5."
        assert reply.meta["rounds"][0]["calls"][0]["status"] == "ok"
        # The choice of servers is the conversation's.
        assert chat.store.get_conversation(chat.conversation_id).params["tools"] == ["calc"]


async def test_a_declined_call_tells_the_model_and_shows_declined(make_app) -> None:
    app = make_app(calls(ADD), Script(deltas=["Fine."]), settings=SETTINGS)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = chat_screen(pilot)
        await offer_calc(pilot)
        await send(pilot, "2+3?")
        await approval(pilot)
        await pilot.press("n")
        await settle_reply(pilot)
        [block] = chat.chat_log.query(ToolCallView)
        assert block.state == "declined"
        sent = app.runtime.provider("fake").requests[-1]
        assert sent.messages[-1].tool_results[0].content == "declined by the user"


async def test_a_key_typed_before_the_question_showed_does_not_answer_it(make_app) -> None:
    app = make_app(calls(ADD), Script(deltas=["ok"]), settings=SETTINGS)
    async with app.run_test(size=(100, 30)) as pilot:
        await offer_calc(pilot)
        typed_before = events.Key("y", "y")  # stamped now, before the modal exists
        await send(pilot, "2+3?")
        modal = await approval(pilot)
        pilot.app.post_message(typed_before)  # as the terminal driver delivers it
        await pilot.pause()
        await pilot.pause()
        assert pilot.app.screen is modal  # still asking
        await pilot.press("y")
        await settle_reply(pilot)


async def test_always_runs_the_tool_unasked_for_the_rest_of_the_conversation(make_app) -> None:
    second = ToolCall("call_2", "add", '{"a": 1, "b": 1}')
    app = make_app(
        calls(ADD), Script(deltas=["5"]), calls(second), Script(deltas=["2"]), settings=SETTINGS
    )
    async with app.run_test(size=(100, 30)) as pilot:
        chat = chat_screen(pilot)
        await offer_calc(pilot)
        await send(pilot, "2+3?")
        await approval(pilot)
        await pilot.press("a")
        await settle_reply(pilot)
        await send(pilot, "1+1?")
        await settle_reply(pilot)  # no modal this time
        states = [block.state for block in chat.chat_log.query(ToolCallView)]
        assert states == ["ok", "ok"]


async def test_a_reopened_conversation_shows_its_calls_and_o_opens_them(make_app) -> None:
    app = make_app(calls(ADD), Script(deltas=["It is 5."]), settings=SETTINGS)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = chat_screen(pilot)
        await offer_calc(pilot)
        await send(pilot, "2+3?")
        await approval(pilot)
        await pilot.press("y")
        await settle_reply(pilot)
        conversation = chat.conversation_id
        await chat.open_conversation(None)
        await chat.open_conversation(conversation)
        await pilot.pause()
        [block] = chat.chat_log.query(ToolCallView)
        assert (block.state, block.expanded) == ("ok", False)
        reply = chat.store.messages(conversation)[-1]
        chat.chat_log.focus()
        chat.chat_log.select(reply.id)
        await pilot.press("o")
        await until(pilot, lambda: block.expanded, "the call opened")
        assert '"a": 2' in str(block.render())


async def test_without_tools_chosen_no_server_starts_and_nothing_is_offered(make_app) -> None:
    app = make_app(Script(deltas=["plain"]), settings=SETTINGS)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "hi")
        await settle_reply(pilot)
        assert app.runtime.provider("fake").requests[-1].tools == ()
        assert app._tool_host is None


async def test_esc_while_a_tool_runs_stops_the_tool_and_the_reply(make_app) -> None:
    slow = ToolCall("call_9", "slow", '{"seconds": 60}')
    app = make_app(calls(slow), settings=SETTINGS)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = chat_screen(pilot)
        await offer_calc(pilot)
        await send(pilot, "wait a minute")
        await approval(pilot)
        await pilot.press("y")
        await until(
            pilot,
            lambda: [b.state for b in chat.chat_log.query(ToolCallView)] == ["running"],
            "the tool running",
        )
        await pilot.press("escape")
        await until(pilot, lambda: not chat.responding, "the reply stopped")
        reply = chat.store.messages(chat.conversation_id)[-1]
        assert reply.status == "cancelled"
        assert reply.meta["rounds"][0]["calls"][0]["status"] == "running"
        [block] = chat.chat_log.query(ToolCallView)
        assert block.state != "running"


async def test_space_ticks_the_highlighted_server_before_the_list_has_the_focus(
    make_app,
) -> None:
    app = make_app(settings=SETTINGS)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = chat_screen(pilot)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, PickToolsScreen), "the picker")
        await until(pilot, lambda: bool(app.screen.query("#tools-list")), "the list")
        app.screen.set_focus(None)  # shown, not focused yet: a fast typist's Space
        await pilot.press("space", "enter")
        await until(pilot, lambda: chat.tools.offered_servers() == ["calc"], "calc offered")
