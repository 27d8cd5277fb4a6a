"""Run benchmarks 1-6 and compare mode one after the other (``--quick``: a few minutes in all).

Run: ``python -m benchmarks.run_all [--quick]``. Each benchmark prints its own tables and
saves its figures in ``benchmarks/results/<name>.json``. The peers comparison
(``benchmarks.peers``) is not included: it needs the peers' virtualenvs and takes long.
"""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks._common import PYTHON, ROOT

BENCHMARKS = ["stream_render", "startup", "long_history", "ask", "compare_streams"]


def main() -> int:
    """Run each benchmark in its own process; returns non-zero if one failed."""
    extra = sys.argv[1:]
    failed = []
    for name in BENCHMARKS:
        print(f"\n===== benchmarks.{name} {' '.join(extra)}", flush=True)
        started = time.perf_counter()
        done = subprocess.run([PYTHON, "-m", f"benchmarks.{name}", *extra], cwd=ROOT, check=False)
        print(f"===== {name}: {time.perf_counter() - started:.0f} s, exit {done.returncode}")
        if done.returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
