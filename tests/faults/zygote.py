"""Run many ``tuichat`` commands as real processes without paying start-up for each.

Starting Python and importing tuichat, httpx and pydantic costs about 0.4 s of CPU per
process; the fault matrix runs dozens of ``tuichat ask`` processes. A *zygote* process
imports all that once, then forks one child per command. Each child is a real process of
its own, with the environment, standard streams and exit code of that command; it runs
the same ``tuichat.cli.main`` as ``python -m tuichat``. The zygote is single-threaded, so
forking it is safe (the test process, full of server threads, never forks).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_ZYGOTE = r"""
import json, os, sys

import tuichat.ask, tuichat.cli, tuichat.http, tuichat.runtime  # the costly imports, once
import tuichat_anthropic, tuichat_gemini, tuichat_openai  # noqa: F401

children = {}
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.environ.clear()
        os.environ.update(job["env"])
        for fd, path, flags in (
            (0, os.devnull, os.O_RDONLY),
            (1, job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
            (2, job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        ):
            opened = os.open(path, flags, 0o600)
            os.dup2(opened, fd)
            os.close(opened)
        code = 1
        try:
            code = tuichat.cli.main(job["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(code)
    children[pid] = job["id"]
while children:
    pid, status = os.wait()
    print(json.dumps({"id": children.pop(pid), "code": os.waitstatus_to_exitcode(status)}))
    sys.stdout.flush()
"""


@dataclass(frozen=True)
class Job:
    """One command to run: its arguments (after ``tuichat``) and its whole environment."""

    id: str
    argv: Sequence[str]
    env: Mapping[str, str]


@dataclass(frozen=True)
class Done:
    """How a command ended."""

    returncode: int
    stdout: str
    stderr: str


def run_all(jobs: Sequence[Job], workdir: Path, *, timeout: float = 120.0) -> dict[str, Done]:
    """Run every job at once, each in a forked process; wait for all of them.

    Args:
        jobs: The commands.
        workdir: Where their standard output and error are written.
        timeout: Seconds for all of them together.

    Returns:
        Each job's outcome, by id.
    """
    files = {
        job.id: (workdir / f"{index}.out", workdir / f"{index}.err")
        for index, job in enumerate(jobs)
    }
    lines = [
        json.dumps(
            {
                "id": job.id,
                "argv": list(job.argv),
                "env": dict(job.env),
                "stdout": str(files[job.id][0]),
                "stderr": str(files[job.id][1]),
            }
        )
        for job in jobs
    ]
    done = subprocess.run(
        [sys.executable, "-c", _ZYGOTE],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the zygote failed: {done.stderr}")
    codes = {entry["id"]: entry["code"] for entry in map(json.loads, done.stdout.splitlines())}
    return {
        job.id: Done(
            codes[job.id],
            files[job.id][0].read_text(errors="replace"),
            files[job.id][1].read_text(errors="replace"),
        )
        for job in jobs
    }
