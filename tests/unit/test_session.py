"""The conversation engine, without Textual: who answers, with which options, and what is sent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import pytest
import tuichat_openai

from tests.fakes import FakeProvider, Script, failing
from tuichat import catalog
from tuichat.catalog import ProviderModels
from tuichat.errors import MissingKey, ServerError, UsageError
from tuichat.protocol import ModelInfo
from tuichat.runtime import Runtime
from tuichat.session import Overrides, Session

TWO_FAKES = {"providers": {"other": {"plugin": "fake"}}, "temperature": 0.7, "max_tokens": 500}


@pytest.fixture
def session(build_runtime: Callable[..., Runtime]) -> Session:
    runtime = build_runtime({**TWO_FAKES, "system_prompt": "From the config."}, fake=True)
    return Session(runtime)


def test_options_come_from_the_overrides_then_the_conversation_then_the_config(
    session: Session,
) -> None:
    provider, model = session.resolve("fake", None)
    stored = session.store.create_conversation(
        provider="fake", system_prompt="Its own.", params={"temperature": 0.2}
    )
    from_config = session.options(provider, model)
    from_conversation = session.options(provider, model, stored)
    overridden = session.options(provider, model, stored, Overrides(temperature=0.0, system=""))

    assert (from_config.system, from_config.temperature, from_config.max_tokens) == (
        "From the config.",
        0.7,
        500,
    )
    assert (from_conversation.system, from_conversation.temperature) == ("Its own.", 0.2)
    assert from_conversation.max_tokens == 500
    # 0 is a temperature, not "unset"; "" sends no system prompt at all.
    assert (overridden.system, overridden.temperature) == (None, 0.0)


def test_a_new_conversation_keeps_the_system_prompt_it_started_with(session: Session) -> None:
    provider, model = session.resolve("fake", None)
    started = session.start_conversation(provider, model, Overrides(max_tokens=42))
    assert (started.provider, started.model) == ("fake", "fake-model")
    assert started.system_prompt == "From the config."
    assert started.params == {"max_tokens": 42}


def test_a_stored_conversation_stays_with_its_provider_unless_another_is_named(
    session: Session,
) -> None:
    stored = session.store.create_conversation(provider="other", model="m-1")
    assert _named(session.resolve(None, None, conversation=stored)) == ("other", "m-1")
    assert _named(session.resolve(None, "m-2", conversation=stored)) == ("other", "m-2")
    assert _named(session.resolve(None, "fake/m-3", conversation=stored)) == ("fake", "m-3")
    assert _named(session.resolve("fake", None, conversation=stored)) == ("fake", "fake-model")


def test_a_conversation_whose_provider_is_gone_is_not_sent_elsewhere(session: Session) -> None:
    stored = session.store.create_conversation(provider="removed", model="m")
    with pytest.raises(UsageError, match="'removed', which is not configured any more"):
        session.resolve(None, None, conversation=stored)


def test_an_unknown_provider_prefix_is_refused_naming_the_providers(session: Session) -> None:
    with pytest.raises(UsageError, match="Unknown provider 'antropic'") as refused:
        session.resolve(None, "antropic/claude-sonnet-4-6")
    assert "demo, fake, other" in str(refused.value)
    with pytest.raises(UsageError, match="No model after 'fake'"):
        session.resolve(None, "fake/")


def test_a_slashed_model_id_of_a_conversations_own_provider_stays_there(
    session: Session,
) -> None:
    stored = session.store.create_conversation(provider="other", model="m-1")
    resolved = session.resolve(None, "meta-llama/llama-3", conversation=stored)
    assert _named(resolved) == ("other", "meta-llama/llama-3")


def test_the_configured_model_may_hold_a_slash_for_the_configured_provider(
    build_runtime: Callable[..., Runtime],
) -> None:
    runtime = build_runtime({**TWO_FAKES, "provider": "other", "model": "org/model-7"}, fake=True)
    assert _named(Session(runtime).resolve(None, None)) == ("other", "org/model-7")


def test_a_model_id_holding_a_slash_is_given_with_its_provider(session: Session) -> None:
    assert _named(session.resolve("other", "meta-llama/llama-3")) == ("other", "meta-llama/llama-3")
    assert _named(session.resolve(None, "other/meta-llama/llama-3")) == (
        "other",
        "meta-llama/llama-3",
    )


def test_the_context_window_comes_from_the_cached_model_lists(session: Session) -> None:
    catalog.save_cache(
        session.store,
        [ProviderModels("fake", (ModelInfo(id="fake-model", provider="fake", context_window=99),))],
    )
    provider, model = session.resolve("fake", None)
    assert session.options(provider, model).context_window == 99
    assert session.options(*session.resolve("other", None)).context_window is None


def test_a_provider_without_its_key_is_refused_with_where_to_set_it(
    build_runtime: Callable[..., Runtime],
) -> None:
    session = Session(build_runtime(None, plugins=(tuichat_openai,)))
    provider, model = session.resolve("openai", None)
    with pytest.raises(MissingKey, match="set OPENAI_API_KEY") as refused:
        session.send(session.start_conversation(provider, model), "hi", provider, model)
    assert refused.value.exit_code == 2
    assert session.store.messages(1) == []  # nothing saved for a turn that cannot go out


def test_a_comparison_with_a_keyless_provider_saves_nothing(
    build_runtime: Callable[..., Runtime],
) -> None:
    session = Session(build_runtime(None, fake=True, plugins=(tuichat_openai,)))
    with pytest.raises(MissingKey, match="remove that model from the comparison"):
        session.contenders([("fake", "a"), ("openai", "gpt-x")])


def test_send_regenerate_and_edit_use_the_same_options(session: Session) -> None:
    provider, model = session.resolve("fake", None)
    assert isinstance(provider, FakeProvider)
    stored = session.start_conversation(provider, model, Overrides(temperature=0.1))
    sent = session.send(stored, "q", provider, model)
    sent.abandon()
    again = session.regenerate(sent.assistant_message, provider, model)
    edited = session.edit(sent.user_message, "q2", provider, model)  # type: ignore[arg-type]
    requests = [sent.request, again.request, edited.request]
    assert {(r.system, r.temperature, r.max_tokens) for r in requests} == {
        ("From the config.", 0.1, 500)
    }


def _named(resolved: tuple[object, str]) -> tuple[str, str]:
    provider, model = resolved
    return provider.instance_name, model  # type: ignore[attr-defined]


async def test_a_prompt_whose_compared_replies_all_failed_is_sent_once_when_tried_again(
    session: Session,
) -> None:
    fake = session.runtime.provider("fake")
    other = session.runtime.provider("other")
    assert isinstance(fake, FakeProvider) and isinstance(other, FakeProvider)
    fake.queue(failing(ServerError("fake failed.", provider="fake")), Script(["ok"]))
    other.queue(Script(block=asyncio.Event()))
    provider, model = session.resolve("fake", None)
    conversation = session.start_conversation(provider, model)
    comparison = session.compare(
        conversation, "which?", session.contenders([("fake", "a"), ("other", "b")])
    )
    running = asyncio.create_task(comparison.run())
    await other.waiting.wait()
    running.cancel()  # the second column is stopped before any text
    with contextlib.suppress(asyncio.CancelledError):
        await running

    retried = session.send(session.conversation(conversation.id), "which?", provider, model)
    assert [(m.role, m.content) for m in retried.request.messages] == [("user", "which?")]
