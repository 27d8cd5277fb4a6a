"""The native forms of recent replies that asked for tools, kept for when they come back.

A provider may need a reply that called tools sent back exactly as it came: Anthropic
checks the ``signature`` of the ``thinking`` blocks before the calls, Gemini the
``thoughtSignature`` of a call. An OpenAI client has nowhere to keep Anthropic's blocks
(Gemini's signature does travel, in ``extra_content``; see
:mod:`tuichat.serve.signatures`), so serve keeps the last replies' native forms itself,
in memory, and puts one back when a client returns that reply: the same provider
plugin, the same text, the same calls (ids, names, arguments). A server restarted in
between has forgotten them; the plugin then rebuilds the message from its text and calls.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from tuichat.protocol import Native, ToolCall
from tuichat.serve.signatures import Signature, signatures_of

__all__ = ["Natives"]

#: How many replies are kept (the oldest is forgotten first).
KEPT_REPLIES = 256

_Key = tuple[str, str, tuple[tuple[str, str, str], ...]]


def _key(plugin: str, content: str, calls: Sequence[ToolCall]) -> _Key:
    return plugin, content, tuple((c.id, c.name, c.arguments) for c in calls)


class Natives:
    """Native forms of replies that ended in tool calls, by their text and calls."""

    def __init__(self, size: int = KEPT_REPLIES) -> None:
        self.size = size
        self._kept: OrderedDict[_Key, Native] = OrderedDict()

    def keep(self, content: str, calls: Sequence[ToolCall], native: Native | None) -> None:
        """Remember the native form of a reply that asked for ``calls``."""
        if native is None or not calls:
            return
        key = _key(native.plugin, content, calls)
        self._kept[key] = native
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def find(
        self,
        plugin: str,
        content: str,
        calls: Sequence[ToolCall],
        signatures: Sequence[Signature] = (),
    ) -> Native | None:
        """The native form of the reply a client sent back, if it is one of the kept
        replies and what the client kept of it (Gemini's signatures) agrees."""
        native = self._kept.get(_key(plugin, content, calls))
        if native is None:
            return None
        given = tuple(signatures) or tuple(None for _ in calls)
        return native if signatures_of(native, calls) == given else None
