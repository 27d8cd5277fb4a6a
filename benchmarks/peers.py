"""Benchmark 7 (not in CI): tuichat side by side with Elia, oterm, llm and the floor client.

Reuses the peers harness in ``../shared/bench/peers`` (read-only: nothing is written
there). That harness already has ``tuichat`` and ``tuichat-ask`` entries; this script
points their virtualenv at this checkout's ``.venv``, builds a private ``ANCHOR_VENVS``
directory of symlinks (tuichat and the floor client -> this ``.venv``; elia, oterm and llm
-> the venvs that ``shared/bench/peers/setup.sh`` builds, where present), and writes the
results under ``benchmarks/results/peers-<stamp>/`` instead of the shared folder.

Run (after ``bash ../shared/bench/peers/setup.sh`` for the peers you want):

    python -m benchmarks.peers --clients tuichat,tuichat-ask,llm,floor --scenarios startup,stream2k
    python -m benchmarks.peers --clients tuichat,llm,floor --scenarios stream20k --reps 2

Every other option is the harness's own (``--reps``, ``--timeout``, ``--keep``...).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
PEERS = Path(os.environ.get("TUICHAT_PEERS_DIR", ROOT.parent / "shared" / "bench" / "peers"))


def _venvs() -> Path:
    """A private ANCHOR_VENVS: this checkout for tuichat/floor, setup.sh's venvs for the rest."""
    source = Path(os.environ.get("ANCHOR_VENVS") or Path(tempfile.gettempdir()) / "anchor-venvs")
    venvs = Path(tempfile.mkdtemp(prefix="tuichat-peers-venvs-"))
    (venvs / "tuichat").symlink_to(ROOT / ".venv")
    for name in ("elia", "oterm", "llm", "floor"):
        if (source / name / "bin" / "python").exists():
            (venvs / name).symlink_to(source / name)
    if not (venvs / "floor").exists():
        (venvs / "floor").symlink_to(ROOT / ".venv")  # httpx + httpx-sse are there
    return venvs


def _load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("peers_run", PEERS / "run.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"peers harness not found in {PEERS}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    """Run the shared harness with tuichat wired to this checkout."""
    venvs = _venvs()
    os.environ["ANCHOR_VENVS"] = str(venvs)
    harness = _load_harness()
    harness.VENVS = venvs
    out = ROOT / "benchmarks" / "results" / f"peers-{time.strftime('%Y%m%d-%H%M%S')}"

    class Bench(harness.Bench):  # type: ignore[name-defined,misc]
        """The harness, writing its results here rather than into shared/."""

        def __init__(self, args: object) -> None:
            self.args = args
            self.work = Path(tempfile.mkdtemp(prefix="anchors-run-"))
            self.server = harness.FakeServer(self.work)
            self.tmux = harness.Tmux(f"anchors{os.getpid()}")
            self.outdir = out
            self.outdir.mkdir(parents=True, exist_ok=True)
            self.out = open(self.outdir / "runs.jsonl", "a")  # noqa: SIM115 - closed by run()
            self.templates = {}
            self.n = 0

    harness.Bench = Bench
    if "--clients" not in sys.argv:
        present = [n for n in ("elia", "oterm", "llm") if (venvs / n).exists()]
        sys.argv[1:1] = ["--clients", ",".join(["tuichat", "tuichat-ask", *present, "floor"])]
    harness.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
