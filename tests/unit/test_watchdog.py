"""The watchdog's parent side: it starts its sentinel, beats, and leaves nothing behind."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from tuichat.sentinel import SentinelConfig
from tuichat.watchdog import LOG_LIMIT, Watchdog


def test_started_and_stopped_it_leaves_the_signals_as_they_were(tmp_path: Path) -> None:
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGHUP, signal.SIGTERM)}
    watchdog = Watchdog(tmp_path / "logs" / "tuichat.log", streaming=lambda: [3, 5])
    assert watchdog.start()
    assert watchdog.running
    watchdog.beat()
    watchdog.stop()
    assert not watchdog.running
    assert {signum: signal.getsignal(signum) for signum in before} == before
    assert (tmp_path / "logs" / "tuichat.log").exists()
    watchdog.stop()  # twice is harmless


def test_a_log_grown_too_long_is_moved_aside(tmp_path: Path) -> None:
    log = tmp_path / "tuichat.log"
    log.write_text("x" * (LOG_LIMIT + 1))
    watchdog = Watchdog(log)
    assert watchdog.start()
    watchdog.stop()
    assert (tmp_path / "tuichat.log.1").stat().st_size == LOG_LIMIT + 1
    assert log.stat().st_size < LOG_LIMIT


def test_the_sentinel_config_survives_its_command_line() -> None:
    config = SentinelConfig(
        parent=1, control=3, signals={1: 4}, reasons={1: "gone"}, log="x.log", database=None
    )
    assert SentinelConfig.from_json(config.to_json()) == config


class Killed(Exception):
    """What the sentinel would have done to tuichat."""


def sentinel(tmp_path: Path, monkeypatch) -> Any:
    from tuichat import sentinel as module

    sent: list[int] = []
    monkeypatch.setattr(module.os, "kill", lambda pid, signum: sent.append(signum))
    monkeypatch.setattr(module, "_stopped", lambda pid: False)
    watcher = module.Sentinel(
        SentinelConfig(
            parent=12345,
            control=-1,
            signals={},
            reasons={int(signal.SIGHUP): "hung up"},
            log=str(tmp_path / "tuichat.log"),
            quit_reason="quit",
        )
    )
    watcher.sent = sent
    return watcher


def test_a_beat_after_the_quit_key_means_the_loop_takes_it_itself(tmp_path, monkeypatch) -> None:
    watcher = sentinel(tmp_path, monkeypatch)
    watcher._heartbeats(b"beat 7\nquit\nbeat 7\n", now=100.0)
    assert not watcher._check(now=101.6)
    assert signal.SIGKILL not in watcher.sent


def test_the_quit_key_unanswered_for_the_grace_time_ends_tuichat(tmp_path, monkeypatch) -> None:
    watcher = sentinel(tmp_path, monkeypatch)
    watcher._heartbeats(b"beat\nquit\n", now=100.0)
    assert not watcher._check(now=101.4)
    assert watcher._check(now=101.5)
    assert watcher.sent[-1] == signal.SIGKILL
    log = (tmp_path / "tuichat.log").read_text()
    assert "main loop busy for 1.4 s" in log and "the quit key not answered for 1.5 s" in log


def test_a_signal_is_given_the_grace_time_after_the_last_beat(tmp_path, monkeypatch) -> None:
    watcher = sentinel(tmp_path, monkeypatch)
    watcher._heartbeats(b"beat 3\n", now=100.0)
    watcher._signalled(int(signal.SIGHUP), b"stacks\n", now=100.0)
    watcher._heartbeats(b"beat 3\n", now=101.0)  # the loop still runs: it is exiting
    assert not watcher._check(now=102.4)
    assert watcher._check(now=102.5)
    assert watcher.sent == [signal.SIGUSR2, signal.SIGKILL]


def test_a_beating_loop_that_never_exits_is_ended_at_the_deadline(tmp_path, monkeypatch) -> None:
    watcher = sentinel(tmp_path, monkeypatch)
    watcher._signalled(int(signal.SIGTERM), b"", now=100.0)
    for tick in range(1, 200):
        watcher._heartbeats(b"beat\n", now=100.0 + tick / 10)
        if watcher._check(now=100.0 + tick / 10):
            break
    assert tick == 100 and watcher.sent == [signal.SIGKILL]


def test_after_twenty_busy_spells_only_their_durations_are_logged(tmp_path, monkeypatch) -> None:
    from tuichat.sentinel import STACKS_LOGGED

    watcher = sentinel(tmp_path, monkeypatch)
    now = 100.0
    for _ in range(STACKS_LOGGED + 5):
        watcher._heartbeats(b"beat\n", now=now)
        watcher._check(now=now + 0.6)
        now += 1.0
    assert watcher.sent.count(signal.SIGUSR2) == STACKS_LOGGED
    lines = (tmp_path / "tuichat.log").read_text().splitlines()
    assert sum("main loop busy" in line for line in lines) == STACKS_LOGGED + 5


def test_the_sentinel_is_not_given_the_api_keys(monkeypatch) -> None:
    from tuichat.watchdog import _child_environment

    monkeypatch.setenv("OPENAI_API_KEY", "sk-canary")
    assert "sk-canary" not in _child_environment().values()
