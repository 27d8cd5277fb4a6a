"""Importing conversations: every format, branches kept, once only, nothing lost quietly."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit import import_samples as samples
from tuichat.errors import UsageError
from tuichat.export import conversation_to_dict, to_json
from tuichat.importers import ImportClock, Summary, import_paths
from tuichat.store import Store


@pytest.fixture
def clock() -> ImportClock:
    return ImportClock(lambda: samples.T0 + 10_000)


@pytest.fixture
def target(tmp_path: Path, clock: ImportClock) -> Iterator[Store]:
    with Store(tmp_path / "imported.db", clock=clock) as store:
        yield store


@pytest.fixture
def importing(target: Store, clock: ImportClock):
    reports: list[str] = []

    def run(*paths: Path, fmt: str = "auto", dry_run: bool = False) -> Summary:
        return import_paths(
            target, clock, list(paths), fmt=fmt, dry_run=dry_run, report=reports.append
        )

    run.reports = reports  # type: ignore[attr-defined]
    return run


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def only_conversation(store: Store):
    (conversation,) = store.list_conversations()
    return conversation


def test_a_chatgpt_edit_and_a_regeneration_become_branches(tmp_path, importing, target) -> None:
    summary = importing(write_json(tmp_path / "conversations.json", [samples.chatgpt_with_edits()]))

    assert summary.line() == (
        "imported 1 conversation (7 messages), skipped 0 already imported, 0 failed"
    )
    conversation = only_conversation(target)
    assert conversation.title == "Arithmetic" and conversation.model == "gpt-4o"
    # The branch on show ends at current_node (a3), not at the newest reply (a3b).
    shown = target.messages(conversation.id)
    assert [m.content for m in shown] == [
        "What is 2+2? Use python.",
        "It is 4.",
        "And times 5?",
        "20.",
    ]
    edited = shown[2]
    assert [m.content for m in target.alternatives(edited.id)] == ["And times 3?", "And times 5?"]
    assert [m.content for m in target.children(edited.id)] == ["20.", "Twenty."]
    assert [m.content for m in target.children(shown[1].id)] == ["And times 3?", "And times 5?"]


def test_chatgpt_system_hidden_and_tool_messages_are_left_out(tmp_path, importing, target) -> None:
    importing(write_json(tmp_path / "conversations.json", [samples.chatgpt_with_edits()]))

    stored = target.all_messages(only_conversation(target).id)
    assert {m.role for m in stored} == {"user", "assistant"}
    assert "print(2+2)" not in [m.content for m in stored]
    # The reply after the tool round follows the prompt the tool round answered.
    prompt, reply = stored[0], stored[1]
    assert reply.parent_id == prompt.id and reply.model == "gpt-4o"


def test_imported_messages_keep_their_own_times(tmp_path, importing, target) -> None:
    importing(write_json(tmp_path / "conversations.json", [samples.chatgpt_with_edits()]))

    conversation = only_conversation(target)
    assert conversation.created_at == samples.T0
    assert conversation.updated_at == samples.T0 + 9
    assert target.messages(conversation.id)[0].created_at == samples.T0 + 1


def test_a_malformed_conversation_is_reported_by_name_and_the_rest_imported(
    tmp_path, importing, target
) -> None:
    broken = samples.chatgpt_linear("bad-1", "Broken one")
    broken["mapping"] = None
    export = [samples.chatgpt_linear("ok-1", "Fine"), broken, "not an object"]

    summary = importing(write_json(tmp_path / "conversations.json", export))

    assert (summary.conversations, summary.failed) == (1, 2)
    where = tmp_path / "conversations.json"
    assert importing.reports == [
        f"{where}: Broken one: no messages ('mapping' is missing or empty)",
        f"{where}: conversation #3: not a JSON object",
    ]
    assert only_conversation(target).title == "Fine"


def test_a_file_cut_short_keeps_the_conversations_before_the_cut(tmp_path, importing) -> None:
    text = json.dumps([samples.chatgpt_linear("ok-1", "Fine"), samples.chatgpt_linear("x", "X")])
    path = tmp_path / "conversations.json"
    path.write_text(text[: len(text) - 40], encoding="utf-8")

    summary = importing(path, fmt="chatgpt")

    assert (summary.conversations, summary.failed) == (1, 1)
    assert "after 1 conversations" in importing.reports[0]


def test_importing_the_same_export_twice_adds_nothing(tmp_path, importing, target) -> None:
    path = write_json(
        tmp_path / "conversations.json",
        [samples.chatgpt_with_edits(), samples.chatgpt_linear("ok-1", "Fine")],
    )
    importing(path)

    again = importing(path)

    assert again.line() == (
        "imported 0 conversations (0 messages), skipped 2 already imported, 0 failed"
    )
    assert target.count_conversations() == 2


def test_a_conversation_deleted_since_is_imported_again(tmp_path, importing, target) -> None:
    path = write_json(tmp_path / "conversations.json", [samples.chatgpt_linear("ok-1", "Fine")])
    importing(path)
    target.delete_conversation(only_conversation(target).id)

    assert importing(path).conversations == 1


def test_an_import_stopped_halfway_is_redone_without_a_duplicate(
    tmp_path, importing, target
) -> None:
    path = write_json(tmp_path / "conversations.json", [samples.chatgpt_linear("ok-1", "Fine")])
    half = target.create_conversation(title="Fine")
    target.add_message(half.id, "user", "only the first message")
    target.set_setting("import:chatgpt:ok-1", {"id": half.id, "done": False})

    assert importing(path).conversations == 1
    conversation = only_conversation(target)
    assert len(target.messages(conversation.id)) == 2


def test_a_dry_run_counts_and_writes_nothing(tmp_path, importing, target) -> None:
    path = write_json(tmp_path / "conversations.json", [samples.chatgpt_with_edits()])

    summary = importing(path, dry_run=True)

    assert summary.line().startswith("would import 1 conversation (7 messages)")
    assert target.count_conversations() == 0


def test_imported_text_is_searchable_at_once(tmp_path, importing, target) -> None:
    importing(write_json(tmp_path / "conversations.json", [samples.chatgpt_with_edits()]))

    hits = target.search("twenty")

    assert [hit.snippet for hit in hits] == ["«Twenty»."]


def test_hostile_text_is_stored_exactly_as_exported(tmp_path, importing, target) -> None:
    hostile = "\x1b]52;c;QQ==\x07 rm -rf ~ \x1b[2J"
    export = samples.chatgpt_linear("evil", hostile)
    importing(write_json(tmp_path / "conversations.json", [export]))

    conversation = only_conversation(target)
    assert conversation.title == hostile
    assert target.messages(conversation.id)[0].content == f"{hostile} message 0"


def test_the_chatgpt_zip_is_read_without_unpacking(tmp_path, importing, target) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("chat.html", "<html></html>")
        zipped.writestr("conversations.json", json.dumps([samples.chatgpt_with_edits()]))

    assert importing(archive).conversations == 1
    assert only_conversation(target).title == "Arithmetic"


def test_a_claude_export_keeps_text_and_thinking(tmp_path, importing, target) -> None:
    importing(write_json(tmp_path / "conversations.json", [samples.claude_conversation()]))

    conversation = only_conversation(target)
    assert conversation.title == "Haiku about tea"
    prompt, reply, thanks = target.messages(conversation.id)
    assert (prompt.role, prompt.content) == ("user", "Write a haiku about tea.")
    assert (reply.content, reply.reasoning) == ("Steam curls from the cup", "Five, seven, five.")
    assert thanks.content == "Thanks!"
    assert conversation.created_at == 1714557600.0


def test_an_llm_database_gives_prompts_replies_and_the_system_prompt(
    tmp_path, importing, target
) -> None:
    importing(samples.llm_database(tmp_path / "logs.db"))

    conversation = only_conversation(target)
    assert (conversation.title, conversation.model) == ("Capital cities", "gpt-4o-mini")
    assert conversation.system_prompt == "Answer in one word."
    shown = target.messages(conversation.id)
    assert [(m.role, m.content) for m in shown] == [
        ("user", "Capital of France?"),
        ("assistant", "Paris"),
        ("user", "And of Italy?"),
        ("assistant", "Rome"),
    ]


def test_an_elia_database(tmp_path, importing, target) -> None:
    importing(samples.elia_database(tmp_path / "elia.sqlite"))

    conversation = only_conversation(target)
    assert conversation.title == "Rust lifetimes"
    assert conversation.system_prompt == "You are a Rust expert."
    assert [m.content for m in target.messages(conversation.id)] == [
        "What is a lifetime?",
        "A scope for a borrow.",
    ]


def test_an_oterm_database(tmp_path, importing, target) -> None:
    importing(samples.oterm_database(tmp_path / "store.db"))

    conversation = only_conversation(target)
    assert (conversation.title, conversation.model) == ("Llama talk", "llama3.2")
    assert [(m.role, m.content) for m in target.messages(conversation.id)] == [
        ("user", "Hello llama"),
        ("assistant", "Hello human"),
    ]


def test_the_other_programs_databases_are_left_unchanged(tmp_path, importing) -> None:
    database = samples.oterm_database(tmp_path / "store.db")
    before = database.read_bytes()

    importing(database)

    assert database.read_bytes() == before


def test_tuichat_export_then_import_gives_the_same_conversations(
    tmp_path, importing, target
) -> None:
    times = iter(samples.T0 + step for step in range(100))
    with Store(tmp_path / "original.db", clock=lambda: next(times)) as original:
        first = original.create_conversation(
            title="Regex help",
            provider="openai",
            model="gpt-4o-mini",
            system_prompt="be brief",
            params={"temperature": 0.2},
        )
        original.add_message(first.id, "user", "How do I match digits?")
        reply = original.add_message(
            first.id,
            "assistant",
            "Use \\d+.",
            provider="openai",
            model="gpt-4o-mini",
            reasoning="Easy one.",
        )
        original.update_message(
            reply.id,
            status="length",
            finish_reason="length",
            input_tokens=9,
            output_tokens=4,
            ttft_ms=120.0,
            duration_ms=900.0,
        )
        second = original.create_conversation(title="Failed one")
        original.add_message(second.id, "user", "Hi")
        failed = original.add_message(second.id, "assistant", "", status="error")
        original.update_message(failed.id, error="The provider answered 500.")
        items = [
            (original.get_conversation(c.id), original.messages(c.id))
            for c in original.list_conversations()
        ]
    export = tmp_path / "export.json"
    export.write_text(to_json(items, single=False), encoding="utf-8")

    importing(export)

    def comparable(conversation, messages) -> dict[str, Any]:
        data = conversation_to_dict(conversation, messages)
        del data["id"]
        for message in data["messages"]:
            del message["id"], message["position"]
        return data

    imported = [(c, target.messages(c.id)) for c in target.list_conversations()]
    assert [comparable(*pair) for pair in imported] == [comparable(*pair) for pair in items]


def test_a_file_in_no_known_format_is_a_usage_error(tmp_path, importing) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes", encoding="utf-8")

    with pytest.raises(UsageError, match="no format tuichat imports"):
        importing(path)


def test_a_missing_file_is_a_usage_error(tmp_path, importing) -> None:
    with pytest.raises(UsageError, match="Cannot read"):
        importing(tmp_path / "nowhere.json")


def test_a_format_that_does_not_fit_the_file_is_a_usage_error(tmp_path, importing) -> None:
    with pytest.raises(UsageError, match="not a SQLite database"):
        importing(write_json(tmp_path / "c.json", []), fmt="elia")


def test_images_in_a_chatgpt_message_are_left_out_and_its_text_kept(
    tmp_path, importing, target
) -> None:
    export = samples.chatgpt_linear("pic", "Picture")
    first = export["mapping"]["m0"]["message"]
    first["content"] = {
        "content_type": "multimodal_text",
        "parts": [
            {"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"},
            "What is in this picture?",
        ],
    }
    importing(write_json(tmp_path / "conversations.json", [export]))

    shown = target.messages(only_conversation(target).id)
    assert shown[0].content == "What is in this picture?"


def test_a_tuichat_export_with_values_of_the_wrong_type_keeps_only_the_right_ones(
    tmp_path, importing, target
) -> None:
    export = {
        "id": 7,
        "title": "Odd",
        "messages": [
            {"role": "user", "content": "hi", "status": "complete"},
            {
                "role": "assistant",
                "content": "hello",
                "status": "bogus",
                "ttft_ms": "fast",
                "duration_ms": 12,
                "usage": {"input_tokens": "9", "output_tokens": 3},
            },
        ],
    }
    importing(write_json(tmp_path / "one.json", export))

    reply = target.messages(only_conversation(target).id)[1]
    assert (reply.status, reply.ttft_ms, reply.duration_ms) == ("complete", None, 12.0)
    assert (reply.input_tokens, reply.output_tokens) == (None, 3)
