"""The plugin API: everything a provider plugin may import from tuichat, and nothing else.

A plugin imports from this module only (an import-linter contract in pyproject.toml
holds the first-party plugins to it), so the rest of tuichat can change freely:

- what a provider is and says: :class:`Provider`, :class:`ProviderSettings`,
  :class:`ChatRequest`, the events (:class:`TextDelta`, :class:`ReasoningDelta`,
  :class:`Usage`, :class:`Finish`), :class:`ModelInfo`, :class:`LeftOut` (a setting
  the provider will not send, named by :meth:`Provider.left_out`), and :data:`hookimpl`;
- files in the conversation: :class:`BinaryPart` (an image or PDF of a message) and
  :class:`AttachmentLimits` (what :meth:`Provider.attachment_limits` declares);
- the error tree, as the :mod:`~tuichat.errors` module (``errors.RateLimited``...);
- HTTP on the shared client with the core's status mapping, retries and redaction:
  :func:`open_sse`, :func:`request_json`, :class:`ErrorInfo` and its parsers,
  :func:`error_for_event`, :func:`error_for_status`, :func:`key_hint`;
- Python tools for the ``register_tools`` hook: :class:`Tool`;
- text hygiene: :func:`redact`, :func:`strip_controls`;
- helpers the plugins share: :func:`int_or_none`, :func:`merge_extra`, :func:`redacting`.

Base URL validation needs nothing here: :class:`ProviderSettings` checks ``base_url``
for every subclass.

Importing this module stays cheap (plugins load at every start): the HTTP names load
:mod:`tuichat.http`, and with it httpx, the first time one of them is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuichat import errors
from tuichat.hookspecs import hookimpl
from tuichat.plugin_helpers import int_or_none, merge_extra, redacting
from tuichat.provider import (
    AttachmentLimits,
    BinaryKind,
    BinaryPart,
    ChatEvent,
    ChatMessage,
    ChatRequest,
    Finish,
    FinishReason,
    LeftOut,
    ModelInfo,
    Native,
    NativeReply,
    Provider,
    ProviderSettings,
    ReasoningDelta,
    ResponseInfo,
    Role,
    TextDelta,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
)
from tuichat.sanitize import redact, strip_controls
from tuichat.tools.plugin_tool import Tool

if TYPE_CHECKING:
    from tuichat.http import (
        ErrorInfo,
        ErrorParser,
        default_error_parser,
        error_for_event,
        error_for_status,
        key_hint,
        open_sse,
        request_json,
    )

__all__ = [
    "AttachmentLimits",
    "BinaryKind",
    "BinaryPart",
    "ChatEvent",
    "ChatMessage",
    "ChatRequest",
    "ErrorInfo",
    "ErrorParser",
    "Finish",
    "FinishReason",
    "LeftOut",
    "ModelInfo",
    "Native",
    "NativeReply",
    "Provider",
    "ProviderSettings",
    "ReasoningDelta",
    "ResponseInfo",
    "Role",
    "TextDelta",
    "Tool",
    "ToolCall",
    "ToolResult",
    "ToolSpec",
    "Usage",
    "default_error_parser",
    "error_for_event",
    "error_for_status",
    "errors",
    "hookimpl",
    "int_or_none",
    "key_hint",
    "merge_extra",
    "open_sse",
    "redact",
    "redacting",
    "request_json",
    "strip_controls",
]

#: The names that live in :mod:`tuichat.http`, loaded on first use.
_HTTP = frozenset(
    {
        "ErrorInfo",
        "ErrorParser",
        "default_error_parser",
        "error_for_event",
        "error_for_status",
        "key_hint",
        "open_sse",
        "request_json",
    }
)


def __getattr__(name: str) -> Any:
    if name in _HTTP:
        from tuichat import http

        value = getattr(http, name)
        globals()[name] = value  # once loaded, a plain attribute
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
