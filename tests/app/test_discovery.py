"""Local model servers found in the app: in the background after the first frame, and
again when the model picker opens; what is found is chosen like any provider."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.app.support import SIZE, chat_screen, until
from tests.app.test_models import open_picker
from tuichat.testing import Response, WireServer

TAGS = {"models": [{"name": "llama3.2:latest"}]}
MODELS = {"object": "list", "data": [{"id": "llama3.2:latest", "object": "model"}]}


def _json(data: object) -> Response:
    return Response(200, {"content-type": "application/json"}, json.dumps(data))


@pytest.fixture
def ollama(monkeypatch: pytest.MonkeyPatch) -> Iterator[WireServer]:
    """A loopback server on a free port, nothing scripted yet (every path answers 404)."""
    monkeypatch.delenv("TUICHAT_DISCOVERY__ENABLED")
    server = WireServer().start()
    yield server
    server.stop()


def _app(make_app, build_runtime, port: int):
    import tuichat_openai

    settings = {
        "providers": {"demo": {"instant": True}},
        "discovery": {"ports": {"ollama": port}, "timeout": 5},
    }
    return make_app(runtime=build_runtime(settings, fake=True, plugins=(tuichat_openai,)))


async def test_a_server_running_at_start_is_in_the_picker(make_app, build_runtime, ollama):
    ollama.route("GET", "/api/tags", _json(TAGS))
    ollama.route("GET", "/v1/models", _json(MODELS))
    app = _app(make_app, build_runtime, ollama.port)
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await until(pilot, lambda: "ollama" in screen.catalog, "the found server's models")
        picker = await open_picker(pilot)
        assert ("ollama", "llama3.2:latest") in picker.choices
        await pilot.press(*"ollama/llama", "enter")
        await until(pilot, lambda: app.screen is screen, "the picker to close")
        assert (screen.provider.instance_name, screen.model) == ("ollama", "llama3.2:latest")
        assert screen.provider.settings.base_url == f"http://127.0.0.1:{ollama.port}/v1"


async def test_a_server_started_later_shows_up_when_the_picker_opens(
    make_app, build_runtime, ollama
):
    app = _app(make_app, build_runtime, ollama.port)
    async with app.run_test(size=SIZE) as pilot:
        # The start's look found nothing there (404 everywhere).
        await until(pilot, lambda: len(ollama.requests) == 2, "the start's probe")
        await until(
            pilot,
            lambda: not any(w.group == "discovery" for w in app.workers),
            "the start's probe to end",
        )
        assert "ollama" not in app.runtime.instance_names()
        ollama.route("GET", "/api/tags", _json(TAGS))
        ollama.route("GET", "/v1/models", _json(MODELS))
        picker = await open_picker(pilot)
        await until(
            pilot, lambda: ("ollama", "llama3.2:latest") in picker.choices, "the found models"
        )
