"""OpenAI Chat Completions on top of tuichat's providers: request and response translation.

``POST /v1/chat/completions`` takes OpenAI's request body and answers in OpenAI's
exact shapes (``chat.completion`` or a stream of ``chat.completion.chunk`` objects
ending with ``data: [DONE]``), so any OpenAI client or SDK can reach Anthropic, Gemini
or any other configured provider. Models are named ``provider/model``
(``anthropic/claude-sonnet-4-5``); a bare model goes to the default provider.

Tools pass through (see :mod:`tuichat.serve.openai_tools`): the model's calls come back
as ``tool_calls`` for the client to run, and its ``role: "tool"`` results go on to the
provider in that API's own shape.

What does not translate is refused with a 400 rather than silently dropped: content
other than text, images and PDFs, a ``tool_choice`` other than ``auto``, ``n`` above 1,
JSON response formats. Sampling options tuichat does not carry (``top_p``, ``stop``,
``seed``...) are ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from tuichat import attachments, errors
from tuichat.attachments import Attachment
from tuichat.provider import ModelInfo
from tuichat.serve import openai_tools
from tuichat.serve.errors import ApiError
from tuichat.serve.exchange import ChatCall, MessageRole, Outcome, TurnMessage

__all__ = [
    "DONE",
    "ChunkWriter",
    "OpenAIRequest",
    "completion",
    "model_entry",
    "parse_request",
    "usage_object",
]

#: The frame that ends every OpenAI stream.
DONE = b"data: [DONE]\n\n"

_ROLES: dict[str, MessageRole] = {
    "system": "system",
    "developer": "system",  # OpenAI's newer name for system instructions
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
}


@dataclass(frozen=True, slots=True)
class OpenAIRequest:
    """A parsed ``/v1/chat/completions`` body."""

    call: ChatCall
    stream: bool = False
    include_usage: bool = False


def _bad(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, "invalid_request", message, param=param)


def content_of(content: Any, where: str) -> tuple[str, tuple[Attachment, ...]]:
    """A message's text and files from its ``content``: a string, null, or a list of
    OpenAI content parts (``text``; ``image_url`` with a ``data:`` URL; ``file`` with
    ``file_data`` as a ``data:`` URL and a ``filename``), files passed on to any provider
    in its own shape.

    Raises:
        ApiError: 400 naming the part that cannot be taken.
    """
    if content is None:
        return "", ()
    if isinstance(content, str):
        return content, ()
    if not isinstance(content, list):
        raise _bad(
            f"{where}.content must be a string or a list of content parts.", f"{where}.content"
        )
    param = f"{where}.content"
    texts: list[str] = []
    files: list[Attachment] = []
    for number, part in enumerate(content):
        at = f"{where}.content[{number}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            files.append(_file_from_data_url(url, f"image-{len(files) + 1}", at, param))
        elif kind == "file":
            file = part.get("file")
            if not isinstance(file, dict):
                raise _bad(f"{at}.file must be an object with file_data and filename.", param)
            name = file.get("filename") if isinstance(file.get("filename"), str) else None
            fallback = f"file-{len(files) + 1}"
            files.append(_file_from_data_url(file.get("file_data"), name or fallback, at, param))
        else:
            raise _bad(
                f"{at} is {kind or type(part).__name__!s} content; tuichat serve takes text, "
                "image_url and file parts.",
                f"{where}.content",
            )
    return "".join(texts), tuple(files)


def _file_from_data_url(url: Any, name: str, where: str, param: str) -> Attachment:
    """The file a ``data:<media type>;base64,<data>`` URL holds, its kind read from the
    bytes (a URL tuichat would have to fetch is refused: serve never reaches out)."""
    if not isinstance(url, str) or not url.startswith("data:"):
        raise _bad(
            f"{where} must carry its file as a data: URL (data:<type>;base64,...); tuichat "
            "serve does not fetch URLs.",
            param,
        )
    header, comma, payload = url.partition(",")
    if not comma or not header.endswith(";base64"):
        raise _bad(f"{where} must be a base64 data: URL (data:<type>;base64,...).", param)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(f"{where} holds data that is not valid base64.", param) from None
    try:
        return attachments.from_bytes(data, name)
    except errors.AttachmentError as exc:
        raise _bad(f"{where}: {exc}", param) from None


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _bad(f"'{name}' must be a number from {low:g} to {high:g}.", name)
    return float(value)


def _positive_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _bad(f"'{name}' must be a whole number above 0.", name)
    return value


def _message(raw: Any, where: str) -> TurnMessage:
    """One message of ``messages``."""
    if not isinstance(raw, dict):
        raise _bad(f"{where} must be an object with 'role' and 'content'.", where)
    role = _ROLES.get(str(raw.get("role")))
    if role is None:
        raise _bad(
            f"{where}.role {raw.get('role')!r} is not supported; use system, developer, "
            "user, assistant or tool.",
            f"{where}.role",
        )
    if raw.get("function_call") is not None:
        raise _bad(f"{where}.function_call is deprecated and not supported; use tool_calls.", where)
    text, files = content_of(raw.get("content"), where)
    if role == "tool":
        call_id = raw.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            raise _bad(
                f"{where} is a tool's result and needs the tool_call_id of the call it answers.",
                f"{where}.tool_call_id",
            )
        if files:
            raise _bad(f"{where} is a tool's result: its content must be text.", f"{where}.content")
        return TurnMessage(role, text, tool_call_id=call_id)
    if raw.get("tool_calls") is not None and role == "assistant":
        calls, signatures = openai_tools.parse_tool_calls(raw["tool_calls"], where)
        return TurnMessage(role, text, files, tool_calls=calls, signatures=signatures)
    if raw.get("tool_calls"):
        raise _bad(f"{where} is not the assistant's, so it cannot have tool_calls.", where)
    return TurnMessage(role, text, files)


def parse_request(body: Any) -> OpenAIRequest:
    """Read an OpenAI Chat Completions request.

    Args:
        body: The decoded JSON body.

    Returns:
        The request, as a :class:`ChatCall` plus the streaming options.

    Raises:
        ApiError: 400 naming the offending field.
    """
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _bad("'model' is required: 'provider/model' (see GET /v1/models).", "model")
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise _bad("'messages' must be a non-empty list.", "messages")
    messages = [_message(raw, f"messages[{index}]") for index, raw in enumerate(raw_messages)]
    openai_tools.check_answers(messages)
    tools = openai_tools.parse_tools(body)
    n = body.get("n")
    if n is not None and n != 1:
        raise _bad("'n' must be 1: tuichat serve returns one choice.", "n")
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type", "text") != "text":
        raise _bad("Only the 'text' response_format is supported.", "response_format")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad("'stream' must be true or false.", "stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise _bad("'stream_options' must be an object.", "stream_options")
    # max_completion_tokens supersedes the deprecated max_tokens.
    max_tokens = _positive_int(body, "max_completion_tokens") or _positive_int(body, "max_tokens")
    call = ChatCall(
        messages=messages,
        model=model.strip(),
        temperature=_number(body, "temperature", 0, 2),
        max_tokens=max_tokens,
        tools=tools,
    )
    if messages[-1].role not in ("user", "tool"):
        raise _bad(
            "The last message must be the user's prompt, or the results of the tools the "
            "model called (role 'tool').",
            "messages",
        )
    return OpenAIRequest(
        call=call,
        stream=bool(stream),
        include_usage=bool((options or {}).get("include_usage")),
    )


def usage_object(input_tokens: int | None, output_tokens: int | None) -> dict[str, int]:
    """OpenAI's ``usage`` (unknown counts are 0, as the schema wants integers)."""
    prompt, completion_tokens = input_tokens or 0, output_tokens or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
    }


def _new_id() -> str:
    return "chatcmpl-" + secrets.token_hex(12)


def completion(model_id: str, outcome: Outcome) -> dict[str, Any]:
    """A ``chat.completion`` object for a finished reply (with the tool calls the model
    made, its ``content`` null when it wrote no text besides them)."""
    message: dict[str, Any] = {"role": "assistant", "content": outcome.content, "refusal": None}
    if outcome.tool_calls:
        message["content"] = outcome.content or None
        message["tool_calls"] = [
            openai_tools.tool_call_json(call, signature)
            for call, signature in zip(outcome.tool_calls, outcome.signatures, strict=True)
        ]
    return {
        "id": _new_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_id,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": outcome.finish_reason or "stop",
            }
        ],
        "usage": usage_object(outcome.input_tokens, outcome.output_tokens),
    }


@dataclass
class ChunkWriter:
    """Encodes one stream's ``chat.completion.chunk`` frames (one id and timestamp).

    With ``include_usage`` every chunk carries ``"usage": null`` and a last chunk with
    no choices carries the counts, as OpenAI sends them.
    """

    model_id: str
    include_usage: bool = False
    id: str = field(default_factory=_new_id)
    created: int = field(default_factory=lambda: int(time.time()))

    def _frame(self, choices: list[dict[str, Any]], usage: Any = None) -> bytes:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model_id,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.include_usage:
            body["usage"] = usage
        return (
            b"data: "
            + json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            + (b"\n\n")
        )

    def delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        """A chunk with one choice holding ``delta``."""
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self._frame([choice])

    def usage(self, input_tokens: int | None, output_tokens: int | None) -> bytes:
        """The final usage chunk (``choices: []``)."""
        return self._frame([], usage_object(input_tokens, output_tokens))


def model_entry(instance: str, owner: str, model: ModelInfo) -> dict[str, Any]:
    """One ``/v1/models`` entry, its id ``provider/model``."""
    return {"id": f"{instance}/{model.id}", "object": "model", "created": 0, "owned_by": owner}
