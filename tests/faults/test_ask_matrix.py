"""The fault matrix through ``tuichat ask``: real processes against the kit server.

Every (fault, provider) cell runs ``tuichat ask -p PROVIDER hello`` as a process of its
own, configured only through the environment (the provider's standard key and base URL
variables and ``TUICHAT_*``), against its own scripted :class:`~tuichat.testing.WireServer`.
The cells run all at once, once per module (each process waits on timeouts and retries,
not on the CPU; see :mod:`tests.faults.zygote`); each test then checks one cell: the exit
code, stdout (exactly the text that arrived), stderr (one ``tuichat:`` line per retry and
one sentence naming the provider, the cause and the fix), the requests the server saw,
the stored reply, no traceback and no API key anywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.faults.conftest import Certificate, tuichat_command
from tests.faults.matrix import (
    CANARY,
    CELLS,
    DNS,
    FAULTS_BY_ID,
    KIT,
    PROMPT,
    REFUSED,
    RETRY_SETTINGS,
    TLS,
    UNRESOLVABLE,
    WIRES,
    Fault,
    Script,
    Wire,
    cell_settings,
    check_sentence,
)
from tests.faults.zygote import Done, Job, run_all
from tuichat.store import Store
from tuichat.testing.contract import closed_port_url
from tuichat.testing.server import WireServer

#: In Python, for when no network namespace can be made: DNS fails the same way, locally.
_NO_DNS = """
import socket, sys
real = socket.getaddrinfo
def fake(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith(".invalid"):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return real(host, *args, **kwargs)
socket.getaddrinfo = fake
from tuichat.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _offline_prefix() -> list[str] | None:
    """A command prefix running a program in a network namespace of its own (loopback
    only), so that resolving a name fails without a packet leaving the machine."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for flags in (["-n"], ["-rn"]):
        probe = subprocess.run([unshare, *flags, "true"], capture_output=True, timeout=10)
        if probe.returncode == 0:
            return [unshare, *flags]
    return None


@dataclass
class AskRun:
    """What one ``tuichat ask`` process did."""

    returncode: int
    stdout: str
    stderr: str
    requests: int
    times: list[float] = field(default_factory=list)
    messages: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)


def _environment(root: Path, fault: Fault, wire: Wire, base_url: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TUICHAT_")
        and not name.endswith(("_API_KEY", "_BASE_URL"))
        and name.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    }
    settings = cell_settings(fault, wire, base_url)
    env[wire.key_env] = settings.pop("api_key")
    env[wire.base_env] = settings.pop("base_url")
    prefix = f"TUICHAT_PROVIDERS__{wire.name.upper()}__"
    env.update({prefix + key.upper(): str(value) for key, value in settings.items()})
    env.update({f"TUICHAT_RETRY__{k.upper()}": str(v) for k, v in RETRY_SETTINGS.items()})
    env["TUICHAT_CONFIG"] = str(root / "config.toml")
    env["TUICHAT_DATA_DIR"] = str(root / "data")
    return env


@dataclass
class Cell:
    """One cell being run: its server, the script it plays and where its data goes."""

    fault: Fault
    wire: Wire
    root: Path
    server: WireServer
    script: Script | None
    argv: list[str]
    env: dict[str, str]


def _prepare(fault: Fault, wire: Wire, root: Path, certificate: Certificate) -> Cell:
    tls = certificate.server_context() if fault.endpoint == TLS else None
    server = WireServer(tls=tls).start()
    script = fault.arrange(server, wire)
    base_url = {
        KIT: server.url,
        TLS: server.url,
        REFUSED: closed_port_url(),
        DNS: f"http://{UNRESOLVABLE}",
    }[fault.endpoint]
    env = _environment(root, fault, wire, base_url)
    return Cell(fault, wire, root, server, script, ["ask", "-p", wire.name, PROMPT], env)


def _run_offline(cell: Cell, offline: list[str] | None) -> Done:
    """A DNS cell: a real ``python -m tuichat`` in a network namespace of its own."""
    if offline is not None:
        command = [*offline, *tuichat_command(*cell.argv)]
    else:
        command = [sys.executable, "-c", _NO_DNS, *cell.argv]
    done = subprocess.run(
        command,
        env=cell.env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return Done(done.returncode, done.stdout, done.stderr)


def _outcome(cell: Cell, done: Done) -> AskRun:
    run = AskRun(
        done.returncode,
        done.stdout,
        done.stderr,
        len(cell.server.requests),
        list(cell.script.times) if cell.script else [],
    )
    database = cell.root / "data" / "tuichat.db"
    if database.exists():
        with Store(database) as store:
            for conversation in store.list_conversations():
                run.messages += [
                    (m.role, m.status, m.content, m.error) for m in store.messages(conversation.id)
                ]
    for path in (cell.root / "data").rglob("*"):
        if path.is_file():
            run.files[str(path)] = path.read_bytes()
    return run


@pytest.fixture(scope="module")
def ask_runs(
    tmp_path_factory: pytest.TempPathFactory, certificate: Certificate
) -> Iterator[dict[tuple[str, str], AskRun]]:
    """Run every cell once, all at the same time: real processes forked from a zygote
    (the DNS cells as plain processes, for their network namespace)."""
    offline = _offline_prefix()
    cells = {
        (fault_id, provider): _prepare(
            FAULTS_BY_ID[fault_id],
            WIRES[provider],
            tmp_path_factory.mktemp(f"ask-{fault_id}-{provider}"),
            certificate,
        )
        for fault_id, provider in CELLS
    }
    try:
        dns = {key: cell for key, cell in cells.items() if cell.fault.endpoint == DNS}
        with ThreadPoolExecutor(len(dns) or 1) as pool:
            offline_runs = {
                key: pool.submit(_run_offline, cell, offline) for key, cell in dns.items()
            }
            forked = run_all(
                [
                    Job(f"{key[0]}/{key[1]}", cell.argv, cell.env)
                    for key, cell in cells.items()
                    if key not in dns
                ],
                tmp_path_factory.mktemp("ask-streams"),
            )
            results = {key: future.result() for key, future in offline_runs.items()}
        results.update({key: forked[f"{key[0]}/{key[1]}"] for key in cells if key not in dns})
        yield {key: _outcome(cell, results[key]) for key, cell in cells.items()}
    finally:
        for cell in cells.values():
            cell.server.stop()


@pytest.mark.parametrize(("fault_id", "provider"), CELLS)
def test_ask(fault_id: str, provider: str, ask_runs: dict[tuple[str, str], AskRun]) -> None:
    fault = FAULTS_BY_ID[fault_id]
    run = ask_runs[(fault_id, provider)]
    context = f"exit {run.returncode}\nstdout: {run.stdout!r}\nstderr: {run.stderr}"

    assert "Traceback" not in run.stderr, context
    assert run.returncode == fault.exit_code, context
    # stdout holds exactly the reply text that arrived, nothing else.
    assert run.stdout == fault.text, context

    lines = run.stderr.splitlines()
    assert all(line.startswith("tuichat: ") for line in lines), context
    retry_lines = [line for line in lines if " Retrying in " in line]
    assert len(retry_lines) == fault.retries, context
    if fault.fails:
        assert len(lines) == fault.retries + 1, context
        sentence = lines[-1].removeprefix("tuichat: ")
        check_sentence(sentence, fault, provider)
    else:
        assert len(lines) == fault.retries, context
        for line in retry_lines:
            check_sentence(line.removeprefix("tuichat: "), fault, provider)

    if fault.requests is not None:
        assert run.requests == fault.requests, context
    if fault.min_gap:
        first, second = run.times[:2]
        assert second - first >= fault.min_gap - 0.05, "Retry-After was not honoured"

    # The prompt and the reply are stored, the reply marked with how it ended.
    assert [m[:3] for m in run.messages] == [
        ("user", "complete", PROMPT),
        ("assistant", fault.status, fault.text),
    ], run.messages
    if fault.fails:
        assert run.messages[1][3] == sentence

    for where, text in [("stdout", run.stdout), ("stderr", run.stderr)]:
        assert CANARY not in text, f"the API key leaked into {where}"
    for path, data in run.files.items():
        assert CANARY.encode() not in data, f"the API key leaked into {path}"
