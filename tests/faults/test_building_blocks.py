"""The pieces the fault tests lean on, one by one: masking keys in a stream, storable
text, turns interrupted by a signal, the heartbeat, the signal catcher, key-file warnings,
the TLS context."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.conftest import scripted_provider
from tuichat import errors
from tuichat.chat import HEARTBEAT_INTERVAL, Turn, live_turns
from tuichat.config import key_file_warnings
from tuichat.http import RetryPolicy, tls_context
from tuichat.provider import Finish, ReasoningDelta, TextDelta
from tuichat.sanitize import StreamRedactor, decoded, neutralize, storable
from tuichat.signals import SignalCatcher, exit_code, interruption_sentence
from tuichat.store import Store

KEY = "sk-live-0123456789abcdef"


def mask(pieces: list[str], secrets: list[str]) -> tuple[list[str], str]:
    """Feed ``pieces`` through a redactor; what it released each time, and in all."""
    redactor = StreamRedactor(secrets)
    out = [redactor.feed(piece) for piece in pieces]
    out.append(redactor.flush())
    return out, "".join(out)


@pytest.mark.parametrize("cut", range(1, len(KEY)))
def test_a_key_split_across_two_deltas_is_masked(cut: int) -> None:
    _, text = mask([f"key: {KEY[:cut]}", f"{KEY[cut:]} done"], [KEY])
    assert text == "key: *** done"


def test_the_redactor_holds_back_only_what_could_start_a_key() -> None:
    released, text = mask(["plain text ", "sk-", "li", "ve? no, sk-other"], [KEY])
    assert released[0] == "plain text "
    assert text == "plain text sk-live? no, sk-other"
    # Short placeholders ("ollama", "none") are no secret to hunt for in replies.
    assert mask(["ask ollama about it"], ["ollama"])[1] == "ask ollama about it"


def test_lone_surrogates_become_replacement_characters() -> None:
    assert storable("a\ud800b\udfffc") == "a\ufffdb\ufffdc"
    assert neutralize("x\ud83dy") == "x\ufffdy"
    assert decoded("caf\udce9") == ("caf\ufffd", 1)  # a byte kept by surrogateescape
    assert decoded("plain") == ("plain", 0)


NO_WAIT = RetryPolicy(base_delay=0.0, max_delay=1.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh store in a temporary file."""
    with Store(tmp_path / "tuichat.db") as opened:
        yield opened


def begin(store: Store, provider: object, **kwargs: object) -> Turn:
    conversation = store.create_conversation()
    return Turn.begin(store, provider, conversation.id, "hi", model="m", policy=NO_WAIT, **kwargs)  # type: ignore[arg-type]


async def test_a_streamed_key_is_masked_in_events_and_in_the_store(store: Store) -> None:
    provider = scripted_provider(
        [
            ReasoningDelta(f"thinking about {KEY[:6]}"),
            ReasoningDelta(f"{KEY[6:]}"),
            TextDelta(f"Your key is {KEY[:10]}"),
            TextDelta(f"{KEY[10:]} and \ud800."),
            Finish("stop", "stop"),
        ],
        settings={"api_key": KEY},
    )
    turn = begin(store, provider)
    events = [event async for event in turn.stream()]
    shown = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert shown == "Your key is *** and \ufffd."
    reply = store.get_message(turn.message_id)
    assert reply is not None
    assert (reply.content, reply.reasoning) == (shown, "thinking about ***")


async def test_an_interrupted_turn_is_saved_as_interrupted_not_cancelled(store: Store) -> None:
    never = asyncio.Event()
    provider = scripted_provider([TextDelta("half"), never])
    turn = begin(store, provider)
    assert turn in live_turns()
    received = asyncio.Event()

    async def consume() -> None:
        async for event in turn.stream():
            if isinstance(event, TextDelta):
                received.set()

    task = asyncio.create_task(consume())
    await received.wait()
    turn.interrupt(interruption_sentence(signal.SIGTERM))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    reply = store.get_message(turn.message_id)
    assert reply is not None
    assert (reply.status, reply.content) == ("interrupted", "half")
    assert reply.error is not None and "(SIGTERM)" in reply.error
    assert turn not in live_turns()


async def test_a_turn_interrupted_before_it_streamed_is_interrupted(store: Store) -> None:
    turn = begin(store, scripted_provider([]))
    turn.interrupt("gone")
    turn.abandon()
    reply = store.get_message(turn.message_id)
    assert reply is not None and (reply.status, reply.error) == ("interrupted", "gone")


async def test_a_silent_stream_still_refreshes_its_row(store: Store) -> None:
    clock = [1000.0]
    timed = Store(store.path, clock=lambda: clock[0])  # type: ignore[arg-type]
    turn = begin(timed, scripted_provider([]), checkpoint_interval=0.5)
    before = timed.get_message(turn.message_id)
    assert before is not None
    for _ in range(int(HEARTBEAT_INTERVAL / 0.5)):
        clock[0] += 0.5
        turn.checkpoint()
    after = timed.get_message(turn.message_id)
    assert after is not None and after.updated_at > before.updated_at
    # Claimed by no one: it was refreshed within the staleness window.
    assert timed.recover_interrupted(stale_after=5.0) == 0
    timed.close()


async def test_the_signal_catcher_marks_turns_and_runs_the_callback_once(store: Store) -> None:
    turn = begin(store, scripted_provider([]))
    seen: list[int] = []
    catcher = SignalCatcher(seen.append).install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
    finally:
        catcher.remove()
    assert seen == [signal.SIGTERM] and catcher.received == signal.SIGTERM
    turn.abandon()
    reply = store.get_message(turn.message_id)
    assert reply is not None and reply.status == "interrupted"
    assert exit_code(signal.SIGTERM) == 143 and exit_code(signal.SIGHUP) == 129


def test_a_key_file_is_warned_about_only_when_others_can_read_it(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("x")
    data = {"providers": {"openai": {"api_key": "sk-x"}}}
    for mode, warned in [(0o644, True), (0o604, True), (0o640, True), (0o600, False)]:
        path.chmod(mode)
        assert bool(key_file_warnings(path, data)) is warned, oct(mode)
    path.chmod(0o644)
    assert key_file_warnings(path, {"providers": {"openai": {"api_key_cmd": "pass x"}}}) == ()


def test_a_ca_bundle_that_is_no_certificate_is_a_config_error(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate")
    with pytest.raises(errors.ConfigError, match="is not a usable PEM certificate file"):
        tls_context(bundle)
    assert tls_context().verify_mode.name == "CERT_REQUIRED"
