"""The fault matrix in the app: Pilot, the real provider plugins, the kit server.

One app per provider lives through every fault of the matrix in a row, in one
conversation, as a person whose connection misbehaves all afternoon would: each test is
one cell. It scripts the server (or points the provider at a closed port, a name that
does not resolve, a certificate nobody trusts), sends the prompt (after a failure the
prompt is back in the box, so Enter sends it again) and checks: the reply shows the text
that arrived and its status, one sentence naming the provider, the cause and the fix is
shown under it, the prompt comes back, the store has the row marked, the provider was
called as often as the retry policy says, no traceback. That the next cell works at all
shows the app stayed usable; the last test checks a healthy reply after all of them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from textual.pilot import Pilot
from textual.widgets import Static

from tests.app.support import SIZE, chat_screen, replies, settle_reply, visible_text
from tests.faults.conftest import PLUGINS, Certificate
from tests.faults.matrix import (
    CANARY,
    DNS,
    FAULTS,
    FAULTS_BY_ID,
    FULL,
    KIT,
    PROMPT,
    REFUSED,
    RETRY_SETTINGS,
    TLS,
    UNRESOLVABLE,
    WIRES,
    Wire,
    cell_settings,
    check_sentence,
    serve,
    stream,
)
from tuichat.app.app import TuichatApp
from tuichat.config import LoadedConfig, Settings
from tuichat.plugins import get_plugin_manager, load_providers
from tuichat.provider import ChatEvent, ChatRequest, Provider
from tuichat.runtime import Runtime
from tuichat.testing.contract import closed_port_url
from tuichat.testing.server import WireServer

# One event loop per module: the app of a provider outlives each test.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Session:
    """A running app chatting with one provider, and the servers it is pointed at."""

    pilot: Pilot[None]
    runtime: Runtime
    provider: Provider
    wire: Wire
    server: WireServer
    tls_server: WireServer
    attempts: list[ChatRequest]


def count_attempts(provider: Provider) -> list[ChatRequest]:
    """Record every ``stream_chat`` call (one per attempt, retries included)."""
    calls: list[ChatRequest] = []
    original = provider.stream_chat

    def counting(request: ChatRequest) -> AsyncGenerator[ChatEvent, None]:
        calls.append(request)
        return original(request)

    provider.stream_chat = counting  # type: ignore[method-assign]
    return calls


@pytest.fixture(scope="module")
def servers(certificate: Certificate) -> Iterator[tuple[WireServer, WireServer]]:
    """A plain and a TLS kit server (its certificate trusted by nobody)."""
    with WireServer() as plain, WireServer(tls=certificate.server_context()) as tls:
        yield plain, tls


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=list(WIRES))
async def session(
    request: pytest.FixtureRequest,
    servers: tuple[WireServer, WireServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Session]:
    """The app of one provider, running for the whole module."""
    with pytest.MonkeyPatch.context() as env:
        # Module-scoped: set up before the per-test environment isolation runs.
        for name in list(os.environ):
            if name.startswith("TUICHAT_") or name.endswith(("_API_KEY", "_BASE_URL")):
                env.delenv(name)
        async for running in _session(WIRES[request.param], servers, tmp_path_factory):
            yield running


async def _session(
    wire: Wire, servers: tuple[WireServer, WireServer], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Session]:
    root: Path = tmp_path_factory.mktemp(f"tui-{wire.name}")
    pm = get_plugin_manager(load_entrypoints=False)
    for plugin in PLUGINS:
        pm.register(plugin)
    settings = Settings(
        providers={wire.name: cell_settings(FAULTS[0], wire, servers[0].url)},
        retry=RETRY_SETTINGS,
        # A title asked from the model would be one more request to count.
        ui={"title_from_model": False},
        # Nor would a look for local model servers on the machine's real ports.
        discovery={"enabled": False},
    )
    runtime = Runtime(
        LoadedConfig(settings, root / "config.toml", ""),
        load_providers(pm),
        plugin_manager=pm,
        database_path=root / "tuichat.db",
    )
    provider = runtime.provider(wire.name)
    attempts = count_attempts(provider)
    app = TuichatApp(runtime, provider=wire.name)
    async with app.run_test(size=SIZE) as pilot:
        yield Session(pilot, runtime, provider, wire, *servers, attempts)


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names under ``.invalid`` fail to resolve, as a resolver says, with no packet sent
    (the ``ask`` cells use a real resolver in a network namespace of their own)."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
        if name.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def point(session: Session, settings: dict[str, Any]) -> None:
    """Give the provider instance new settings, as a fixed config file would."""
    session.provider.settings = type(session.provider.settings).model_validate(settings)


async def send_prompt(session: Session) -> None:
    """Send the prompt: it is already in the box after a failure, else type it."""
    screen = chat_screen(session.pilot)
    assert not screen.prompt.read_only, "the prompt stayed locked"
    if not screen.prompt.text:
        screen.prompt.insert(PROMPT)
    assert screen.prompt.text == PROMPT
    await session.pilot.press("enter")
    await settle_reply(session.pilot)


def error_lines(session: Session) -> list[str]:
    """The error sentences under the last reply."""
    reply = replies(session.pilot)[-1]
    return [str(widget.render()) for widget in reply.query(".reply-error").results(Static)]


@pytest.mark.parametrize("fault_id", [fault.id for fault in FAULTS])
async def test_tui(fault_id: str, session: Session, no_dns: None) -> None:
    fault = FAULTS_BY_ID[fault_id]
    wire = session.wire
    server = session.tls_server if fault.endpoint == TLS else session.server
    server.reset()
    fault.arrange(server, wire)
    base_url = {
        KIT: server.url,
        TLS: server.url,
        REFUSED: closed_port_url(),
        DNS: f"http://{UNRESOLVABLE}",
    }[fault.endpoint]
    point(session, cell_settings(fault, wire, base_url))
    before = len(session.attempts)
    shown = replies(session.pilot)
    last_before = shown[-1].id if shown else None

    await send_prompt(session)

    screen = chat_screen(session.pilot)
    # A new reply shows at the end (the log keeps only a window of a long sitting mounted,
    # so the widgets are not counted).
    reply = replies(session.pilot)[-1]
    assert reply.id != last_before
    assert (reply.status, reply.text) == (fault.status, fault.text)
    assert len(session.attempts) - before == 1 + fault.retries
    if fault.requests is not None:
        # The app may also list models (GET); chat requests are POSTs.
        posts = [r for r in server.requests if r.method == "POST"]
        assert len(posts) == fault.requests
    if fault.fails:
        [sentence] = error_lines(session)
        check_sentence(sentence, fault, wire.name)
        # Nothing typed is lost: the prompt is back for another try.
        assert screen.prompt.text == PROMPT
    else:
        assert error_lines(session) == []
        assert screen.prompt.text == ""
    assert not screen.responding and session.pilot.app.is_running
    assert "Traceback" not in visible_text(session.pilot)

    store = session.runtime.store
    [conversation] = store.list_conversations()
    rows = store.messages(conversation.id)[-2:]
    assert [(m.role, m.status, m.content) for m in rows] == [
        ("user", "complete", PROMPT),
        ("assistant", fault.status, fault.text),
    ]
    if fault.fails:
        assert rows[1].error == sentence


async def test_tui_still_chats_after_every_fault(session: Session) -> None:
    wire = session.wire
    session.server.reset()
    serve(session.server, wire, stream(wire.reply(FULL)))
    point(session, cell_settings(FAULTS_BY_ID["401"], wire, session.server.url))
    await send_prompt(session)
    reply = replies(session.pilot)[-1]
    assert (reply.status, reply.text) == ("complete", "".join(FULL))
    # Every fault of the matrix is in this one conversation now, and on screen.
    assert CANARY not in session.pilot.app.export_screenshot()
    [conversation] = session.runtime.store.list_conversations()
    rows = session.runtime.store.messages(conversation.id)
    statuses = [m.status for m in rows if m.role == "assistant"]
    assert statuses == [fault.status for fault in FAULTS] + ["complete"]
