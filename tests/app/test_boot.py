"""A start with the same config as the last one that worked paints before anything loads.

The settings and plugins load right after the first frame; what the frame showed from
memory (tuichat.boot) is then checked against them, and a prompt sent meanwhile waits for
them instead of failing.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from textual import events

from tests.app.support import SIZE, chat_screen, until
from tuichat import locations
from tuichat.app.app import TuichatApp
from tuichat.boot import Boot, UIPrefs
from tuichat.cli import main
from tuichat.runtime import Runtime

DEMO = Boot(ui=UIPrefs(), keymap={}, provider="demo", model="demo", demo=True, env_names=())

INSTANT_DEMO = "[providers.demo]\ninstant = true\n"


def status_model(app: TuichatApp) -> str:
    return str(app.screen.query_one("#status-model").render())


async def test_a_remembered_start_paints_first_and_then_loads(isolated_env: Path) -> None:
    isolated_env.write_text(INSTANT_DEMO)
    runtime = Runtime.later(DEMO)
    app = TuichatApp(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: runtime.loaded, "the settings and plugins loaded")
        screen = chat_screen(pilot)
        await until(pilot, lambda: screen.chosen.resolved, "the provider resolved")
        assert screen.provider.name == "demo"
        assert "demo · demo" in status_model(app)


async def test_a_prompt_sent_before_the_plugins_loaded_waits_for_them(
    isolated_env: Path,
) -> None:
    isolated_env.write_text(INSTANT_DEMO)
    runtime = Runtime.later(DEMO)
    app = TuichatApp(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello", "enter")
        screen = chat_screen(pilot)
        await until(pilot, lambda: screen.conversation_id is not None, "the prompt saved")
        await until(pilot, lambda: not screen.responding, "the reply finished")
        assert screen.conversation_id is not None
        roles = [m.role for m in runtime.store.messages(screen.conversation_id)]
        assert roles == ["user", "assistant"]


async def test_values_remembered_wrongly_are_corrected_once_loaded(isolated_env: Path) -> None:
    isolated_env.write_text(INSTANT_DEMO + '[ui]\ntheme = "nord"\n')
    stale = Boot(ui=UIPrefs(theme="gruvbox"), keymap={}, provider="demo", model="old", demo=True)
    runtime = Runtime.later(stale)
    app = TuichatApp(runtime)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "demo · demo" in status_model(app), "the real model shown")
        await until(pilot, lambda: app.theme == "nord", "the configured theme applied")


async def test_a_remembered_start_that_fails_to_load_stops_with_the_sentence(
    isolated_env: Path, tmp_path: Path
) -> None:
    gone = tmp_path / "deleted.pem"
    isolated_env.write_text(f'[http]\nca_bundle = "{gone}"\n')
    app = TuichatApp(Runtime.later(DEMO))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.startup_error is not None, "the load failed")
        await pilot.pause()
    assert app.return_code == 2
    assert "ca_bundle" in str(app.startup_error)


def _headless_run(app: TuichatApp) -> None:
    """Stand-in for ``App.run``: headless until the start has finished (boot kept)."""

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            path = locations.boot_path()
            await until(pilot, lambda: path.exists() or app.startup_error is not None)

    asyncio.run(run())


def test_a_config_broken_after_a_good_start_still_stops_before_the_screen(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    isolated_env.write_text(INSTANT_DEMO)
    monkeypatch.setattr(TuichatApp, "run", _headless_run)
    assert main([]) == 0
    assert locations.boot_path().exists()

    isolated_env.write_text('[ui]\nthemes = "nord"\n')

    def must_not_start(self: TuichatApp) -> None:
        raise AssertionError("the app started despite the bad config")

    monkeypatch.setattr(TuichatApp, "run", must_not_start)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown key 'ui.themes'" in err


FIRST_FRAME_PROBE = textwrap.dedent(
    """
    import asyncio, json, sys
    from tuichat.app.app import TuichatApp
    from tuichat import locations
    from tuichat.cli import main

    seen = {}
    finish = TuichatApp._finish_start

    def first_frame(self):
        seen.update(
            loaded=self.runtime.loaded,
            heavy=sorted(
                name for name in ("pydantic", "pydantic_settings", "httpx", "pluggy",
                                  "markdown_it", "tuichat.config", "tuichat.plugins")
                if name in sys.modules
            ),
        )
        finish(self)

    def run(self):
        async def go():
            async with self.run_test(size=(120, 40)) as pilot:
                while not locations.boot_path().exists():
                    await pilot.pause(0.01)
                await pilot.pause(0.2)
        asyncio.run(go())

    TuichatApp._finish_start = first_frame
    TuichatApp.run = run
    code = main([])
    print(json.dumps(seen))
    sys.exit(code)
    """
)


def test_the_second_start_paints_without_loading_settings_plugins_or_http(
    isolated_env: Path,
) -> None:
    import os

    isolated_env.write_text(INSTANT_DEMO)

    def start() -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-c", FIRST_FRAME_PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ),
            check=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = start()
    assert first["loaded"] is True  # nothing remembered yet: validated before the screen
    second = start()
    assert second == {"loaded": False, "heavy": []}


async def test_a_prompt_sent_before_a_failing_load_stops_with_the_sentence(
    isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "deleted.pem"
    isolated_env.write_text(f'[http]\nca_bundle = "{gone}"\n')
    # The load after the first frame has not run yet when Enter needs the provider.
    monkeypatch.setattr(TuichatApp, "_finish_start", lambda self: None)
    app = TuichatApp(Runtime.later(DEMO))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hi")
        # (Posted, not pressed: Pilot's press waits for a screen that is going away.)
        app.post_message(events.Key("enter", None))
        await until(pilot, lambda: app.startup_error is not None, "the load failed")
    assert app.return_code == 2
    assert "ca_bundle" in str(app.startup_error)
