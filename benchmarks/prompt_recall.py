"""Benchmark: Ctrl+R over a store of 10,000 conversations (issue 17).

The store holds 10,000 conversations of 10 messages (5 prompts of ~300 characters, 5
replies), written with SQL as the app's schema has them. Measured: ``Store.recent_prompts``
(the 2,000 newest distinct prompts, what the app's Ctrl+R asks for) on a store just
opened, and the fuzzy filter over those rows for each query typed one key at a time
(what each key press in the search costs, the matching alone).

Run: ``python -m benchmarks.prompt_recall [--conversations 10000] [--runs 20]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks._common import median
from tuichat.app.chat.prompt_library import RECALL_LIMIT
from tuichat.app.fuzzy import BoundedMatcher
from tuichat.app.screens.recall_search import MATCHED
from tuichat.sanitize import one_line
from tuichat.store import Store

WORDS = "how do I undo a git rebase explain tcp slow start in python async code".split()


def text(seed: int, words: int) -> str:
    return " ".join(WORDS[(seed * 31 + i * 7) % len(WORDS)] for i in range(words)) + f" {seed}"


def build(path: Path, conversations: int) -> None:
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO conversations (id, title, params) VALUES (?, '', '{}')",
        [(c,) for c in range(1, conversations + 1)],
    )
    conn.executemany(
        "INSERT INTO messages (conversation_id, position, role, content) VALUES (?, ?, ?, ?)",
        [
            (c, p, "user" if p % 2 == 0 else "assistant", text(c * 10 + p, 60))
            for c in range(1, conversations + 1)
            for p in range(10)
        ],
    )
    conn.commit()
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tuichat.db"
        build(path, args.conversations)
        times: list[float] = []
        for _ in range(args.runs):
            store = Store(path)
            started = time.perf_counter()
            prompts = store.recent_prompts(limit=RECALL_LIMIT)
            times.append(time.perf_counter() - started)
            store.close()
    rows = [one_line(p[: MATCHED * 4], MATCHED) for p in prompts]
    print(
        f"{args.conversations} conversations: recent_prompts({RECALL_LIMIT}) "
        f"median {1000 * (median(times) or 0):.1f} ms, worst {1000 * max(times):.1f} ms"
    )
    for query in ("g", "gi", "git", "git r", "git re", "git reb", "tcp slow"):
        costs = []
        for _ in range(5):
            matcher = BoundedMatcher(query)  # a fresh one: Textual's search caches pairs
            started = time.perf_counter()
            matched = sum(1 for row in rows if matcher.match(row) > 0)
            costs.append(time.perf_counter() - started)
        cost = 1000 * (median(costs) or 0)
        print(f"  filter {query!r}: {matched} of {len(rows)} rows, median {cost:.1f} ms")


if __name__ == "__main__":
    main()
