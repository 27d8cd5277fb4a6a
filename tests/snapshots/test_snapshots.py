"""SVG snapshots of the app's visual states.

Deterministic by construction: a fixed terminal size, the settings of
``tests/sample-configs/snapshots.toml`` (no cursor blink, fixed theme, instant demo),
no clock anywhere on screen, fixed clocks for the store and for turn timings, and each
``run_before`` waits for the exact state it pictures instead of sleeping.

Update the pictures with ``pytest tests/snapshots --snapshot-update`` and look at them.
"""

from __future__ import annotations

import asyncio
import itertools
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.app.support import chat_screen, fake, replies, send, settle_reply, until
from tests.fakes import Script, failing, frozen
from tuichat.app.app import TuichatApp
from tuichat.errors import AuthError
from tuichat.provider import Usage
from tuichat.runtime import Runtime
from tuichat.store import Store

SIZE = (120, 40)
CONFIG = Path(__file__).parent.parent / "sample-configs" / "snapshots.toml"

CODE_REPLY = """\
Here is a function that greets someone:

```python
def greet(name: str) -> str:
    \"\"\"Say hello.\"\"\"
    return f"Hello, {name}!"
```

Call it as `greet("Ada")`.
"""

AUTH_SENTENCE = "openai rejected the API key (HTTP 401); check OPENAI_API_KEY."


def ticking(start: float = 0.0, step: float = 0.25) -> Callable[[], float]:
    """A clock that advances ``step`` seconds each time it is read."""
    ticks = itertools.count()
    return lambda: start + next(ticks) * step


@pytest.fixture
def snapshot_settings() -> dict[str, Any]:
    """The snapshot settings file, as data."""
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


@pytest.fixture
def snapshot_runtime(
    build_runtime: Callable[..., Runtime], snapshot_settings: dict[str, Any], tmp_path: Path
) -> Runtime:
    """A runtime on the snapshot settings, the fake provider, and a store on a fixed clock."""
    store = Store(tmp_path / "data" / "tuichat.db", clock=ticking(1_700_000_000.0, 60.0))
    return build_runtime(snapshot_settings, fake=True, store=store)


def make(runtime: Runtime, **kwargs: Any) -> TuichatApp:
    return TuichatApp(runtime, clock=ticking(), **kwargs)


def test_first_run_with_the_demo_welcome(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see the first-run screen with the offline demo provider.

    An empty "Conversations" sidebar on the left; the chat log holds the welcome panel
    (what the demo is, how to add OPENAI_API_KEY / ANTHROPIC_API_KEY / GEMINI_API_KEY or a
    config table, the main keys); the status bar reads "demo · demo" next to the yellow
    "DEMO — offline, no key needed" badge; the empty focused prompt shows its placeholder;
    the footer lists Send, Newline, New, Sidebar, Rename, Delete and Quit.
    """

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()

    assert snap_compare(make(snapshot_runtime), terminal_size=SIZE, run_before=run_before)


def test_a_finished_reply_with_a_code_block(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see one finished turn with the fake provider.

    The sidebar lists "Show me a greeting function" (active). The log shows the user's
    prompt, then the reply: a sentence, a highlighted Python code block (def greet...),
    and "Call it as greet("Ada")". Under it the dim meta line reads
    "fake · fake-model · 14 in / 30 out tokens · first token 0.25 s · complete". The status
    bar reads "fake · fake-model" with no demo badge; the prompt is empty and focused.
    """
    fake(snapshot_runtime).queue(
        Script(deltas=chunks(CODE_REPLY), usage=Usage(input_tokens=14, output_tokens=30))
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await send(pilot, "Show me a greeting function")
        await settle_reply(pilot)

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_a_reply_frozen_mid_stream(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see a reply while it streams (the provider froze mid-reply).

    The log shows the prompt "Explain streaming" and a live reply: a "Streaming" heading,
    one paragraph and the first item of a bullet list ("tokens arrive one by one"), with
    the meta line "fake · fake-model · streaming…". The status bar says "responding… Esc
    stops"; the prompt is greyed (locked); the footer offers "esc Stop".
    """
    fake(snapshot_runtime).queue(
        frozen(
            "## Streaming\n\n",
            "A reply is drawn as it arrives, ",
            "a few times a second.\n\n",
            "- tokens arrive one by one\n",
        )
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await send(pilot, "Explain streaming")
        await asyncio.wait_for(fake(snapshot_runtime).waiting.wait(), 10)
        [reply] = replies(pilot)
        await reply.flush()
        await pilot.pause()

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_an_error_shown_inline(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see a failed turn.

    The log shows the prompt "Hello?" and, under it, a reply with a red left bar holding
    the partial text "I was about to" and the error sentence in red: "openai rejected the
    API key (HTTP 401); check OPENAI_API_KEY.", then the meta line
    "fake · fake-model · first token 0.25 s · failed". The prompt holds "Hello?" again,
    ready to resend.
    """
    fake(snapshot_runtime).queue(
        failing(AuthError(AUTH_SENTENCE, provider="openai", status=401), "I was about to")
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await send(pilot, "Hello?")
        await settle_reply(pilot)

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_the_sidebar_with_several_conversations(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see the sidebar with six conversations and one of them open.

    Sidebar, top to bottom: "* Pinned: project notes" (pinned first), then newest first:
    "Trip to Lisbon", "Untitled" conversation shown as "New conversation" (dim), "Rust vs
    Go for a CLI", "A title far too long to fit in the sidebar, so it ends with an
    ellipsis" cut with "…", "Recipe ideas". "Trip to Lisbon" is open (bold): the log
    shows its two turns, each reply with a dim meta line ("demo · demo · complete"). The
    status bar reads "demo · demo" with the demo badge.
    """
    store = snapshot_runtime.store
    conversations = {}
    for title in [
        "Recipe ideas",
        "A title far too long to fit in the sidebar, so it ends with an ellipsis",
        "Rust vs Go for a CLI",
        "",
        "Trip to Lisbon",
        "Pinned: project notes",
    ]:
        conversations[title] = store.create_conversation(title=title, provider="demo")
    store.update_conversation(conversations["Pinned: project notes"].id, pinned=True)
    lisbon = conversations["Trip to Lisbon"].id
    for prompt, reply in [
        ("Three things to see in Lisbon?", "1. Belém Tower\n2. Alfama\n3. LX Factory"),
        ("And to eat?", "Try **pastéis de nata** and grilled sardines."),
    ]:
        store.add_message(lisbon, "user", prompt)
        store.add_message(lisbon, "assistant", reply, provider="demo", model="demo")

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        screen = chat_screen(pilot)
        screen.sidebar.query_one("ListView").focus()
        await pilot.press("down", "enter")
        await until(pilot, lambda: screen.conversation_id == lisbon, "Lisbon to open")
        await pilot.pause()

    assert snap_compare(make(snapshot_runtime), terminal_size=SIZE, run_before=run_before)


def chunks(text: str, size: int = 7) -> list[str]:
    """``text`` in small pieces, as a provider streams it."""
    return [text[i : i + size] for i in range(0, len(text), size)]
