"""Tools through ``/v1/chat/completions``: the model's calls go back to the client in
OpenAI's exact shapes, and the client's results go on to the provider as the engine's
history (issue 15). A scripted provider that supports tools stands in for the plugins."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest

from tests.fakes import FakeProvider, Script
from tests.serve.server import Served, ServeFactory
from tuichat.hookspecs import hookimpl
from tuichat.protocol import (
    ChatMessage,
    Finish,
    Native,
    NativeReply,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
)
from tuichat.provider import Provider

openai = pytest.importorskip("openai")

MODEL = "tooly/fake-model"

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": SCHEMA,
    },
}
WEATHER_SPEC = ToolSpec("get_weather", "The weather in a city.", SCHEMA)

PARIS = ToolCall("call_paris", "get_weather", '{"city": "Paris"}')
ROME = ToolCall("call_rome", "get_weather", '{"city": "Rome"}')
ASK = {"role": "user", "content": "Weather in Paris and Rome?"}


class Tooly(FakeProvider):
    """The test kit's scripted provider, with tool calling."""

    name: ClassVar[str] = "tooly"
    display_name: ClassVar[str] = "Tooly"
    supports_tools: ClassVar[bool] = True


class ScriptedGemini(Tooly):
    """A scripted provider named like the Gemini plugin, whose replies carry thought
    signatures in their native form."""

    name: ClassVar[str] = "gemini"
    display_name: ClassVar[str] = "Gemini (scripted)"


@dataclass(frozen=True)
class Registers:
    """A plugin registering one provider class."""

    provider: type[Provider]

    @hookimpl
    def register_providers(self, register: Callable[[type[Provider]], None]) -> None:
        register(self.provider)


def calls(*tool_calls: ToolCall, text: str = "", native: Any = None) -> Script:
    """A reply that asks for ``tool_calls`` (after ``text``)."""
    events: list[Any] = [TextDelta(text)] if text else []
    events += tool_calls
    if native is not None:
        events.append(NativeReply(native))
    return Script(events, usage=Usage(12, 4), finish=Finish("tool_calls", "tool_use"))


def says(text: str) -> Script:
    return Script([text], usage=Usage(30, 6), finish=Finish("stop", "end_turn"))


@pytest.fixture
def served_tools(serve: ServeFactory) -> Callable[..., tuple[Served, Tooly]]:
    """``served_tools(provider=Tooly, **serve_options)``: serve with a scripted provider
    that supports tools, and that provider."""

    def start(provider: type[Tooly] = Tooly, **options: Any) -> tuple[Served, Tooly]:
        settings: dict[str, Any] = {"providers": {provider.name: {}}}
        served = serve(settings, plugins=(Registers(provider),), **options)
        instance = served.runtime.provider(provider.name)
        assert isinstance(instance, Tooly)
        return served, instance

    return start


def post(served: Served, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{served.url}/v1/chat/completions", json=body, timeout=10)


def stream_chunks(served: Served, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The chunks of a streamed completion (``[DONE]`` checked and left out)."""
    with httpx.stream(
        "POST", f"{served.url}/v1/chat/completions", json={**body, "stream": True}, timeout=10
    ) as response:
        assert response.status_code == 200
        frames = response.read().decode().split("\n\n")
    assert frames[-2:] == ["data: [DONE]", ""]
    return [json.loads(frame.removeprefix("data: ")) for frame in frames[:-2]]


@pytest.fixture
def sdk() -> Iterator[Callable[[Served], Any]]:
    """``sdk(served)``: the official client pointed at ``served``, closed after the test."""
    clients: list[Any] = []

    def make(served: Served) -> Any:
        client = openai.OpenAI(base_url=f"{served.url}/v1", api_key="x", max_retries=0, timeout=10)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# What the client gets ----------------------------------------------------------------------


def test_calls_come_back_as_tool_calls_with_null_content(served_tools: Any) -> None:
    served, provider = served_tools()
    provider.queue(calls(PARIS, ROME))
    body = {
        "model": MODEL,
        "messages": [ASK],
        "tools": [WEATHER],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
    }
    answer = post(served, body).json()
    assert answer["choices"] == [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {
                        "id": "call_paris",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "call_rome",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                    },
                ],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ]
    assert answer["usage"] == {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}
    [request] = provider.requests
    assert request.tools == (WEATHER_SPEC,)
    assert request.messages == (ChatMessage("user", "Weather in Paris and Rome?"),)


def test_text_before_the_calls_is_the_content(served_tools: Any) -> None:
    served, provider = served_tools()
    provider.queue(calls(PARIS, text="Let me look."))
    message = post(served, {"model": MODEL, "messages": [ASK], "tools": [WEATHER]}).json()[
        "choices"
    ][0]["message"]
    assert message["content"] == "Let me look."
    assert [call["id"] for call in message["tool_calls"]] == ["call_paris"]


def test_streamed_calls_are_one_chunk_each_then_finish_reason_tool_calls(
    served_tools: Any,
) -> None:
    served, provider = served_tools()
    provider.queue(calls(PARIS, ROME))
    chunks = stream_chunks(served, {"model": MODEL, "messages": [ASK], "tools": [WEATHER]})
    assert [chunk["choices"][0]["delta"] for chunk in chunks] == [
        {
            "role": "assistant",
            "content": None,
            "refusal": None,
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_paris",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {
            "tool_calls": [
                {
                    "index": 1,
                    "id": "call_rome",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                }
            ]
        },
        {},
    ]
    assert [chunk["choices"][0]["finish_reason"] for chunk in chunks] == [
        None,
        None,
        "tool_calls",
    ]
    assert len({chunk["id"] for chunk in chunks}) == 1


def test_streamed_text_comes_first_then_the_calls(served_tools: Any) -> None:
    served, provider = served_tools()
    provider.queue(calls(PARIS, text="Let me look."))
    chunks = stream_chunks(served, {"model": MODEL, "messages": [ASK], "tools": [WEATHER]})
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks]
    assert deltas[:2] == [
        {"role": "assistant", "content": "", "refusal": None},
        {"content": "Let me look."},
    ]
    assert deltas[2]["tool_calls"][0]["index"] == 0
    assert deltas[2]["tool_calls"][0]["id"] == "call_paris"
    assert "role" not in deltas[2]
    assert deltas[3] == {}
    assert chunks[3]["choices"][0]["finish_reason"] == "tool_calls"


# What the provider gets ---------------------------------------------------------------------


def test_the_tool_results_go_on_to_the_provider_as_the_engines_history(
    served_tools: Any,
) -> None:
    served, provider = served_tools()
    provider.queue(says("Paris 18C, Rome 24C."))
    body = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Be brief."},
            ASK,
            {
                "role": "assistant",
                "content": "Let me look.",
                "tool_calls": [
                    {
                        "id": "call_paris",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "call_rome",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                    },
                ],
            },
            # Answered out of order: the provider gets them in the calls' order.
            {"role": "tool", "tool_call_id": "call_rome", "content": "24C"},
            {
                "role": "tool",
                "tool_call_id": "call_paris",
                "content": [{"type": "text", "text": "18C"}],
            },
        ],
        "tools": [WEATHER],
    }
    answer = post(served, body).json()
    assert answer["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Paris 18C, Rome 24C.",
        "refusal": None,
    }
    assert answer["choices"][0]["finish_reason"] == "stop"
    [request] = provider.requests
    assert request.system == "Be brief."
    assert request.tools == (WEATHER_SPEC,)
    assert request.messages == (
        ChatMessage("user", "Weather in Paris and Rome?"),
        ChatMessage("assistant", "Let me look.", tool_calls=(PARIS, ROME)),
        ChatMessage(
            "tool",
            "",
            tool_results=(
                ToolResult("call_paris", "get_weather", "18C"),
                ToolResult("call_rome", "get_weather", "24C"),
            ),
        ),
    )


def test_earlier_rounds_and_the_reply_after_them_are_sent_back_before_a_new_prompt(
    served_tools: Any,
) -> None:
    served, provider = served_tools()
    provider.queue(says("You are welcome."))

    def asked(call: ToolCall, content: str | None) -> dict[str, Any]:
        function = {"name": call.name, "arguments": call.arguments}
        return {
            "role": "assistant",
            "content": content,
            "tool_calls": [{"id": call.id, "type": "function", "function": function}],
        }

    body = {
        "model": MODEL,
        "messages": [
            ASK,
            asked(PARIS, None),
            {"role": "tool", "tool_call_id": "call_paris", "content": "18C"},
            asked(ROME, "Now Rome."),
            {"role": "tool", "tool_call_id": "call_rome", "content": "24C"},
            {"role": "assistant", "content": "Paris 18C, Rome 24C."},
            {"role": "user", "content": "Thanks!"},
        ],
        "tools": [WEATHER],
    }
    assert post(served, body).status_code == 200
    assert provider.requests[0].messages == (
        ChatMessage("user", "Weather in Paris and Rome?"),
        ChatMessage("assistant", "", tool_calls=(PARIS,)),
        ChatMessage("tool", "", tool_results=(ToolResult("call_paris", "get_weather", "18C"),)),
        ChatMessage("assistant", "Now Rome.", tool_calls=(ROME,)),
        ChatMessage("tool", "", tool_results=(ToolResult("call_rome", "get_weather", "24C"),)),
        ChatMessage("assistant", "Paris 18C, Rome 24C."),
        ChatMessage("user", "Thanks!"),
    )


def test_a_saved_conversation_keeps_the_calls_in_one_reply(served_tools: Any) -> None:
    served, provider = served_tools(save=True)
    provider.queue(says("18C."))
    body = {
        "model": MODEL,
        "messages": [
            ASK,
            {
                "role": "assistant",
                "content": "Looking.",
                "tool_calls": [
                    {
                        "id": "call_paris",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_paris", "content": "18C"},
        ],
        "tools": [WEATHER],
    }
    assert post(served, body).status_code == 200
    store = served.runtime.store
    [conversation] = store.list_conversations()
    stored = store.messages(conversation.id)
    assert [(m.role, m.content, m.status) for m in stored] == [
        ("user", "Weather in Paris and Rome?", "complete"),
        ("assistant", "Looking.", "complete"),
        ("assistant", "18C.", "complete"),
    ]
    assert stored[1].meta == {
        "rounds": [
            {
                "content": "Looking.",
                "calls": [
                    {
                        "id": "call_paris",
                        "name": "get_weather",
                        "arguments": '{"city": "Paris"}',
                        "tool": "get_weather",
                        "server": "",
                        "status": "ok",
                        "result": "18C",
                    }
                ],
            }
        ],
        "tail_start": len("Looking."),
    }


# The official SDK's tool-calling example ------------------------------------------------------


def get_weather(city: str) -> str:
    return {"Paris": "18C"}.get(city, "unknown")


def test_the_openai_sdks_tool_calling_example_works(served_tools: Any, sdk: Any) -> None:
    served, provider = served_tools()
    provider.queue(calls(PARIS), says("It is 18C in Paris."))
    client = sdk(served)
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    completion = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert completion.choices[0].finish_reason == "tool_calls"
    message = completion.choices[0].message
    messages.append(message)  # as the SDK's example does: the message object itself
    for tool_call in message.tool_calls:
        result = get_weather(**json.loads(tool_call.function.arguments))
        messages.append({"role": "tool", "tool_call_id": tool_call.id, "content": result})
    final = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert final.choices[0].message.content == "It is 18C in Paris."
    assert final.choices[0].finish_reason == "stop"
    assert provider.requests[1].messages[1:] == (
        ChatMessage("assistant", "", tool_calls=(PARIS,)),
        ChatMessage("tool", "", tool_results=(ToolResult("call_paris", "get_weather", "18C"),)),
    )


def test_the_sdk_assembles_streamed_calls(served_tools: Any, sdk: Any) -> None:
    served, provider = served_tools()
    provider.queue(calls(PARIS, ROME))
    stream = sdk(served).chat.completions.create(
        model=MODEL, messages=[ASK], tools=[WEATHER], stream=True
    )
    found: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in stream:
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for part in choice.delta.tool_calls or []:
            entry = found.setdefault(part.index, {"id": "", "name": "", "arguments": ""})
            entry["id"] += part.id or ""
            entry["name"] += part.function.name or ""
            entry["arguments"] += part.function.arguments or ""
    assert finish == "tool_calls"
    assert [ToolCall(**found[i]) for i in sorted(found)] == [PARIS, ROME]


# Gemini's thought signatures ----------------------------------------------------------------

SIGNED_PARTS = [
    {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
        "thoughtSignature": "c2lnLTE=",
    },
    {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}},
]


def test_a_gemini_calls_thought_signature_goes_out_in_extra_content(served_tools: Any) -> None:
    served, provider = served_tools(ScriptedGemini)
    provider.queue(calls(PARIS, ROME, native=SIGNED_PARTS))
    body = {"model": "gemini/fake-model", "messages": [ASK], "tools": [WEATHER]}
    tool_calls = post(served, body).json()["choices"][0]["message"]["tool_calls"]
    assert tool_calls[0]["extra_content"] == {"google": {"thought_signature": "c2lnLTE="}}
    assert "extra_content" not in tool_calls[1]  # only the first of parallel calls has one

    provider.queue(calls(PARIS, ROME, native=SIGNED_PARTS))
    chunks = stream_chunks(served, body)
    first = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert first["extra_content"] == {"google": {"thought_signature": "c2lnLTE="}}


def test_a_thought_signature_sent_back_rebuilds_the_gemini_reply(
    served_tools: Any, sdk: Any
) -> None:
    served, provider = served_tools(ScriptedGemini)
    provider.queue(calls(PARIS, native=SIGNED_PARTS[:1]), says("18C."))
    client = sdk(served)
    messages: list[Any] = [ASK]
    first = client.chat.completions.create(
        model="gemini/fake-model", messages=messages, tools=[WEATHER]
    )
    messages.append(first.choices[0].message)  # the SDK keeps extra_content
    messages.append({"role": "tool", "tool_call_id": "call_paris", "content": "18C"})
    client.chat.completions.create(model="gemini/fake-model", messages=messages, tools=[WEATHER])
    assistant = provider.requests[1].messages[1]
    assert assistant.tool_calls == (PARIS,)
    assert assistant.native == Native("gemini", SIGNED_PARTS[:1])


def test_signatures_are_not_sent_to_other_providers(served_tools: Any) -> None:
    served, provider = served_tools()
    provider.queue(says("18C."), calls(PARIS, native=SIGNED_PARTS[:1]))
    call = {
        "id": "call_paris",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        "extra_content": {"google": {"thought_signature": "c2lnLTE="}},
    }
    body = {
        "model": MODEL,
        "messages": [
            ASK,
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_paris", "content": "18C"},
        ],
        "tools": [WEATHER],
    }
    assert post(served, body).status_code == 200
    assert provider.requests[0].messages[1].native is None
    # Another plugin's native form is its own business: none of it reaches the client.
    tool_calls = post(served, {**body, "messages": [ASK]}).json()["choices"][0]["message"]
    assert "extra_content" not in tool_calls["tool_calls"][0]


# Replies sent back as they came ---------------------------------------------------------------

THOUGHT = [
    {"type": "thinking", "thinking": "The user wants Paris.", "signature": "RXFRQkNn+/=="},
    {"type": "tool_use", "id": "call_paris", "name": "get_weather", "input": {"city": "Paris"}},
]


def test_a_reply_that_comes_back_goes_to_its_provider_as_it_came(
    served_tools: Any, sdk: Any
) -> None:
    served, provider = served_tools()
    provider.queue(calls(PARIS, native=THOUGHT), says("18C."))
    client = sdk(served)
    messages: list[Any] = [ASK]
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert "extra_content" not in first.choices[0].message.tool_calls[0].model_dump()
    messages.append(first.choices[0].message)
    messages.append({"role": "tool", "tool_call_id": "call_paris", "content": "18C"})
    client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert provider.requests[1].messages[1].native == Native("tooly", THOUGHT)


def test_a_reply_changed_by_the_client_is_rebuilt_from_what_it_sent(served_tools: Any) -> None:
    served, provider = served_tools()
    provider.queue(calls(PARIS, native=THOUGHT), says("18C."))
    assert post(served, {"model": MODEL, "messages": [ASK], "tools": [WEATHER]}).status_code == 200
    changed = {
        "id": "call_paris",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Lyon"}'},
    }
    body = {
        "model": MODEL,
        "messages": [
            ASK,
            {"role": "assistant", "content": None, "tool_calls": [changed]},
            {"role": "tool", "tool_call_id": "call_paris", "content": "18C"},
        ],
        "tools": [WEATHER],
    }
    assert post(served, body).status_code == 200
    assert provider.requests[1].messages[1].native is None


# Refusals -------------------------------------------------------------------------------------

CALL = {
    "id": "call_paris",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


@pytest.mark.parametrize(
    ("changes", "param", "words"),
    [
        ({"tool_choice": "required"}, "tool_choice", "'required' is not supported"),
        ({"tool_choice": "none"}, "tool_choice", "'none' is not supported"),
        (
            {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
            "tool_choice",
            "a named function ('get_weather')",
        ),
        ({"tools": [{"type": "custom", "custom": {"name": "x"}}]}, "tools[0]", "custom tool"),
        ({"tools": [WEATHER, WEATHER]}, "tools", "Two tools are named 'get_weather'"),
        (
            {"tools": [{"type": "function", "function": {"name": "get weather"}}]},
            "tools[0].function.name",
            "letters, digits",
        ),
        ({"functions": [WEATHER["function"]]}, "functions", "use 'tools'"),
        ({"parallel_tool_calls": "yes"}, "parallel_tool_calls", "true or false"),
        (
            {"messages": [ASK, {"role": "assistant", "content": None, "tool_calls": [CALL]}, ASK]},
            "messages[1]",
            "no tool message answers it",
        ),
        (
            {"messages": [ASK, {"role": "tool", "tool_call_id": "call_paris", "content": "18C"}]},
            "messages[1].tool_call_id",
            "did not make",
        ),
        (
            {
                "messages": [
                    ASK,
                    {"role": "assistant", "content": None, "tool_calls": [CALL]},
                    {"role": "tool", "tool_call_id": "call_paris", "content": "18C"},
                    {"role": "tool", "tool_call_id": "call_paris", "content": "18C"},
                ]
            },
            "messages[3].tool_call_id",
            "a second time",
        ),
        (
            {"messages": [{"role": "user", "content": "x", "tool_calls": [CALL]}]},
            "messages[0]",
            "cannot have tool_calls",
        ),
        (
            {
                "messages": [
                    ASK,
                    {"role": "assistant", "content": None, "tool_calls": [{**CALL, "id": ""}]},
                ]
            },
            "messages[1].tool_calls[0].id",
            "the call's id",
        ),
    ],
)
def test_what_cannot_be_carried_is_a_400_naming_it(
    served_tools: Any, changes: dict[str, Any], param: str, words: str
) -> None:
    served, provider = served_tools()
    response = post(served, {"model": MODEL, "messages": [ASK], "tools": [WEATHER], **changes})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert words in error["message"]
    assert provider.requests == []


def test_tool_choice_none_without_tools_is_taken_as_it_is(served_tools: Any) -> None:
    served, provider = served_tools()
    provider.queue(says("Hello."))
    response = post(served, {"model": MODEL, "messages": [ASK], "tool_choice": "none"})
    assert response.json()["choices"][0]["message"]["content"] == "Hello."
    assert provider.requests[0].tools == ()


def test_a_provider_without_tool_calling_refuses_tool_results_too(serve: ServeFactory) -> None:
    served = serve()
    body = {
        "model": "demo/demo",
        "messages": [
            ASK,
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
            {"role": "tool", "tool_call_id": "call_paris", "content": "18C"},
        ],
    }
    response = post(served, body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "The plugin of provider 'demo' does not support tool calling; send the request "
        "without tools, tool calls and tool messages."
    )
