"""Local model servers found with no config, against real servers on loopback.

The probe's ports are always those of this test's servers: the machine's own 11434,
1234, 8080 and 8000 are never asked.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from datetime import date

import httpx
import pytest

from tuichat import discovery
from tuichat.discovery import Found
from tuichat.runtime import Runtime
from tuichat.testing import Response, WireServer

OPENAI_MODELS = {"object": "list", "data": [{"id": "qwen3:8b", "object": "model"}]}
OLLAMA_TAGS = {"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest"}]}


def _json(data: object) -> Response:
    return Response(200, {"content-type": "application/json"}, json.dumps(data))


@pytest.fixture(autouse=True)
def discovery_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite turns discovery off; here each runtime says itself what it asks."""
    monkeypatch.delenv("TUICHAT_DISCOVERY__ENABLED")


@pytest.fixture
def servers() -> Iterator[Callable[[], WireServer]]:
    """Start as many loopback servers as a test wants; all stopped after it."""
    started: list[WireServer] = []

    def start() -> WireServer:
        server = WireServer().start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def free_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def probe(ports: dict[str, int], timeout: float = 5) -> list[Found]:
    """Probe these ports; the timeout is generous unless a test is about it: a loaded
    machine must not turn a server that answers into one that hung."""
    async with httpx.AsyncClient() as client:
        return await discovery.probe(client, ports, timeout=timeout)


async def test_a_server_answering_the_openai_models_list_is_found(servers) -> None:
    lmstudio = servers()
    lmstudio.route("GET", "/v1/models", _json(OPENAI_MODELS))

    [found] = await probe({"lmstudio": lmstudio.port})

    assert found == Found("lmstudio", lmstudio.port, ("qwen3:8b",))
    assert found.describe() == f"lmstudio, found on 127.0.0.1:{lmstudio.port}"
    assert found.table() == {
        "plugin": "openai",
        "base_url": f"http://127.0.0.1:{lmstudio.port}/v1",
        "default_model": "qwen3:8b",
    }


async def test_ollama_is_asked_its_own_tags_list_first(servers) -> None:
    ollama = servers()
    ollama.route("GET", "/api/tags", _json(OLLAMA_TAGS))

    [found] = await probe({"ollama": ollama.port})

    assert found.models == ("llama3.2:latest",)
    assert [r.path for r in ollama.requests] == ["/api/tags"]


async def test_ollama_without_its_tags_list_is_still_found_by_the_openai_one(servers) -> None:
    ollama = servers()
    ollama.route("GET", "/v1/models", _json(OPENAI_MODELS))

    [found] = await probe({"ollama": ollama.port})

    assert found.name == "ollama" and found.models == ("qwen3:8b",)


async def test_a_hung_server_a_garbage_one_and_a_closed_port_are_nothing(servers) -> None:
    good, hung, also_hung, garbage = servers(), servers(), servers(), servers()
    good.route("GET", "/v1/models", _json(OPENAI_MODELS))
    for server in (hung, also_hung):
        server.set_default(Response(first_byte_delay=30))
    garbage.set_default(Response(200, {"content-type": "text/html"}, "<html>It works!</html>"))
    ports = {
        "llamacpp": good.port,
        "vllm": hung.port,
        "other": also_hung.port,
        "lmstudio": garbage.port,
        "ollama": free_port(),
    }

    started = time.monotonic()
    found = await probe(ports, timeout=1.0)
    elapsed = time.monotonic() - started

    assert [f.name for f in found] == ["llamacpp"]
    # The ports are asked together: two hung ones cost one timeout, not two in a row.
    assert hung.requests and also_hung.requests and elapsed < 1.9


@pytest.mark.parametrize(
    "body",
    [
        "{}",
        '{"data": "nope"}',
        '{"data": [{"name": "no id"}]}',
        '{"models": [1, 2]}',
        "[]",
        "\x00\xff binary",
    ],
)
async def test_json_that_is_no_models_list_is_nothing(servers, body: str) -> None:
    server = servers()
    server.set_default(Response(200, {"content-type": "application/json"}, body))

    assert await probe({"vllm": server.port}) == []


async def test_an_error_status_is_nothing(servers) -> None:
    server = servers()
    server.set_default(Response(401, {"content-type": "application/json"}, json.dumps({})))

    assert await probe({"vllm": server.port}) == []


async def test_a_huge_answer_is_cut_off_and_is_nothing(servers) -> None:
    server = servers()
    server.set_default(_json({"data": [{"id": "m" * 100}] * (discovery.MAX_BODY // 50)}))

    assert await probe({"vllm": server.port}) == []


def test_only_a_plain_model_id_becomes_the_default_model() -> None:
    found = Found("vllm", 8000, ("bad\x1b]0;x\x07", "good-model"))

    assert found.table()["default_model"] == "good-model"
    assert "default_model" not in Found("vllm", 8000, ()).table()


# -- in the runtime --------------------------------------------------------------------------


def _runtime(build_runtime: Callable[..., Runtime], ports: dict[str, int], **extra) -> Runtime:
    import tuichat_openai

    settings = {
        "providers": {"demo": {"instant": True}, **extra.pop("providers", {})},
        "discovery": {"enabled": True, "ports": ports, "timeout": 5, **extra},
    }
    return build_runtime(settings, plugins=(tuichat_openai,))


async def test_a_found_server_becomes_a_keyless_openai_instance(build_runtime, servers) -> None:
    ollama = servers()
    ollama.route("GET", "/api/tags", _json(OLLAMA_TAGS))
    runtime = _runtime(build_runtime, {"ollama": ollama.port})

    [found] = await runtime.discover()

    assert "ollama" in runtime.instance_names()
    info = runtime.describe("ollama")
    assert (info.plugin, info.base_url, info.usable) == ("openai", found.base_url, True)
    assert (info.configured, info.found_on) == (False, f"127.0.0.1:{ollama.port}")
    assert runtime.provider("ollama").default_model == "llama3.2:latest"
    # Found once, it stays: asking again adds nothing new.
    assert await runtime.discover() == []
    await runtime.aclose()


async def test_a_configured_instance_of_that_name_or_port_wins(build_runtime, servers) -> None:
    mine, other = servers(), servers()
    for server in (mine, other):
        server.route("GET", "/v1/models", _json(OPENAI_MODELS))
    runtime = _runtime(
        build_runtime,
        {"vllm": mine.port, "lmstudio": other.port},
        providers={
            "vllm": {"plugin": "openai", "base_url": "http://example.invalid/v1"},
            "local": {"plugin": "openai", "base_url": f"http://localhost:{other.port}/v1"},
        },
    )

    assert await runtime.discover() == []
    assert runtime.provider("vllm").settings.base_url == "http://example.invalid/v1"
    assert "lmstudio" not in runtime.instance_names()
    await runtime.aclose()


async def test_the_setting_turns_it_off(build_runtime, servers) -> None:
    server = servers()
    server.route("GET", "/v1/models", _json(OPENAI_MODELS))
    runtime = _runtime(build_runtime, {"vllm": server.port}, enabled=False)

    assert await runtime.discover() == []
    assert server.requests == []
    await runtime.aclose()


def test_the_saved_tables_say_where_they_came_from() -> None:
    text = discovery.config_text(
        [Found("ollama", 11434, ("llama3.2:latest",))], today=date(2026, 12, 7)
    )

    assert text == (
        "# ollama, found on 127.0.0.1:11434 ('tuichat providers --save-found', 2026-12-07).\n"
        "[providers.ollama]\n"
        'plugin = "openai"\n'
        'base_url = "http://127.0.0.1:11434/v1"\n'
        'default_model = "llama3.2:latest"\n'
    )


def test_loopback_ports_of_base_urls() -> None:
    assert discovery.loopback_port("http://localhost:11434/v1") == 11434
    assert discovery.loopback_port("http://[::1]:8000") == 8000
    assert discovery.loopback_port("http://127.0.0.1/v1") == 80
    assert discovery.loopback_port("https://api.openai.com/v1") is None
    assert discovery.loopback_port("") is None


# -- tuichat providers and doctor ------------------------------------------------------------


@pytest.fixture
def one_ollama(servers, monkeypatch: pytest.MonkeyPatch) -> WireServer:
    """An Ollama on a free port, the only port the command line looks at."""
    ollama = servers()
    ollama.route("GET", "/api/tags", _json(OLLAMA_TAGS))
    monkeypatch.setenv("TUICHAT_DISCOVERY__PORTS", json.dumps({"ollama": ollama.port}))
    monkeypatch.setenv("TUICHAT_LOAD_PLUGINS", "openai")
    monkeypatch.setenv("TUICHAT_DISCOVERY__TIMEOUT", "5")  # (see probe above)
    return ollama


def test_providers_lists_a_found_server_and_saves_nothing(one_ollama, isolated_env, capsys):
    from tuichat.cli import main

    assert main(["providers"]) == 0

    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.split()[:1] == ["ollama"])
    assert row.split() == [
        "ollama",
        "openai",
        "not",
        "needed",
        "llama3.2:latest",
        f"http://127.0.0.1:{one_ollama.port}/v1",
    ]
    assert f"ollama, found on 127.0.0.1:{one_ollama.port} (not in the config file)." in out
    assert not isolated_env.exists()


def test_save_found_appends_the_table_under_a_comment(one_ollama, isolated_env, capsys):
    from tuichat.cli import main
    from tuichat.config import load_config

    isolated_env.write_text('[ui]\ntheme = "nord"', encoding="utf-8")

    assert main(["providers", "--save-found"]) == 0

    assert f"Saved ollama to {isolated_env}." in capsys.readouterr().out
    text = isolated_env.read_text(encoding="utf-8")
    assert text.startswith('[ui]\ntheme = "nord"\n\n# ollama, found on 127.0.0.1:')
    settings = load_config(isolated_env).settings
    assert settings.providers["ollama"]["base_url"] == f"http://127.0.0.1:{one_ollama.port}/v1"
    assert settings.ui.theme == "nord"
    # Saved, it is a configured instance: a second save finds nothing new.
    assert main(["providers", "--save-found"]) == 0
    assert "nothing saved" in capsys.readouterr().out
    assert isolated_env.read_text(encoding="utf-8") == text


def test_providers_with_discovery_off_asks_no_port(one_ollama, monkeypatch, capsys) -> None:
    from tuichat.cli import main

    monkeypatch.setenv("TUICHAT_DISCOVERY__ENABLED", "false")

    assert main(["providers"]) == 0
    assert "ollama" not in capsys.readouterr().out
    assert one_ollama.requests == []


def test_doctor_shows_what_was_found_and_checks_it(one_ollama, capsys) -> None:
    from tuichat.cli import main

    main(["doctor"])

    lines = capsys.readouterr().out.splitlines()
    [found] = [line for line in lines if "local servers" in line]
    assert found.startswith("ok") and f"ollama, found on 127.0.0.1:{one_ollama.port}" in found
    assert any(line.startswith("ok") and "ollama key" in line for line in lines)
    assert any("ollama reach" in line for line in lines)


def test_ask_names_a_found_server_with_no_config(one_ollama, capsys) -> None:
    from tuichat.cli import main
    from tuichat.testing import openai_chat_stream, sse_response

    one_ollama.route("POST", "/v1/chat/completions", sse_response(*openai_chat_stream(["Hi!"])))

    assert main(["ask", "--no-save", "-m", "ollama/llama3.2:latest", "hello"]) == 0

    assert capsys.readouterr().out.strip() == "Hi!"
    [chat] = [r for r in one_ollama.requests if r.path == "/v1/chat/completions"]
    assert chat.json()["model"] == "llama3.2:latest"
    assert "authorization" not in chat.headers


def test_ask_does_not_look_for_servers_it_was_not_asked_for(one_ollama, capsys) -> None:
    from tuichat.cli import main

    assert main(["ask", "--no-save", "-p", "demo", "hello"]) == 0
    assert one_ollama.requests == []
