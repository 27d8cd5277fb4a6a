"""Benchmark: ``tuichat import`` of a ChatGPT export of 10,000 conversations.

The export is generated (``conversations.json`` as ChatGPT writes it: a ``mapping`` per
conversation holding the root node and 10 messages, 5 prompts and 5 replies of a few
hundred characters; every tenth conversation holds an edited prompt, a branch). Each
figure is a fresh ``tuichat import`` process into an empty data directory: wall time and
the process's peak RSS (``wait4``). Then the same file again into the same directory:
the idempotent re-run, which must add nothing.

Baseline in the same run: the same for 1,000 conversations.

Run: ``python -m benchmarks.import_bench [--conversations 10000] [--baseline 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import PYTHON, isolated_home, save, table

WORDS = "the quick brown fox jumps over a lazy dog while tuichat imports every word".split()


def message_text(seed: int, words: int) -> str:
    return " ".join(WORDS[(seed + i * 7) % len(WORDS)] for i in range(words))


def node(
    node_id: str, parent: str | None, role: str | None, text: str, at: float
) -> dict[str, Any]:
    message = None
    if role is not None:
        message = {
            "id": node_id,
            "author": {"role": role, "name": None, "metadata": {}},
            "create_time": at,
            "update_time": None,
            "content": {"content_type": "text", "parts": [text]},
            "status": "finished_successfully",
            "end_turn": role == "assistant" or None,
            "weight": 1.0,
            "metadata": {"model_slug": "gpt-4o"} if role == "assistant" else {},
            "recipient": "all",
        }
    return {"id": node_id, "message": message, "parent": parent, "children": []}


def conversation(index: int, turns: int = 5) -> dict[str, Any]:
    start = 1_600_000_000.0 + index * 3600
    nodes = [node(f"c{index}-root", None, None, "", start)]
    for step in range(turns * 2):
        role = "user" if step % 2 == 0 else "assistant"
        words = 25 if role == "user" else 80
        nodes.append(
            node(
                f"c{index}-m{step}",
                nodes[-1]["id"],
                role,
                message_text(index + step, words),
                start + step * 30,
            )
        )
    if index % 10 == 0:
        # An edited second prompt: a branch beside the first one.
        nodes.append(node(f"c{index}-edit", f"c{index}-m1", "user", "edited prompt", start + 999))
    mapping = {n["id"]: n for n in nodes}
    for n in nodes:
        if n["parent"] is not None:
            mapping[n["parent"]]["children"].append(n["id"])
    return {
        "title": f"Conversation {index}",
        "create_time": start,
        "update_time": start + turns * 60,
        "mapping": mapping,
        "current_node": nodes[turns * 2]["id"],
        "conversation_id": f"bench-{index:06d}",
    }


def write_export(path: Path, count: int) -> None:
    # Written one conversation at a time, as the import reads it.
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for index in range(count):
            if index:
                out.write(",")
            json.dump(conversation(index), out)
        out.write("]")


def timed_import(path: Path, env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [PYTHON, "-m", "tuichat", "import", str(path)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Read the pipes before waiting, so a long report cannot block the child.
    out, err = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "exit": process.returncode,
        "summary": out.strip(),
        "stderr": err.strip()[-400:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    args = parser.parse_args()
    rows = [
        [
            "conversations",
            "file",
            "import: wall",
            "peak RSS",
            "again (adds nothing): wall",
            "summary",
        ]
    ]
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tuichat-import-bench-") as scratch:
        for count in (args.baseline, args.conversations):
            export = Path(scratch) / f"conversations-{count}.json"
            write_export(export, count)
            size_mb = export.stat().st_size / 1e6
            with isolated_home() as (_, env):
                first = timed_import(export, env)
                again = timed_import(export, env)
            figures[str(count)] = {"file_mb": round(size_mb, 1), "first": first, "again": again}
            rows.append(
                [
                    f"{count:,}",
                    f"{size_mb:.0f} MB",
                    f"{first['wall_s']} s",
                    f"{first['peak_rss_mb']} MB",
                    f"{again['wall_s']} s",
                    first["summary"],
                ]
            )
            print(f"{count}: {first} / again: {again}", flush=True)
    print()
    print(table(rows))
    save("import_bench", figures)


if __name__ == "__main__":
    main()
