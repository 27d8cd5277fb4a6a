"""The floor: the least any Python client must do to consume the stream (httpx + httpx-sse).

usage: floor_client.py BASE_URL PROMPT [--quiet]

The same ~20 lines as ``shared/bench/peers/floor_client.py``: prints the streamed text to
stdout as it arrives (like ``llm`` and ``tuichat ask`` do).
"""

from __future__ import annotations

import sys

import httpx
from httpx_sse import connect_sse


def main() -> int:
    """Stream one reply to stdout."""
    base, prompt = sys.argv[1], sys.argv[2]
    quiet = "--quiet" in sys.argv
    out = sys.stdout
    payload = {
        "model": "wire-model-1",
        "stream": True,
        "messages": [{"role": "user", "content": prompt}],
    }
    with httpx.Client(base_url=base, timeout=60) as client:
        with connect_sse(client, "POST", "/chat/completions", json=payload) as events:
            for event in events.iter_sse():
                if event.data == "[DONE]":
                    break
                choices = event.json()["choices"]
                delta = choices[0]["delta"].get("content") if choices else None
                if delta and not quiet:
                    out.write(delta)
                    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
