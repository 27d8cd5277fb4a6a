"""SVG snapshots of the app's visual states, each at 120x40 and at 80x24.

Deterministic by construction: a fixed terminal size, the settings of
``tests/sample-configs/snapshots.toml`` (no cursor blink, fixed theme, instant demo, no
background titles), no clock anywhere on screen, fixed clocks for the store, the sidebar's
"now" and the turn timings, local time in UTC, and each ``run_before`` waits for the exact
state it pictures instead of sleeping.

Update the pictures with ``pytest tests/snapshots --snapshot-update`` and look at them.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.app.support import chat_screen, fake, replies, send, settle_reply, until
from tests.fakes import Script, failing, frozen
from tuichat.app.app import TuichatApp
from tuichat.app.screens.compare import CompareScreen
from tuichat.app.screens.help import HelpScreen
from tuichat.app.screens.models import ModelPickerScreen
from tuichat.app.screens.options import OptionsScreen
from tuichat.app.screens.search import SearchScreen
from tuichat.app.widgets.prompt import PromptInput
from tuichat.errors import AuthError, StreamInterrupted
from tuichat.provider import Finish, ReasoningDelta, Usage
from tuichat.runtime import Runtime
from tuichat.store import Store

CONFIG = Path(__file__).parent.parent / "sample-configs" / "snapshots.toml"

#: Every state is pictured at both sizes: a roomy terminal and the classic 80x24.
SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]

#: "Now" for the sidebar's date groups: 2023-11-15 12:00 UTC.
NOON = 1_700_049_600.0
DAY = 86_400.0

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


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Calendar days (the sidebar's groups) must not depend on the machine's time zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def no_multiplexer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies stay inside the app."""
    for name in ("TMUX", "STY", "DISPLAY", "WAYLAND_DISPLAY", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def snapshot_settings() -> dict[str, Any]:
    """The snapshot settings file, as data."""
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


@pytest.fixture
def snapshot_runtime(
    build_runtime: Callable[..., Runtime], snapshot_settings: dict[str, Any], tmp_path: Path
) -> Runtime:
    """A runtime on the snapshot settings, the fake provider, and a store on a fixed clock."""
    store = Store(tmp_path / "data" / "tuichat.db", clock=ticking(NOON - 3600, 60.0))
    return build_runtime(snapshot_settings, fake=True, store=store)


def make(runtime: Runtime, **kwargs: Any) -> TuichatApp:
    return TuichatApp(runtime, clock=ticking(), now=lambda: NOON, **kwargs)


async def models_loaded(pilot: Pilot[None]) -> None:
    """Let the background model-list fetches end (they never show, but they must not race)."""
    for worker in list(pilot.app.workers):
        if worker.group == "models":
            await worker.wait()


def seed_sidebar(runtime: Runtime) -> int:
    """Conversations spread over the date groups; returns the one to open ("Trip to Lisbon")."""
    store = runtime.store
    created = {}
    for title in [
        "Recipe ideas",
        "A title far too long to fit in the sidebar, so it ends with an ellipsis",
        "Rust vs Go for a CLI",
        "",
        "Trip to Lisbon",
        "Pinned: project notes",
    ]:
        created[title] = store.create_conversation(title=title, provider="demo", model="demo")
    conn = store._conn  # back-date two of them, as if written days ago
    conn.execute(
        "UPDATE conversations SET updated_at = ? WHERE title = ?",
        (NOON - 3 * DAY, "Rust vs Go for a CLI"),
    )
    conn.execute(
        "UPDATE conversations SET updated_at = ? WHERE title = ?", (NOON - 30 * DAY, "Recipe ideas")
    )
    store.update_conversation(created["Pinned: project notes"].id, pinned=True)
    lisbon = created["Trip to Lisbon"].id
    for prompt, reply in [
        ("Three things to see in Lisbon?", "1. Belém Tower\n2. Alfama\n3. LX Factory"),
        ("And to eat?", "Try **pastéis de nata** and grilled sardines."),
    ]:
        store.add_message(lisbon, "user", prompt)
        store.add_message(lisbon, "assistant", reply, provider="demo", model="demo")
    return lisbon


@pytest.mark.parametrize("size", SIZES)
def test_first_run_with_the_demo_welcome(snap_compare, snapshot_runtime: Runtime, size) -> None:
    """You should see the first-run screen with the offline demo provider.

    At 120x40 an empty "Conversations" sidebar on the left; at 80x24 no sidebar (it
    collapses below 100 columns). The chat log holds the welcome panel (what the demo is,
    how to add a key or a config table, the main keys); the status bar reads "demo · demo"
    next to the yellow "DEMO — offline, no key needed" badge; the empty focused prompt shows
    its placeholder; the footer starts with Send, Newline, Help.
    """

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)

    assert snap_compare(make(snapshot_runtime), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_a_finished_reply_with_a_code_block(snap_compare, snapshot_runtime: Runtime, size) -> None:
    """You should see one finished turn with the fake provider.

    The log shows the prompt, then the reply: a sentence, a highlighted Python code block
    (def greet...), and "Call it as greet("Ada")". Under it the dim meta line reads
    "fake · fake-model · 14 in / 30 out tokens · first token 0.25 s · … tokens/s · complete
    (stop)". The status bar reads "fake · fake-model"; the prompt is empty and focused.
    """
    fake(snapshot_runtime).queue(
        Script(deltas=chunks(CODE_REPLY), usage=Usage(input_tokens=14, output_tokens=30))
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await send(pilot, "Show me a greeting function")
        await settle_reply(pilot)

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_a_reply_frozen_mid_stream(snap_compare, snapshot_runtime: Runtime, size) -> None:
    """You should see a reply while it streams (the provider froze mid-reply).

    A collapsed "Reasoning (thinking…)" line, then the live reply: a "Streaming" heading,
    one paragraph and the first bullet ("tokens arrive one by one"), with the meta line
    "fake · fake-model · streaming…". The status bar says "responding… Esc stops"; the
    prompt stays writable (not greyed), its hint "Next message · Enter sends once the reply
    ends · Esc stops it"; the footer offers "esc Stop".
    """
    fake(snapshot_runtime).queue(
        frozen(
            "## Streaming\n\n",
            "A reply is drawn as it arrives, ",
            "a few times a second.\n\n",
            "- tokens arrive one by one\n",
        )
    )
    # A reasoning delta first: the collapsed "thinking" line shows above the reply.
    fake(snapshot_runtime).scripts[0].deltas = [
        ReasoningDelta("Let me explain how streaming works."),
        *fake(snapshot_runtime).scripts[0].deltas,
    ]

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await send(pilot, "Explain streaming")
        await asyncio.wait_for(fake(snapshot_runtime).waiting.wait(), 10)
        [reply] = replies(pilot)
        await reply.flush()
        await pilot.pause()

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_an_error_shown_inline(snap_compare, snapshot_runtime: Runtime, size) -> None:
    """You should see a failed turn.

    The log shows the prompt "Hello?" and, under it, a reply with a red left bar holding
    the partial text "I was about to" and the error sentence in red: "openai rejected the
    API key (HTTP 401); check OPENAI_API_KEY.", then the meta line ending "failed · F12
    regenerates". The prompt holds "Hello?" again, ready to resend.
    """
    fake(snapshot_runtime).queue(
        failing(AuthError(AUTH_SENTENCE, provider="openai", status=401), "I was about to")
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await send(pilot, "Hello?")
        await settle_reply(pilot)

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_a_reply_cut_by_max_tokens(snap_compare, snapshot_runtime: Runtime, size) -> None:
    """You should see a reply cut by the max tokens limit.

    The reply "The three primary colours are red, yellow and" has a yellow meta line:
    "fake · fake-model · 8 in / 9 out tokens · first token 0.25 s · … tokens/s · stopped
    by max tokens (length) · Ctrl+T continues".
    """
    fake(snapshot_runtime).queue(
        Script(
            deltas=["The three primary colours ", "are red, yellow and"],
            usage=Usage(input_tokens=8, output_tokens=9),
            finish=Finish("length", "max_tokens"),
        )
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await send(pilot, "Name the primary colours")
        await settle_reply(pilot)

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_an_interrupted_reply(snap_compare, snapshot_runtime: Runtime, size) -> None:
    """You should see a reply interrupted by a dropped connection.

    The partial text "Packets travel through" with a red bar, the red sentence "The
    connection dropped mid-reply; the partial reply is kept." and a meta line ending
    "interrupted · Ctrl+T continues · F12 regenerates".
    """
    fake(snapshot_runtime).queue(
        failing(
            StreamInterrupted(
                "The connection dropped mid-reply; the partial reply is kept.", provider="fake"
            ),
            "Packets travel through",
        )
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await send(pilot, "How does the internet work?")
        await settle_reply(pilot)
        chat_screen(pilot).prompt.clear()
        await pilot.pause()

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_the_sidebar_grouped_by_date(snap_compare, snapshot_runtime: Runtime, size) -> None:
    """You should see the sidebar (opened with Ctrl+B at 80x24) and one conversation open.

    Sidebar, top to bottom: "Pinned" then "Pinned: project notes"; "Today" then "Trip to
    Lisbon" (bold: open), "New conversation" (dim italic: untitled), "A title far too long
    …" cut with "…"; "Previous 7 days" then "Rust vs Go for a CLI"; "Older" then "Recipe
    ideas". The log shows Lisbon's two turns, each reply with "demo · demo · complete".
    """
    lisbon = seed_sidebar(snapshot_runtime)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        screen = chat_screen(pilot)
        await screen.open_conversation(lisbon)
        if not screen.sidebar.display:
            await pilot.press("ctrl+b")
        screen.sidebar.option_list.focus()
        await pilot.pause()

    assert snap_compare(make(snapshot_runtime), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_search_results(snap_compare, snapshot_runtime: Runtime, size) -> None:
    """You should see the search dialog over the app with "lisbon" typed.

    Results: "Trip to Lisbon · you" then the snippet "Three things to see in «Lisbon»?" with
    the word in reverse video; the count reads "1 result"; the hint "Enter opens · ↑↓
    choose · Esc closes".
    """
    seed_sidebar(snapshot_runtime)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen), "search")
        screen = pilot.app.screen
        assert isinstance(screen, SearchScreen)
        await pilot.press(*"lisbon")
        await until(pilot, lambda: bool(screen.hits), "results")
        await pilot.pause()

    assert snap_compare(make(snapshot_runtime), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_the_model_picker(snap_compare, snapshot_runtime: Runtime, size) -> None:
    """You should see the model picker filtered by "ech".

    One row: "demo/echo" with the letters e, c, h highlighted and "Echo · 1M ctx"; the hint
    "Enter switches · ↑↓ choose · F5 refresh · Esc closes".
    """

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(pilot.app.screen, ModelPickerScreen), "picker")
        await pilot.press(*"ech")
        await pilot.pause()

    assert snap_compare(make(snapshot_runtime), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_the_help_screen(snap_compare, snapshot_runtime: Runtime, size) -> None:
    """You should see the help: "Anywhere" keys (Enter, Ctrl+J, Tab, Ctrl+P, F1, Ctrl+N...),
    then the conversation list's keys and the chat log's keys, each with a description."""

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "help")
        await pilot.pause()

    assert snap_compare(make(snapshot_runtime), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_the_conversation_options(snap_compare, snapshot_runtime: Runtime, size) -> None:
    """You should see the options dialog: "Model: demo · demo", the preset selector ("Preset
    (none)"), the system prompt box, Temperature and Max tokens fields, and the hint."""
    snapshot_runtime.settings.presets = {}

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(pilot.app.screen, OptionsScreen), "options")
        await pilot.pause()

    assert snap_compare(make(snapshot_runtime), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_a_selected_message_with_an_edited_branch(
    snap_compare, snapshot_runtime: Runtime, size
) -> None:
    """You should see the message cursor on an edited prompt.

    The log (focused) shows "tell me about cats" highlighted with a thick accent bar, the
    dim line "edited prompt: version 2 of 2 · [ ] switch" under it, then its reply. The
    status bar says "prompt 2/2 · [ ] switch"; the footer lists the message keys (c Copy,
    y Copy code, r Regenerate, e Edit).
    """
    store = snapshot_runtime.store
    conversation = store.create_conversation(title="Pets", provider="fake", model="fake-model")
    owls = store.add_message(conversation.id, "user", "tell me about owls")
    store.add_message(conversation.id, "assistant", "Owls hunt at night.", provider="fake")
    cats = store.add_message(
        conversation.id, "user", "tell me about cats", parent_id=owls.parent_id
    )
    store.add_message(
        conversation.id,
        "assistant",
        "Cats sleep most of the day.",
        provider="fake",
        model="fake-model",
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        screen = chat_screen(pilot)
        await screen.open_conversation(conversation.id)
        screen.chat_log.focus()
        await pilot.pause()
        screen.chat_log.select(cats.id)
        await pilot.pause()

    assert snap_compare(make(snapshot_runtime), terminal_size=size, run_before=run_before)


def test_no_color_at_80x24(
    snap_compare, snapshot_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """You should see the finished code reply in shades of grey only (``NO_COLOR`` is set):
    the layout, borders, bold and reverse text still tell the parts apart."""
    monkeypatch.setenv("NO_COLOR", "1")
    fake(snapshot_runtime).queue(
        Script(deltas=chunks(CODE_REPLY), usage=Usage(input_tokens=14, output_tokens=30))
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await send(pilot, "Show me a greeting function")
        await settle_reply(pilot)

    app = make(snapshot_runtime, provider="fake")
    assert app.no_color
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def per_task_clock() -> Callable[[], float]:
    """A :func:`ticking` clock per asyncio task: the columns of a comparison stream at once,
    so one shared ticking clock would give figures that depend on how they interleave."""
    clocks: dict[int, Callable[[], float]] = {}

    def clock() -> float:
        key = id(asyncio.current_task())
        if key not in clocks:
            clocks[key] = ticking()
        return clocks[key]()

    return clock


@pytest.mark.parametrize("size", SIZES)
def test_a_finished_comparison_of_three_models(
    snap_compare,
    build_runtime: Callable[..., Runtime],
    snapshot_settings: dict[str, Any],
    tmp_path: Path,
    size,
) -> None:
    """You should see compare mode after three models answered one prompt.

    The top line reads "You: Name a prime number and say why it is prime". Three bordered
    columns, titled "1 · fake · fake-model", "2 · mini · mini-1" and "3 · broken ·
    fake-model". Columns 1 and 2 hold their Markdown replies (bold, a list) under a dim
    line "first token 0.25 s · N tokens · M tok/s · complete (stop)"; column 3 holds the
    partial text "I think" and, in red, "openai rejected the API key (HTTP 401); check
    OPENAI_API_KEY.", its line ending "failed". The first column is focused (accent
    border). Below: "1/2/3 continue with that reply · Esc back to the chat", and the
    footer lists Back and the pick keys. At 80x24 the columns are narrower and lose their
    padding (and the blank line under the figures); the text wraps inside them.
    """
    settings = {
        **snapshot_settings,
        "providers": {
            **snapshot_settings["providers"],
            "mini": {"plugin": "fake", "default_model": "mini-1"},
            "broken": {"plugin": "fake"},
        },
    }
    store = Store(tmp_path / "data" / "tuichat.db", clock=ticking(NOON - 3600, 60.0))
    runtime = build_runtime(settings, fake=True, store=store)
    fake(runtime).queue(
        Script(
            deltas=chunks("**7** is prime: its only divisors are\n\n- 1\n- 7 itself\n"),
            usage=Usage(input_tokens=12, output_tokens=15),
        )
    )
    mini = runtime.provider("mini")
    mini.queue(  # type: ignore[attr-defined]
        Script(
            deltas=chunks("Take **2**: the only even prime. No number but 1 and 2 divides it."),
            usage=Usage(input_tokens=12, output_tokens=20),
        )
    )
    runtime.provider("broken").queue(  # type: ignore[attr-defined]
        failing(AuthError(AUTH_SENTENCE, provider="openai", status=401), "I think")
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(pilot.app.screen, ModelPickerScreen), "picker")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, CompareScreen), "compare")
        screen = pilot.app.screen
        assert isinstance(screen, CompareScreen)
        screen._add_choice(("mini", "mini-1"))
        screen._add_choice(("broken", "fake-model"))
        box = screen.query_one("#compare-prompt", PromptInput)
        box.insert("Name a prime number and say why it is prime")
        await pilot.press("enter")
        await until(pilot, lambda: screen.phase == "done", "the comparison to end")
        for column in screen.columns:
            if column.reply is not None:
                await column.reply.flush()
        await pilot.pause()

    app = TuichatApp(runtime, provider="fake", clock=per_task_clock(), now=lambda: NOON)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def chunks(text: str, size: int = 7) -> list[str]:
    """``text`` in small pieces, as a provider streams it."""
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        pytest.param(0, "ok", id="normal"),
        pytest.param(1600, "near", id="near"),
        pytest.param(3000, "full", id="over"),
    ],
)
def test_the_context_meter(snap_compare, snapshot_runtime: Runtime, typed: int, level: str) -> None:
    """You should see the context meter at the right end of the status bar.

    After one reply that used 1,000 + 200 tokens of fake-model's 2,000-token window, with
    a prompt of ``typed`` characters in the box: "1.2k/2k (60%)" in the muted colour
    (normal), "~1.6k/2k (80%)" in the warning colour (near), "~1.9k/2k (97%)" in bold red
    (over the 90% share).
    """
    from tuichat.catalog import ProviderModels
    from tuichat.protocol import ModelInfo

    fake(snapshot_runtime).queue(
        Script(deltas=["An answer."], usage=Usage(input_tokens=1000, output_tokens=200))
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await send(pilot, "A question")
        await settle_reply(pilot)
        screen = chat_screen(pilot)
        info = ModelInfo(id="fake-model", provider="fake", context_window=2000)
        screen.catalog = {"fake": ProviderModels("fake", (info,))}
        screen.status.measure_context()
        if typed:
            screen.prompt.insert("x" * typed)
        await pilot.pause()
        meter = screen.query_one("#context-meter")
        assert meter.has_class(f"-{level}")

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_a_folded_summary(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see a summary folded to one line, in italics with a bar on its left:
    "Summary of 2 earlier messages (by fake/fake-model), sent in their place: They
    compared two cities.", then the last prompt and reply as usual."""
    from tuichat import summaries

    store = snapshot_runtime.store
    conversation = store.create_conversation(title="Cities", provider="fake", model="fake-model")
    store.add_message(conversation.id, "user", "Lisbon or Porto?")
    answer = store.add_message(conversation.id, "assistant", "Both are lovely.")
    store.add_message(
        conversation.id,
        "system",
        "They compared two cities.",
        meta=summaries.meta(answer.id, 2, "fake", "fake-model"),
    )
    store.add_message(conversation.id, "user", "Which one for food?")
    store.add_message(conversation.id, "assistant", "Porto, for its francesinha.")

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await chat_screen(pilot).open_conversation(conversation.id)
        await pilot.pause()

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def _tool_reply_meta() -> dict[str, Any]:
    """A reply that called two tools: one ran, one failed."""
    return {
        "rounds": [
            {
                "content": "Let me look.",
                "calls": [
                    {
                        "id": "c1",
                        "name": "read_file",
                        "arguments": '{"path": "notes.txt"}',
                        "tool": "read_file",
                        "server": "files",
                        "status": "ok",
                        "result": "Buy milk.\nCall Ada.",
                        "seconds": 0.04,
                    },
                    {
                        "id": "c2",
                        "name": "search",
                        "arguments": '{"query": "Ada"}',
                        "tool": "search",
                        "server": "web",
                        "status": "error",
                        "result": "The tool 'search' failed: the network is down.",
                        "seconds": 1.5,
                    },
                ],
            }
        ],
        "tail_start": len("Let me look.\n\n"),
    }


def test_a_reply_with_its_tool_calls(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see, above the reply, two one-line tool blocks with a coloured bar:
    "⚙ read_file · files · ok · 0.04 s   (o shows the call)" and, with a red bar,
    "⚙ search · web · failed · 1.50 s · The tool 'search' failed: the network is down.";
    the second one is opened below its line: "arguments:" and the indented JSON
    {"query": "Ada"}, then "result:" and the error. Then the reply: "Let me look." and
    "Your notes say: buy milk, call Ada.\""""
    store = snapshot_runtime.store
    conversation = store.create_conversation(title="Notes", provider="fake", model="fake-model")
    store.add_message(conversation.id, "user", "What is in my notes?")
    store.add_message(
        conversation.id,
        "assistant",
        "Let me look.\n\nYour notes say: buy milk, call Ada.",
        provider="fake",
        model="fake-model",
        meta=_tool_reply_meta(),
    )

    async def run_before(pilot: Pilot[None]) -> None:
        from tuichat.app.widgets.tool_call import ToolCallView

        await pilot.pause()
        await models_loaded(pilot)
        await chat_screen(pilot).open_conversation(conversation.id)
        await pilot.pause()
        blocks = list(chat_screen(pilot).chat_log.query(ToolCallView))
        blocks[1].expanded = True
        await pilot.pause()

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_a_tool_call_waiting_for_approval(
    snap_compare,
    build_runtime: Callable[..., Runtime],
    snapshot_settings: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """You should see the approval dialog with a yellow border over the chat: "Run
    shout?", "The model calls this tool of voice with:", the arguments as indented JSON
    ({"text": "hello"}) on a raised background, and the keys "y run once · a always,
    this conversation · n decline". Behind it, the prompt "Say it loud" and a tool block
    "⚙ shout · voice · waiting for your approval"."""
    from types import SimpleNamespace

    from tests.fakes import FakeProvider
    from tuichat.plugin_api import Tool, hookimpl
    from tuichat.protocol import ToolCall

    monkeypatch.setattr(FakeProvider, "supports_tools", True)
    schema = {"type": "object", "properties": {"text": {"type": "string"}}}

    @hookimpl
    def register_tools(register):  # type: ignore[no-untyped-def]
        register(Tool("shout", "Upper-case a text.", schema, lambda a: a["text"].upper()))

    voice = SimpleNamespace(register_tools=register_tools)
    settings = {**snapshot_settings, "tools": {"plugins": ["voice"]}}
    store = Store(tmp_path / "data" / "tuichat.db", clock=ticking(NOON - 3600, 60.0))
    runtime = build_runtime(settings, fake=True, store=store, plugins=(voice,))
    # (registered under the name the host knows it by)
    runtime.plugin_manager.unregister(voice)
    runtime.plugin_manager.register(voice, name="voice")
    fake(runtime).queue(
        Script(
            deltas=[ToolCall("c1", "shout", '{"text": "hello"}')],
            finish=Finish("tool_calls", "tool_calls"),
        )
    )

    async def run_before(pilot: Pilot[None]) -> None:
        from tuichat.app.screens.approve_tool import ApproveToolScreen

        await pilot.pause()
        await models_loaded(pilot)
        chat = chat_screen(pilot)
        chat.tools.pending = ["voice"]
        await send(pilot, "Say it loud")
        await until(pilot, lambda: isinstance(pilot.app.screen, ApproveToolScreen), "approval")
        await pilot.pause()

    app = make(runtime, provider="fake")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def _picture(width: int, height: int) -> bytes:
    """A PNG of four coloured quarters (orange, navy, navy, teal)."""
    import io

    from PIL import Image

    image = Image.new("RGB", (width, height), "navy")
    image.paste("orange", (0, 0, width // 2, height // 2))
    image.paste("teal", (width // 2, height // 2, width, height))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_attachments_above_the_prompt(
    snap_compare, snapshot_runtime: Runtime, tmp_path: Path
) -> None:
    """You should see, between the status bar and the prompt, a row of two chips:
    "[shot.png · image · 1 KB · 300×200]" and "[notes.md · text · 1 KB]"; the prompt
    holds "What is in this screenshot?"."""
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "shot.png").write_bytes(_picture(300, 200))
    (folder / "notes.md").write_text("# Notes\n")

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        screen = chat_screen(pilot)
        screen.files.launch_dir = folder
        await screen.files.attach(["shot.png", "notes.md"])
        screen.prompt.insert("What is in this screenshot?")
        await pilot.pause()

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def _conversation_with_a_picture(runtime: Runtime) -> int:
    from tuichat.attachments import from_bytes

    store = runtime.store
    conversation = store.create_conversation(title="Picture", provider="fake", model="fake-model")
    files = [from_bytes(_picture(300, 200), "shot.png"), from_bytes(b"# Notes\n", "notes.md")]
    store.add_message(conversation.id, "user", "What is in this screenshot?", attachments=files)
    store.add_message(
        conversation.id,
        "assistant",
        "Four coloured quarters.",
        provider="fake",
        model="fake-model",
    )
    return conversation.id


def test_a_prompt_with_attachments_in_the_log(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see the prompt "What is in this screenshot?" and, under it on the same
    raised background, two dim lines: "+ shot.png · image · 1 KB · 300×200" and
    "+ notes.md · text · 1 KB"; then the reply "Four coloured quarters."."""
    conversation = _conversation_with_a_picture(snapshot_runtime)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await chat_screen(pilot).open_conversation(conversation)
        await pilot.pause()

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_the_image_viewer_in_half_blocks_at_80x24(
    snap_compare, snapshot_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """You should see the image viewer over the whole screen: a first line "shot.png ·
    image · 1 KB · 300×200 · Esc closes", then the picture in half blocks, centred and
    shrunk to fit (69x23 cells): orange top-left, teal bottom-right, navy elsewhere."""
    for name in ("KITTY_WINDOW_ID", "TERM_PROGRAM", "KONSOLE_VERSION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")  # a terminal without graphics
    conversation = _conversation_with_a_picture(snapshot_runtime)

    async def run_before(pilot: Pilot[None]) -> None:
        from tuichat.app.screens.image_viewer import ImageViewerScreen

        await pilot.pause()
        await models_loaded(pilot)
        screen = chat_screen(pilot)
        await screen.open_conversation(conversation)
        await pilot.press("shift+tab", "up", "i")
        await until(pilot, lambda: isinstance(pilot.app.screen, ImageViewerScreen), "viewer")
        await pilot.pause()

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_what_conversations_cost(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see, in the sidebar, "$0.0123" dim after "Priced" (open, bold) and
    "$0.5000+?" after "Partly priced" ("Local model" shows no figure); the status bar
    reads "cost $0.0123" left of the context meter, and each reply's meta line its own
    cost ($0.0100 and $0.0023)."""
    store = snapshot_runtime.store
    partly = store.create_conversation(title="Partly priced", provider="fake", model="fake-model")
    store.add_message(partly.id, "user", "Hi")
    store.add_message(partly.id, "assistant", "Hello.", meta={"cost": 0.5})
    store.add_message(partly.id, "user", "And?")
    store.add_message(partly.id, "assistant", "A local model said this.")
    local = store.create_conversation(title="Local model", provider="fake", model="fake-model")
    store.add_message(local.id, "user", "Hi")
    store.add_message(local.id, "assistant", "Hello from nowhere priced.")
    priced = store.create_conversation(title="Priced", provider="fake", model="fake-model")
    for prompt, reply, cost in [("One?", "One.", 0.01), ("Two?", "Two.", 0.0023)]:
        store.add_message(priced.id, "user", prompt)
        store.add_message(priced.id, "assistant", reply, meta={"cost": cost})

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        screen = chat_screen(pilot)
        await screen.open_conversation(priced.id)
        await pilot.pause()

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_the_offer_when_a_conversation_is_too_long(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see a dialog in the middle: "This conversation is too long", the
    sentence "The next request would use ~… of fake-model's context window. Your prompt
    is kept whatever you choose.", four lines (s summarise…, t trim…, n new
    conversation…, c cancel…) and the hint "s summarise · t trim · n new · c cancel"."""
    from tests.app.test_context import with_window
    from tuichat.app.screens.context_full import ContextFullScreen

    fake(snapshot_runtime).queue(Script(deltas=["a long answer " * 200]))

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await send(pilot, "tell me a lot")
        await settle_reply(pilot)
        with_window(chat_screen(pilot), 600)
        await send(pilot, "and now?")
        await until(pilot, lambda: isinstance(pilot.app.screen, ContextFullScreen), "the offer")
        await pilot.pause()

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_a_summary_being_edited(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see a dialog in the middle: "Edit the summary sent in place of 2 earlier
    messages", a bordered box holding "They compared two cities." with the cursor at its
    end, and the hint "Enter saves · Ctrl+J new line · Esc cancels"."""
    from tuichat import summaries
    from tuichat.app.screens.edit_summary import EditSummaryScreen

    store = snapshot_runtime.store
    conversation = store.create_conversation(title="Cities", provider="fake", model="fake-model")
    store.add_message(conversation.id, "user", "Lisbon or Porto?")
    answer = store.add_message(conversation.id, "assistant", "Both are lovely.")
    store.add_message(
        conversation.id,
        "system",
        "They compared two cities.",
        meta=summaries.meta(answer.id, 2, "fake", "fake-model"),
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        screen = chat_screen(pilot)
        await screen.open_conversation(conversation.id)
        screen.prompt.focus()
        await pilot.press("shift+tab", "e")
        await until(pilot, lambda: isinstance(pilot.app.screen, EditSummaryScreen), "the editor")
        await pilot.pause()

    app = make(snapshot_runtime, provider="fake")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def save_prompts() -> None:
    """Three saved prompts in the library folder beside the test's config."""
    from tuichat import locations

    folder = locations.prompts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "explain.toml").write_text(
        'description = "Explain a topic to someone new to it"\n'
        'prompt = "Explain {{topic}} to {{reader}}:\\n\\n{{input}}"\n'
        "[defaults]\n"
        'reader = "a newcomer"\n',
        encoding="utf-8",
    )
    (folder / "haiku.toml").write_text('prompt = "Write a haiku about the sea."\n')
    (folder / "reviewer.toml").write_text('system = "You review code: bugs first."\n')


def test_the_saved_prompts_picker(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see the "Saved prompts" dialog over the app, its filter empty, listing
    "explain  {topic}, {reader}  Explain a topic to someone new to it" (highlighted),
    "haiku  Write a haiku about the sea." and "reviewer  sets the system prompt  You
    review code: bugs first.", and the hint "Enter picks · ↑↓ move · Esc keeps what you
    typed". The prompt behind holds the "/" typed."""
    from tuichat.app.screens.prompt_picker import PromptPickerScreen

    save_prompts()

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(pilot.app.screen, PromptPickerScreen), "picker")
        await pilot.pause()

    assert snap_compare(make(snapshot_runtime), terminal_size=(80, 24), run_before=run_before)


def test_the_variable_form(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see a dialog "Fill in explain" with two labelled fields: "topic" holding
    "TLS" with the cursor after it, and "reader" holding its default "a newcomer"; under
    them the hint "Tab moves · Enter on the last fills the prompt · Esc cancels"."""
    from tuichat.app.screens.prompt_form import VariableFormScreen

    save_prompts()

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await pilot.press("slash", "e", "x", "p", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, VariableFormScreen), "form")
        await pilot.press(*"TLS")
        await pilot.pause()

    assert snap_compare(make(snapshot_runtime), terminal_size=(80, 24), run_before=run_before)


def test_the_search_of_prompts_sent(snap_compare, snapshot_runtime: Runtime) -> None:
    """You should see the "Prompts sent (newest first)" dialog with "lis" typed: one row,
    "Three things to see in Lisbon?", its matched letters highlighted (the other prompt,
    "And to eat?", does not match); the hint "Enter puts it in the prompt · ↑↓ move · Esc
    closes"."""
    from tuichat.app.screens.recall_search import RecallSearchScreen

    seed_sidebar(snapshot_runtime)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await models_loaded(pilot)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(pilot.app.screen, RecallSearchScreen), "search")
        await pilot.press(*"lis")
        await until(pilot, lambda: len(pilot.app.screen.shown) == 1, "the filter")
        await pilot.pause()

    assert snap_compare(make(snapshot_runtime), terminal_size=(80, 24), run_before=run_before)
