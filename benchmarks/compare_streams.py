"""Compare mode with three fast streams: three models answer one prompt side by side.

Three OpenAI-compatible provider instances (``openai``, ``two``, ``three``) point at the
loopback reply server; one prompt asks each for the same Markdown reply of ``--tokens``
tokens, sent as fast as the server can. Each run is a fresh process running the real
app headless (Pilot, 120x40):

* submit → every column's END marker painted;
* key presses meanwhile: ``tab`` moves the focus between columns (the border changes);
  one every 250 ms (as stream_render's typing probes), timed from posting the key to
  the frame that shows the new focus (p50, p95);
* frames composed, CPU, peak RSS.

Baseline in the same run: the same reply streamed once in the chat screen (one column,
no key presses).

Run: ``python -m benchmarks.compare_streams [--quick] [--runs N] [--tokens N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from typing import Any

from benchmarks._common import (
    COLS,
    MODEL,
    PYTHON,
    ROOT,
    child_json,
    isolated_home,
    median,
    percentile,
    prompt,
    reply_server,
    run_id,
    save,
    stat,
    table,
)

EVERY = 1000
PROBE_EVERY = 0.25


async def _child(mode: str, tokens: int) -> dict[str, Any]:
    from textual import events
    from textual.app import App

    from tuichat.app.app import make_app
    from tuichat.app.widgets.markdown_text import MarkdownText

    run = run_id()
    end_marker = f"END-{run}"
    ends: list[float] = []
    frames = [0]
    probes: list[tuple[float, object]] = []
    latencies: list[float] = []

    real_line, real_display = MarkdownText.render_line, App._display

    def render_line(self: MarkdownText, y: int):  # type: ignore[no-untyped-def]
        strip = real_line(self, y)
        if end_marker in strip.text and id(self) not in seen:
            seen.add(id(self))
            ends.append(time.perf_counter())
        return strip

    seen: set[int] = set()

    def display(self: App[Any], screen: Any, renderable: Any) -> None:
        real_display(self, screen, renderable)
        if renderable is None:
            return
        frames[0] += 1
        now = time.perf_counter()
        focused = self.screen.focused
        while probes and focused is not probes[0][1]:
            started, _ = probes.pop(0)
            latencies.append(now - started)

    MarkdownText.render_line = render_line  # type: ignore[method-assign]
    App._display = display  # type: ignore[method-assign]

    app = make_app(provider="openai", model=MODEL)
    columns = 3 if mode == "compare" else 1
    async with app.run_test(size=(COLS, 40)) as pilot:
        await pilot.pause()
        text = prompt(tokens, run, 0, EVERY)
        if mode == "compare":
            from tuichat.app.screens.compare import CompareScreen

            await pilot.press("f3")
            for _ in range(500):
                if isinstance(app.screen, CompareScreen) or len(app.screen_stack) > 2:
                    break
                await asyncio.sleep(0.01)
            await pilot.pause()
            await pilot.press("escape")  # the model picker: the columns are set below
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, CompareScreen), type(screen)
            screen._add_choice(("two", MODEL))
            screen._add_choice(("three", MODEL))
            box = screen.query_one("#compare-prompt")
        else:
            screen = app.screen
            box = screen.query_one("#prompt")
        box.focus()
        box.insert(text)  # type: ignore[attr-defined]
        await pilot.pause()
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        frames[0] = 0
        press = asyncio.create_task(pilot.press("enter"))
        deadline = t0 + 300
        await asyncio.sleep(0.1)
        while len(ends) < columns and time.perf_counter() < deadline:
            # (Compare mode only: in the chat, Tab would move into the log and select a
            # message, which stops the log following the reply.)
            if mode == "compare" and not os.environ.get("BENCH_NO_KEYS"):
                probes.append((time.perf_counter(), app.screen.focused))
                app.post_message(events.Key("tab", None))
            await asyncio.sleep(PROBE_EVERY)
        end = (ends[-1] - t0) if len(ends) >= columns else None
        cpu = time.process_time() - cpu0
        await press
    return {
        "mode": mode,
        "ok": end is not None,
        "end_s": end,
        "frames": frames[0],
        "cpu_s": cpu,
        "keys_ms": [x * 1000 for x in latencies],
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child_run(env: dict[str, str], mode: str, tokens: int) -> dict[str, Any]:
    """One run in a fresh process (so peak RSS is this run's)."""
    argv = [PYTHON, "-m", "benchmarks.compare_streams", "--child", mode, str(tokens)]
    return child_json(argv, env, timeout=600, failed={"mode": mode, "ok": False})


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--tokens", type=int, default=20000)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "TOKENS"))
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_child(args.child[0], int(args.child[1])))))
        return 0
    runs = args.runs or (2 if args.quick else 3)
    records: list[dict[str, Any]] = []
    with reply_server() as url, isolated_home(url) as (_, env):
        for name in ("two", "three"):
            prefix = f"TUICHAT_PROVIDERS__{name.upper()}__"
            env[prefix + "PLUGIN"] = "openai"
            env[prefix + "BASE_URL"] = f"{url}/v1"
            env[prefix + "DEFAULT_MODEL"] = MODEL
        for rep in range(runs):
            for mode in ("chat", "compare"):
                result = child_run(env, mode, args.tokens)
                records.append({"rep": rep, **result})
                print(json.dumps({k: v for k, v in records[-1].items() if k != "keys_ms"}))
    rows = [
        [
            "screen",
            f"{args.tokens} tokens per column, submit → all painted",
            "key → frame p50",
            "key → frame p95",
            "frames",
            "CPU s",
            "peak MiB",
        ]
    ]
    summary: dict[str, Any] = {}
    for mode, label in (("chat", "chat, one reply (baseline)"), ("compare", "compare, 3 columns")):
        rs = [r for r in records if r.get("mode") == mode]
        keys = [k for r in rs for k in r.get("keys_ms", [])]
        p50, p95 = percentile(keys, 50), percentile(keys, 95)
        rows.append(
            [
                label,
                stat(r.get("end_s") for r in rs),
                f"{p50:.0f} ms" if p50 is not None else "n/a",
                f"{p95:.0f} ms" if p95 is not None else "n/a",
                stat((r.get("frames") for r in rs), ""),
                stat(r.get("cpu_s") for r in rs),
                stat((r.get("peak_mib") for r in rs), ""),
            ]
        )
        summary[mode] = {
            "end_s": median(r.get("end_s") for r in rs),
            "key_p50_ms": p50,
            "key_p95_ms": p95,
            "keys": len(keys),
        }
    print()
    print(table(rows))
    chat, compare = summary["chat"]["end_s"], summary["compare"]["end_s"]
    if chat and compare:
        print(f"\nthree columns / one reply = {compare / chat:.2f} (three times the text)")
    path = save("compare_streams", {"records": records, "summary": summary})
    print(f"figures saved to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TUICHAT_UI__FPS", "30")
    sys.exit(main())
