"""Tools in OpenAI's Chat Completions shapes: what a request offers and sends back, and
how the model's calls are written in a response.

tuichat serve offers the client's tools to the model and hands the calls back to the
client, which runs them and sends their results (``role: "tool"``); any provider whose
plugin supports tools gets them in its own API's shape. What cannot be carried is
refused with a 400 naming it: a ``tool_choice`` other than ``auto`` (the engine lets the
model choose; ``none`` is taken when no tools are offered), tools that are not
functions, the deprecated ``functions``. A
function's ``strict`` flag is accepted but not enforced.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

from tuichat.protocol import ToolCall, ToolSpec
from tuichat.serve.errors import ApiError
from tuichat.serve.exchange import TurnMessage
from tuichat.serve.signatures import Signature

__all__ = [
    "check_answers",
    "parse_tool_calls",
    "parse_tools",
    "tool_call_delta",
    "tool_call_json",
]

#: The characters OpenAI allows in a function's name (at most 64 of them).
_NAME_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_-")

#: The arguments' schema of a function that declares none: no arguments.
_NO_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}


def _bad(message: str, param: str) -> ApiError:
    return ApiError(400, "invalid_request", message, param=param)


def _valid_name(name: Any) -> bool:
    return isinstance(name, str) and 0 < len(name) <= 64 and set(name) <= _NAME_CHARACTERS


def parse_tools(body: dict[str, Any]) -> tuple[ToolSpec, ...]:
    """The request's ``tools`` (with its ``tool_choice`` and ``parallel_tool_calls``
    checked).

    Raises:
        ApiError: 400 naming the field that cannot be taken.
    """
    if body.get("functions") is not None or body.get("function_call") is not None:
        param = "functions" if body.get("functions") is not None else "function_call"
        raise _bad(f"'{param}' is deprecated and not supported; use 'tools'.", param)
    raw = body.get("tools")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise _bad("'tools' must be a list of function tools.", "tools")
    tools: list[ToolSpec] = []
    for index, tool in enumerate(raw):
        tools.append(_tool(tool, f"tools[{index}]"))
    names = [tool.name for tool in tools]
    for name in names:
        if names.count(name) > 1:
            raise _bad(f"Two tools are named {name!r}; tool names must be unique.", "tools")
    _check_choice(body.get("tool_choice"), offered=bool(tools))
    parallel = body.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        raise _bad("'parallel_tool_calls' must be true or false.", "parallel_tool_calls")
    return tuple(tools)


def _tool(tool: Any, where: str) -> ToolSpec:
    if not isinstance(tool, dict) or tool.get("type") != "function":
        kind = tool.get("type") if isinstance(tool, dict) else type(tool).__name__
        raise _bad(f"{where} is a {kind!s} tool; tuichat serve takes function tools only.", where)
    function = tool.get("function")
    if not isinstance(function, dict):
        raise _bad(f"{where}.function must be an object with a name.", f"{where}.function")
    name = function.get("name")
    if not _valid_name(name):
        raise _bad(
            f"{where}.function.name must be 1 to 64 letters, digits, underscores or dashes.",
            f"{where}.function.name",
        )
    description = function.get("description")
    if description is not None and not isinstance(description, str):
        raise _bad(f"{where}.function.description must be a string.", f"{where}.function")
    parameters = function.get("parameters")
    if parameters is None:
        parameters = _NO_PARAMETERS
    if not isinstance(parameters, dict):
        raise _bad(
            f"{where}.function.parameters must be a JSON Schema object.",
            f"{where}.function.parameters",
        )
    return ToolSpec(str(name), description or "", parameters)


def _check_choice(choice: Any, *, offered: bool) -> None:
    # "none" holds as it is when no tool is offered; with tools, the engine cannot keep
    # the model from calling them.
    if choice is None or choice == "auto" or (choice == "none" and not offered):
        return
    if isinstance(choice, dict):
        function = choice.get("function")
        named = function.get("name") if isinstance(function, dict) else None
        what = f"a named function ({named!r})" if named else "an object"
    else:
        what = repr(choice)
    raise _bad(
        f"'tool_choice' {what} is not supported: tuichat serve lets the model choose "
        "whether to call tools ('auto').",
        "tool_choice",
    )


def parse_tool_calls(raw: Any, where: str) -> tuple[tuple[ToolCall, ...], tuple[Signature, ...]]:
    """An assistant message's ``tool_calls``, and each call's thought signature
    (``extra_content.google.thought_signature``, as Google's OpenAI-compatible API has it).

    Raises:
        ApiError: 400 naming the call that cannot be read.
    """
    param = f"{where}.tool_calls"
    if not isinstance(raw, list):
        raise _bad(f"{param} must be a list of function calls.", param)
    calls: list[ToolCall] = []
    signatures: list[Signature] = []
    for index, entry in enumerate(raw):
        at = f"{param}[{index}]"
        function = entry.get("function") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or entry.get("type", "function") != "function":
            raise _bad(f"{at} must be a function call.", at)
        call_id = entry.get("id")
        if not isinstance(call_id, str) or not call_id:
            raise _bad(f"{at}.id must be the call's id.", f"{at}.id")
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise _bad(f"{at}.function must be an object with a name.", f"{at}.function")
        arguments = function.get("arguments")
        if arguments is None:
            arguments = "{}"
        if not isinstance(arguments, str):
            raise _bad(f"{at}.function.arguments must be a string of JSON.", at)
        calls.append(ToolCall(call_id, function["name"], arguments))
        signatures.append(_signature_in(entry))
    ids = [call.id for call in calls]
    for call_id in ids:
        if ids.count(call_id) > 1:
            raise _bad(f"{param} has two calls with the id {call_id!r}.", param)
    return tuple(calls), tuple(signatures)


def _signature_in(entry: dict[str, Any]) -> Signature:
    extra = entry.get("extra_content")
    google = extra.get("google") if isinstance(extra, dict) else None
    found = google.get("thought_signature") if isinstance(google, dict) else None
    return found if isinstance(found, str) and found else None


def check_answers(messages: Sequence[TurnMessage]) -> None:
    """Each ``tool`` message answers a call of the assistant message before it (other
    tool messages between), and every call is answered before the conversation goes on.

    Raises:
        ApiError: 400 naming the message at fault (its index in ``messages``).
    """
    waiting: dict[str, bool] = {}  # the last calls' ids: answered yet?
    asked_at = 0
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if message.role == "tool":
            if message.tool_call_id not in waiting:
                raise _bad(
                    f"{where} answers the call {message.tool_call_id!r}, which the assistant "
                    "message before it did not make.",
                    f"{where}.tool_call_id",
                )
            if waiting[message.tool_call_id]:
                raise _bad(
                    f"{where} answers the call {message.tool_call_id!r} a second time.",
                    f"{where}.tool_call_id",
                )
            waiting[message.tool_call_id] = True
            continue
        _all_answered(waiting, asked_at)
        waiting = {call.id: False for call in message.tool_calls}
        asked_at = index
    _all_answered(waiting, asked_at)


def _all_answered(waiting: dict[str, bool], asked_at: int) -> None:
    unanswered = [call_id for call_id, answered in waiting.items() if not answered]
    if unanswered:
        raise _bad(
            f"messages[{asked_at}] calls {unanswered[0]!r}, and no tool message answers it "
            "(each call needs a message with role 'tool' and its tool_call_id).",
            f"messages[{asked_at}]",
        )


def tool_call_json(call: ToolCall, signature: Signature) -> dict[str, Any]:
    """A call as ``message.tool_calls[i]`` of a ``chat.completion``."""
    found: dict[str, Any] = {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }
    if signature:
        found["extra_content"] = {"google": {"thought_signature": signature}}
    return found


def tool_call_delta(index: int, call: ToolCall, signature: Signature) -> dict[str, Any]:
    """A whole call as one ``delta.tool_calls`` entry of a chunk (the engine hands over
    complete calls, so its arguments need no further chunks)."""
    return {"index": index, **tool_call_json(call, signature)}
