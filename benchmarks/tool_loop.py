"""Benchmark: the tool loop's own overhead per round, against the same conversation
without tools, in the same run (issue 15).

The engine (:class:`tuichat.session.Session`, the turn the TUI, ``ask`` and ``serve``
share) drives the real OpenAI plugin against the test kit's loopback server, on the one
shared HTTP client. Each sample is one turn in a fresh conversation:

* **with a tool**: the model's first reply calls ``add`` of a real MCP server
  (``tests/tools/mcp_server.py`` over stdio, started once before timing); the tool runs
  and its result goes back in a second request. The round's overhead is the time from
  the first reply's end (its ``Finish``) to the second request leaving the client, minus
  the tool's own run time (the call as the tool host times it, its stdio round trip
  included);
* **without tools** (the baseline): the same first reply without the call, then the
  next prompt of the same conversation sent at once; its overhead is the time from the
  first reply's end to the second request leaving the client (the turn set up: prompt
  saved, history read, request built).

Run: ``python -m benchmarks.tool_loop [--runs N]``. Figures: medians and p90, seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import ROOT, median, percentile, save, table

SERVER = ROOT / "tests" / "tools" / "mcp_server.py"


async def _measure(runs: int) -> dict[str, Any]:
    import httpx

    from tuichat.config import LoadedConfig, Settings
    from tuichat.plugins import get_plugin_manager, load_providers
    from tuichat.protocol import Finish
    from tuichat.runtime import Runtime
    from tuichat.session import Session
    from tuichat.store import Store
    from tuichat.testing import WireServer, sse_response
    from tuichat.testing.wire import openai_chat_stream, openai_tool_stream
    from tuichat.tool_loop import ToolFinished, ToolUse
    from tuichat.tools import ToolHost

    home = Path(tempfile.mkdtemp(prefix="tuichat-tool-bench-"))
    server = WireServer()
    server.start()
    settings = Settings(
        providers={"openai": {"api_key": "sk-bench", "base_url": f"{server.url}/v1"}},
        mcp={"calc": {"command": sys.executable, "args": [str(SERVER)], "approve": "always"}},
    )
    pm = get_plugin_manager()
    runtime = Runtime(
        LoadedConfig(settings, home / "config.toml", ""),
        load_providers(pm),
        plugin_manager=pm,
        store=Store(home / "tuichat.db"),
    )
    sent: list[float] = []

    async def stamp(request: httpx.Request) -> None:
        sent.append(time.perf_counter())

    client = runtime.client
    client.event_hooks["request"].append(stamp)
    host = ToolHost(settings, pm, log_dir=home / "logs")
    box = await host.toolbox(["calc"])  # started once: a server's start is not a round
    session = Session(runtime, runtime.store)
    provider, model = session.resolve("openai", "gpt-4o-mini")
    text = openai_chat_stream(["The answer ", "is 5."])
    call = openai_tool_stream([("call_1", "add", ['{"a": 2', ', "b": 3}'])], text=["Adding."])

    async def turn(prompt: str, conversation: Any, tools: ToolUse | None) -> dict[str, Any]:
        ended: float | None = None
        tool_seconds = 0.0
        stream = session.send(conversation, prompt, provider, model, tools=tools).stream()
        async for event in stream:
            if isinstance(event, Finish) and ended is None:
                ended = time.perf_counter()
            elif isinstance(event, ToolFinished):
                tool_seconds += event.seconds
        return {"ended": ended, "tool": tool_seconds}

    with_tool: list[float] = []
    without: list[float] = []
    tool_times: list[float] = []
    for _ in range(runs):
        # With a tool: one turn, two requests.
        server.enqueue(sse_response(*call))
        server.enqueue(sse_response(*text))
        conversation = session.start_conversation(provider, model)
        sent.clear()
        done = await turn("What is 2+3?", conversation, ToolUse(box, max_steps=3))
        assert len(sent) == 2 and done["ended"] is not None
        with_tool.append(sent[1] - done["ended"] - done["tool"])
        tool_times.append(done["tool"])

        # Without: the same first reply's text, then the next prompt at once.
        server.enqueue(sse_response(*text))
        server.enqueue(sse_response(*text))
        conversation = session.start_conversation(provider, model)
        sent.clear()
        first = await turn("What is 2+3?", conversation, None)
        await turn("Thanks, and 3+4?", conversation, None)
        assert len(sent) == 2 and first["ended"] is not None
        without.append(sent[1] - first["ended"])

    await host.aclose()
    await runtime.aclose()
    server.stop()
    return {
        "runs": runs,
        "round_overhead_s": {"median": median(with_tool), "p90": percentile(with_tool, 90)},
        "baseline_next_turn_s": {"median": median(without), "p90": percentile(without, 90)},
        "tool_run_s": {"median": median(tool_times)},
        "samples": {"with_tool": with_tool, "without": without},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    found = asyncio.run(_measure(args.runs))
    overhead, baseline = found["round_overhead_s"], found["baseline_next_turn_s"]
    ratio = overhead["median"] / baseline["median"] if baseline["median"] else None
    found["ratio"] = ratio
    rows = [
        ["case", "median ms", "p90 ms"],
        [
            "tool round (reply end -> next request, minus the tool)",
            f"{overhead['median'] * 1000:.2f}",
            f"{overhead['p90'] * 1000:.2f}",
        ],
        [
            "no tools (reply end -> next prompt's request)",
            f"{baseline['median'] * 1000:.2f}",
            f"{baseline['p90'] * 1000:.2f}",
        ],
    ]
    print(table(rows))
    print(
        f"ratio {ratio:.2f}x the next turn without tools; the tool itself (MCP over stdio) "
        f"{found['tool_run_s']['median'] * 1000:.2f} ms (median of {args.runs})"
    )
    print(f"saved {save('tool_loop', found)}")
    json.dumps(found)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
