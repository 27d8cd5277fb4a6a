"""Exports: readable Markdown, complete JSON, nothing hostile, no keys."""

from __future__ import annotations

import json

from tuichat.export import to_json, to_markdown
from tuichat.store import Store


def make_conversation(store: Store):
    conversation = store.create_conversation(
        title="Regex help", provider="openai", model="gpt-4o-mini", system_prompt="be brief"
    )
    store.add_message(conversation.id, "user", "How do I match digits?")
    reply = store.add_message(
        conversation.id, "assistant", "", status="streaming", provider="openai", model="gpt-4o-mini"
    )
    store.update_message(
        reply.id,
        content="Use `\\d+`.\x1b]52;c;QQ==\x07",
        status="length",
        finish_reason="length",
        input_tokens=9,
        output_tokens=4,
    )
    conversation = store.get_conversation(conversation.id)
    return conversation, store.messages(conversation.id)


def test_markdown_export_reads_as_a_transcript(store: Store) -> None:
    text = to_markdown([make_conversation(store)])
    assert text.startswith("# Regex help\n")
    assert "## System\n\nbe brief" in text
    assert "## You\n\nHow do I match digits?" in text
    assert "## Assistant (openai/gpt-4o-mini)" in text
    assert "max tokens" in text
    assert "\x1b" not in text and "\x07" not in text


def test_json_export_keeps_every_field(store: Store) -> None:
    data = json.loads(to_json([make_conversation(store)], single=True))
    assert data["title"] == "Regex help" and data["system_prompt"] == "be brief"
    reply = data["messages"][1]
    assert reply["status"] == "length"
    assert reply["usage"] == {"input_tokens": 9, "output_tokens": 4}
    assert reply["content"].startswith("Use `\\d+`.")


def test_exporting_all_wraps_the_list(store: Store) -> None:
    item = make_conversation(store)
    data = json.loads(to_json([item, item], single=False))
    assert len(data["conversations"]) == 2
