"""Benchmark 1 (and 2): a long Markdown reply streamed into the real app, and typing meanwhile.

For each reply size (2k, 20k, 40k tokens of the test kit's Markdown: headings, prose,
a list, a Python fence, a quote, a table) and each rate (as fast as possible, and
100 tokens/s), in the real app at 120x40:

* ``headless``: the app in a Pilot (``App.run_test``), one process per run. "Rendered"
  is when the reply's widget took the text in and rendered its lines; "END painted" is
  when the line holding the last token was produced for a frame. Frames = screen
  updates the app composed.
* ``tmux``: ``python -m tuichat`` in a 120x40 tmux pane; times are when a marker is
  first seen on the screen (polled every 5 ms without forking); frames = distinct
  screens seen.

Figures: submit -> first token, submit -> END (whole reply on screen), seconds per
1,000 tokens over the first and the last 1,000 tokens, frames, client CPU, peak RSS.

Baselines, in the same run against the same server: the floor client (httpx +
httpx-sse, ~20 lines), ``tuichat ask`` with stdout to a pipe, and ``llm`` (plain text)
when installed (``$LLM_BIN``, ``llm`` on PATH, or ``$ANCHOR_VENVS/llm``).

Typing while streaming (benchmark 2, tmux): a unique string is typed into the prompt
every 0.25 s while a fast 20k reply streams, timed until it shows (the prompt stays
writable while a reply streams, so this is the real app): the figure is what a key press
waits for while the reply renders.

Run: ``python -m benchmarks.stream_render [--quick] [--runs N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks._common import (
    COLS,
    MODEL,
    PYTHON,
    ROOT,
    Tmux,
    child_json,
    isolated_home,
    median,
    percentile,
    proc_stats,
    prompt,
    reply_server,
    run_cli,
    run_id,
    save,
    stat,
    table,
    tuichat_argv,
)

EVERY = 250


def per_k(marks: dict[str, float], tokens: int) -> tuple[float | None, float | None]:
    """Seconds per 1,000 tokens over the first and the last 1,000 tokens of the reply.

    Points: ``BEGIN`` at token 0, ``CKP<k>`` at token ``k*250``, ``END`` at the last
    token. First = from BEGIN to the first point at or past token 1,000; last = from the
    last point at or before ``tokens - 1000`` to END; both normalised to 1,000 tokens
    (markers that scrolled by unseen widen the window).
    """
    points = sorted(
        (int(key[3:]) * EVERY, value) for key, value in marks.items() if key.startswith("CKP")
    )
    if "BEGIN" in marks:
        points.insert(0, (0, marks["BEGIN"]))
    if "END" in marks:
        points.append((tokens, marks["END"]))
    if len(points) < 2:
        return None, None
    start = points[0]
    after = next((p for p in points[1:] if p[0] >= start[0] + 1000), points[-1])
    end = points[-1]
    before = next((p for p in reversed(points[:-1]) if p[0] <= end[0] - 1000), points[0])
    first = (after[1] - start[1]) / (after[0] - start[0]) * 1000 if after[0] > start[0] else None
    last = (end[1] - before[1]) / (end[0] - before[0]) * 1000 if end[0] > before[0] else None
    return first, last


# -- headless (child process) ------------------------------------------------------------------


async def _headless(tokens: int, rate: float, timeout: float) -> dict[str, Any]:
    from textual.app import App

    from tuichat.app.app import make_app
    from tuichat.app.widgets.markdown_text import MarkdownText

    run = run_id()
    marker = re.compile(rf"(BEGIN|END)-{run}|CKP(\d+) ")
    committed: dict[str, float] = {}
    painted: dict[str, float] = {}
    frames = [0]

    def note(text: str, into: dict[str, float]) -> None:
        if "-" + run in text or "CKP" in text:
            now = time.perf_counter()
            for match in marker.finditer(text):
                into.setdefault(match.group(1) or f"CKP{match.group(2)}", now)

    real_commit, real_finish = MarkdownText.commit, MarkdownText.finish
    real_line, real_display = MarkdownText.render_line, App._display

    def commit(self: MarkdownText) -> None:
        pending = "".join(self.document.splitter._pending)
        real_commit(self)
        note(pending, committed)

    def finish(self: MarkdownText) -> None:
        pending = "".join(self.document.splitter._pending)
        real_finish(self)
        note(pending, committed)

    def render_line(self: MarkdownText, y: int):  # type: ignore[no-untyped-def]
        strip = real_line(self, y)
        note(strip.text, painted)
        return strip

    def display(self: App[Any], screen: Any, renderable: Any) -> None:
        if renderable is not None:
            frames[0] += 1
        real_display(self, screen, renderable)

    MarkdownText.commit = commit  # type: ignore[method-assign]
    MarkdownText.finish = finish  # type: ignore[method-assign]
    MarkdownText.render_line = render_line  # type: ignore[method-assign]
    App._display = display  # type: ignore[method-assign]

    app = make_app(provider="openai", model=MODEL)
    if os.environ.get("BENCH_GC") == "off":
        import gc

        gc.disable()
    async with app.run_test(size=(COLS, 40)) as pilot:
        await pilot.pause()
        if os.environ.get("BENCH_GC") == "freeze":
            import gc

            gc.freeze()
        box = app.screen.query_one("#prompt")
        box.insert(prompt(tokens, run, rate, EVERY))  # type: ignore[attr-defined]
        await pilot.pause()
        frames[0] = 0
        stalls: list[float] = []

        async def ticker() -> None:
            # How late a 5 ms sleep wakes up: what a key press would wait for.
            while True:
                before = time.perf_counter()
                await asyncio.sleep(0.005)
                stalls.append(time.perf_counter() - before - 0.005)

        ticking = asyncio.create_task(ticker())
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        press = asyncio.create_task(pilot.press("enter"))
        deadline = t0 + timeout
        while "END" not in painted and time.perf_counter() < deadline:
            await asyncio.sleep(0.002)
        cpu = time.process_time() - cpu0
        ticking.cancel()
        await press
    rel_c = {k: v - t0 for k, v in committed.items()}
    rel_p = {k: v - t0 for k, v in painted.items()}
    first, last = per_k(rel_c, tokens)
    return {
        "ok": "END" in painted,
        "first_s": rel_p.get("BEGIN"),
        "end_s": rel_p.get("END"),
        "rendered_s": rel_c.get("END"),
        "per1k_first": first,
        "per1k_last": last,
        "frames": frames[0],
        "stall_p95_ms": (percentile(stalls, 95) or 0) * 1000,
        "stall_max_ms": max(stalls, default=0) * 1000,
        "cpu_s": cpu,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def headless_run(env: dict[str, str], tokens: int, rate: float, timeout: float) -> dict[str, Any]:
    """One headless run in a fresh process (so peak RSS is this run's)."""
    argv = [PYTHON, "-m", "benchmarks.stream_render", "--child", str(tokens), str(rate)]
    return child_json(
        [*argv, str(timeout)], env, timeout=timeout + 60, failed={"ok": False}, tail=600
    )


# -- tmux ----------------------------------------------------------------------------------------

READY = ("Message · Enter sends", "wire-model-1")


def tmux_run(
    tmux: Tmux,
    env: dict[str, str],
    home: Path,
    tokens: int,
    rate: float,
    timeout: float,
    *,
    probe_every: float = 0.0,
) -> dict[str, Any]:
    """One run in tmux: launch, type the prompt, submit, watch the markers appear."""
    argv = tuichat_argv("--provider", "openai", "--model", MODEL)
    name, pid = tmux.launch(argv, env, home)
    try:
        if tmux.wait_for(name, READY, 30) is None:
            return {"ok": False, "error": "not ready", "screen": tmux.screen(name)}
        time.sleep(0.5)
        run = run_id()
        idle: list[float | None] = []
        if probe_every:
            # The same probes with nothing streaming: the floor of this measurement.
            for n in range(6):
                idle.append(type_probe(tmux, name, f"qi{n}x{run}", 5.0))
                time.sleep(probe_every)
        tmux.send_literal(name, prompt(tokens, run, rate, EVERY))
        time.sleep(0.3)
        before = proc_stats(pid)
        t0 = time.monotonic()
        tmux.send_key(name, "Enter")
        marker = re.compile(rf"(BEGIN|END)-{run}|CKP(\d+) ")
        seen: dict[str, float] = {}
        frames = 0
        last_screen = ""
        probes: list[float | None] = []
        probe: tuple[str, float] | None = None
        next_probe: float | None = None
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            screen = tmux.screen(name)
            now = time.monotonic()
            for match in marker.finditer(screen):
                seen.setdefault(match.group(1) or f"CKP{match.group(2)}", now - t0)
            # Scrollbar columns ignored: a moving thumb alone is not a new frame.
            text = "\n".join(line[: COLS - 3] for line in screen.splitlines())
            if text != last_screen:
                frames += 1
                last_screen = text
            if probe_every:
                if probe is not None and probe[0] in screen:
                    probes.append(now - probe[1])
                    clear_probe(tmux, name, probe[0])
                    probe = None
                elif probe is not None and "END" in seen and now - probe[1] > 2.0:
                    probes.append(None)
                    probe = None
                if "BEGIN" in seen and next_probe is None:
                    next_probe = now + probe_every / 2
                if probe is None and next_probe is not None and now >= next_probe:
                    text_probe = f"qj{len(probes)}x{run}"
                    probe = (text_probe, time.monotonic())
                    tmux.send_literal(name, text_probe)
                    next_probe = time.monotonic() + probe_every
            if "END" in seen and (not probe_every or probe is None):
                break
            time.sleep(0.005)
        if probe is not None:
            probes.append(None)
        after = proc_stats(pid)
        first, last = per_k(seen, tokens)
        return {
            "ok": "END" in seen,
            "first_s": seen.get("BEGIN"),
            "end_s": seen.get("END"),
            "per1k_first": first,
            "per1k_last": last,
            "frames": frames,
            "cpu_s": after.get("cpu_s", 0) - before.get("cpu_s", 0),
            "peak_mib": after.get("VmHWM"),
            "probes_ms": [p * 1000 if p is not None else None for p in probes],
            "idle_probes_ms": [p * 1000 if p is not None else None for p in idle],
        }
    finally:
        tmux.kill(name, pid)


def clear_probe(tmux: Tmux, name: str, text: str) -> None:
    """Delete a typed probe again (so the prompt never wraps a later one)."""
    tmux.cmd(f"send-keys -t {name} -N {len(text)} BSpace")


def type_probe(tmux: Tmux, name: str, text: str, timeout: float) -> float | None:
    """Type ``text`` and time until it shows; then delete it."""
    t0 = time.monotonic()
    tmux.send_literal(name, text)
    seen = tmux.wait_for(name, [text], timeout, poll=0.002)
    if seen is None:
        return None
    clear_probe(tmux, name, text)
    time.sleep(0.05)
    return seen - t0


# -- baselines -------------------------------------------------------------------------------------


def llm_binary() -> str | None:
    """The ``llm`` CLI, if installed anywhere we know of."""
    for candidate in (
        os.environ.get("LLM_BIN"),
        shutil.which("llm"),
        str(Path(os.environ.get("ANCHOR_VENVS", "/tmp/anchor-venvs")) / "llm" / "bin" / "llm"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def baseline_runs(
    url: str, env: dict[str, str], home: Path, tokens: int, rate: float
) -> dict[str, dict[str, Any]]:
    """The floor client, ``tuichat ask`` to a pipe, and llm (if installed), once each."""
    out: dict[str, dict[str, Any]] = {}
    run = run_id()
    text = prompt(tokens, run, rate, EVERY)
    markers = (f"BEGIN-{run}", f"END-{run}")
    floor = [PYTHON, str(ROOT / "benchmarks" / "floor_client.py"), f"{url}/v1", text]
    ask = tuichat_argv("ask", "-p", "openai", "-m", MODEL, "--no-save", text)
    commands = {"floor": floor, "tuichat ask": ask}
    llm = llm_binary()
    if llm is not None:
        llm_home = home / "llm"
        llm_home.mkdir(exist_ok=True)
        (llm_home / "extra-openai-models.yaml").write_text(
            f'- model_id: bench\n  model_name: {MODEL}\n  api_base: "{url}/v1"\n',
            encoding="utf-8",
        )
        commands["llm"] = [llm, "-m", "bench", "--no-log", text]
    for label, argv in commands.items():
        llm_env = {**env, "LLM_USER_PATH": str(home / "llm")}
        result = run_cli(argv, llm_env, home, markers=markers)
        result["end_s"] = result["markers"].get(f"END-{run}")
        result["first_s"] = result["markers"].get(f"BEGIN-{run}")
        result["ok"] = result["rc"] == 0 and result["end_s"] is not None
        out[label] = result
    return out


# -- driver --------------------------------------------------------------------------------------


def _sizes(value: str | None, default: str) -> list[int]:
    text = default if value is None else value
    return [int(n) for n in text.split(",") if n and n != "none"]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2k and 20k, 2 runs each")
    parser.add_argument("--runs", type=int, default=None, help="runs per case (default 3)")
    parser.add_argument(
        "--sizes", default=None, help="full-speed sizes (default 2000,20000,40000; none: skip)"
    )
    parser.add_argument("--paced", default=None, help="sizes at 100 tokens/s (default 2000; none)")
    parser.add_argument("--modes", default="headless,tmux")
    parser.add_argument("--typing-runs", type=int, default=None)
    parser.add_argument("--child", nargs=3, metavar=("TOKENS", "RATE", "TIMEOUT"))
    args = parser.parse_args(argv)
    if args.child:
        tokens, rate, timeout = int(args.child[0]), float(args.child[1]), float(args.child[2])
        print(json.dumps(asyncio.run(_headless(tokens, rate, timeout))))
        return 0

    runs = args.runs or (2 if args.quick else 3)
    sizes = _sizes(args.sizes, "2000,20000" if args.quick else "2000,20000,40000")
    paced = _sizes(args.paced, "" if args.quick else "2000")
    modes = [m for m in args.modes.split(",") if m]
    typing_runs = args.typing_runs if args.typing_runs is not None else (1 if args.quick else 3)
    cases = [(n, 0.0) for n in sizes] + [(n, 100.0) for n in paced]
    records: list[dict[str, Any]] = []
    with reply_server() as url, isolated_home(url) as (home, env), Tmux() as tmux:
        for rep in range(runs):
            for tokens, rate in cases:
                timeout = max(120.0, tokens / rate * 1.5 if rate else tokens / 100)
                for label, result in baseline_runs(url, env, home, tokens, rate).items():
                    records.append(
                        {"client": label, "tokens": tokens, "rate": rate, "rep": rep, **result}
                    )
                    print(
                        json.dumps(
                            {
                                k: records[-1].get(k)
                                for k in ("client", "tokens", "rate", "end_s", "cpu_s", "peak_mib")
                            }
                        ),
                        flush=True,
                    )
                for mode in modes:
                    if mode == "headless":
                        result = headless_run(env, tokens, rate, timeout)
                    else:
                        result = tmux_run(tmux, env, home, tokens, rate, timeout)
                    records.append(
                        {
                            "client": f"tuichat ({mode})",
                            "tokens": tokens,
                            "rate": rate,
                            "rep": rep,
                            **result,
                        }
                    )
                    print(
                        json.dumps(
                            {
                                k: records[-1].get(k)
                                for k in (
                                    "client",
                                    "tokens",
                                    "rate",
                                    "ok",
                                    "end_s",
                                    "per1k_first",
                                    "per1k_last",
                                    "frames",
                                    "cpu_s",
                                    "peak_mib",
                                    "error",
                                )
                            }
                        ),
                        flush=True,
                    )
        probes: list[float | None] = []
        idle_probes: list[float | None] = []
        typing_records = []
        for _ in range(typing_runs):
            result = tmux_run(tmux, env, home, 20000, 0.0, 300, probe_every=0.25)
            typing_records.append(result)
            probes += result.get("probes_ms", [])
            idle_probes += result.get("idle_probes_ms", [])
            print(
                json.dumps({"typing": result.get("probes_ms"), "end_s": result.get("end_s")}),
                flush=True,
            )
    report(records, probes, typing_records, idle_probes)
    return 0


def report(
    records: list[dict[str, Any]],
    probes: list[float | None],
    typing: list[dict[str, Any]],
    idle: Sequence[float | None] = (),
) -> None:
    """Print the tables and save the figures."""
    rows = [
        [
            "client",
            "tokens",
            "rate tok/s",
            "n ok",
            "submit→END s",
            "submit→first s",
            "s/1k first",
            "s/1k last",
            "frames",
            "CPU s",
            "peak MiB",
        ]
    ]
    keys = sorted(
        {(r["tokens"], r["rate"], r["client"]) for r in records}, key=lambda k: (k[1], k[0], k[2])
    )
    summary: dict[str, Any] = {}
    for tokens, rate, client in keys:
        rs = [r for r in records if (r["tokens"], r["rate"], r["client"]) == (tokens, rate, client)]
        ok = [r for r in rs if r.get("ok")]
        rows.append(
            [
                client,
                str(tokens),
                "max" if not rate else f"{rate:g}",
                f"{len(ok)}/{len(rs)}",
                stat(r.get("end_s") for r in ok),
                stat(r.get("first_s") for r in ok),
                stat((r.get("per1k_first") for r in ok), ""),
                stat((r.get("per1k_last") for r in ok), ""),
                stat((r.get("frames") for r in ok), "", 3),
                stat(r.get("cpu_s") for r in ok),
                stat((r.get("peak_mib") for r in ok), "", 3),
            ]
        )
        summary[f"{client}|{tokens}|{rate:g}"] = {
            "end_s": median(r.get("end_s") for r in ok),
            "per1k_first": median(r.get("per1k_first") for r in ok),
            "per1k_last": median(r.get("per1k_last") for r in ok),
            "peak_mib": median(r.get("peak_mib") for r in ok),
            "n": len(rs),
            "ok": len(ok),
        }
    print()
    print(table(rows))
    numbers = [p for p in probes if p is not None]
    lost = len(probes) - len(numbers)
    typing_line = (
        f"typing while a 20k reply streams (tmux): p50 {percentile(numbers, 50):.0f} ms, "
        f"p95 {percentile(numbers, 95):.0f} ms, max {max(numbers):.0f} ms "
        f"(n={len(probes)}, never shown={lost})"
        if numbers
        else "typing: no probe"
    )
    idle_numbers = [p for p in idle if p is not None]
    if idle_numbers:
        typing_line += (
            f"\nsame probes with nothing streaming: p50 {percentile(idle_numbers, 50):.0f} ms, "
            f"p95 {percentile(idle_numbers, 95):.0f} ms (n={len(idle)})"
        )
    print()
    print(typing_line)
    checks = targets(summary, numbers)
    print()
    for line in checks:
        print(line)
    path = save(
        "stream_render",
        {
            "records": records,
            "summary": summary,
            "typing_ms": probes,
            "typing_idle_ms": list(idle),
            "typing": typing,
            "targets": checks,
        },
    )
    print(f"\nfigures saved to {path.relative_to(ROOT)}")


def targets(summary: dict[str, Any], typing_ms: list[float]) -> list[str]:
    """The issue's figures to reach, checked against this run's medians."""
    out = []

    def get(client: str, tokens: int, key: str = "end_s") -> float | None:
        entry = summary.get(f"{client}|{tokens}|0")
        return entry.get(key) if entry else None

    base_name = "llm" if get("llm", 20000) else "floor"
    base = get(base_name, 20000)
    for mode in ("headless", "tmux"):
        client = f"tuichat ({mode})"
        t20, t40 = get(client, 20000), get(client, 40000)
        if t20 and base:
            out.append(
                f"[{mode}] 20k rendered {t20:.2f} s = {t20 / base:.2f}x "
                f"{base_name} ({base:.2f} s); target ≤ 2x"
            )
        if t20 and t40:
            out.append(f"[{mode}] 40k/20k = {t40 / t20:.2f}; target ≤ 2.2")
        first, last = get(client, 20000, "per1k_first"), get(client, 20000, "per1k_last")
        if first and last:
            out.append(
                f"[{mode}] 20k: last 1k {last:.3f} s vs first 1k {first:.3f} s = "
                f"{last / first:.2f}x; target ≤ 1.5x"
            )
        peak = get(client, 20000, "peak_mib")
        if peak:
            out.append(f"[{mode}] 20k peak RSS {peak:.0f} MiB; target < 150")
    if typing_ms:
        out.append(f"typing p95 {percentile(typing_ms, 95):.0f} ms; target < 50")
    return out


if __name__ == "__main__":
    sys.exit(main())
