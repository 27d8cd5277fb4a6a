"""Builders for the exact streaming wire formats of the providers tuichat speaks.

Each ``*_stream`` function returns a list of SSE frames (bytes), ready for
:func:`~tuichat.testing.sse.sse_response`. They follow the providers' documented
formats:

* OpenAI Chat Completions (``stream: true`` with ``stream_options.include_usage``):
  ``data:``-only frames of ``chat.completion.chunk`` objects, then ``data: [DONE]``.
* Anthropic Messages: named events (``event: message_start`` ...) whose data carries a
  matching ``"type"``.
* Gemini ``streamGenerateContent?alt=sse``: ``data:``-only frames of
  ``GenerateContentResponse`` objects, CRLF line endings, no terminator.

Replies that ask for tools: :func:`openai_tool_stream` (``delta.tool_calls`` pieces by
``index``), ``anthropic_stream(..., tool_uses=...)`` (``tool_use`` blocks with
``input_json_delta`` pieces) and :func:`gemini_function_call_stream` (whole
``functionCall`` parts). A call is scripted as ``(id, name, pieces)``: its arguments'
JSON text in the pieces the server sends (Gemini sends the object whole, parsed from
the joined pieces).

The error builders return complete :class:`~tuichat.testing.Response` objects with each
provider's documented error body.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tuichat.testing.server import Response
from tuichat.testing.sse import json_response, sse_event

__all__ = [
    "CREATED",
    "ScriptedCall",
    "anthropic_error",
    "anthropic_error_event",
    "anthropic_stream",
    "gemini_error",
    "gemini_function_call_stream",
    "gemini_stream",
    "openai_chat_stream",
    "openai_error",
    "openai_error_event",
    "openai_tool_stream",
]

ScriptedCall = tuple[str, str, Sequence[str]]
"""A tool call a scripted server asks for: ``(id, name, argument pieces)``; the pieces
joined are the JSON text of its arguments."""

CREATED = 1_700_000_000
"""The fixed ``created`` timestamp of generated OpenAI chunks (for stable snapshots)."""


# OpenAI ---------------------------------------------------------------------------------


def _openai_end(*, id: str, model: str, usage: tuple[int, int] | None, done: bool) -> list[bytes]:
    """What ends an OpenAI stream: the usage chunk (no choices) when asked, then [DONE]."""
    frames: list[bytes] = []
    if usage is not None:
        prompt, completion = usage
        frames.append(
            sse_event(
                {
                    "id": id,
                    "object": "chat.completion.chunk",
                    "created": CREATED,
                    "model": model,
                    "system_fingerprint": "fp_test",
                    "choices": [],
                    "usage": {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                    },
                }
            )
        )
    if done:
        frames.append(sse_event("[DONE]"))
    return frames


def openai_chat_stream(
    deltas: Sequence[str],
    *,
    model: str = "gpt-4o-mini",
    finish_reason: str | None = "stop",
    usage: tuple[int, int] | None = (10, 20),
    reasoning: Sequence[str] = (),
    done: bool = True,
    id: str = "chatcmpl-test",
) -> list[bytes]:
    """An OpenAI Chat Completions stream.

    Frames: a first chunk with ``delta: {"role": "assistant", "content": ""}``; one chunk
    per reasoning piece (``delta.reasoning_content``, with ``content: null``, as
    DeepSeek and vLLM send it); one chunk per text delta (``delta.content``); a chunk
    with an empty delta and ``finish_reason``; if ``usage``, a chunk with ``choices: []``
    and ``usage`` (earlier chunks then carry ``"usage": null``, as with
    ``stream_options.include_usage``); then ``data: [DONE]`` if ``done``.

    Args:
        deltas: The text pieces.
        model: The ``model`` field.
        finish_reason: ``"stop"``, ``"length"``, ...; ``None`` leaves out the final chunk.
        usage: ``(prompt_tokens, completion_tokens)``, or ``None`` for no usage chunk.
        reasoning: Reasoning pieces, sent before the text.
        done: End with ``data: [DONE]``.
        id: The ``id`` field, the same in every chunk.

    Returns:
        The SSE frames.
    """

    def chunk(choices: list[dict[str, Any]]) -> bytes:
        body: dict[str, Any] = {
            "id": id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": "fp_test",
            "choices": choices,
        }
        if usage is not None:
            body["usage"] = None
        return sse_event(body)

    def choice(delta: dict[str, Any], finish: str | None = None) -> list[dict[str, Any]]:
        return [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]

    frames = [chunk(choice({"role": "assistant", "content": "", "refusal": None}))]
    frames += [chunk(choice({"content": None, "reasoning_content": r})) for r in reasoning]
    frames += [chunk(choice({"content": text})) for text in deltas]
    if finish_reason is not None:
        frames.append(chunk(choice({}, finish_reason)))
    return frames + _openai_end(id=id, model=model, usage=usage, done=done)


def openai_tool_stream(
    calls: Sequence[ScriptedCall],
    *,
    text: Sequence[str] = (),
    model: str = "gpt-4o-mini",
    finish_reason: str | None = "tool_calls",
    usage: tuple[int, int] | None = (10, 20),
    interleave: bool = False,
    done: bool = True,
    id: str = "chatcmpl-test",
) -> list[bytes]:
    """An OpenAI Chat Completions stream whose reply asks for tools.

    As the streaming reference shows it: a first chunk with the role; one chunk per text
    piece; for each call a first ``delta.tool_calls`` element with its ``index``, ``id``,
    ``type`` and ``function.name`` (``arguments: ""``), then one element per argument
    piece with the ``index`` and ``function.arguments`` only; a chunk with an empty delta
    and ``finish_reason``; the usage chunk; ``data: [DONE]``.

    Args:
        calls: The calls, ``(id, name, argument pieces)``; their place is their index.
        text: Text pieces sent before the calls.
        model: The ``model`` field.
        finish_reason: ``tool_calls`` (or what a lenient server says); ``None`` leaves
            out the final chunk.
        usage: ``(prompt_tokens, completion_tokens)``, or ``None`` for no usage chunk.
        interleave: Send the calls' pieces in turn (all first elements, then the first
            piece of each call, then the second...), as parallel calls may arrive.
        done: End with ``data: [DONE]``.
        id: The ``id`` field of every chunk.

    Returns:
        The SSE frames.
    """

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        body: dict[str, Any] = {
            "id": id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": "fp_test",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if usage is not None:
            body["usage"] = None
        return sse_event(body)

    def opening(index: int, call: ScriptedCall) -> dict[str, Any]:
        call_id, name, _pieces = call
        function = {"name": name, "arguments": ""}
        return {"index": index, "id": call_id, "type": "function", "function": function}

    def piece(index: int, arguments: str) -> dict[str, Any]:
        return {"index": index, "function": {"arguments": arguments}}

    frames = [chunk({"role": "assistant", "content": None if not text else "", "refusal": None})]
    frames += [chunk({"content": t}) for t in text]
    elements: list[dict[str, Any]] = []
    if interleave:
        elements += [opening(i, call) for i, call in enumerate(calls)]
        longest = max((len(call[2]) for call in calls), default=0)
        for step in range(longest):
            elements += [
                piece(i, call[2][step]) for i, call in enumerate(calls) if step < len(call[2])
            ]
    else:
        for i, call in enumerate(calls):
            elements.append(opening(i, call))
            elements += [piece(i, p) for p in call[2]]
    frames += [chunk({"tool_calls": [element]}) for element in elements]
    if finish_reason is not None:
        frames.append(chunk({}, finish_reason))
    return frames + _openai_end(id=id, model=model, usage=usage, done=done)


def openai_error(
    status: int,
    message: str,
    type_: str = "invalid_request_error",
    code: str | None = None,
    *,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An OpenAI error response: ``{"error": {"message", "type", "param", "code"}}``.

    Args:
        status: The HTTP status (401, 429, 500, ...).
        message: The error message.
        type_: The error type (``invalid_request_error``, ``insufficient_quota``, ...).
        code: The error code (``invalid_api_key``, ``rate_limit_exceeded``, ...).
        param: The offending parameter, if any.
        headers: Extra headers, e.g. ``{"retry-after": "2"}``.

    Returns:
        The response.
    """
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return json_response(body, status, headers)


def openai_error_event(message: str, type_: str = "server_error", code: str | None = None) -> bytes:
    """An error sent inside an OpenAI stream: ``data: {"error": {...}}``.

    Args:
        message: The error message.
        type_: The error type.
        code: The error code.

    Returns:
        The SSE frame.
    """
    return sse_event({"error": {"message": message, "type": type_, "param": None, "code": code}})


# Anthropic ------------------------------------------------------------------------------


def _anthropic(data: dict[str, Any]) -> bytes:
    return sse_event(data, event=data["type"])


def anthropic_stream(
    deltas: Sequence[str],
    *,
    model: str = "claude-sonnet-4-5",
    stop_reason: str | None = "end_turn",
    usage: tuple[int, int] | None = (10, 20),
    thinking: Sequence[str] = (),
    ping: bool = True,
    id: str = "msg_test",
    signature: str = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds",
    cache_read: int = 0,
    cache_write: int = 0,
    full_delta_usage: bool = False,
    redacted_thinking: Sequence[str] = (),
    tool_uses: Sequence[ScriptedCall] = (),
) -> list[bytes]:
    """An Anthropic Messages stream.

    Events: ``message_start`` (a message with empty ``content`` and ``usage``
    ``{input_tokens, output_tokens: 1}``); if ``thinking``, a thinking block at index 0
    (``content_block_start``, one ``thinking_delta`` per piece, a ``signature_delta``,
    ``content_block_stop``); a ``redacted_thinking`` block per ``redacted_thinking``
    value (its ``data`` whole in ``content_block_start``); the text block
    (``content_block_start`` with ``text: ""``, one ``text_delta`` per piece,
    ``content_block_stop``; left out when there are ``tool_uses`` and no text); a
    ``tool_use`` block per call (``content_block_start`` with ``id``, ``name`` and
    ``input: {}``, one ``input_json_delta`` per argument piece, ``content_block_stop``);
    ``message_delta`` (the ``stop_reason`` and the cumulative ``usage.output_tokens``);
    ``message_stop``. A ``ping`` follows the first ``content_block_start``, as in the
    documented example.

    Args:
        deltas: The text pieces.
        model: The model in ``message_start``.
        stop_reason: ``end_turn``, ``max_tokens``, ...; ``None`` ends the stream after
            the content blocks (no ``message_delta`` nor ``message_stop``).
        usage: ``(input_tokens, output_tokens)``, or ``None`` for zeros.
        thinking: Extended-thinking pieces, in a block before the text.
        ping: Include a ``ping`` event.
        id: The message id.
        signature: The thinking block's signature.
        cache_read: ``cache_read_input_tokens`` of the prompt (``input_tokens`` counts
            only the tokens after the cache).
        cache_write: ``cache_creation_input_tokens``: the prompt's tokens written to
            the cache (not counted in ``input_tokens`` either).
        full_delta_usage: ``message_delta`` carries every cumulative count
            (``input_tokens``, ``cache_creation_input_tokens``,
            ``cache_read_input_tokens``, ``output_tokens``), as the current API's
            ``MessageDeltaUsage`` does, instead of ``output_tokens`` alone (the
            documented example).
        redacted_thinking: The ``data`` of redacted thinking blocks, after the thinking.
        tool_uses: Calls, ``(id, name, argument pieces)``, after the text; pass
            ``stop_reason="tool_use"`` with them.

    Returns:
        The SSE frames.
    """
    input_tokens, output_tokens = usage or (0, 0)
    frames = [
        _anthropic(
            {
                "type": "message_start",
                "message": {
                    "id": id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": input_tokens,
                        "cache_creation_input_tokens": cache_write,
                        "cache_read_input_tokens": cache_read,
                        "output_tokens": 1,
                    },
                },
            }
        )
    ]
    pinged = not ping

    def block(index: int, start: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
        nonlocal pinged
        frames.append(
            _anthropic({"type": "content_block_start", "index": index, "content_block": start})
        )
        if not pinged:
            frames.append(_anthropic({"type": "ping"}))
            pinged = True
        for delta in deltas:
            frames.append(
                _anthropic({"type": "content_block_delta", "index": index, "delta": delta})
            )
        frames.append(_anthropic({"type": "content_block_stop", "index": index}))

    index = 0
    if thinking:
        block(
            index,
            {"type": "thinking", "thinking": ""},
            [{"type": "thinking_delta", "thinking": t} for t in thinking]
            + [{"type": "signature_delta", "signature": signature}],
        )
        index += 1
    for data in redacted_thinking:
        block(index, {"type": "redacted_thinking", "data": data}, [])
        index += 1
    if deltas or not tool_uses:
        block(
            index,
            {"type": "text", "text": ""},
            [{"type": "text_delta", "text": text} for text in deltas],
        )
        index += 1
    for call_id, name, pieces in tool_uses:
        block(
            index,
            {"type": "tool_use", "id": call_id, "name": name, "input": {}},
            [{"type": "input_json_delta", "partial_json": piece} for piece in pieces],
        )
        index += 1
    if stop_reason is not None:
        delta_usage: dict[str, Any] = {"output_tokens": output_tokens}
        if full_delta_usage:
            delta_usage = {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cache_read,
                "output_tokens": output_tokens,
            }
        frames.append(
            _anthropic(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                    "usage": delta_usage,
                }
            )
        )
        frames.append(_anthropic({"type": "message_stop"}))
    return frames


def anthropic_error(
    status: int,
    type_: str,
    message: str,
    *,
    request_id: str = "req_test",
    headers: dict[str, str] | None = None,
) -> Response:
    """An Anthropic error response, with its ``request-id`` header.

    Body: ``{"type": "error", "error": {"type", "message"}, "request_id"}``.

    Args:
        status: The HTTP status (400, 401, 429, 529, ...).
        type_: The error type (``authentication_error``, ``rate_limit_error``,
            ``overloaded_error``, ...).
        message: The error message.
        request_id: The request id (body and ``request-id`` header).
        headers: Extra headers, e.g. ``{"retry-after": "2"}``.

    Returns:
        The response.
    """
    body = {
        "type": "error",
        "error": {"type": type_, "message": message},
        "request_id": request_id,
    }
    return json_response(body, status, {"request-id": request_id, **(headers or {})})


def anthropic_error_event(type_: str = "overloaded_error", message: str = "Overloaded") -> bytes:
    """An ``error`` event sent inside an Anthropic stream.

    Args:
        type_: The error type.
        message: The error message.

    Returns:
        The SSE frame.
    """
    return _anthropic({"type": "error", "error": {"type": type_, "message": message}})


# Gemini ---------------------------------------------------------------------------------


def gemini_stream(
    deltas: Sequence[str],
    *,
    model: str = "gemini-2.5-flash",
    finish_reason: str | None = "STOP",
    usage: tuple[int, int] | None = (10, 20),
    thoughts: Sequence[str] = (),
    crlf: bool = True,
    response_id: str = "resp-test",
    usage_every_frame: bool = False,
) -> list[bytes]:
    """A Gemini ``streamGenerateContent?alt=sse`` stream.

    One frame per piece: ``candidates[0].content`` is ``{"parts": [{"text": ...}],
    "role": "model"}`` (thought pieces first, with ``"thought": true``). The last frame
    also has ``finishReason`` and ``usageMetadata`` (``promptTokenCount``,
    ``candidatesTokenCount``, ``totalTokenCount``, and ``thoughtsTokenCount`` when there
    are thoughts). With no pieces at all, one frame with an empty text part carries
    them. There is no ``[DONE]``: the stream simply ends.

    Args:
        deltas: The text pieces.
        model: The ``modelVersion`` field.
        finish_reason: ``STOP``, ``MAX_TOKENS``, ``SAFETY``, ...; ``None`` for none.
        usage: ``(promptTokenCount, candidatesTokenCount)``, or ``None``.
        thoughts: Thought-summary pieces, sent before the text.
        crlf: End lines with CRLF, as Google's servers do.
        response_id: The ``responseId`` field.
        usage_every_frame: Give every frame a ``usageMetadata``, as Google's servers
            do: the earlier ones with the prompt's count only (``promptTokenCount``,
            ``totalTokenCount``), the last one complete. Needs ``usage``.

    Returns:
        The SSE frames.
    """
    parts: list[dict[str, Any]] = [{"text": t, "thought": True} for t in thoughts]
    parts += [{"text": text} for text in deltas]
    if not parts:
        parts = [{"text": ""}]
    frames = []
    for number, part in enumerate(parts, 1):
        candidate: dict[str, Any] = {"content": {"parts": [part], "role": "model"}, "index": 0}
        body: dict[str, Any] = {"candidates": [candidate]}
        if number == len(parts):
            if finish_reason is not None:
                candidate["finishReason"] = finish_reason
            if usage is not None:
                prompt, completion = usage
                thought_tokens = len(thoughts)
                meta = {
                    "promptTokenCount": prompt,
                    "candidatesTokenCount": completion,
                    "totalTokenCount": prompt + completion + thought_tokens,
                }
                if thought_tokens:
                    meta["thoughtsTokenCount"] = thought_tokens
                body["usageMetadata"] = meta
        elif usage_every_frame and usage is not None:
            body["usageMetadata"] = {"promptTokenCount": usage[0], "totalTokenCount": usage[0]}
        body["modelVersion"] = model
        body["responseId"] = response_id
        frames.append(sse_event(body, crlf=crlf))
    return frames


def gemini_function_call_stream(
    calls: Sequence[ScriptedCall | tuple[str | None, str, Sequence[str]]],
    *,
    text: Sequence[str] = (),
    thoughts: Sequence[str] = (),
    signature: str | None = None,
    trailing_signature: str | None = None,
    model: str = "gemini-2.5-flash",
    finish_reason: str | None = "STOP",
    usage: tuple[int, int] | None = (10, 20),
    crlf: bool = True,
    response_id: str = "resp-test",
) -> list[bytes]:
    """A Gemini ``streamGenerateContent?alt=sse`` stream whose reply calls functions.

    One frame per thought piece (``"thought": true``) and per text piece, then one frame
    with every ``functionCall`` part (``name``, ``args`` parsed from the joined pieces,
    ``id`` unless it is ``None``; arguments never stream in pieces), the first carrying
    ``thoughtSignature`` when ``signature`` is given (the thought signatures docs: of
    parallel calls, only the first has one), and the ``finishReason`` (Gemini says
    ``STOP``) with the ``usageMetadata``. With ``trailing_signature``, a last frame
    brings that signature on an empty text part, as a stream may.

    Args:
        calls: ``(id or None, name, argument pieces)``.
        text: Text pieces before the calls.
        thoughts: Thought-summary pieces before the text.
        signature: The ``thoughtSignature`` of the first call.
        trailing_signature: A signature sent alone at the end (empty text part).
        model: The ``modelVersion`` field.
        finish_reason: ``STOP``...; ``None`` for none.
        usage: ``(promptTokenCount, candidatesTokenCount)``, or ``None``.
        crlf: End lines with CRLF, as Google's servers do.
        response_id: The ``responseId`` field.

    Returns:
        The SSE frames.
    """

    def frame(parts: list[dict[str, Any]], last: bool = False) -> bytes:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        body: dict[str, Any] = {"candidates": [candidate]}
        if last:
            if finish_reason is not None:
                candidate["finishReason"] = finish_reason
            if usage is not None:
                prompt, completion = usage
                body["usageMetadata"] = {
                    "promptTokenCount": prompt,
                    "candidatesTokenCount": completion,
                    "totalTokenCount": prompt + completion,
                }
        body["modelVersion"] = model
        body["responseId"] = response_id
        return sse_event(body, crlf=crlf)

    frames = [frame([{"text": t, "thought": True}]) for t in thoughts]
    frames += [frame([{"text": t}]) for t in text]
    parts: list[dict[str, Any]] = []
    for number, (call_id, name, pieces) in enumerate(calls):
        function: dict[str, Any] = {"name": name, "args": json.loads("".join(pieces) or "{}")}
        if call_id is not None:
            function["id"] = call_id
        part: dict[str, Any] = {"functionCall": function}
        if number == 0 and signature is not None:
            part["thoughtSignature"] = signature
        parts.append(part)
    if trailing_signature is None:
        frames.append(frame(parts, last=True))
    else:
        frames.append(frame(parts))
        frames.append(frame([{"text": "", "thoughtSignature": trailing_signature}], last=True))
    return frames


def gemini_error(
    status: int,
    message: str,
    status_str: str = "INVALID_ARGUMENT",
    retry_delay: str | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> Response:
    """A Gemini (Google API) error response.

    Body: ``{"error": {"code", "message", "status", "details"?}}``; with ``retry_delay``,
    ``details`` holds a ``google.rpc.RetryInfo`` (``"retryDelay": "7s"``).

    Args:
        status: The HTTP status (400, 403, 429, 503, ...).
        message: The error message.
        status_str: The canonical status (``RESOURCE_EXHAUSTED``, ``UNAVAILABLE``, ...).
        retry_delay: A duration such as ``"7s"``.
        headers: Extra headers.

    Returns:
        The response.
    """
    error: dict[str, Any] = {"code": status, "message": message, "status": status_str}
    if retry_delay is not None:
        error["details"] = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
        ]
    return json_response({"error": error}, status, headers)
