"""TLS: certificates are always verified; a private CA is trusted through ``ca_bundle``.

Against the kit server speaking HTTPS with a self-signed certificate: without
``[http] ca_bundle`` the connection is refused with a sentence naming the fix (the fault
matrix's ``tls`` row); with it, ``ask`` and the app chat normally. No setting, in the file
or the environment, turns verification off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.app.support import SIZE, chat_screen, replies, settle_reply
from tests.faults.conftest import PLUGINS, Certificate
from tests.faults.matrix import FULL, WIRES, serve, stream
from tuichat.app.app import TuichatApp
from tuichat.cli import main
from tuichat.runtime import Runtime
from tuichat.testing.server import WireServer


@pytest.fixture
def https(certificate: Certificate) -> Iterator[WireServer]:
    """The kit server over HTTPS, answering OpenAI chats."""
    with WireServer(tls=certificate.server_context()) as server:
        serve(server, WIRES["openai"], stream(WIRES["openai"].reply(FULL)))
        yield server


def test_ask_trusts_a_private_ca_from_ca_bundle(
    https: WireServer,
    certificate: Certificate,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{https.url}/v1")
    assert https.url.startswith("https://")

    assert main(["ask", "-p", "openai", "hello"]) == 1
    _, err = capsys.readouterr()
    assert "sent a TLS certificate that is not trusted" in err
    assert "set ca_bundle in [http]" in err

    monkeypatch.setenv("TUICHAT_HTTP__CA_BUNDLE", str(certificate.cert))
    assert main(["ask", "-p", "openai", "hello"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("".join(FULL), "")


async def test_the_app_trusts_a_private_ca_from_ca_bundle(
    https: WireServer, certificate: Certificate, build_runtime: Callable[..., Runtime]
) -> None:
    runtime = build_runtime(
        {
            "providers": {"openai": {"base_url": f"{https.url}/v1", "api_key": "k" * 20}},
            "http": {"ca_bundle": str(certificate.cert)},
            "ui": {"title_from_model": False},
        },
        plugins=PLUGINS,
    )
    app = TuichatApp(runtime, provider="openai")
    async with app.run_test(size=SIZE) as pilot:
        chat_screen(pilot).prompt.insert("hello")
        await pilot.press("enter")
        await settle_reply(pilot)
        assert (replies(pilot)[-1].status, replies(pilot)[-1].text) == ("complete", "".join(FULL))


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TUICHAT_HTTP__VERIFY", "false"),
        ("TUICHAT_HTTP__INSECURE", "1"),
        ("TUICHAT_PROVIDERS__OPENAI__VERIFY", "false"),
    ],
)
def test_no_setting_turns_verification_off(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    assert main(["ask", "-p", "openai", "hello"]) == 2
    _, err = capsys.readouterr()
    assert "cannot turn TLS verification off" in err and err.count("\n") == 1, err
