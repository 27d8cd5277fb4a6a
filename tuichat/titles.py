"""Short conversation titles, asked of the model in the background.

A new conversation is titled from its first prompt at once (:func:`tuichat.chat.
title_from_prompt`); when a real provider answers, the app may then ask the same model for
a better title. That request must never delay or break the chat: it runs after the first
reply, has a timeout, and any failure simply keeps the first title.
"""

from __future__ import annotations

import asyncio
import logging
import re
from contextlib import aclosing
from typing import TYPE_CHECKING

from tuichat.protocol import ChatMessage, ChatRequest, TextDelta
from tuichat.sanitize import one_line, redact

if TYPE_CHECKING:
    from tuichat.costs import Tally
    from tuichat.provider import Provider

log = logging.getLogger(__name__)

#: Longest title kept, in characters.
TITLE_LIMIT = 60

#: Most characters of the prompt and of the reply shown to the model.
EXCERPT = 1500

INSTRUCTION = (
    "Write a title of at most six words for the conversation below. Answer with the title "
    "only: no quotes, no trailing punctuation, no preamble."
)

_PREFIX = re.compile(r"^(title|titre|subject)\s*:\s*", re.IGNORECASE)


def title_request(model: str, prompt: str, reply: str) -> ChatRequest:
    """The request asking ``model`` for a title of a first exchange.

    Args:
        model: The model that wrote the reply.
        prompt: The first prompt.
        reply: The first reply.

    Returns:
        A small request (no system prompt, few tokens).
    """
    text = (
        f"{INSTRUCTION}\n\n<prompt>\n{prompt[:EXCERPT]}\n</prompt>\n\n"
        f"<reply>\n{reply[:EXCERPT]}\n</reply>"
    )
    return ChatRequest(model=model, messages=(ChatMessage("user", text),), max_tokens=40)


def clean_title(text: str) -> str | None:
    """Turn what the model answered into a title, or None if nothing usable remains.

    Args:
        text: The model's answer (untrusted).

    Returns:
        One line without control characters, quotes, Markdown heading marks or a
        ``Title:`` prefix, at most :data:`TITLE_LIMIT` characters.
    """
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    title = one_line(lines[0], 400).strip().lstrip("#").strip()
    title = _PREFIX.sub("", title).strip()
    # Quotes and trailing punctuation nest either way round: "Title". / "Title."
    for _ in range(2):
        title = title.strip().rstrip(".!:;,").strip("\"'“”‘’`*_")
    if not title:
        return None
    return one_line(title, TITLE_LIMIT)


async def generate_title(
    provider: Provider,
    model: str,
    prompt: str,
    reply: str,
    *,
    timeout: float = 30.0,
    tally: Tally | None = None,
) -> str | None:
    """Ask the model for a title; None on any failure (logged, never raised).

    Cancellation still propagates, so closing the app or the conversation stops it.

    Args:
        provider: The provider that answered.
        model: Its model.
        prompt: The first prompt.
        reply: The first reply.
        timeout: Seconds before giving up.
        tally: Fed every event, to price the request (see :mod:`tuichat.costs`).

    Returns:
        The cleaned title, or None.
    """
    request = title_request(model, prompt, reply)
    pieces: list[str] = []
    try:
        async with asyncio.timeout(timeout):
            async with aclosing(provider.stream_chat(request)) as events:
                async for event in events:
                    if tally is not None:
                        tally.see(event)
                    if isinstance(event, TextDelta):
                        pieces.append(event.text)
                        if sum(map(len, pieces)) > 400:
                            break
    except Exception as exc:  # noqa: BLE001 - a title is a nicety: never let it fail the chat
        log.info("no title from %s: %s", provider.label, type(exc).__name__)
        return None
    # The model's words become a stored title: mask the key (a proxy may echo requests).
    return clean_title(redact("".join(pieces), provider.secrets()))
