"""With a canary API key, nothing tuichat writes contains it.

A kit server echoes every request's headers (where the key travels) into its replies,
its error messages and its model list, for each provider, its key coming from each of
the places a key can come from: the environment (OpenAI), the config file (Anthropic)
and ``api_key_cmd`` (Gemini). Then ``ask`` (a reply and an error), ``export`` (Markdown
and JSON), ``providers``, ``models`` and ``doctor`` run as processes of their own (forked
from :mod:`tests.faults.zygote`) whose HOME and XDG
directories are inside the test's directory, and the app runs under Pilot, its
screenshots saved. Every byte they wrote, and all they printed, is searched for the key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.app.support import SIZE, chat_screen, settle_reply, until
from tests.faults.conftest import PLUGINS
from tests.faults.matrix import WIRES, Wire, stream
from tests.faults.zygote import Job, run_all
from tuichat.app.app import TuichatApp
from tuichat.config import load_config
from tuichat.plugins import get_plugin_manager, load_providers
from tuichat.runtime import Runtime
from tuichat.testing.server import RecordedRequest, Response, WireServer
from tuichat.testing.sse import json_response
from tuichat.titles import INSTRUCTION

#: The canary key of each provider (each long enough to be masked in replies too).
KEYS = {
    "openai": "sk-canary-openai-1f2e3d4c5b6a",
    "anthropic": "sk-ant-canary-9a8b7c6d5e4f",
    "gemini": "AIza-canary-gemini-0a1b2c3d",
}


def echo(request: RecordedRequest) -> str:
    """The request as a server that leaks everything would repeat it."""
    return f"I saw {request.method} {request.path} with {json.dumps(request.headers)}"


def echo_server(server: WireServer, wire: Wire) -> None:
    """Replies echo the request, a title is the key itself; every request asking for
    "fail" gets an echoing error; the model list has the echo as a model id."""

    def chat(request: RecordedRequest) -> Response:
        if b"fail" in request.body:
            return wire.error_response(400, echo(request), None)
        if INSTRUCTION.encode() in request.body:
            # Asked for a title: answer with the key alone, so that it fits in one.
            headers = request.headers
            key = headers.get("authorization") or headers.get("x-api-key") or ""
            return stream(wire.reply([key or headers.get("x-goog-api-key", "")]))
        return stream(wire.reply(["Here: ", echo(request)]))

    server.route("POST", wire.chat_path, chat)
    models = {
        "openai": lambda r: json_response({"object": "list", "data": [{"id": echo(r)}]}),
        "anthropic": lambda r: json_response(
            {"data": [{"type": "model", "id": echo(r)}], "has_more": False}
        ),
        "gemini": lambda r: json_response(
            {"models": [{"name": f"models/{echo(r)}", "supportedGenerationMethods": []}]}
        ),
    }[wire.name]
    server.route("GET", "*/models", models)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Where the processes may write anything: HOME, XDG directories, data, config."""
    root = tmp_path / "home"
    for name in ("config", "data", "cache", "state"):
        (root / name).mkdir(parents=True)
    return root


@pytest.fixture
def servers() -> Iterator[dict[str, WireServer]]:
    with WireServer() as a, WireServer() as b, WireServer() as c:
        running = dict(zip(WIRES, (a, b, c), strict=True))
        for name, server in running.items():
            echo_server(server, WIRES[name])
        yield running


def write_config(home: Path, servers: dict[str, WireServer]) -> Path:
    """Keys from three places: env (OpenAI), the file (Anthropic), a command (Gemini)."""
    config = home / "config" / "config.toml"
    config.write_text(
        f'[providers.anthropic]\napi_key = "{KEYS["anthropic"]}"\n'
        f'base_url = "{servers["anthropic"].url}"\n\n'
        f'[providers.gemini]\napi_key_cmd = "printf {KEYS["gemini"]}"\n'
        f'base_url = "{servers["gemini"].url}"\n'
    )
    config.chmod(0o600)
    return config


def test_nothing_written_or_printed_holds_a_key(
    home: Path,
    servers: dict[str, WireServer],
    process_env: Callable[..., dict[str, str]],
    tmp_path: Path,
) -> None:
    config = write_config(home, servers)
    env = process_env(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_STATE_HOME=str(home / "state"),
        TUICHAT_CONFIG=str(config),
        TUICHAT_DATA_DIR=str(home / "data" / "tuichat"),
        OPENAI_API_KEY=KEYS["openai"],
        OPENAI_BASE_URL=f"{servers['openai'].url}/v1",
    )
    commands = [
        *(
            args
            for provider in WIRES
            for args in (
                ["ask", "-p", provider, "echo me"],
                ["ask", "-p", provider, "fail, and echo me"],
                ["models", "-p", provider],
            )
        ),
        ["providers"],
        ["doctor"],  # probes every provider: its model lists echo the key
    ]
    # Real processes, forked from a zygote to save their start-up (see zygote.py).
    first = run_all([Job(str(n), args, env) for n, args in enumerate(commands)], tmp_path)
    exports = run_all(
        [Job(f, ["export", "--all", "--format", f], env) for f in ("json", "md")], tmp_path
    )
    (home / "exports").mkdir()
    for form, done in exports.items():
        (home / "exports" / f"all.{form}").write_text(done.stdout)
    runs = [(commands[int(n)], done) for n, done in first.items()]
    runs += [(["export", form], done) for form, done in exports.items()]

    codes = [done.returncode for _, done in runs]
    # doctor's own verdict depends on the terminal (none here): not checked.
    assert codes[:10] == [0, 1, 0] * 3 + [0] and codes[11:] == [0, 0], runs
    # The replies were echoed (masked): the test did expose the keys.
    assert exports["md"].stdout.count("***") >= 3
    for args, done in runs:
        for key in KEYS.values():
            assert key not in done.stdout + done.stderr, f"{key} in the output of {args}"
    for path in home.rglob("*"):
        if path.is_file() and path != config:
            data = path.read_bytes()
            for key in KEYS.values():
                assert key.encode() not in data, f"{key} written to {path}"

    # The Gemini key travels in a header, never in a URL.
    for request in servers["gemini"].requests:
        assert KEYS["gemini"] not in request.path
        assert request.headers.get("x-goog-api-key") == KEYS["gemini"]
        assert "key" not in request.query


@pytest.mark.parametrize("provider", list(WIRES))
async def test_the_app_shows_and_stores_no_key(
    provider: str,
    home: Path,
    servers: dict[str, WireServer],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    config = write_config(home, servers)
    monkeypatch.setenv("OPENAI_API_KEY", KEYS["openai"])
    monkeypatch.setenv("OPENAI_BASE_URL", f"{servers['openai'].url}/v1")
    pm = get_plugin_manager(load_entrypoints=False)
    for plugin in PLUGINS:
        pm.register(plugin)
    database = home / "data" / "app.db"
    runtime = Runtime(
        load_config(config), load_providers(pm), plugin_manager=pm, database_path=database
    )
    app = TuichatApp(runtime, provider=provider)
    shots = []
    async with app.run_test(size=SIZE) as pilot:
        for prompt in ("echo me", "fail, and echo me"):
            screen = chat_screen(pilot)
            screen.prompt.clear()
            screen.prompt.insert(prompt)
            await pilot.press("enter")
            await settle_reply(pilot)
            shots.append(app.export_screenshot())
        # The model's own title for the conversation is an echo too.
        asked = INSTRUCTION.encode()
        await until(pilot, lambda: any(asked in r.body for r in servers[provider].requests))
        await pilot.pause(0.2)
        shots.append(app.export_screenshot())
    for number, shot in enumerate(shots):
        (tmp_path / f"shot-{number}.svg").write_text(shot)
    assert "***" in shots[0]
    for path in [*tmp_path.rglob("*.svg"), *home.rglob("*")]:
        if path.is_file() and path != config:
            data = path.read_bytes()
            for key in KEYS.values():
                assert key.encode() not in data, f"{key} written to {path}"
