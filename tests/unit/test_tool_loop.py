"""The tool loop in the turn engine: ask, approve, run, answer, carry on; every step
stored as it happens, and sent back as each API expects the history (issue 15)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from tests.unit.conftest import ScriptedProvider, scripted_provider
from tuichat.chat import Turn, build_request
from tuichat.http import RetryPolicy
from tuichat.protocol import (
    ChatMessage,
    Finish,
    NativeReply,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from tuichat.store import Store
from tuichat.tool_loop import (
    DECLINED,
    UNFINISHED,
    ToolFinished,
    ToolLimit,
    ToolStarted,
    ToolUse,
)

NO_WAIT = RetryPolicy(base_delay=0.0, max_delay=5.0)


class ToolScripted(ScriptedProvider):
    supports_tools: ClassVar[bool] = True


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    server: str
    tool: str
    approve: str = "ask"


@dataclass(frozen=True)
class Result:
    content: str
    is_error: bool = False


@dataclass
class Bench:
    """A runner with two tools, ``add`` (server ``calc``) and ``slow`` (server ``clock``),
    that records what ran."""

    approve: str = "ask"
    ran: list[tuple[str, str]] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: bool = False

    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self.tools()]

    def tools(self) -> list[Tool]:
        schema = {"type": "object", "properties": {}}
        return [
            Tool(ToolSpec("add", "Add two numbers.", schema), "calc", "add", self.approve),
            Tool(ToolSpec("slow", "Wait.", schema), "clock", "slow", self.approve),
        ]

    def find(self, name: str) -> Tool | None:
        return next((t for t in self.tools() if t.spec.name == name), None)

    async def call(self, name: str, arguments: str, *, timeout: float | None = None) -> Result:
        self.ran.append((name, arguments))
        if name == "slow":
            self.started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        args = json.loads(arguments)
        if "a" not in args:
            return Result("add needs a and b.", is_error=True)
        return Result(str(args["a"] + args["b"]))


def tool_provider(*scripts: list[Any]) -> ToolScripted:
    plain = scripted_provider()
    provider = ToolScripted(settings=plain.settings, client=plain.client)
    provider.scripts = list(scripts)
    return provider


def asks(*calls: ToolCall, text: str = "") -> list[Any]:
    events: list[Any] = [TextDelta(text)] if text else []
    return [*events, *calls, Usage(10, 5), Finish("tool_calls", "tool_calls")]


def says(text: str) -> list[Any]:
    return [TextDelta(text), Usage(20, 7), Finish("stop", "stop")]


def begin(store: Store, provider: ScriptedProvider, tools: ToolUse | None, prompt: str = "2+3?"):
    conversation = store.create_conversation(provider=provider.name, model="m")
    return Turn.begin(
        store, provider, conversation.id, prompt, model="m", policy=NO_WAIT, tools=tools
    )


async def drain(turn: Turn) -> list[object]:
    return [event async for event in turn.stream()]


async def yes(tool: Any, call: ToolCall) -> str:
    return "yes"


async def no(tool: Any, call: ToolCall) -> str:
    return "no"


ADD = ToolCall("call_1", "add", '{"a": 2, "b": 3}')


async def test_an_approved_call_runs_and_its_result_is_sent_back(store: Store) -> None:
    bench = Bench()
    provider = tool_provider(asks(ADD, text="Let me add."), says("It is 5."))
    turn = begin(store, provider, ToolUse(bench, approve=yes))

    events = await drain(turn)

    assert bench.ran == [("add", '{"a": 2, "b": 3}')]
    first, second = provider.requests
    assert [t.name for t in first.tools] == ["add", "slow"]
    assert second.messages[-2:] == (
        ChatMessage("assistant", "Let me add.", tool_calls=(ADD,)),
        ChatMessage("tool", "", tool_results=(_result("call_1", "add", "5"),)),
    )
    assert turn.state.content == "Let me add.\n\nIt is 5."
    assert [type(e) for e in events if isinstance(e, ToolStarted | ToolFinished)] == [
        ToolStarted,
        ToolFinished,
    ]
    assert turn.state.input_tokens == 30 and turn.state.output_tokens == 12
    reply = store.get_message(turn.message_id)
    assert reply.status == "complete" and reply.content == "Let me add.\n\nIt is 5."
    assert reply.meta["rounds"][0]["calls"][0]["status"] == "ok"


def _result(call_id: str, name: str, content: str, is_error: bool = False):
    from tuichat.protocol import ToolResult

    return ToolResult(call_id, name, content, is_error)


async def test_a_declined_call_tells_the_model_it_was_declined(store: Store) -> None:
    bench = Bench()
    provider = tool_provider(asks(ADD), says("Fine, I will not."))
    turn = begin(store, provider, ToolUse(bench, approve=no))

    events = await drain(turn)

    assert bench.ran == []
    results = provider.requests[1].messages[-1].tool_results
    assert results == (_result("call_1", "add", DECLINED, is_error=True),)
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [f.status for f in finished] == ["declined"]


async def test_without_an_approver_an_ask_tool_is_declined_and_always_runs(store: Store) -> None:
    asking = Bench()
    provider = tool_provider(asks(ADD), says("ok"))
    await drain(begin(store, provider, ToolUse(asking)))
    assert asking.ran == []

    trusted = Bench(approve="always")
    provider = tool_provider(asks(ADD), says("ok"))
    await drain(begin(store, provider, ToolUse(trusted)))
    assert trusted.ran == [("add", '{"a": 2, "b": 3}')]


async def test_yes_runs_every_call_without_asking(store: Store) -> None:
    bench = Bench()
    provider = tool_provider(asks(ADD), says("ok"))
    await drain(begin(store, provider, ToolUse(bench, yes=True)))
    assert bench.ran == [("add", '{"a": 2, "b": 3}')]


async def test_a_failed_tool_is_an_error_result_and_the_reply_goes_on(store: Store) -> None:
    bench = Bench()
    bad = ToolCall("c", "add", "{}")
    provider = tool_provider(asks(bad), says("Sorry."))
    turn = begin(store, provider, ToolUse(bench, yes=True))
    await drain(turn)
    assert provider.requests[1].messages[-1].tool_results == (
        _result("c", "add", "add needs a and b.", is_error=True),
    )
    assert turn.state.status == "complete"


async def test_a_call_of_a_tool_not_offered_is_answered_with_an_error(store: Store) -> None:
    provider = tool_provider(asks(ToolCall("c", "rm_rf", "{}")), says("ok"))
    await drain(begin(store, provider, ToolUse(Bench(), yes=True)))
    (result,) = provider.requests[1].messages[-1].tool_results
    assert result.is_error and "rm_rf" in result.content


async def test_two_calls_in_one_round_run_in_order_and_answer_together(store: Store) -> None:
    bench = Bench()
    second = ToolCall("call_2", "add", '{"a": 1, "b": 1}')
    provider = tool_provider(asks(ADD, second), says("5 and 2"))
    await drain(begin(store, provider, ToolUse(bench, yes=True)))
    assert [a for _, a in bench.ran] == ['{"a": 2, "b": 3}', '{"a": 1, "b": 1}']
    results = provider.requests[1].messages[-1].tool_results
    assert [(r.call_id, r.content) for r in results] == [("call_1", "5"), ("call_2", "2")]


async def test_after_the_step_limit_no_call_runs_and_no_request_offers_tools(
    store: Store,
) -> None:
    bench = Bench()
    provider = tool_provider(asks(ADD), asks(ADD), says("Done trying."))
    turn = begin(store, provider, ToolUse(bench, yes=True, max_steps=2))
    events = await drain(turn)
    assert len(bench.ran) == 2
    assert [bool(r.tools) for r in provider.requests] == [True, True, False]
    assert [e for e in events if isinstance(e, ToolLimit)] == [ToolLimit(2)]
    assert turn.state.tool_limit == 2


async def test_esc_while_a_tool_runs_stops_it_and_keeps_what_ran(store: Store) -> None:
    bench = Bench()
    slow = ToolCall("s", "slow", "{}")
    provider = tool_provider(asks(ADD, slow, text="Two tools."))
    turn = begin(store, provider, ToolUse(bench, yes=True))
    task = asyncio.create_task(drain(turn))
    await bench.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert bench.cancelled
    reply = store.get_message(turn.message_id)
    assert reply.status == "cancelled"
    calls = reply.meta["rounds"][0]["calls"]
    assert [(c["name"], c["status"]) for c in calls] == [("add", "ok"), ("slow", "running")]
    # Sent back later: the unfinished call is answered, as every API requires.
    history = store.messages(turn.conversation_id)
    request, _ = build_request(history, model="m")
    assert request.messages[-1].tool_results[1] == _result("s", "slow", UNFINISHED, is_error=True)


async def test_the_rounds_come_back_from_the_store_in_the_next_turn(store: Store) -> None:
    bench = Bench()
    provider = tool_provider(
        asks(ADD, text="Adding."), [NativeReply([{"type": "text", "text": "5!"}]), *says("5!")]
    )
    turn = begin(store, provider, ToolUse(bench, yes=True))
    await drain(turn)

    store.add_message(turn.conversation_id, "user", "thanks")
    request, _ = build_request(store.messages(turn.conversation_id), model="m")
    assert [(m.role, m.content) for m in request.messages] == [
        ("user", "2+3?"),
        ("assistant", "Adding."),
        ("tool", ""),
        ("assistant", "5!"),
        ("user", "thanks"),
    ]
    assert request.messages[1].tool_calls == (ADD,)
    assert request.messages[3].native is not None
    assert request.messages[3].native.plugin == "scripted"


async def test_a_plugin_without_tool_support_is_offered_none_and_the_person_told(
    store: Store,
) -> None:
    provider = scripted_provider(says("plain"))
    turn = begin(store, provider, ToolUse(Bench(), yes=True))
    await drain(turn)
    assert provider.requests[0].tools == ()
    assert [o.name for o in turn.left_out] == ["tools"]


async def test_calls_a_turn_does_not_run_are_handed_to_the_front_end(store: Store) -> None:
    provider = tool_provider(asks(ADD))
    turn = begin(store, provider, None)
    await drain(turn)
    assert turn.state.tool_calls == [ADD]
    assert turn.state.finish_reason == "tool_calls"


async def test_tools_only_offered_end_the_turn_with_the_calls_for_the_client(
    store: Store,
) -> None:
    spec = ToolSpec("lookup", "Look up.", {"type": "object"})
    provider = tool_provider(asks(ToolCall("c1", "lookup", '{"q": "x"}')))
    conversation = store.create_conversation(provider=provider.name, model="m")
    turn = Turn.begin(
        store, provider, conversation.id, "find x", model="m", policy=NO_WAIT, offer_tools=[spec]
    )
    await drain(turn)
    assert provider.requests[0].tools == (spec,)
    assert turn.state.tool_calls == [ToolCall("c1", "lookup", '{"q": "x"}')]
    assert len(provider.requests) == 1


async def test_a_continued_reply_is_sent_as_its_text_not_its_old_native_form(
    store: Store,
) -> None:
    from tuichat.turns import begin_continue

    provider = tool_provider([NativeReply([{"type": "thinking", "signature": "s"}]), *says("Hal")])
    turn = begin(store, provider, None)
    await drain(turn)
    reply = store.get_message(turn.message_id)
    assert reply.meta["native"]["plugin"] == "scripted"
    store.update_message(reply.id, status="length")

    provider.scripts.append(says("f done."))
    more = begin_continue(store, provider, store.get_message(reply.id), model="m", policy=NO_WAIT)
    await drain(more)

    sent = provider.requests[-1].messages
    assert all(message.native is None for message in sent)
    assert "native" not in store.get_message(reply.id).meta
