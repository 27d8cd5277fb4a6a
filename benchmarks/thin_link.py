"""Benchmark 9: a thin link. The real app in a 120x40 pty, behind a relay that counts every
byte it writes and carries them at a given rate and latency to a terminal emulator (pyte)
at the far end, as an SSH session over a slow link would.

usage: python -m benchmarks.thin_link [--quick] [--runs N] [--links local,1mbit,1mbit-100ms,256kbit]
                                      [--cases 2k@200,2k@50,20k,2k@100,typing]
                                      [--clients tuichat,tuichat-full,floor,llm]

The link: what the app writes is read from its pty only while less than
:data:`LINK_BUFFER` bytes wait to cross (a socket's send buffer: beyond it the app's
writes block, as they would behind ssh), then serialised at the link's rate and delivered
after its one-way latency (each chunk 50-150 ms, never reordered); keys typed at the far
end reach the app after the same latency. ``local`` has neither limit.

Measured per run: bytes the app wrote to its terminal while the reply streamed (submit →
END shown at the far end), the time from submit until the reply's last token (``END-``)
shows on the far end's screen, the app's CPU over that time, and for ``typing`` the time
from a key typed at the far end until it shows there (p50, p95), while the 20k reply
streams at full speed.

Clients: ``tuichat`` (this checkout), ``tuichat-full`` (the same with
``TUICHAT_OUTPUT=full``: Textual's own output, the code before issue 19's change), the
floor client and ``llm`` (plain text, when installed: see :func:`stream_render.llm_binary`).
"""

from __future__ import annotations

import argparse
import fcntl
import heapq
import json
import os
import pty
import random
import select
import signal
import struct
import termios
import time
from dataclasses import dataclass, field
from typing import Any

import pyte

from benchmarks._common import (
    COLS,
    MODEL,
    PYTHON,
    ROOT,
    ROWS,
    isolated_home,
    median,
    percentile,
    proc_stats,
    prompt,
    reply_server,
    run_id,
    save,
    stat,
    table,
    tuichat_argv,
)
from benchmarks.stream_render import READY, llm_binary

#: Bytes read from the app that may wait to cross the link (a socket's send buffer).
LINK_BUFFER = 64 * 1024

#: The links: rate in bytes/s (None: unlimited) and one-way latency range in seconds.
LINKS: dict[str, tuple[float | None, tuple[float, float]]] = {
    "local": (None, (0.0, 0.0)),
    "1mbit": (1_000_000 / 8, (0.05, 0.15)),
    # The issue's own link: 1 Mbit/s and 100 ms each way, no jitter (RTT 200 ms: with
    # 50-150 ms of jitter each way the link alone puts the p95 of an echo near 270 ms).
    "1mbit-100ms": (1_000_000 / 8, (0.1, 0.1)),
    "256kbit": (256_000 / 8, (0.05, 0.15)),
}

#: The cases: tokens, rate (0: full speed), whether keys are typed meanwhile (``typing``:
#: while the 20k reply streams at full speed; ``+keys``: while the 2k reply streams).
CASES: dict[str, tuple[int, float, bool]] = {
    "2k@200": (2000, 200.0, False),
    "2k@200+keys": (2000, 200.0, True),
    "2k@50": (2000, 50.0, False),
    "2k@100": (2000, 100.0, False),
    "20k": (20000, 0.0, False),
    "typing": (20000, 0.0, True),
}

#: A file to write the app's profile to (cProfile), when set.
PROFILE = os.environ.get("THIN_LINK_PROFILE")

#: A file to append everything the app writes to (for reading its output).
DUMP = os.environ.get("THIN_LINK_DUMP")

#: The links each case runs on (by default: all those asked for). 2k@100 is the CPU
#: figure (the link does not change it); 2k@50 is long and its bytes are 2k@200's.
CASE_LINKS: dict[str, tuple[str, ...]] = {
    "2k@100": ("local",),
    "2k@50": ("1mbit",),
    "2k@200+keys": ("local", "1mbit", "1mbit-100ms"),
    "20k": ("local", "1mbit"),
    "typing": ("local", "1mbit"),
}

#: A key probe is typed this often while the reply streams.
PROBE_EVERY = 0.25


@dataclass(order=True)
class _Due:
    when: float
    seq: int
    data: bytes = field(compare=False)


class Link:
    """One direction of the link: bytes go in, and come out later, in order."""

    def __init__(self, rate: float | None, latency: tuple[float, float], seed: int) -> None:
        self.rate = rate
        self.latency = latency
        self._random = random.Random(seed)
        self._wire_free = 0.0
        self._last_arrival = 0.0
        self._queue: list[_Due] = []
        self._seq = 0
        self._sending: list[tuple[float, int]] = []  # (when fully sent, bytes)

    def backlog(self, now: float) -> int:
        """Bytes taken in and not yet fully sent (the send buffer)."""
        while self._sending and self._sending[0][0] <= now:
            self._sending.pop(0)
        return sum(size for _, size in self._sending)

    def put(self, data: bytes, now: float) -> None:
        """Take ``data`` in at ``now``."""
        sent = now
        if self.rate:
            self._wire_free = max(self._wire_free, now) + len(data) / self.rate
            sent = self._wire_free
            self._sending.append((sent, len(data)))
        low, high = self.latency
        arrival = max(self._last_arrival, sent + self._random.uniform(low, high))
        self._last_arrival = arrival
        self._seq += 1
        heapq.heappush(self._queue, _Due(arrival, self._seq, data))

    def due(self, now: float) -> bytes:
        """What has arrived by ``now``."""
        out = []
        while self._queue and self._queue[0].when <= now:
            out.append(heapq.heappop(self._queue).data)
        return b"".join(out)

    def next_arrival(self) -> float | None:
        return self._queue[0].when if self._queue else None


class FarEnd:
    """A child in a pty at the near end, its screen (pyte) at the far end of a link."""

    def __init__(self, argv: list[str], env: dict[str, str], link: str, seed: int = 1) -> None:
        rate, latency = LINKS[link]
        self.up = Link(rate, latency, seed)  # app -> far end
        self.down = Link(None, latency, seed + 1)  # keys -> app
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.written = 0
        self.t0 = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:  # the child
            try:
                os.chdir(ROOT)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        os.set_blocking(fd, False)
        self.exited = False
        self._text = ""
        self._text_at = -1.0

    def now(self) -> float:
        return time.monotonic() - self.t0

    def pump(self, until: float) -> None:
        """Relay both ways until the monotonic time ``until``."""
        while True:
            now = self.now()
            if now >= until:
                return
            arrived = self.up.due(now)
            if arrived:
                self.stream.feed(arrived)
            keys = self.down.due(now)
            if keys:
                try:
                    os.write(self.fd, keys)
                except OSError:
                    pass
            wait = until - now
            for nxt in (self.up.next_arrival(), self.down.next_arrival()):
                if nxt is not None:
                    wait = min(wait, max(0.0, nxt - now))
            readable = []
            if not self.exited and self.up.backlog(now) < LINK_BUFFER:
                readable = [self.fd]
            elif self.up.rate and not self.exited:
                # The send buffer is full: look again when some of it has gone.
                wait = min(wait, 0.002)
            ready, _, _ = select.select(readable, [], [], max(0.0, wait))
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    self.exited = True
                else:
                    self.written += len(data)
                    self.up.put(data, self.now())
                    if DUMP:
                        with open(DUMP, "ab") as dump:
                            dump.write(data)

    def type(self, text: str) -> None:
        """Keys typed at the far end (they reach the app after the latency)."""
        self.down.put(text.encode(), self.now())

    def text(self) -> str:
        """The far end's screen (rebuilt at most every 5 ms)."""
        now = self.now()
        if now - self._text_at > 0.005:
            self._text = "\n".join(self.screen.display)
            self._text_at = now
        return self._text

    def wait_for(self, texts: tuple[str, ...] | list[str], timeout: float) -> float | None:
        """Relay until every text shows at the far end; returns when (or None)."""
        deadline = self.now() + timeout
        while self.now() < deadline:
            self.pump(self.now() + 0.005)
            self._text_at = -1.0
            screen = self.text()
            if all(t in screen for t in texts):
                return self.now()
        return None

    def close(self) -> dict[str, float]:
        """End the child; its CPU if it was ours to wait for."""
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 5
        usage: dict[str, float] = {}
        while time.monotonic() < deadline:
            self.pump(self.now() + 0.02)
            done, status, rusage = os.wait4(self.pid, os.WNOHANG)
            if done:
                usage = {"cpu_s": rusage.ru_utime + rusage.ru_stime}
                break
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)
        return usage


def tui_run(
    env: dict[str, str], link: str, tokens: int, rate: float, typing: bool, full: bool
) -> dict[str, Any]:
    """The app at the near end: launch, submit, until END shows at the far end."""
    run_env = {**env, "TERM": "xterm-256color"}
    if full:
        run_env["TUICHAT_OUTPUT"] = "full"
    argv = tuichat_argv("--provider", "openai", "--model", MODEL)
    if PROFILE:  # the app under cProfile (written when it exits on SIGTERM)
        argv = [PYTHON, "-m", "cProfile", "-o", PROFILE, *argv[1:]]
    far = FarEnd(argv, run_env, link)
    try:
        if far.wait_for(READY, 60) is None:
            return {"ok": False, "error": "not ready", "screen": far.text()}
        far.pump(far.now() + 0.5)
        run = run_id()
        far.type(prompt(tokens, run, rate))
        if far.wait_for([f"run={run}"], 30) is None:
            return {"ok": False, "error": "prompt not shown"}
        far.pump(far.now() + 0.3)
        before = proc_stats(far.pid)
        written = far.written
        t0 = far.now()
        far.type("\r")
        end = f"END-{run}"
        probes: list[float | None] = []
        probe: tuple[str, float] | None = None
        next_probe = t0 + 0.5
        timeout = max(120.0, tokens / rate * 3 if rate else 120.0)
        shown: float | None = None
        while far.now() - t0 < timeout:
            far.pump(far.now() + 0.005)
            screen = far.text()
            now = far.now()
            if typing:
                if probe is not None and probe[0] in screen:
                    probes.append(now - probe[1])
                    far.type("\x7f" * len(probe[0]))
                    probe = None
                    next_probe = now + PROBE_EVERY
                elif probe is not None and now - probe[1] > 5:
                    probes.append(None)
                    probe = None
                if probe is None and now >= next_probe and shown is None:
                    text = f"qk{len(probes)}x{run}"
                    probe = (text, now)
                    far.type(text)
            if shown is None and end in screen:
                shown = now - t0
                after = proc_stats(far.pid)
                wrote = far.written - written
            if shown is not None and (not typing or probe is None):
                break
        if shown is None:
            return {"ok": False, "error": "END not shown", "bytes": far.written - written}
        return {
            "ok": True,
            "end_s": shown,
            "bytes": wrote,
            "cpu_s": after.get("cpu_s", 0) - before.get("cpu_s", 0),
            "probes_ms": [p * 1000 if p is not None else None for p in probes],
        }
    finally:
        far.close()


def plain_run(argv: list[str], env: dict[str, str], link: str, run: str) -> dict[str, Any]:
    """A client that prints the reply as plain text, in the same pty and link."""
    t0 = time.monotonic()
    far = FarEnd(argv, {**env, "TERM": "xterm-256color"}, link)
    end = f"END-{run}"
    shown: float | None = None
    try:
        while time.monotonic() - t0 < 300:
            far.pump(far.now() + 0.005)
            if end in far.text():
                shown = time.monotonic() - t0
                break
        written = far.written
    finally:
        usage = far.close()
    return {
        "ok": shown is not None,
        "end_s": shown,
        "bytes": written,
        "cpu_s": usage.get("cpu_s"),
    }


def baseline_argv(client: str, url: str, home: Any, text: str) -> list[str] | None:
    if client == "floor":
        return [PYTHON, str(ROOT / "benchmarks" / "floor_client.py"), f"{url}/v1", text]
    llm = llm_binary()
    if llm is None:
        return None
    (home / "llm").mkdir(exist_ok=True)
    (home / "llm" / "extra-openai-models.yaml").write_text(
        f'- model_id: bench\n  model_name: {MODEL}\n  api_base: "{url}/v1"\n', encoding="utf-8"
    )
    return [llm, "-m", "bench", "--no-log", text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 run, no 2k@50")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--links", default="local,1mbit,1mbit-100ms,256kbit")
    parser.add_argument("--cases", default=None)
    parser.add_argument("--clients", default="tuichat,tuichat-full,floor,llm")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    default = "2k@200,20k,2k@100,typing" if args.quick else ",".join(CASES)
    cases = (args.cases or default).split(",")
    links = args.links.split(",")
    clients = args.clients.split(",")
    records: list[dict[str, Any]] = []
    with reply_server() as url, isolated_home(url) as (home, env):
        env = {**env, "LLM_USER_PATH": str(home / "llm")}
        for rep in range(runs):
            for case in cases:
                tokens, rate, typing = CASES[case]
                for link in links:
                    if link not in CASE_LINKS.get(case, links):
                        continue
                    for client in clients:
                        if typing and client not in ("tuichat", "tuichat-full"):
                            continue
                        if client.startswith("tuichat"):
                            result = tui_run(
                                env, link, tokens, rate, typing, full=client == "tuichat-full"
                            )
                        else:
                            run = run_id()
                            argv_ = baseline_argv(client, url, home, prompt(tokens, run, rate))
                            if argv_ is None:
                                continue
                            result = plain_run(argv_, env, link, run)
                        record = {
                            "case": case,
                            "link": link,
                            "client": client,
                            "rep": rep,
                            **result,
                        }
                        records.append(record)
                        print(
                            json.dumps({k: v for k, v in record.items() if k != "probes_ms"}),
                            flush=True,
                        )
    summary = report(records, cases, links, clients)
    save("thin_link", {"records": records, "summary": summary})
    return 0


def report(
    records: list[dict[str, Any]], cases: list[str], links: list[str], clients: list[str]
) -> list[dict[str, Any]]:
    rows = [
        [
            "case",
            "link",
            "client",
            "n ok",
            "bytes written",
            "submit → END at the far end",
            "CPU s",
            "key → far screen p50 / p95",
        ]
    ]
    summary = []
    for case in cases:
        for link in links:
            for client in clients:
                rs = [
                    r
                    for r in records
                    if r["case"] == case and r["link"] == link and r["client"] == client
                ]
                if not rs:
                    continue
                ok = [r for r in rs if r.get("ok")]
                probes = [p for r in ok for p in r.get("probes_ms", []) if p is not None]
                lost = sum(1 for r in ok for p in r.get("probes_ms", []) if p is None)
                kb = [r["bytes"] / 1024 for r in ok if r.get("bytes") is not None]
                keys = "—"
                if probes:
                    keys = (
                        f"{percentile(probes, 50):.0f} / {percentile(probes, 95):.0f} ms"
                        f" (n={len(probes)}{f', {lost} lost' if lost else ''})"
                    )
                rows.append(
                    [
                        case,
                        link,
                        client,
                        f"{len(ok)}/{len(rs)}",
                        stat(kb, "KiB"),
                        stat([r.get("end_s") for r in ok]),
                        stat([r.get("cpu_s") for r in ok]),
                        keys,
                    ]
                )
                summary.append(
                    {
                        "case": case,
                        "link": link,
                        "client": client,
                        "kib": median(kb),
                        "end_s": median(r.get("end_s") for r in ok),
                        "cpu_s": median(r.get("cpu_s") for r in ok),
                        "p50_ms": percentile(probes, 50),
                        "p95_ms": percentile(probes, 95),
                    }
                )
    print()
    print(table(rows))
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
