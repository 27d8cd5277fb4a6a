"""What ``tuichat serve`` costs: time to first delta and throughput, against a direct call.

Starts two processes on loopback: the test kit's stand-in provider
(``python -m tuichat.testing serve``, OpenAI wire format, unpaced) and
``python -m tuichat.serve`` pointed at it. Then, from this process:

1. **Time to first delta** (N runs each, interleaved, after a warm-up): from sending
   the request to the first text delta,

   * *direct*: ``provider.stream_chat()`` of the openai plugin on the core's shared
     client, straight to the stand-in provider;
   * *serve, native*: ``POST /api/chat/stream`` (SSE) through ``tuichat serve``;
   * *serve, OpenAI*: ``POST /v1/chat/completions`` with ``stream: true``.

   Each stream is read to its end, so connections are reused as a real client would.

2. **50 concurrent clients**: that many replies streamed at once, through one
   ``tuichat serve`` process and, as the baseline, directly through the core. Reported:
   total deltas per second (all deltas / wall time) and each client's completion time.
   Unpaced (the default) this is the most one process can push; ``--rate`` paces the
   stand-in provider like a real model to check that serve keeps up.

The stand-in provider replaces the network, so the figures measure tuichat itself.

Usage::

    .venv/bin/python benchmarks/serve_bench.py [--runs 50] [--clients 50] [--tokens 200]
        [--rate TOKENS_PER_SECOND] [--save]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from httpx_sse import aconnect_sse

from tuichat.provider import ChatMessage, ChatRequest, Provider, TextDelta
from tuichat.runtime import Runtime

MODEL = "wire-model-1"
PROMPT = "Write something in Markdown."


@dataclass
class Stream:
    """One streamed reply as a client saw it."""

    first_delta: float  # seconds from request to the first text delta
    total: float  # seconds from request to the end of the stream
    deltas: int


@contextmanager
def process(argv: list[str], env: dict[str, str]) -> Iterator[str]:
    """Run ``argv``; yield the URL it prints as its first line; stop it afterwards."""
    child = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http"):
            raise SystemExit(f"{argv[2]} did not start (printed {url!r})")
        yield url
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


async def direct(provider: Provider) -> Stream:
    """One reply straight from the provider plugin, through the core."""
    request = ChatRequest(model=MODEL, messages=[ChatMessage("user", PROMPT)])
    started = time.perf_counter()
    first = None
    deltas = 0
    async for event in provider.stream_chat(request):
        if isinstance(event, TextDelta) and event.text:
            if first is None:
                first = time.perf_counter() - started
            deltas += 1
    assert first is not None
    return Stream(first, time.perf_counter() - started, deltas)


async def native(client: httpx.AsyncClient, url: str) -> Stream:
    """One reply through ``POST /api/chat/stream``."""
    body = {"messages": [{"role": "user", "content": PROMPT}], "model": f"openai/{MODEL}"}
    started = time.perf_counter()
    first = None
    deltas = 0
    async with aconnect_sse(client, "POST", f"{url}/api/chat/stream", json=body) as source:
        async for event in source.aiter_sse():
            data = event.json()
            if event.event == "error":
                raise RuntimeError(data)
            if not data["done"]:
                if first is None:
                    first = time.perf_counter() - started
                deltas += 1
    assert first is not None
    return Stream(first, time.perf_counter() - started, deltas)


async def openai_compatible(client: httpx.AsyncClient, url: str) -> Stream:
    """One reply through ``POST /v1/chat/completions`` (stream)."""
    body = {
        "messages": [{"role": "user", "content": PROMPT}],
        "model": f"openai/{MODEL}",
        "stream": True,
    }
    started = time.perf_counter()
    first = None
    deltas = 0
    async with aconnect_sse(client, "POST", f"{url}/v1/chat/completions", json=body) as source:
        async for event in source.aiter_sse():
            if event.data == "[DONE]":
                break
            choices = event.json()["choices"]
            if choices and choices[0]["delta"].get("content"):
                if first is None:
                    first = time.perf_counter() - started
                deltas += 1
    assert first is not None
    return Stream(first, time.perf_counter() - started, deltas)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f}"


def summary(values: list[float]) -> str:
    """``median (min-max)`` in milliseconds."""
    return (
        f"{ms(statistics.median(values))} ms  ({ms(min(values)).strip()}-{ms(max(values)).strip()})"
    )


async def concurrent(
    clients: int, one: Callable[[], Awaitable[Stream]]
) -> tuple[float, list[Stream]]:
    """Run ``clients`` replies at once; returns the wall time and each reply."""
    started = time.perf_counter()
    streams = await asyncio.gather(*(one() for _ in range(clients)))
    return time.perf_counter() - started, list(streams)


async def measure(args: argparse.Namespace, runtime: Runtime, serve_url: str) -> None:
    provider = runtime.provider("openai")
    limits = httpx.Limits(max_connections=args.clients + 10, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        kinds: dict[str, Callable[[], Awaitable[Stream]]] = {
            "direct (provider.stream_chat)": lambda: direct(provider),
            "serve  /api/chat/stream": lambda: native(client, serve_url),
            "serve  /v1/chat/completions": lambda: openai_compatible(client, serve_url),
        }
        for one in kinds.values():  # warm-up: connections, imports, caches
            for _ in range(3):
                await one()
        results: dict[str, list[Stream]] = {name: [] for name in kinds}
        for _ in range(args.runs):  # interleaved, so drift hits every kind alike
            for name, one in kinds.items():
                results[name].append(await one())

        print(f"\nTime to first delta, {args.runs} runs each (median, min-max):")
        baseline = statistics.median(
            s.first_delta for s in results["direct (provider.stream_chat)"]
        )
        for name, streams in results.items():
            firsts = [s.first_delta for s in streams]
            added = statistics.median(firsts) - baseline
            extra = "" if name.startswith("direct") else f"   added: {ms(added).strip()} ms"
            print(f"  {name:30} {summary(firsts)}{extra}")
        print(f"\nWhole reply ({args.tokens} deltas), median:")
        for name, streams in results.items():
            print(f"  {name:30} {ms(statistics.median(s.total for s in streams))} ms")

        print(f"\n{args.clients} concurrent clients, {args.tokens} deltas each:")
        for name in ("direct (provider.stream_chat)", "serve  /api/chat/stream"):
            await concurrent(args.clients, kinds[name])  # warm the pools up to N connections
            wall, streams = await concurrent(args.clients, kinds[name])
            deltas = sum(s.deltas for s in streams)
            assert deltas == args.clients * args.tokens, (deltas, args.clients * args.tokens)
            totals = sorted(s.total for s in streams)
            p95 = totals[max(0, round(0.95 * len(totals)) - 1)]
            first = statistics.median(s.first_delta for s in streams)
            print(
                f"  {name:30} {deltas / wall:9.0f} deltas/s   wall {ms(wall).strip()} ms   "
                f"per client: median {ms(statistics.median(totals)).strip()} ms, "
                f"p95 {ms(p95).strip()} ms, max {ms(totals[-1]).strip()} ms   "
                f"first delta median {ms(first).strip()} ms"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=50, help="runs per kind for time to first delta"
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--tokens", type=int, default=200, help="deltas per reply")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="upstream tokens per second per reply (0: unpaced)"
    )
    parser.add_argument("--save", action="store_true", help="serve with --save (SQLite store)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tuichat-serve-bench-") as tmp:
        env = {
            **os.environ,
            "TUICHAT_CONFIG": str(Path(tmp) / "config.toml"),
            "TUICHAT_DATA_DIR": str(Path(tmp) / "data"),
            "TUICHAT_LOAD_PLUGINS": "openai",
        }
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
            env.pop(name, None)
            env.pop(name.lower(), None)
        upstream_argv = [
            sys.executable,
            "-m",
            "tuichat.testing",
            "serve",
            "--openai-reply-tokens",
            str(args.tokens),
            "--tokens-per-second",
            str(args.rate),
        ]
        with process(upstream_argv, env) as upstream:
            Path(env["TUICHAT_CONFIG"]).write_text(
                f'provider = "openai"\n\n[providers.openai]\nbase_url = "{upstream}/v1"\n'
                'api_key = "bench-key"\nmax_retries = 0\n',
                encoding="utf-8",
            )
            serve_argv = [sys.executable, "-m", "tuichat.serve", "--port", "0"]
            serve_argv.append("--save" if args.save else "--no-save")
            with process(serve_argv, env) as serve_url:
                os.environ.update(env)  # this process reads the same config
                runtime = Runtime.load()
                print(
                    f"tuichat serve benchmark: Python {platform.python_version()}, "
                    f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; "
                    f"upstream {upstream} (OpenAI format, "
                    f"{f'{args.rate:g} tokens/s' if args.rate else 'unpaced'}), serve {serve_url} "
                    f"(save {'on' if args.save else 'off'})"
                )

                async def run() -> None:
                    try:
                        await measure(args, runtime, serve_url)
                    finally:
                        await runtime.aclose()

                asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
