"""Each real provider plugin in the app, against the test kit's loopback server, in tmux.

The server (``python -m tuichat.testing serve``) speaks the OpenAI, Anthropic and Gemini
wire formats and lists two models. For each provider: a reply streams in and is saved with
its provider and model, the model picker lists the server's models and switches to one,
and the conversation gets a title asked of the model in the background.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.kit import kit_server
from tests.e2e.tmux import TmuxSession
from tuichat.store import Store

pytestmark = pytest.mark.e2e

#: Words of the test kit's generated reply.
REPLY_START = "Streaming test reply"


@pytest.fixture
def kit_url() -> Iterator[str]:
    """A running test-kit server; its base URL."""
    with kit_server("--openai-reply-tokens", "60") as url:
        yield url


@pytest.fixture
def env(app_env: dict[str, str], kit_url: str, tmp_path: Path) -> dict[str, str]:
    """Keys and base URLs of the three providers, all pointing at the test kit."""
    (tmp_path / "config.toml").write_text("[ui]\ncursor_blink = false\n")
    return {
        **app_env,
        "OPENAI_API_KEY": "sk-test-openai",
        "OPENAI_BASE_URL": f"{kit_url}/v1",
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": kit_url,
        "GEMINI_API_KEY": "gemini-test-key",
        "GEMINI_BASE_URL": kit_url,
    }


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_a_real_provider_streams_switches_model_and_titles(
    terminal, env: dict[str, str], tmp_path: Path, provider: str, size: tuple[int, int]
) -> None:
    width, height = size
    app: TmuxSession = terminal(
        "--model", f"{provider}/wire-model-1", env=env, width=width, height=height
    )
    app.wait_for(f"{provider} · wire-model-1", timeout=30)
    app.type("Tell me something")
    app.keys("Enter")
    app.wait_for(lambda s: REPLY_START in s and "complete (stop)" in s, timeout=30)

    app.keys("C-l")
    app.wait_for("Choose a model")
    app.type(f"{provider}/wire-model-2")
    app.wait_for(lambda s: s.count("wire-model-2") >= 2)  # typed, and listed
    app.keys("Enter")
    app.wait_for(f"{provider} · wire-model-2")

    with Store(tmp_path / "data" / "tuichat.db") as store:
        [conversation] = store.list_conversations()
        messages = store.messages(conversation.id)
    assert [(m.role, m.provider, m.model) for m in messages] == [
        ("user", None, None),
        ("assistant", provider, "wire-model-1"),
    ]
    assert messages[1].content.startswith("## " + REPLY_START)
    assert (conversation.provider, conversation.model) == (provider, "wire-model-2")

    # The background title: the kit's reply starts with a heading, which becomes the title.
    def titled() -> bool:
        with Store(tmp_path / "data" / "tuichat.db") as store:
            return store.list_conversations()[0].title == REPLY_START

    deadline_screen = app.wait_for(lambda s: titled(), timeout=30)
    assert "Traceback" not in deadline_screen
    app.keys("C-q")
    app.wait_for("EXIT=0", timeout=15)
