"""Opening a conversation that holds 50 images of 2 MB each, against the same one without.

Issue 14: a conversation with 100 MB of attachments must open as fast as one without
(within 10 %), because drawing the log reads only the files' names, kinds and sizes.
Both conversations have the same 50 prompts (each with an image in the first case) and
50 Markdown replies, written through the store's API. Each run is a fresh process
running the real app headless (Pilot, 120x40), timing the open from asking the chat
screen to show the conversation until its last reply is painted, then the process's
resident memory while it is open (and its peak). The two cases alternate, run after
run, in the same session.

Run: ``python -m benchmarks.attachments_open [--quick] [--runs N] [--images 50] [--mb 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
    reply_server,
    run_id,
    save,
    stat,
    table,
)
from tuichat.testing.__main__ import markdown_tokens

REPLY = "".join(markdown_tokens(300))


def _image(size: int, seed: int) -> bytes:
    """``size`` bytes that read as a PNG (its header) and differ for every ``seed``, so
    the store keeps each one (it would keep identical files once)."""
    header = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x04\x00\x00\x00\x03\x00\x08\x02\x00\x00\x00"
    )
    body = os.urandom(size - len(header) - 8) + seed.to_bytes(8, "big")
    return header + body


def build(data_dir: Path, turns: int, image_bytes: int, marker: str) -> int:
    """Write ``turns`` prompts and replies (an image with each prompt when
    ``image_bytes``); returns the conversation's id. The last reply holds ``LAST-marker``."""
    from tuichat.attachments import from_bytes
    from tuichat.store import Store

    store = Store(data_dir / "tuichat.db")
    try:
        conversation = store.create_conversation(title="Images", provider="openai", model=MODEL)
        for n in range(turns):
            files = [from_bytes(_image(image_bytes, n), f"shot-{n}.png")] if image_bytes else []
            store.add_message(
                conversation.id, "user", f"Question {n}: what is in it?", attachments=files
            )
            reply = REPLY if n < turns - 1 else f"{REPLY}\n\nLAST-{marker}\n"
            store.add_message(conversation.id, "assistant", reply, provider="openai", model=MODEL)
        return conversation.id
    finally:
        store.close()


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _child(conversation_id: int, marker: str) -> dict[str, Any]:
    from tuichat.app.app import make_app
    from tuichat.app.widgets.markdown_text import MarkdownText

    painted: dict[str, float] = {}
    real_line = MarkdownText.render_line
    wanted = f"LAST-{marker}"

    def render_line(self: MarkdownText, y: int):  # type: ignore[no-untyped-def]
        strip = real_line(self, y)
        if wanted in strip.text:
            painted["LAST"] = time.perf_counter()
        return strip

    MarkdownText.render_line = render_line  # type: ignore[method-assign]
    app = make_app(provider="openai", model=MODEL)
    out: dict[str, Any] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        # The settings and plugins load after the first frame: not part of opening.
        while not app.runtime.loaded:
            await asyncio.sleep(0.01)
        await pilot.pause()
        screen = app.screen_stack[0]
        if getattr(screen, "conversation_id", None) == conversation_id:
            await screen.open_conversation(None)  # type: ignore[attr-defined]
            await pilot.pause()
        out["rss_before_mib"] = _rss_mib()
        t0 = time.perf_counter()
        opening = asyncio.create_task(screen.open_conversation(conversation_id))  # type: ignore[attr-defined]
        deadline = t0 + 60
        while painted.get("LAST", 0) < t0 and time.perf_counter() < deadline:
            await asyncio.sleep(0.002)
        out["open_s"] = painted["LAST"] - t0 if painted.get("LAST", 0) >= t0 else None
        await opening
        await pilot.pause()
        out["rss_open_mib"] = _rss_mib()
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--mb", type=float, default=2.0, help="size of each image")
    parser.add_argument("--child", nargs=2, metavar=("CONVERSATION", "MARKER"))
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_child(int(args.child[0]), args.child[1]))))
        return 0
    runs = args.runs or (3 if args.quick else 7)
    size = int(args.mb * 1024 * 1024)
    with_label = f"{args.images} images of {args.mb:g} MB"
    cases = (("without attachments (baseline)", 0), (with_label, size))
    records: list[dict[str, Any]] = []
    with reply_server() as url:
        for rep in range(runs):
            # Alternated, so that a slower moment of the machine hits both alike.
            for label, image_bytes in cases if rep % 2 == 0 else cases[::-1]:
                with isolated_home(url) as (_, env):
                    marker = run_id()
                    data = Path(env["TUICHAT_DATA_DIR"])
                    conversation = build(data, args.images, image_bytes, marker)
                    db_mib = sum(p.stat().st_size for p in data.glob("tuichat.db*")) / 2**20
                    argv_child = [
                        PYTHON,
                        "-m",
                        "benchmarks.attachments_open",
                        "--child",
                        str(conversation),
                        marker,
                    ]
                    result = child_json(argv_child, env, timeout=300)
                records.append({"case": label, "rep": rep, "db_mib": db_mib, **result})
                print(json.dumps(records[-1]), flush=True)
    rows = [
        ["conversation", "database MiB", "open → last reply painted", "RSS open MiB", "peak MiB"]
    ]
    summary: dict[str, Any] = {}
    for label, _ in cases:
        rs = [r for r in records if r["case"] == label]
        rows.append(
            [
                label,
                stat((r.get("db_mib") for r in rs), ""),
                stat(r.get("open_s") for r in rs),
                stat((r.get("rss_open_mib") for r in rs), ""),
                stat((r.get("peak_mib") for r in rs), ""),
            ]
        )
        summary[label] = {k: median(r.get(k) for r in rs) for k in ("open_s", "rss_open_mib")}
    print()
    print(table(rows))
    base = summary[cases[0][0]]["open_s"]
    heavy = summary[with_label]["open_s"]
    if base and heavy:
        print(
            f"\nopen with {with_label}: {heavy * 1000:.0f} ms against {base * 1000:.0f} ms "
            f"without ({(heavy / base - 1) * 100:+.1f} %; target within 10 %)"
        )
    path = save("attachments_open", {"records": records, "summary": summary})
    print(f"figures saved to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
