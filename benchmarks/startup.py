"""Benchmark 3: launch to first full frame in tmux (120x40), against a minimal Textual app.

Each repetition launches, in turn (the order rotating), a minimal Textual app (one line
and a footer), ``tuichat`` on an empty data directory, ``tuichat`` on a database of
10,000 conversations / 200,000 messages, and ``tuichat`` after its config file changed;
the time is from ``new-session`` until every "ready" string of the first screen is on it
(polled every 3 ms without forking).

A start with the same config, variables and plugins as the last one that worked paints
from what that start remembered (``tuichat.boot``) and loads the settings and plugins
after its first frame: the daily case, and the first two tuichat rows. The last row is a
start whose config changed since: it validates the config and loads the plugins before
the screen opens, as the first start ever does.

The big database is built once through the store's own API for a template conversation
and copied with SQL (so its schema is whatever the store writes), then cached in
``$TMPDIR/tuichat-bench-cache`` for later runs.

Run: ``python -m benchmarks.startup [--quick] [--runs N]``.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import (
    PYTHON,
    ROOT,
    Tmux,
    isolated_home,
    median,
    proc_stats,
    save,
    stat,
    table,
    tuichat_argv,
)

READY = {
    "minimal textual app": ("minimal textual app ready", "Quit"),
    "tuichat, empty": ("Message · Enter sends", "Conversations"),
    "tuichat, 10k conversations": ("Message · Enter sends", "Conversations", "Bench conversation"),
    "tuichat, config changed since the last start": ("Message · Enter sends", "Conversations"),
}


def big_database(conversations: int, per_conversation: int) -> Path:
    """A data directory holding ``conversations`` x ``per_conversation`` messages (cached)."""
    from tuichat.migrations import LATEST_VERSION
    from tuichat.store import Store

    cache = Path(tempfile.gettempdir()) / "tuichat-bench-cache"
    target = cache / f"db-v{LATEST_VERSION}-{conversations}x{per_conversation}"
    if (target / "tuichat.db").exists():
        return target
    building = cache / f"building-{time.time_ns()}"
    building.mkdir(parents=True)
    store = Store(building / "tuichat.db")
    try:
        template = store.create_conversation(title="Bench conversation 0", provider="openai")
        for n in range(per_conversation // 2):
            store.add_message(template.id, "user", f"Question {n} about the benchmark?")
            store.add_message(
                template.id,
                "assistant",
                f"Answer {n}: **fine**, `code` and a list:\n\n- a\n- b\n",
                provider="openai",
                model="wire-model-1",
            )
    finally:
        store.close()
    db = sqlite3.connect(building / "tuichat.db")
    try:
        conv_cols = [r[1] for r in db.execute("PRAGMA table_info(conversations)") if r[1] != "id"]
        msg_cols = [r[1] for r in db.execute("PRAGMA table_info(messages)") if r[1] != "id"]
        db.execute("BEGIN")
        for n in range(1, conversations):
            row = db.execute(
                f"INSERT INTO conversations ({', '.join(conv_cols)}) "
                f"SELECT {', '.join(conv_cols)} FROM conversations WHERE id = ?",
                (template.id,),
            )
            new_id = row.lastrowid
            db.execute(
                "UPDATE conversations SET title = ?, updated_at = updated_at - ? WHERE id = ?",
                (f"Bench conversation {n}", n, new_id),
            )
            values = ", ".join("? " if c == "conversation_id" else c for c in msg_cols)
            first = db.execute("SELECT max(id) FROM messages").fetchone()[0] + 1
            db.execute(
                f"INSERT INTO messages ({', '.join(msg_cols)}) SELECT {values} FROM messages "
                "WHERE conversation_id = ? ORDER BY position",
                (new_id, template.id),
            )
            if "parent_id" in msg_cols:
                db.execute(
                    "UPDATE messages SET parent_id = CASE WHEN id = ? THEN NULL ELSE id - 1 END "
                    "WHERE conversation_id = ?",
                    (first, new_id),
                )
            if "head_id" in conv_cols:
                db.execute(
                    "UPDATE conversations SET head_id = (SELECT max(id) FROM messages "
                    "WHERE conversation_id = ?) WHERE id = ?",
                    (new_id, new_id),
                )
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    if target.exists():
        shutil.rmtree(building, ignore_errors=True)
    else:
        building.rename(target)
    return target


def launch(
    tmux: Tmux,
    argv: list[str],
    env: dict[str, str],
    home: Path,
    ready: tuple[str, ...],
    *,
    linger: float = 0.0,
) -> dict[str, Any]:
    """Launch ``argv`` in tmux; time until every ready string shows; stop it ``linger``
    seconds later."""
    t0 = time.monotonic()
    name, pid = tmux.launch(argv, env, home)
    try:
        t = tmux.wait_for(name, ready, 30, poll=0.003)
        stats = proc_stats(pid)
        if linger:
            time.sleep(linger)
        return {"ready_s": (t - t0) if t else None, "rss_mib": stats.get("VmHWM")}
    finally:
        tmux.kill(name, pid)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=20, help="per conversation")
    args = parser.parse_args(argv)
    runs = args.runs or (5 if args.quick else 9)
    started = time.perf_counter()
    data = big_database(args.conversations, args.messages)
    print(
        f"database ({args.conversations} x {args.messages}): {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    records: list[dict[str, Any]] = []
    with (
        isolated_home() as (home, env),
        isolated_home() as (big_home, big_env),
        isolated_home() as (cold_home, cold_env),
        Tmux() as tmux,
    ):
        big_dir = Path(big_env["TUICHAT_DATA_DIR"])
        shutil.copytree(data, big_dir)
        cases = {
            "minimal textual app": (
                [PYTHON, str(ROOT / "benchmarks" / "_minimal_app.py")],
                env,
                home,
            ),
            "tuichat, empty": (tuichat_argv(), env, home),
            "tuichat, 10k conversations": (tuichat_argv(), big_env, big_home),
            "tuichat, config changed since the last start": (tuichat_argv(), cold_env, cold_home),
        }
        cold_config = Path(cold_env["TUICHAT_CONFIG"])
        # One unrecorded launch each: page cache, bytecode, and the start remembered
        # (tuichat.boot), which a start writes once it has loaded, after its first frame:
        # a session lasts longer than that, this launch too.
        for label, (command, case_env, case_home) in cases.items():
            launch(tmux, command, case_env, case_home, READY[label], linger=2.0)
        order = list(cases)
        for rep in range(runs):
            for label in order:
                command, case_env, case_home = cases[label]
                if case_env is cold_env:
                    cold_config.write_text(f'system_prompt = "edited {rep}"\n', encoding="utf-8")
                result = launch(tmux, command, case_env, case_home, READY[label])
                records.append({"case": label, "rep": rep, **result})
                print(records[-1], flush=True)
            order = order[1:] + order[:1]
    rows = [["app", "launch → first full frame (tmux 120x40)", "peak RSS MiB"]]
    summary: dict[str, Any] = {}
    for label in READY:
        rs = [r for r in records if r["case"] == label]
        rows.append([label, stat(r["ready_s"] for r in rs), stat((r["rss_mib"] for r in rs), "")])
        summary[label] = median(r["ready_s"] for r in rs)
    print()
    print(table(rows))
    base, empty, big, cold = (summary.get(k) for k in READY)
    checks = []
    if base and empty:
        checks.append(f"tuichat / minimal Textual app = {empty / base:.2f}; target ≤ 1.3")
    if base and cold:
        checks.append(f"after a config change / minimal Textual app = {cold / base:.2f}")
    if empty and big:
        checks.append(f"10k-conversation DB / empty = {big / empty:.2f}; target ≤ 1.10")
    print("\n".join(checks))
    path = save("startup", {"records": records, "summary": summary, "targets": checks})
    print(f"figures saved to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
