"""A client's tool rounds are stored as the engine stores a reply that used tools: the
same text, the same rounds, the same history sent back (no server needed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.test_tool_loop import Bench, asks, begin, drain, says, tool_provider
from tuichat.chat import build_request
from tuichat.protocol import Native, ToolCall
from tuichat.serve.exchange import TurnMessage
from tuichat.serve.natives import Natives
from tuichat.serve.signatures import native_for, signatures_of
from tuichat.serve.tool_history import Stored, fold
from tuichat.store import Message, Store
from tuichat.tool_loop import ToolUse, rounds_of

FIVE = ToolCall("call_1", "add", '{"a": 2, "b": 3}')
SEVEN = ToolCall("call_2", "add", '{"a": 3, "b": 4}')


@pytest.fixture
def store() -> Iterator[Store]:
    store = Store(":memory:")
    yield store
    store.close()


def as_openai(prompt: Message, reply: Message) -> list[TurnMessage]:
    """What an OpenAI client would send back of a stored exchange."""
    sent = [TurnMessage("user", prompt.content)]
    for record in rounds_of(reply.meta):
        calls = tuple(c.call for c in record.calls)
        sent.append(TurnMessage("assistant", record.content, tool_calls=calls))
        sent += [TurnMessage("tool", c.result, tool_call_id=c.call.id) for c in record.calls]
    tail = reply.content[reply.meta["tail_start"] :]
    if tail:
        sent.append(TurnMessage("assistant", tail))
    return sent


def write(store: Store, messages: list[Stored]) -> list[Message]:
    conversation = store.create_conversation(provider="scripted", model="m")
    for message in messages:
        store.add_message(conversation.id, message.role, message.content, meta=message.meta)
    return store.messages(conversation.id)


@pytest.mark.parametrize(
    "scripts",
    [
        # Text in every round and after them.
        [asks(FIVE, text="Adding."), asks(SEVEN, text="Once more."), says("5 and 7.")],
        # No text before the calls.
        [asks(FIVE), asks(SEVEN), says("5 and 7.")],
        # Text only before the first call, none after the last.
        [asks(FIVE, text="Adding."), asks(SEVEN), says("")],
    ],
)
async def test_a_folded_reply_is_the_engines_reply(store: Store, scripts: list[list]) -> None:
    provider = tool_provider(*scripts)
    turn = begin(store, provider, ToolUse(Bench(approve="always")))
    await drain(turn)
    prompt, engines = store.messages(turn.conversation_id)
    assert [len(r.calls) for r in rounds_of(engines.meta)] == [1, 1]

    [user, folded] = write(store, fold(as_openai(prompt, engines), "scripted"))

    assert folded.content == engines.content
    assert folded.meta["tail_start"] == engines.meta["tail_start"]
    sent = build_request([user, folded], model="m")[0].messages
    assert sent == build_request([prompt, engines], model="m")[0].messages


def test_plain_messages_are_kept_as_they_are() -> None:
    messages = [
        TurnMessage("user", "Hi"),
        TurnMessage("assistant", "Hello."),
        TurnMessage("user", "Bye"),
    ]
    assert fold(messages, "scripted") == [
        Stored("user", "Hi"),
        Stored("assistant", "Hello."),
        Stored("user", "Bye"),
    ]


def test_a_signature_is_kept_only_for_gemini() -> None:
    signed = TurnMessage("assistant", "", tool_calls=(FIVE,), signatures=("c2ln",))
    assert native_for("anthropic", "", signed.tool_calls, signed.signatures) is None
    gemini = native_for("gemini", "", signed.tool_calls, signed.signatures)
    assert gemini == Native(
        "gemini",
        [{"functionCall": {"name": "add", "args": {"a": 2, "b": 3}}, "thoughtSignature": "c2ln"}],
    )
    [_, reply] = fold(
        [TurnMessage("user", "2+3?"), signed, TurnMessage("tool", "5", tool_call_id="call_1")],
        "gemini",
    )
    assert reply.meta is not None
    assert reply.meta["rounds"][0]["native"] == {"plugin": "gemini", "data": gemini.data}


@pytest.mark.parametrize(
    "data",
    [
        # The parts as Gemini sent them, or the content around them.
        [{"text": "Adding."}, {"functionCall": {"name": "add"}, "thoughtSignature": "c2ln"}],
        {
            "role": "model",
            "parts": [{"functionCall": {"name": "add"}, "thought_signature": "c2ln"}],
        },
    ],
)
def test_signatures_are_read_from_a_gemini_reply(data: object) -> None:
    assert signatures_of(Native("gemini", data), [FIVE]) == ("c2ln",)
    assert signatures_of(Native("anthropic", data), [FIVE]) == (None,)
    # A part that names another function is not this call's.
    assert signatures_of(Native("gemini", data), [ToolCall("x", "other")]) == (None,)


def test_kept_replies_are_found_by_their_text_and_calls_and_the_oldest_forgotten() -> None:
    natives = Natives(size=2)
    first, second, third = (Native("anthropic", [n]) for n in range(3))
    natives.keep("Adding.", [FIVE], first)
    natives.keep("", [SEVEN], second)
    assert natives.find("anthropic", "Adding.", [FIVE]) == first
    assert natives.find("anthropic", "Adding!", [FIVE]) is None  # the client changed it
    assert natives.find("gemini", "Adding.", [FIVE]) is None  # another plugin's
    natives.keep("", [FIVE, SEVEN], third)
    assert natives.find("anthropic", "Adding.", [FIVE]) is None
    assert natives.find("anthropic", "", [SEVEN]) == second


def test_a_kept_gemini_reply_must_agree_with_the_signatures_the_client_kept() -> None:
    natives = Natives()
    signed = Native("gemini", [{"functionCall": {"name": "add"}, "thoughtSignature": "c2ln"}])
    natives.keep("", [FIVE], signed)
    assert natives.find("gemini", "", [FIVE], ["c2ln"]) == signed
    assert natives.find("gemini", "", [FIVE], ["b3RoZXI="]) is None
    assert natives.find("gemini", "", [FIVE], [None]) is None
