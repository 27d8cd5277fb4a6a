"""The watchdog's parent side: it starts its sentinel, beats, and leaves nothing behind."""

from __future__ import annotations

import signal
from pathlib import Path

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
