"""Shared pieces of the benchmarks: the reply server, statistics, an isolated environment,
a tmux driver that polls the screen without forking, and process figures from /proc.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PYTHON = sys.executable
COLS, ROWS = 120, 40
MODEL = "wire-model-1"


def run_id() -> str:
    """A short random id, so markers of one run never match another's."""
    return "r" + "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(6))


def stat(values: Iterable[float | None], unit: str = "s", digits: int = 3) -> str:
    """``median (min–max)`` of the values that are not None."""
    xs = [x for x in values if x is not None]
    if not xs:
        return "n/a"
    fmt = f"{{:.{digits}g}}"
    med = fmt.format(statistics.median(xs))
    if len(xs) == 1:
        return f"{med} {unit}".strip()
    return f"{med} ({fmt.format(min(xs))}–{fmt.format(max(xs))}) {unit}".strip()


def median(values: Iterable[float | None]) -> float | None:
    """The median of the values that are not None."""
    xs = [x for x in values if x is not None]
    return statistics.median(xs) if xs else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` percentile (0–100), nearest rank."""
    xs = sorted(values)
    if not xs:
        return None
    rank = max(0, min(len(xs) - 1, round(q / 100 * len(xs) + 0.5) - 1))
    return xs[rank]


def save(name: str, data: dict[str, Any]) -> Path:
    """Write a benchmark's figures to ``benchmarks/results/<name>.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {
        "benchmark": name,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cpus": os.cpu_count(),
        "load": os.getloadavg(),
        **data,
    }
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def table(rows: list[list[str]]) -> str:
    """A Markdown table (first row: the header)."""
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(out)


@contextmanager
def reply_server() -> Iterator[str]:
    """Start :mod:`benchmarks.reply_server` in its own process; yields its base URL."""
    process = subprocess.Popen(
        [PYTHON, "-m", "benchmarks.reply_server"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError("the reply server did not start")
        yield url
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def prompt(tokens: int, run: str, rate: float = 0, every: int = 1000) -> str:
    """The prompt that asks the reply server for a reply."""
    return f"bench tokens={tokens} rate={rate:g} every={every} run={run}"


@contextmanager
def isolated_home(base_url: str | None = None) -> Iterator[tuple[Path, dict[str, str]]]:
    """A temporary HOME, config and data directory; yields (home, environment)."""
    home = Path(tempfile.mkdtemp(prefix="tuichat-bench-"))
    (home / "config.toml").write_text("", encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TUICHAT_", "TMUX", "OPENAI", "ANTHROPIC", "GEMINI"))
        and key.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
        # Measured as installed: Python keeps the compiled modules (a shell that forbids
        # writing them would compile every edited module again at every launch).
        and key != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        TUICHAT_CONFIG=str(home / "config.toml"),
        TUICHAT_DATA_DIR=str(home / "data"),
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        COLORTERM="truecolor",
        TERM="tmux-256color",
        # Nothing leaves the machine: any other address fails at once.
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
    )
    if base_url is not None:
        env.update(OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL=f"{base_url}/v1")
    try:
        yield home, env
    finally:
        shutil.rmtree(home, ignore_errors=True)


def child_json(
    argv: list[str],
    env: dict[str, str],
    *,
    timeout: float | None = None,
    failed: dict[str, Any] | None = None,
    tail: int = 800,
) -> dict[str, Any]:
    """Run ``argv`` (a measuring child process) and return the JSON object of its last
    output line; when there is none, ``failed`` plus the end of its stderr as ``error``."""
    done = subprocess.run(
        argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {**(failed or {}), "error": done.stderr[-tail:]}


def tuichat_argv(*args: str) -> list[str]:
    """Run the checkout's tuichat with this Python."""
    return [PYTHON, "-m", "tuichat", *args]


def proc_stats(pid: int) -> dict[str, float]:
    """Peak and current RSS (MiB) and CPU seconds of a live process, from /proc."""
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        out["cpu_s"] = (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, IndexError, ValueError):
        pass
    return out


def shell_quote(value: str) -> str:
    """Quote for sh."""
    return "'" + value.replace("'", "'\\''") + "'"


class Tmux:
    """A private tmux server driven through one control-mode client.

    Reading the screen (``capture-pane``) then costs no fork, so polling every few
    milliseconds does not load the machine. The same approach as the peers harness.
    """

    def __init__(self) -> None:
        """Start the server (with a dummy control session)."""
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is required (apt-get install tmux)")
        self.socket = f"tuichat-bench-{os.getpid()}-{run_id()}"
        self._process = subprocess.Popen(
            [
                "tmux",
                "-u",
                "-L",
                self.socket,
                "-f",
                os.devnull,
                "-C",
                "new-session",
                "-s",
                "ctl",
                "-x",
                "80",
                "-y",
                "24",
                "sleep 100000",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._lock = threading.Lock()
        self.cmd("set -g default-terminal tmux-256color")
        self.cmd("set -g history-limit 0")
        self.cmd("set -g status off")
        self._n = 0

    def cmd(self, line: str) -> list[str]:
        """Run one tmux command; returns its output lines."""
        with self._lock:
            stdin, stdout = self._process.stdin, self._process.stdout
            assert stdin is not None and stdout is not None
            stdin.write(line.encode() + b"\n")
            stdin.flush()
            out: list[bytes] = []
            inside = False
            flags = b""
            while True:
                raw = stdout.readline()
                if not raw:
                    raise RuntimeError("the tmux control client died")
                if not inside:
                    if raw.startswith(b"%begin"):
                        inside = True
                        out = []
                        flags = raw.split()[-1]
                    continue
                if raw.startswith((b"%end", b"%error")):
                    inside = False
                    if flags == b"1":
                        if raw.startswith(b"%error"):
                            raise RuntimeError(f"tmux {line!r}: {b''.join(out)!r}")
                        return [x.decode("utf-8", "replace").rstrip("\n") for x in out]
                    continue
                out.append(raw)

    def launch(self, argv: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[str, int]:
        """Start ``argv`` in a new 120x40 session; returns (session name, pid)."""
        self._n += 1
        name = f"s{self._n}"
        script = cwd / f"launch-{name}.sh"
        lines = [f"cd {shell_quote(str(cwd))}"]
        lines += [
            f"export {key}={shell_quote(value)}"
            for key, value in env.items()
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key)
        ]
        lines.append("exec " + " ".join(shell_quote(a) for a in argv))
        script.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.cmd(f"new-session -d -s {name} -x {COLS} -y {ROWS} 'exec sh {script}'")
        pid = int(self.cmd(f"display -p -t {name} '#{{pane_pid}}'")[0])
        return name, pid

    def screen(self, name: str) -> str:
        """The visible text of a session."""
        return "\n".join(self.cmd(f"capture-pane -p -J -t {name}"))

    def send_literal(self, name: str, text: str) -> None:
        """Type ``text`` (letters, digits, spaces, ``=._-``)."""
        assert re.fullmatch(r"[A-Za-z0-9=. _-]*", text), text
        self.cmd(f"send-keys -t {name} -l '{text}'")

    def send_key(self, name: str, key: str) -> None:
        """Press a key (tmux key name: Enter, Escape, C-q...)."""
        self.cmd(f"send-keys -t {name} {key}")

    def wait_for(
        self, name: str, texts: Sequence[str], timeout: float, poll: float = 0.005
    ) -> float | None:
        """Poll until every text is on screen; returns the monotonic time, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen(name)
            if all(text in screen for text in texts):
                return time.monotonic()
            time.sleep(poll)
        return None

    def kill(self, name: str, pid: int | None = None) -> None:
        """End a session and wait for its process to go."""
        try:
            self.cmd(f"kill-session -t {name}")
        except RuntimeError:
            pass
        if pid is not None:
            reap(pid)

    def close(self) -> None:
        """Stop the tmux server."""
        try:
            self.cmd("kill-server")
        except Exception:  # noqa: BLE001 - already gone
            pass
        self._process.kill()
        self._process.wait()

    def __enter__(self) -> Tmux:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reap(pid: int, wait: float = 3.0) -> None:
    """Wait for a process we started to end (SIGTERM, then SIGKILL)."""
    import signal

    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                return
            if state == "Z":
                return
            time.sleep(0.02)


def run_cli(
    argv: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    markers: Sequence[str] = (),
    timeout: float = 300,
) -> dict[str, Any]:
    """Run a command with stdout drained through a pipe.

    Returns wall time, CPU (user+system), peak RSS (MiB), exit code, and when each marker
    first appeared in stdout (seconds after the start).
    """
    start = time.monotonic()
    process = subprocess.Popen(
        list(argv),
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    killer = threading.Timer(timeout, process.kill)
    killer.start()
    seen: dict[str, float] = {}
    tail = ""
    first_byte: float | None = None
    fd = process.stdout.fileno()  # type: ignore[union-attr]
    while True:
        data = os.read(fd, 1 << 16)
        if not data:
            break
        now = time.monotonic() - start
        if first_byte is None:
            first_byte = now
        if markers:
            tail = (tail + data.decode("utf-8", "replace"))[-8192:]
            for marker in markers:
                if marker not in seen and marker in tail:
                    seen[marker] = now
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    killer.cancel()
    reader.join(1)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
        "rc": os.waitstatus_to_exitcode(status),
        "first_byte_s": first_byte,
        "markers": seen,
        "stderr": b"".join(errors)[-400:].decode("utf-8", "replace"),
    }
