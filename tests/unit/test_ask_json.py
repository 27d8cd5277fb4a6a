"""``tuichat ask --json``: one JSON object with the whole response (DESIGN.md 5a)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tuichat.testing import WireServer, sse_response
from tuichat.testing.server import Drop
from tuichat.testing.wire import anthropic_stream, gemini_stream, openai_chat_stream

#: Per provider: the environment pointing it at the wire server, the model asked, its
#: stream (with the id and model the server reports), and the price it has per million
#: tokens in the shipped table (input, output, cached input).
PROVIDERS: dict[str, dict[str, Any]] = {
    "openai": {
        "env": lambda url: {"OPENAI_API_KEY": "sk-t", "OPENAI_BASE_URL": f"{url}/v1"},
        "model": "gpt-4o-mini",
        "stream": lambda: openai_chat_stream(
            ["Hel", "lo"], model="gpt-4o-mini-2024-07-18", usage=(1000, 200), id="chatcmpl-9"
        ),
        "reported": ("chatcmpl-9", "gpt-4o-mini-2024-07-18", "stop"),
        "price": (0.15, 0.60, 0.075),
        "cached": None,
    },
    "anthropic": {
        "env": lambda url: {"ANTHROPIC_API_KEY": "sk-ant-t", "ANTHROPIC_BASE_URL": url},
        "model": "claude-sonnet-4-5",
        "stream": lambda: anthropic_stream(
            ["Hel", "lo"],
            model="claude-sonnet-4-5-20250929",
            usage=(200, 200),
            cache_read=800,
            id="msg_9",
        ),
        "reported": ("msg_9", "claude-sonnet-4-5-20250929", "end_turn"),
        "price": (3.0, 15.0, 0.30),
        "cached": 800,
    },
    "gemini": {
        "env": lambda url: {"GEMINI_API_KEY": "gm-t", "GEMINI_BASE_URL": url},
        "model": "gemini-3.8-flash",
        "stream": lambda: gemini_stream(
            ["Hel", "lo"], model="gemini-3.8-flash-001", usage=(1000, 200), response_id="r-9"
        ),
        "reported": ("r-9", "gemini-3.8-flash-001", "STOP"),
        "price": (0.75, 3.75, 0.075),
        "cached": None,
    },
}


def ask(
    wire_server: WireServer, provider: str, *args: str, **more_env: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **PROVIDERS[provider]["env"](wire_server.url), **more_env}
    return subprocess.run(
        [sys.executable, "-m", "tuichat", "ask", "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_json_gives_the_whole_response(wire_server: WireServer, provider: str) -> None:
    case = PROVIDERS[provider]
    wire_server.enqueue(sse_response(*case["stream"]()))
    done = ask(wire_server, provider, "-m", f"{provider}/{case['model']}", "hi")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.endswith("\n") and done.stdout.count("\n") == 1
    report = json.loads(done.stdout)
    response_id, model, raw_finish = case["reported"]
    assert report["id"] == response_id
    assert (report["provider"], report["model"]) == (provider, model)
    assert report["content"] == "Hello"
    assert (report["finish_reason"], report["provider_finish_reason"]) == ("stop", raw_finish)
    cached = case["cached"]
    input_tokens = 1000
    assert report["usage"]["input_tokens"] == input_tokens
    assert report["usage"]["output_tokens"] == 200
    assert report["usage"]["cached_input_tokens"] in (cached, 0 if cached is None else cached)
    price_in, price_out, price_cached = case["price"]
    fresh = input_tokens - (cached or 0)
    expected = (fresh * price_in + (cached or 0) * price_cached + 200 * price_out) / 1e6
    assert report["cost"] == pytest.approx(expected)
    assert report["tool_calls"] == []
    timings = report["timings"]
    assert 0 <= timings["first_token_s"] <= timings["total_s"]
    assert isinstance(report["conversation_id"], int) and isinstance(report["message_id"], int)


def test_a_model_without_a_price_costs_unknown_not_zero(wire_server: WireServer) -> None:
    wire_server.enqueue(sse_response(*openai_chat_stream(["x"], model="my-finetune")))
    done = ask(wire_server, "openai", "-m", "openai/my-finetune", "hi")
    assert done.returncode == 0
    assert json.loads(done.stdout)["cost"] is None


def test_a_price_set_in_the_config_wins(wire_server: WireServer) -> None:
    wire_server.enqueue(sse_response(*openai_chat_stream(["x"], usage=(1_000_000, 0))))
    prices = '{"openai/gpt-4o-mini": {"input": 1.5, "output": 2}}'
    done = ask(wire_server, "openai", "-m", "openai/gpt-4o-mini", "hi", TUICHAT_PRICES=prices)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["cost"] == pytest.approx(1.5)


def test_a_failed_reply_is_the_same_object_with_the_error_and_what_arrived(
    wire_server: WireServer,
) -> None:
    frames = openai_chat_stream(["Partial ", "text"], finish_reason=None, usage=None, done=False)
    wire_server.enqueue(sse_response(*frames, Drop()))
    done = ask(wire_server, "openai", "-m", "openai/gpt-4o-mini", "hi")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["content"] == "Partial text"
    assert report["finish_reason"] == "error"
    assert "dropped" in report["error"]
    assert done.stderr == f"tuichat: {report['error']}\n"


def test_control_characters_are_escaped_never_raw(wire_server: WireServer) -> None:
    wire_server.enqueue(sse_response(*openai_chat_stream(["a\x1b]52;c;eA==\x07b"])))
    done = ask(wire_server, "openai", "-m", "openai/gpt-4o-mini", "hi")
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert json.loads(done.stdout)["content"].startswith("a")
