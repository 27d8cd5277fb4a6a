"""A loopback OpenAI-compatible server (tuichat's test kit) that streams marked Markdown replies.

Run: ``python -m benchmarks.reply_server`` prints its base URL on the first line and
serves until stdin closes or it is terminated. The last user message of a request picks
the reply: ``bench tokens=20000 rate=0 run=ab12`` streams 20,000 tokens as fast as
possible (``rate=100``: 100 tokens/s). The text is the test kit's Markdown sample
(headings, prose with emphasis and links, a list, a Python fence, a quote, a table),
with markers to time it on screen: ``CKP<k>`` in the text every 1,000 tokens and
``END-<run>`` as the last token (``BEGIN-<run>`` is the first).
"""

from __future__ import annotations

import re
import sys
import threading

from tuichat.testing.__main__ import MODEL_IDS, markdown_tokens
from tuichat.testing.server import Delay, RecordedRequest, Response, Step, WireServer
from tuichat.testing.sse import json_response, sse_response
from tuichat.testing.wire import openai_chat_stream

_OPTION = re.compile(r"\b(tokens|rate|run|every)=([A-Za-z0-9_.]+)")
# A lower-case word followed by one space: mid-sentence prose (or code), never markup.
_PLAIN_WORD = re.compile(r"^[a-z]+ $")


def marked_reply(tokens: int, run: str, every: int = 1000) -> list[str]:
    """``tokens`` Markdown tokens with ``BEGIN-``, ``CKP<k>`` and ``END-`` markers.

    ``CKP<k>`` is appended to the first plain word at or after token ``k * every``, so
    it never breaks Markdown syntax; ``END-<run>`` is a paragraph of its own at the end
    (inside a code fence if the reply ends inside one: it shows either way).
    """
    pieces = markdown_tokens(tokens)
    if not pieces:
        return []
    pieces[0] = f"BEGIN-{run} " + pieces[0]
    k = 1
    index = every
    while every and index < len(pieces) - 1:
        while index < len(pieces) - 1 and not _PLAIN_WORD.match(pieces[index]):
            index += 1
        if index >= len(pieces) - 1:
            break
        pieces[index] = f"{pieces[index]}CKP{k} "
        k += 1
        index = k * every
    pieces[-1] = pieces[-1] + f"\n\nEND-{run}\n"
    return pieces


def _options(request: RecordedRequest) -> dict[str, str]:
    try:
        messages = request.json().get("messages") or []
    except (ValueError, AttributeError):
        messages = []
    text = ""
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            text = content if isinstance(content, str) else str(content)
    return dict(_OPTION.findall(text))


def _max_tokens(request: RecordedRequest) -> int | None:
    try:
        body = request.json()
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
    except (ValueError, AttributeError):
        return None
    return limit if isinstance(limit, int) and limit > 0 else None


def chat(request: RecordedRequest) -> Response:
    """Stream the reply the prompt asks for (no longer than the request's max tokens,
    as a real server: the app's background title request asks for 40)."""
    options = _options(request)
    tokens = int(options.get("tokens", "200"))
    limit = _max_tokens(request)
    if limit is not None:
        tokens = min(tokens, limit)
    rate = float(options.get("rate", "0"))
    reply = marked_reply(tokens, options.get("run", "x"), int(options.get("every", "1000")))
    frames = openai_chat_stream(reply, model=MODEL_IDS[0], usage=(12, len(reply)))
    if rate <= 0:
        return sse_response(*frames)
    pause = Delay(1.0 / rate)
    steps: list[bytes | Step] = [frames[0]]
    for frame in frames[1 : 1 + len(reply)]:
        steps += [pause, frame]
    return sse_response(*steps, *frames[1 + len(reply) :])


def models(request: RecordedRequest) -> Response:
    """The model list."""
    return json_response(
        {"object": "list", "data": [{"id": m, "object": "model"} for m in MODEL_IDS]}
    )


def main() -> int:
    """Serve until stdin closes (the parent went away) or SIGTERM."""
    with WireServer() as server:
        server.route("POST", "*/chat/completions", chat)
        server.route("GET", "*/models", models)
        print(server.url, flush=True)
        done = threading.Event()

        def watch_stdin() -> None:
            sys.stdin.read()
            done.set()

        threading.Thread(target=watch_stdin, daemon=True).start()
        try:
            done.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
