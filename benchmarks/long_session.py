"""Benchmark 8: a long sitting: many turns in one conversation, then many conversations.

Each run is a fresh process of the real app at 120x40 against the loopback reply server:

* turns: a 400-token Markdown reply per prompt, the next prompt typed and sent as soon as
  the last reply's end is on screen (headless: its line painted; tmux: on the screen
  read back). Per turn: seconds from Enter to the reply's end on screen; at each
  checkpoint turn the median of the turns just before it, the app's RSS and CPU;
* switching (headless): :data:`SWITCH_CONVERSATIONS` stored conversations of
  :data:`SWITCH_MESSAGES` messages opened one after the other (each until its last reply
  is painted); RSS after the first and after the last.

Baseline in the same run: the same steps at 20 turns (seconds per turn at turn 10).

Run: ``python -m benchmarks.long_session [--quick] [--turns 1000] [--modes headless,tmux]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    MODEL,
    PYTHON,
    ROOT,
    Tmux,
    child_json,
    isolated_home,
    median,
    proc_stats,
    prompt,
    reply_server,
    run_id,
    save,
    stat,
    table,
    tuichat_argv,
)

#: Tokens of each reply.
TOKENS = 400

#: The turns at which a figure is taken (those not beyond the run's length).
CHECKPOINTS = (10, 100, 300, 500, 1000)

#: Turns before a checkpoint whose median is its seconds per turn.
WINDOW = 5

SWITCH_CONVERSATIONS = 50
SWITCH_MESSAGES = 200


def rss_mib() -> float:
    """This process's resident memory now (MiB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def checkpoints(turns: int) -> list[int]:
    """The checkpoint turns of a run of ``turns`` turns (its last turn always one)."""
    points = [point for point in CHECKPOINTS if point < turns]
    return [*points, turns]


def summarise(durations: list[float], marks: dict[int, dict[str, float]]) -> dict[str, Any]:
    """Seconds per turn (median of the last :data:`WINDOW` turns) at each checkpoint."""
    out: dict[str, Any] = {"turns": len(durations)}
    for point, figures in marks.items():
        recent = durations[max(0, point - WINDOW) : point]
        out[f"s_per_turn_{point}"] = statistics.median(recent) if recent else None
        out[f"rss_{point}"] = figures["rss"]
        out[f"cpu_{point}"] = figures["cpu"]
        out[f"wall_{point}"] = figures["wall"]
    return out


# -- headless -----------------------------------------------------------------------------------


async def _headless(turns: int, switch_dir: str | None) -> dict[str, Any]:
    from tuichat.app.app import make_app
    from tuichat.app.widgets.markdown_text import MarkdownText

    painted: dict[str, float] = {}
    real_line = MarkdownText.render_line

    def render_line(self: MarkdownText, y: int):  # type: ignore[no-untyped-def]
        strip = real_line(self, y)
        text = strip.text
        if "END-" in text or "LAST-" in text:
            for word in text.split():
                if word.startswith(("END-", "LAST-")):
                    painted.setdefault(word, time.perf_counter())
        return strip

    MarkdownText.render_line = render_line  # type: ignore[method-assign]

    async def until(key: str, timeout: float = 60.0) -> float | None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if key in painted:
                return painted[key]
            await asyncio.sleep(0.002)
        return None

    app = make_app(provider="openai", model=MODEL)
    run = run_id()
    durations: list[float] = []
    marks: dict[int, dict[str, float]] = {}
    out: dict[str, Any] = {}
    points = set(checkpoints(turns))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen_stack[0]
        box = screen.query_one("#prompt")
        started = time.perf_counter()
        for n in range(1, turns + 1):
            box.focus()
            box.insert(prompt(TOKENS, f"{run}t{n}"))  # type: ignore[attr-defined]
            t0 = time.perf_counter()
            await pilot.press("enter")
            end = await until(f"END-{run}t{n}")
            if end is None:
                out["error"] = f"turn {n}: the reply's end never showed"
                break
            durations.append(end - t0)
            # The next prompt goes once the reply has ended (Enter does not send before).
            while getattr(screen, "responding", False):
                await asyncio.sleep(0.002)
            if n in points:
                marks[n] = {"rss": rss_mib(), "cpu": cpu_s(), "wall": time.perf_counter() - started}
        out.update(summarise(durations, marks))
        # Full collections run by the app's collector in the sitting (heap.IdleCollector).
        out["collections"] = app.collector.collections
        out["collection_longest_s"] = app.collector.longest
        log = screen.chat_log  # type: ignore[attr-defined]
        out["mounted_children"] = len(log.children)
        out["durations"] = [round(d, 4) for d in durations]
        if switch_dir is not None:
            out.update(await _switch(screen, json.loads(switch_dir), until))
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


async def _switch(screen: Any, conversations: list[list[Any]], until: Any) -> dict[str, Any]:
    """Open each conversation in turn; RSS after the first and after the last."""
    rss: list[float] = []
    times: list[float] = []
    for conversation_id, marker in conversations:
        t0 = time.perf_counter()
        await screen.open_conversation(conversation_id)
        painted = await until(f"LAST-{marker}", 30)
        times.append((painted or t0) - t0)
        gc.collect()
        rss.append(rss_mib())
    return {
        "switch_open_s": statistics.median(times) if times else None,
        "switch_rss_first": rss[0] if rss else None,
        "switch_rss_last": rss[-1] if rss else None,
        "switch_count": len(rss),
    }


def build_conversations(data_dir: Path, count: int, messages: int) -> list[list[Any]]:
    """Store ``count`` conversations of ``messages`` messages; [id, marker] of each."""
    from benchmarks.long_history import build

    return [
        [build(data_dir, messages, marker), marker] for marker in (run_id() for _ in range(count))
    ]


# -- tmux ------------------------------------------------------------------------------------


def _tmux(env: dict[str, str], home: Path, turns: int) -> dict[str, Any]:
    run = run_id()
    durations: list[float] = []
    marks: dict[int, dict[str, float]] = {}
    out: dict[str, Any] = {}
    points = set(checkpoints(turns))
    with Tmux() as tmux:
        name, pid = tmux.launch(tuichat_argv("--provider", "openai", "--model", MODEL), env, home)
        try:
            if tmux.wait_for(name, ["Message"], 30) is None:
                return {"error": "the app did not start"}
            started = time.monotonic()
            for n in range(1, turns + 1):
                tmux.send_literal(name, prompt(TOKENS, f"{run}t{n}"))
                t0 = time.monotonic()
                tmux.send_key(name, "Enter")
                end = tmux.wait_for(name, [f"END-{run}t{n}"], 60)
                if end is None:
                    out["error"] = f"turn {n}: the reply's end never showed"
                    break
                durations.append(end - t0)
                # Enter sends only once the reply has ended: wait for its prompt hint.
                if tmux.wait_for(name, ["Message · Enter sends"], 30) is None:
                    out["error"] = f"turn {n}: the prompt never came back"
                    break
                if n in points:
                    figures = proc_stats(pid)
                    marks[n] = {
                        "rss": figures.get("VmRSS", 0.0),
                        "cpu": figures.get("cpu_s", 0.0),
                        "wall": time.monotonic() - started,
                    }
            out.update(summarise(durations, marks))
            out["peak_mib"] = proc_stats(pid).get("VmHWM")
            out["durations"] = [round(d, 4) for d in durations]
        finally:
            tmux.kill(name, pid)
    return out


# -- the runs ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--modes", default="headless,tmux")
    parser.add_argument("--tmux-turns", type=int, default=None, help="default: --turns")
    parser.add_argument("--switches", type=int, default=SWITCH_CONVERSATIONS)
    parser.add_argument("--child", nargs=2, metavar=("TURNS", "SWITCH"))
    args = parser.parse_args(argv)
    if args.child:
        switch = None if args.child[1] == "-" else args.child[1]
        print(json.dumps(asyncio.run(_headless(int(args.child[0]), switch))))
        return 0
    runs = args.runs or 1
    turns = min(args.turns, 100) if args.quick else args.turns
    modes = [mode for mode in args.modes.split(",") if mode]
    records: list[dict[str, Any]] = []
    with reply_server() as url:
        for rep in range(runs):
            for mode in modes:
                longest = turns if mode != "tmux" or not args.tmux_turns else args.tmux_turns
                cases = (("20 turns (baseline)", 20), (f"{longest} turns", longest))
                for label, size in cases:
                    with isolated_home(url) as (home, env):
                        if mode == "tmux":
                            result = _tmux(env, home, size)
                        else:
                            switch = "-"
                            if size == turns and args.switches:
                                found = build_conversations(
                                    Path(env["TUICHAT_DATA_DIR"]), args.switches, SWITCH_MESSAGES
                                )
                                switch = json.dumps(found)
                            argv_ = [PYTHON, "-m", "benchmarks.long_session", "--child"]
                            result = child_json([*argv_, str(size), switch], env, timeout=7200)
                    records.append({"case": label, "mode": mode, "rep": rep, **result})
                    shown = {k: v for k, v in records[-1].items() if k != "durations"}
                    print(json.dumps(shown), flush=True)
    print()
    print(report(records))
    path = save("long_session", {"records": records})
    print(f"figures saved to {path.relative_to(ROOT)}")
    return 0


def report(records: list[dict[str, Any]]) -> str:
    """The table: per mode and case, seconds per turn, RSS and CPU at each checkpoint."""
    rows = [
        [
            "mode",
            "case",
            "turn",
            "s per turn (last 5)",
            "vs its turn 10",
            "vs the baseline's turn 10",
            "RSS MiB",
            "CPU s so far",
        ]
    ]
    for mode in dict.fromkeys(r["mode"] for r in records):
        baseline = median(
            r.get("s_per_turn_10")
            for r in records
            if r["mode"] == mode and r["case"].endswith("(baseline)")
        )
        for label in dict.fromkeys(r["case"] for r in records if r["mode"] == mode):
            rs = [r for r in records if r["mode"] == mode and r["case"] == label]
            size = rs[0].get("turns") or 0
            base = median(r.get("s_per_turn_10") for r in rs)
            for point in checkpoints(max(size, 1)):
                here = median(r.get(f"s_per_turn_{point}") for r in rs)
                rows.append(
                    [
                        mode,
                        label,
                        str(point),
                        stat(r.get(f"s_per_turn_{point}") for r in rs),
                        f"{here / base:.2f}x" if here and base else "n/a",
                        f"{here / baseline:.2f}x" if here and baseline else "n/a",
                        stat((r.get(f"rss_{point}") for r in rs), ""),
                        stat((r.get(f"cpu_{point}") for r in rs), ""),
                    ]
                )
    text = table(rows)
    switched = [r for r in records if r.get("switch_count")]
    if switched:
        first = median(r.get("switch_rss_first") for r in switched)
        last = median(r.get("switch_rss_last") for r in switched)
        count = switched[0]["switch_count"]
        text += (
            f"\n\nopening {count} conversations of {SWITCH_MESSAGES} messages one after the "
            f"other: RSS after the first {first:.0f} MiB, after the last {last:.0f} MiB "
            f"({(last / first - 1) * 100:+.0f} %); open → last reply painted "
            + stat(r.get("switch_open_s") for r in switched)
        )
    return text


if __name__ == "__main__":
    sys.exit(main())
