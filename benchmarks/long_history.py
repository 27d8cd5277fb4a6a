"""Benchmark 4: a conversation of 2,000 messages: open it, scroll it end to end, stream at its end.

The conversation (1,000 prompts, 1,000 Markdown replies of ~300 tokens: heading, prose,
list, Python fence, quote, table) is written through the store's own API. Each run is a
fresh process running the real app headless (Pilot, 120x40):

* open: from asking the chat screen to show the conversation until the last reply's
  last line has been painted;
* the Home key in the log (the first message, at once: a fresh window at the top)
  until the first reply is painted, and the End key back until the last one is;
* scroll to the top through every page (``scroll_home`` repeated while older messages
  load, at most 30 s) until the first reply is painted, then back to the end;
* read it upwards: a PageUp key every :data:`PAGE_UP_EVERY` seconds from the end for
  :data:`PAGE_UP_FOR` seconds (or until the first reply is painted), posted as terminal
  keys; the figures are the event loop's stalls meanwhile (a ticker wakes every 2 ms:
  the longest gap, the 99th percentile, how many exceed 100 ms) and messages mounted;
* stream a 2,000-token reply (as fast as possible) at its end, until its last line is
  painted.

Baseline in the same run: the same steps for a conversation of 20 messages.

Run: ``python -m benchmarks.long_history [--quick] [--runs N] [--messages N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    MODEL,
    PYTHON,
    ROOT,
    child_json,
    isolated_home,
    median,
    prompt,
    reply_server,
    run_id,
    save,
    stat,
    table,
)
from tuichat.testing.__main__ import markdown_tokens

REPLY = "".join(markdown_tokens(300))


def build(data_dir: Path, messages: int, marker: str) -> int:
    """Write a conversation of ``messages`` messages; returns its id.

    The first reply holds ``FIRST-<marker>``, the last ``LAST-<marker>``.
    """
    from tuichat.store import Store

    store = Store(data_dir / "tuichat.db")
    try:
        conversation = store.create_conversation(
            title="Long history", provider="openai", model=MODEL
        )
        turns = messages // 2
        for n in range(turns):
            store.add_message(conversation.id, "user", f"Question number {n}: tell me more.")
            reply = REPLY
            if n == 0:
                reply = f"FIRST-{marker}\n\n{reply}"
            if n == turns - 1:
                reply = f"{reply}\n\nLAST-{marker}\n"
            store.add_message(conversation.id, "assistant", reply, provider="openai", model=MODEL)
        return conversation.id
    finally:
        store.close()


TOP_LIMIT = 30.0
PAGE_UP_EVERY = 0.1
PAGE_UP_FOR = 20.0
FIRST_PAGE_GUESS = 30


async def _child(conversation_id: int, marker: str, tokens: int) -> dict[str, Any]:
    from tuichat.app.app import make_app
    from tuichat.app.widgets.markdown_text import MarkdownText

    painted: dict[str, float] = {}
    run = run_id()
    wanted = {f"FIRST-{marker}": "FIRST", f"LAST-{marker}": "LAST", f"END-{run}": "END"}
    real_line = MarkdownText.render_line

    def render_line(self: MarkdownText, y: int):  # type: ignore[no-untyped-def]
        strip = real_line(self, y)
        text = strip.text
        if "-" in text:
            for key, name in wanted.items():
                if key in text:
                    painted[name] = time.perf_counter()
        return strip

    MarkdownText.render_line = render_line  # type: ignore[method-assign]

    async def until(name: str, since: float, timeout: float = 60.0) -> float | None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if painted.get(name, 0) >= since:
                return painted[name] - since
            await asyncio.sleep(0.002)
        return None

    app = make_app(provider="openai", model=MODEL)
    out: dict[str, Any] = {}
    messages_total = len(app.runtime.store.messages(conversation_id))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen_stack[0]
        if getattr(screen, "conversation_id", None) == conversation_id:
            # The app reopened it at start (it remembers the last one): time a fresh open.
            await screen.open_conversation(None)  # type: ignore[attr-defined]
            await pilot.pause()
        t0 = time.perf_counter()
        opening = asyncio.create_task(screen.open_conversation(conversation_id))  # type: ignore[attr-defined]
        out["open_s"] = await until("LAST", t0)
        await opening
        await pilot.pause()
        log = screen.chat_log  # type: ignore[attr-defined]
        out["widgets"] = len(list(log.query("*")))
        # To the top: Home, again whenever older messages were loaded above (at most
        # TOP_LIMIT seconds: then report how far it got).
        t1 = time.perf_counter()
        deadline = t1 + TOP_LIMIT
        while painted.get("FIRST", 0) < t1 and time.perf_counter() < deadline:
            log.scroll_home(animate=False, immediate=True)
            await asyncio.sleep(0.01)
        reached = painted.get("FIRST", 0) >= t1
        out["to_top_s"] = painted["FIRST"] - t1 if reached else None
        pager = getattr(log, "_tuichat_history", None)
        remaining = pager.older if pager is not None else 0
        out["top_reached"] = reached
        out["messages_loaded_per_s"] = (
            (messages_total - FIRST_PAGE_GUESS - remaining) / (time.perf_counter() - t1)
            if not reached
            else None
        )
        out["widgets_after_top"] = len(list(log.query("*")))
        # Back to the end: its lines are cached, so time the next frame drawn.
        t2 = time.perf_counter()
        log.scroll_end(animate=False, immediate=True)
        drawn = asyncio.Event()
        log.call_after_refresh(drawn.set)
        await asyncio.wait_for(drawn.wait(), 60)
        out["to_end_s"] = time.perf_counter() - t2 if log.scroll_y == log.max_scroll_y else None
        await pilot.pause()
        # The keys: Home shows the first message, End the last, without paging (a
        # fresh window: its replies are painted anew; a short conversation has all of
        # them mounted and painted already, so it has no figure here).
        log.focus()
        await pilot.pause()
        t_home = time.perf_counter()
        await pilot.press("home")
        out["home_key_s"] = await until("FIRST", t_home, 10)
        await pilot.pause()
        t_end = time.perf_counter()
        await pilot.press("end")
        out["end_key_s"] = await until("LAST", t_end, 10)
        await pilot.pause()
        out.update(await _page_up(app, log))
        log.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        # A reply streamed at the end of it all.
        box = screen.query_one("#prompt")
        box.focus()
        box.insert(prompt(tokens, run))  # type: ignore[attr-defined]
        await pilot.pause()
        t3 = time.perf_counter()
        press = asyncio.create_task(pilot.press("enter"))
        out["stream_s"] = await until("END", t3, 120)
        await press
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


async def _page_up(app: Any, log: Any) -> dict[str, Any]:
    """PageUp keys from the end at a reading pace; the event loop's stalls meanwhile."""
    from textual import events

    pager = getattr(log, "_tuichat_history", None)
    older = pager.older if pager is not None else 0
    gaps: list[float] = []
    running = True

    async def ticker() -> None:
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    presses = 0
    while time.perf_counter() - started < PAGE_UP_FOR:
        if log.scroll_y == 0 and (pager is None or not pager.older):
            break  # at the top
        app.post_message(events.Key("pageup", None))
        presses += 1
        await asyncio.sleep(PAGE_UP_EVERY)
    elapsed = time.perf_counter() - started
    running = False
    await tick
    gaps.sort()
    mounted = older - (pager.older if pager is not None else 0)
    return {
        "pageup_presses": presses,
        "pageup_s": elapsed,
        "pageup_messages_per_s": mounted / elapsed,
        "pageup_stall_max_ms": gaps[-1] * 1000 if gaps else None,
        "pageup_stall_p99_ms": gaps[int(len(gaps) * 0.99)] * 1000 if gaps else None,
        "pageup_stalls_over_100ms": sum(gap > 0.1 for gap in gaps),
    }


def child_run(
    env: dict[str, str], conversation_id: int, marker: str, tokens: int
) -> dict[str, Any]:
    """One run in a fresh process."""
    argv = [PYTHON, "-m", "benchmarks.long_history", "--child", str(conversation_id), marker]
    return child_json([*argv, str(tokens)], env, timeout=600)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--tokens", type=int, default=2000, help="the reply streamed at the end")
    parser.add_argument("--child", nargs=3, metavar=("CONVERSATION", "MARKER", "TOKENS"))
    args = parser.parse_args(argv)
    if args.child:
        result = asyncio.run(_child(int(args.child[0]), args.child[1], int(args.child[2])))
        print(json.dumps(result))
        return 0
    runs = args.runs or (2 if args.quick else 3)
    records: list[dict[str, Any]] = []
    cases = (("20 messages (baseline)", 20), (f"{args.messages} messages", args.messages))
    with reply_server() as url:
        for rep in range(runs):
            for label, size in cases:
                # A fresh copy each run: the reply streamed at its end changes it.
                with isolated_home(url) as (_, env):
                    marker = run_id()
                    started = time.perf_counter()
                    conversation = build(Path(env["TUICHAT_DATA_DIR"]), size, marker)
                    written = time.perf_counter() - started
                    result = child_run(env, conversation, marker, args.tokens)
                records.append({"case": label, "rep": rep, "written_s": written, **result})
                print(json.dumps(records[-1]), flush=True)
    rows = [
        [
            "conversation",
            "open → last reply painted",
            "Home key → first reply painted",
            "End key → last reply painted",
            "scroll to the top through every page",
            "if not reached in 30 s: messages loaded/s",
            "End → next frame",
            f"PageUp every {PAGE_UP_EVERY * 1000:.0f} ms: longest stall ms",
            "stall p99 ms",
            "stalls > 100 ms",
            "messages mounted/s",
            f"stream {args.tokens} tok at the end",
            "widgets after open",
            "after top",
            "peak MiB",
        ]
    ]
    summary = {}
    for label in dict.fromkeys(r["case"] for r in records):
        rs = [r for r in records if r["case"] == label]
        rows.append(
            [
                label,
                stat(r.get("open_s") for r in rs),
                stat(r.get("home_key_s") for r in rs),
                stat(r.get("end_key_s") for r in rs),
                stat(r.get("to_top_s") for r in rs),
                stat((r.get("messages_loaded_per_s") for r in rs), ""),
                stat(r.get("to_end_s") for r in rs),
                stat((r.get("pageup_stall_max_ms") for r in rs), ""),
                stat((r.get("pageup_stall_p99_ms") for r in rs), ""),
                stat((r.get("pageup_stalls_over_100ms") for r in rs), ""),
                stat((r.get("pageup_messages_per_s") for r in rs), ""),
                stat(r.get("stream_s") for r in rs),
                stat((r.get("widgets") for r in rs), ""),
                stat((r.get("widgets_after_top") for r in rs), ""),
                stat((r.get("peak_mib") for r in rs), ""),
            ]
        )
        summary[label] = {
            k: median(r.get(k) for r in rs)
            for k in ("open_s", "home_key_s", "end_key_s", "to_top_s", "to_end_s", "stream_s")
        }
    print()
    print(table(rows))
    big = summary.get(f"{args.messages} messages", {})
    if big.get("open_s") is not None:
        print(f"\nopen {args.messages} messages: {big['open_s'] * 1000:.0f} ms; target < 300 ms")
    path = save("long_history", {"records": records, "summary": summary})
    print(f"figures saved to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
