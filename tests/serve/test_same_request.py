"""One engine under every front-end: ``ask``, ``serve`` and the TUI send the same request.

The same conversation (a system prompt, a temperature, a long early exchange that no
longer fits the model's window, a prompt whose reply failed) is continued with the same
prompt from each front-end against one loopback OpenAI server, and the request bodies
that reached it are compared byte for byte after JSON parsing. Before the engine they
differed: only the TUI trimmed to the window, and the failed prompt went out twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import openai
import tuichat_anthropic
import tuichat_gemini
import tuichat_openai

from tests.app.support import SIZE, chat_screen, send, settle_reply
from tests.serve.server import KEYS, ServeFactory, provider_tables
from tuichat import catalog
from tuichat.app.app import TuichatApp
from tuichat.catalog import ProviderModels
from tuichat.protocol import ModelInfo
from tuichat.runtime import Runtime
from tuichat.store import Store
from tuichat.testing import WireServer, openai_chat_stream, sse_response

MODEL = "gpt-window"
SYSTEM = "Be brief."
EARLY = "early question " + "x" * 2000
EARLY_ANSWER = "early answer " + "y" * 2000
#: Room for everything but the early exchange (about 1,000 estimated tokens).
WINDOW = 600
PROMPT = "and now?"


def seed(store: Store) -> int:
    """A conversation with openai's MODEL, as a person would have left it."""
    conversation = store.create_conversation(
        title="seeded",
        provider="openai",
        model=MODEL,
        system_prompt=SYSTEM,
        params={"temperature": 0.3},
    )
    for role, content, status in [
        ("user", EARLY, "complete"),
        ("assistant", EARLY_ANSWER, "complete"),
        ("user", "second question", "complete"),
        ("assistant", "second answer", "complete"),
        ("user", "this one failed", "complete"),
        ("assistant", "", "error"),
    ]:
        store.add_message(conversation.id, role, content, status=status)
    catalog.save_cache(
        store,
        [
            ProviderModels(
                "openai", (ModelInfo(id=MODEL, provider="openai", context_window=WINDOW),)
            )
        ],
    )
    return conversation.id


def the_served_history() -> list[dict[str, Any]]:
    """The same conversation as an OpenAI client would send it (no failed turn)."""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": EARLY},
        {"role": "assistant", "content": EARLY_ANSWER},
        {"role": "user", "content": "second question"},
        {"role": "assistant", "content": "second answer"},
        {"role": "user", "content": PROMPT},
    ]


def ask(conversation_id: int, wire_server: WireServer) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OPENAI_API_KEY": KEYS["openai"],
        "TUICHAT_PROVIDERS__OPENAI__BASE_URL": f"{wire_server.url}/v1",
        "TUICHAT_PROVIDERS__OPENAI__MAX_RETRIES": "0",
    }
    return subprocess.run(
        [sys.executable, "-m", "tuichat", "ask", "--conversation", str(conversation_id), PROMPT],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


async def test_ask_serve_and_the_tui_send_the_same_request(
    serve: ServeFactory,
    wire_server: WireServer,
    build_runtime: Callable[..., Runtime],
) -> None:
    wire_server.set_default(sse_response(*openai_chat_stream(["fine"])))
    plugins = (tuichat_openai, tuichat_anthropic, tuichat_gemini)
    settings = {"providers": provider_tables(wire_server), "ui": {"title_from_model": False}}

    # ask, continuing a stored conversation
    runtime = build_runtime(settings, plugins=plugins)
    for_ask, for_tui = seed(runtime.store), seed(runtime.store)
    done = ask(for_ask, wire_server)
    assert done.returncode == 0, done.stderr
    by_ask = wire_server.last_request.json()

    # the TUI, the same conversation opened and continued
    app = TuichatApp(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await chat_screen(pilot).open_conversation(for_tui)
        await send(pilot, PROMPT)
        await settle_reply(pilot)
    by_tui = [r for r in wire_server.requests if r.bare_path.endswith("/chat/completions")][-1]

    # serve, given the same history by an OpenAI client
    served = serve(settings=settings)
    catalog.save_cache(served.runtime.store, catalog.load_cache(runtime.store).values())
    client = openai.OpenAI(base_url=f"{served.url}/v1", api_key="unused")
    client.chat.completions.create(
        model=f"openai/{MODEL}", messages=the_served_history(), temperature=0.3
    )
    by_serve = wire_server.last_request.json()

    assert by_ask == by_tui.json() == by_serve
    sent = [(m["role"], m["content"]) for m in by_ask["messages"]]
    assert sent == [
        ("system", SYSTEM),
        ("user", "second question"),
        ("assistant", "second answer"),
        ("user", PROMPT),
    ]
    assert by_ask["temperature"] == 0.3
