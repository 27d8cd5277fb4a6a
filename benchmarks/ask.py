"""Benchmark 5 (and 6): ``tuichat ask`` against the floor client; ``ask --help``; plugin loading.

* ``tuichat ask`` streaming a 20,000-token reply to a pipe: wall time (process start to
  exit) and time to the first byte on stdout, against the floor client (httpx +
  httpx-sse, ~20 lines) in the same run, alternating.
* ``tuichat ask --help``: wall time, against ``python -c pass`` and
  ``python -c "import httpx, httpx_sse"``.
* Plugin discovery (benchmark 6): in a fresh process, the time to build the plugin
  manager and load the providers of every installed plugin (``get_plugin_manager()`` +
  ``load_providers()``), against the same with ``TUICHAT_LOAD_PLUGINS=`` (no
  entry points, built-in demo only).

Run: ``python -m benchmarks.ask [--quick] [--runs N] [--tokens N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
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
    run_cli,
    run_id,
    save,
    stat,
    table,
    tuichat_argv,
)

PLUGIN_PROBE = """
import json, time
t0 = time.perf_counter()
from tuichat.plugins import get_plugin_manager, load_providers
t1 = time.perf_counter()
registry = load_providers(get_plugin_manager())
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "discover_s": t2 - t1, "providers": registry.names()}))
"""


def plugin_run(env: dict[str, str], only_builtin: bool) -> dict[str, Any]:
    """Time plugin discovery in a fresh process."""
    run_env = dict(env)
    if only_builtin:
        run_env["TUICHAT_LOAD_PLUGINS"] = ""
    return child_json([PYTHON, "-c", PLUGIN_PROBE], run_env, tail=400)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--tokens", type=int, default=20_000)
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 7)
    records: list[dict[str, Any]] = []
    with reply_server() as url, isolated_home(url) as (home, env):
        commands = {
            "floor client": lambda text: [
                PYTHON,
                str(ROOT / "benchmarks" / "floor_client.py"),
                f"{url}/v1",
                text,
            ],
            "tuichat ask": lambda text: tuichat_argv(
                "ask", "-p", "openai", "-m", MODEL, "--no-save", text
            ),
        }
        trivial = {
            "python -c pass": [PYTHON, "-c", "pass"],
            "python -c 'import httpx, httpx_sse'": [PYTHON, "-c", "import httpx, httpx_sse"],
            "tuichat ask --help": tuichat_argv("ask", "--help"),
            "tuichat --version": tuichat_argv("--version"),
        }
        for command in list(commands.values())[:1]:  # warm-up: page cache, bytecode
            run_cli(command(prompt(100, "warm")), env, home)
        for rep in range(runs):
            for label, command in commands.items():
                run = run_id()
                result = run_cli(
                    command(prompt(args.tokens, run)), env, home, markers=(f"END-{run}",)
                )
                records.append(
                    {
                        "what": label,
                        "rep": rep,
                        **{
                            k: result[k]
                            for k in ("wall_s", "first_byte_s", "cpu_s", "peak_mib", "rc")
                        },
                    }
                )
                print(json.dumps(records[-1]), flush=True)
            for label, command in trivial.items():
                result = run_cli(command, env, home)
                records.append(
                    {"what": label, "rep": rep, "wall_s": result["wall_s"], "rc": result["rc"]}
                )
            for label, builtin in (
                ("plugins: all installed", False),
                ("plugins: built-in only", True),
            ):
                records.append({"what": label, "rep": rep, **plugin_run(env, builtin)})
    rows = [["what", "wall s", "first byte s", "CPU s", "peak MiB"]]
    summary: dict[str, Any] = {}
    for label in dict.fromkeys(r["what"] for r in records if not r["what"].startswith("plugins")):
        rs = [r for r in records if r["what"] == label and r.get("rc") == 0]
        rows.append(
            [
                label,
                stat(r["wall_s"] for r in rs),
                stat(r.get("first_byte_s") for r in rs),
                stat(r.get("cpu_s") for r in rs),
                stat((r.get("peak_mib") for r in rs), ""),
            ]
        )
        summary[label] = median(r["wall_s"] for r in rs)
    print()
    print(table(rows))
    prow = [
        [
            "plugin discovery (fresh process)",
            "import tuichat.plugins s",
            "discover + load providers s",
            "providers",
        ]
    ]
    for label in ("plugins: all installed", "plugins: built-in only"):
        rs = [r for r in records if r["what"] == label and "error" not in r]
        prow.append(
            [
                label,
                stat(r["import_s"] for r in rs),
                stat(r["discover_s"] for r in rs),
                ", ".join(rs[0]["providers"]) if rs else "n/a",
            ]
        )
        summary[label] = median(r["discover_s"] for r in rs)
    print()
    print(table(prow))
    checks = []
    ask, floor = summary.get("tuichat ask"), summary.get("floor client")
    if ask and floor:
        checks.append(f"tuichat ask {args.tokens} tok / floor = {ask / floor:.2f}; target ≤ 1.5")
    helps = summary.get("tuichat ask --help")
    if helps:
        checks.append(f"tuichat ask --help {helps * 1000:.0f} ms; target < 150 ms")
    print()
    print("\n".join(checks))
    path = save("ask", {"records": records, "summary": summary, "targets": checks})
    print(f"figures saved to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
