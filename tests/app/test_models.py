"""Models and parameters: the fuzzy picker, switching mid-conversation, the cached lists,
per-conversation options and presets, and the context-window notice."""

from __future__ import annotations

from typing import ClassVar

from tests.app.support import (
    SIZE,
    chat_screen,
    fake,
    replies,
    send,
    settle_reply,
    toasts,
    until,
    visible_text,
)
from tests.fakes import FakeProvider, Script
from tuichat import catalog
from tuichat.app.screens.models import ModelPickerScreen
from tuichat.app.screens.options import OptionsScreen
from tuichat.errors import NetworkError
from tuichat.hookspecs import hookimpl
from tuichat.provider import ChatRequest, LeftOut, ModelInfo
from tuichat.runtime import Runtime


async def wait_for_models(pilot) -> None:
    """Let the background model fetches finish."""
    for worker in list(pilot.app.workers):
        if worker.group == "models":
            await worker.wait()
    await pilot.pause()


async def open_picker(pilot) -> ModelPickerScreen:
    await pilot.press("ctrl+l")
    await until(pilot, lambda: isinstance(pilot.app.screen, ModelPickerScreen), "the picker")
    picker = pilot.app.screen
    assert isinstance(picker, ModelPickerScreen)
    return picker


async def test_the_picker_lists_every_provider_and_filters_fuzzily(make_app) -> None:
    app = make_app(provider="fake")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_models(pilot)
        picker = await open_picker(pilot)
        assert set(picker.choices) == {("demo", "demo"), ("demo", "echo"), ("fake", "fake-model")}
        assert "● fake/fake-model" in visible_text(pilot)
        await pilot.press(*"dmech")  # fuzzy: d(e)m(o)/ech(o)
        await until(pilot, lambda: picker.choices[:1] == [("demo", "echo")], "the filter")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is chat_screen(pilot), "the picker to close")
        screen = chat_screen(pilot)
        assert (screen.provider.instance_name, screen.model) == ("demo", "echo")
        assert "demo · echo" in visible_text(pilot)


async def test_switching_model_mid_conversation_records_who_wrote_what(make_app) -> None:
    app = make_app(Script(deltas=["from the fake"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "first")
        await settle_reply(pilot)
        await wait_for_models(pilot)
        picker = await open_picker(pilot)
        await pilot.press(*"demo/echo", "enter")
        await until(pilot, lambda: app.screen is screen, "the picker to close")
        assert picker.choices[0] == ("demo", "echo")
        await send(pilot, "second")
        await settle_reply(pilot)
        store = app.runtime.store
        conversation = store.get_conversation(screen.conversation_id)
        assert (conversation.provider, conversation.model) == ("demo", "echo")
        written = [(m.provider, m.model, m.content) for m in store.messages(conversation.id)]
        assert written[1] == ("fake", "fake-model", "from the fake")
        assert written[3] == ("demo", "echo", "second")
        metas = [str(r.query_one(".reply-meta").render()) for r in replies(pilot)]
        assert metas[0].startswith("fake · fake-model") and metas[1].startswith("demo · echo")


async def test_opening_a_conversation_returns_to_its_model(make_app, build_runtime) -> None:
    runtime = build_runtime(fake=True)
    old = runtime.store.create_conversation(title="echoes", provider="demo", model="echo")
    app = make_app(runtime=runtime, provider="fake")
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        assert screen.model == "fake-model"
        await screen.open_conversation(old.id)
        assert (screen.provider.instance_name, screen.model) == ("demo", "echo")


class CountingFake(FakeProvider):
    """A fake that counts its models requests and can fail them."""

    name: ClassVar[str] = "counting"
    calls: ClassVar[int] = 0
    fail: ClassVar[bool] = False

    async def list_models(self) -> list[ModelInfo]:
        type(self).calls += 1
        if type(self).fail:
            raise NetworkError("counting is unreachable (connection refused).", provider="x")
        return [ModelInfo(id="alpha", provider=self.instance_name, context_window=8000)]


class CountingPlugin:
    @hookimpl
    def register_providers(self, register) -> None:
        register(CountingFake)


async def test_model_lists_are_cached_and_refreshed_on_request(make_app, build_runtime) -> None:
    CountingFake.calls, CountingFake.fail = 0, False
    app = make_app(runtime=build_runtime(fake=True, plugins=(CountingPlugin(),)))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_models(pilot)
        assert CountingFake.calls == 1
        cached = catalog.load_cache(app.runtime.store)
        assert [m.id for m in cached["counting"].models] == ["alpha"]

    # A restart shows the cached lists without asking again.
    again = make_app(runtime=build_runtime(fake=True, plugins=(CountingPlugin(),)))
    async with again.run_test(size=SIZE) as pilot:
        await wait_for_models(pilot)
        assert CountingFake.calls == 1
        picker = await open_picker(pilot)
        assert ("counting", "alpha") in picker.choices
        assert "8k ctx" in visible_text(pilot)
        # F5 asks every provider again; a failure keeps the old list and says why.
        CountingFake.fail = True
        await pilot.press("f5")
        await wait_for_models(pilot)
        assert CountingFake.calls == 2
        assert ("counting", "alpha") in picker.choices
        assert "counting is unreachable" in visible_text(pilot)


async def test_options_set_the_system_prompt_and_parameters(make_app) -> None:
    app = make_app(Script(deltas=["ok"]), Script(deltas=["ok again"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        # Before the first prompt: the options wait for the conversation to exist.
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, OptionsScreen), "the options")
        app.screen.query_one("#options-system").load_text("Be terse.")
        app.screen.query_one("#options-temperature").value = "0.3"
        app.screen.query_one("#options-max-tokens").value = "50"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen, "the options to close")
        await send(pilot, "hello")
        await settle_reply(pilot)
        request = fake(app.runtime).requests[0]
        assert (request.system, request.temperature, request.max_tokens) == ("Be terse.", 0.3, 50)
        conversation = app.runtime.store.get_conversation(screen.conversation_id)
        assert conversation.system_prompt == "Be terse."
        assert conversation.params == {"max_tokens": 50, "temperature": 0.3}

        # A bad number is refused with a sentence; the dialog stays.
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, OptionsScreen), "the options")
        app.screen.query_one("#options-temperature").value = "7"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, OptionsScreen)
        assert "from 0 to 2" in visible_text(pilot)
        app.screen.query_one("#options-temperature").value = ""
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen, "the options to close")
        await send(pilot, "again")
        await settle_reply(pilot)
        assert fake(app.runtime).requests[1].temperature is None


async def test_a_preset_sets_model_prompt_and_parameters(make_app) -> None:
    settings = {
        "providers": {"demo": {"instant": True}},
        "presets": {
            "echo-terse": {"model": "demo/echo", "system_prompt": "Repeat.", "temperature": 0.1}
        },
    }
    app = make_app(settings=settings, provider="fake")
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, OptionsScreen), "the options")
        app.screen.query_one("#options-preset").value = "echo-terse"
        await pilot.pause()
        assert app.screen.query_one("#options-system").text == "Repeat."
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen, "the options to close")
        assert (screen.provider.instance_name, screen.model) == ("demo", "echo")
        await send(pilot, "say this")
        await settle_reply(pilot)
        conversation = app.runtime.store.get_conversation(screen.conversation_id)
        assert conversation.params == {"preset": "echo-terse", "temperature": 0.1}
        assert conversation.system_prompt == "Repeat."
        assert replies(pilot)[0].text == "say this"


class TinyWindow(FakeProvider):
    """A fake whose model has a tiny context window."""

    name: ClassVar[str] = "tiny"

    async def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(id="fake-model", provider=self.instance_name, context_window=40)]


class TinyPlugin:
    @hookimpl
    def register_providers(self, register) -> None:
        register(TinyWindow)


async def test_older_turns_left_out_are_announced(make_app, build_runtime) -> None:
    runtime: Runtime = build_runtime(fake=True, plugins=(TinyPlugin(),))
    store = runtime.store
    conversation = store.create_conversation(title="long", provider="tiny", model="fake-model")
    for n in range(6):
        store.add_message(conversation.id, "user", f"question {n} " + "word " * 10)
        store.add_message(conversation.id, "assistant", f"answer {n} " + "word " * 10)
    # Trimmed without asking (with "ask", a dialog would offer the choice first).
    runtime.settings.context.when_full = "trim"
    app = make_app(runtime=runtime, provider="tiny", settings={"system_prompt": "Rules."})
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await wait_for_models(pilot)
        await screen.open_conversation(conversation.id)
        await send(pilot, "last question")
        await settle_reply(pilot)
        provider = runtime.provider("tiny")
        assert isinstance(provider, FakeProvider)
        [request] = provider.requests
        assert request.messages[-1].content == "last question"
        assert len(request.messages) < 13
        last = store.messages(conversation.id)[-1]
        omitted = last.meta["omitted"]
        assert omitted == 13 - len(request.messages)
        notice = f"{omitted} earlier messages left out to fit the context window"
        assert notice in str(replies(pilot)[-1].query_one(".reply-meta").render())
        # Kept with the reply: reopened later, it still says so.
        await screen.open_conversation(None)
        await screen.open_conversation(conversation.id)
        assert notice in str(replies(pilot)[-1].query_one(".reply-meta").render())


async def test_the_screen_takes_the_settings_and_plugins_in_once(make_app, monkeypatch) -> None:
    """(Twice would start a second round of model-list requests.)"""
    from tuichat.app.screens.chat import ChatScreen

    calls: list[int] = []
    real = ChatScreen.runtime_loaded

    async def counted(self: ChatScreen) -> None:
        calls.append(1)
        await real(self)

    monkeypatch.setattr(ChatScreen, "runtime_loaded", counted)
    app = make_app(provider="fake")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: not app.workers, "the start to finish")
        await wait_for_models(pilot)
    assert len(calls) == 1


async def test_a_setting_the_provider_does_not_send_is_said_under_the_reply(
    make_app, monkeypatch
) -> None:
    def refuses_temperature(self: FakeProvider, request: ChatRequest) -> list[LeftOut]:
        reason = "fake-model is a reasoning model and takes none"
        return [LeftOut("temperature", reason)] if request.temperature is not None else []

    monkeypatch.setattr(FakeProvider, "left_out", refuses_temperature)
    app = make_app(Script(["Done."]), settings={"temperature": 0.4})
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await send(pilot, "hello")
        await settle_reply(pilot)
        notice = "temperature not sent: fake-model is a reasoning model and takes none"
        assert notice in str(replies(pilot)[-1].query_one(".reply-meta").render())
        # Kept with the reply: reopened later, it still says so.
        conversation = screen.conversation_id
        await screen.open_conversation(None)
        await screen.open_conversation(conversation)
        assert notice in str(replies(pilot)[-1].query_one(".reply-meta").render())


async def test_a_model_the_server_does_not_list_can_be_typed_and_used(make_app) -> None:
    app = make_app(provider="fake")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_models(pilot)
        picker = await open_picker(pilot)
        await pilot.press(*"fake/gpt-5-custom")
        await until(pilot, lambda: ("fake", "gpt-5-custom") in picker.choices, "the typed row")
        assert "No model matches" not in visible_text(pilot)
        assert "not listed: use as typed" in visible_text(pilot)
        await pilot.press("enter")
        screen = chat_screen(pilot)
        await until(pilot, lambda: app.screen is screen, "the picker to close")
        assert (screen.provider.instance_name, screen.model) == ("fake", "gpt-5-custom")
        assert any("does not list 'gpt-5-custom'" in toast for toast in toasts(pilot))


async def test_a_provider_that_is_down_can_still_be_picked_by_name(make_app, build_runtime) -> None:
    CountingFake.calls, CountingFake.fail = 0, True
    runtime = build_runtime(fake=True, plugins=(CountingPlugin(),))
    app = make_app(runtime=runtime, provider="fake")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_models(pilot)
        picker = await open_picker(pilot)
        assert not any(provider == "counting" for provider, _ in picker.choices)
        await pilot.press(*"counting/alpha", "enter")
        screen = chat_screen(pilot)
        await until(pilot, lambda: app.screen is screen, "the picker to close")
        assert (screen.provider.instance_name, screen.model) == ("counting", "alpha")


def test_context_sizes_read_rounded() -> None:
    from tuichat.app.screens.models import context_label

    assert context_label(1_048_576) == "1M ctx"  # Gemini's
    assert context_label(2_097_152) == "2.1M ctx"
    assert context_label(1_500_000) == "1.5M ctx"
    assert context_label(128_000) == "128k ctx"
    assert context_label(None) == ""


async def test_a_long_error_in_the_picker_wraps_instead_of_being_cut(make_app) -> None:
    app = make_app(provider="fake")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_models(pilot)
        picker = await open_picker(pilot)
        sentence = (
            "ollama could not be reached at http://127.0.0.1:11434/v1 (connection refused); "
            "check that the server runs and that base_url is right."
        )
        picker.show_entries([catalog.ProviderModels("ollama", error=sentence)], [])
        await pilot.pause()
        shown = " ".join(visible_text(pilot).replace("█", " ").split())
        assert sentence in shown


async def test_the_conversation_details_show_its_id_for_the_command_line(make_app) -> None:
    app = make_app(Script(deltas=["ok"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, OptionsScreen), "the options")
        assert "Id: none yet" in visible_text(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the options to close")
        await send(pilot, "hello")
        await settle_reply(pilot)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, OptionsScreen), "the options")
        ident = screen.conversation_id
        assert f"Id: {ident} (tuichat ask --conversation {ident}, tuichat export {ident})" in (
            visible_text(pilot)
        )
