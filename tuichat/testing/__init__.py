"""tuichat's test kit: a loopback HTTP server that plays scripted responses byte for byte.

Used by tuichat's own tests and by provider-plugin authors. It never imports Textual nor
httpx; the server uses only the standard library. :mod:`tuichat.testing.replies` reads a
provider's reply in a test (``collect``, ``failure``, ``text_of``, ``reasoning_of``,
``tool_calls_of``, ``native_of``).
With tuichat installed, pytest gets the ``wire_server`` fixture (see
``tuichat.testing.pytest_plugin``).

The names below are imported lazily, so importing this package (as the pytest plugin
does) costs nothing until they are used.

Example:
    >>> from tuichat.testing import WireServer, openai_chat_stream, sse_response
    >>> with WireServer() as server:
    ...     server.enqueue(sse_response(*openai_chat_stream(["Hel", "lo"])))
    ...     # point the provider at server.url and stream
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuichat.testing.conversations import attachment, conversation_request
    from tuichat.testing.environment import isolated_env
    from tuichat.testing.files import GIF_1X1, JPEG_2X3, PDF_MINIMAL, PNG_1X1, WEBP_HEADER, png
    from tuichat.testing.replies import (
        collect,
        failure,
        native_of,
        reasoning_of,
        text_of,
        tool_calls_of,
    )
    from tuichat.testing.server import (
        Chunk,
        Delay,
        Drop,
        Gate,
        Handler,
        RecordedRequest,
        Response,
        Stall,
        Step,
        WireServer,
    )
    from tuichat.testing.sse import (
        SSE_HEADERS,
        json_response,
        split_at,
        split_bytes,
        sse_event,
        sse_response,
    )
    from tuichat.testing.wire import (
        ScriptedCall,
        anthropic_error,
        anthropic_error_event,
        anthropic_stream,
        gemini_error,
        gemini_function_call_stream,
        gemini_stream,
        openai_chat_stream,
        openai_error,
        openai_error_event,
        openai_tool_stream,
    )

_EXPORTS = {
    "environment": ("isolated_env",),
    "conversations": ("attachment", "conversation_request"),
    "files": ("GIF_1X1", "JPEG_2X3", "PDF_MINIMAL", "PNG_1X1", "WEBP_HEADER", "png"),
    "replies": ("collect", "failure", "native_of", "reasoning_of", "text_of", "tool_calls_of"),
    "server": (
        "Chunk",
        "Delay",
        "Drop",
        "Gate",
        "Handler",
        "RecordedRequest",
        "Response",
        "Stall",
        "Step",
        "WireServer",
    ),
    "sse": (
        "SSE_HEADERS",
        "json_response",
        "split_at",
        "split_bytes",
        "sse_event",
        "sse_response",
    ),
    "wire": (
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
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "GIF_1X1",
    "JPEG_2X3",
    "PDF_MINIMAL",
    "PNG_1X1",
    "SSE_HEADERS",
    "WEBP_HEADER",
    "Chunk",
    "Delay",
    "Drop",
    "Gate",
    "Handler",
    "RecordedRequest",
    "Response",
    "ScriptedCall",
    "Stall",
    "Step",
    "WireServer",
    "anthropic_error",
    "anthropic_error_event",
    "anthropic_stream",
    "attachment",
    "collect",
    "conversation_request",
    "failure",
    "gemini_error",
    "gemini_function_call_stream",
    "gemini_stream",
    "isolated_env",
    "json_response",
    "native_of",
    "openai_chat_stream",
    "openai_error",
    "openai_error_event",
    "openai_tool_stream",
    "png",
    "reasoning_of",
    "split_at",
    "split_bytes",
    "sse_event",
    "sse_response",
    "text_of",
    "tool_calls_of",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
