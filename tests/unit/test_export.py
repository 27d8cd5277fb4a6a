"""Exports: readable Markdown, complete JSON, nothing hostile, no keys."""

from __future__ import annotations

import base64
import json

from tuichat.attachments import from_bytes
from tuichat.export import to_json, to_markdown
from tuichat.store import Store
from tuichat.testing import PDF_MINIMAL, PNG_1X1


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


def test_json_export_carries_attachments_whole_in_base64(store: Store) -> None:
    conversation = store.create_conversation(title="Look")
    prompt = store.add_message(
        conversation.id, "user", "What is it?", attachments=[from_bytes(PNG_1X1, "dot.png")]
    )
    messages = store.messages(conversation.id)
    files = store.message_attachments([prompt.id])
    data = json.loads(to_json([(conversation, messages)], single=True, attachments=files))
    (image,) = data["messages"][0]["attachments"]
    assert image["name"] == "dot.png"
    assert (image["kind"], image["media_type"], image["width"], image["height"]) == (
        "image",
        "image/png",
        1,
        1,
    )
    assert base64.b64decode(image["data"]) == PNG_1X1


def test_markdown_export_shows_text_files_and_names_the_others(store: Store) -> None:
    conversation = store.create_conversation(title="Files")
    prompt = store.add_message(
        conversation.id,
        "user",
        "Why?",
        attachments=[from_bytes(b"boom\n", "err.log"), from_bytes(PDF_MINIMAL, "a.pdf")],
    )
    files = store.message_attachments([prompt.id])
    text = to_markdown([(conversation, store.messages(conversation.id))], files)
    assert (
        "## You\n\nerr.log\n```\nboom\n```\n\n_(attached: a.pdf, application/pdf, 1 KB; "
        "not in this text: 'tuichat export -o FILE.md' writes it into FILE-files/ beside "
        "FILE.md)_\n\nWhy?" in text
    )


def test_a_reply_that_called_tools_exports_its_calls_and_results(store) -> None:
    from tuichat import export

    conversation = store.create_conversation(title="Sum")
    store.add_message(conversation.id, "user", "2+3?")
    meta = {
        "rounds": [
            {
                "content": "Adding.",
                "calls": [
                    {
                        "id": "c1",
                        "name": "add",
                        "arguments": '{"a": 2, "b": 3}',
                        "tool": "add",
                        "server": "calc",
                        "status": "ok",
                        "result": "5 ```not a fence end```",
                        "seconds": 0.02,
                    }
                ],
            }
        ],
        "tail_start": 9,
    }
    store.add_message(conversation.id, "assistant", "Adding.\n\nIt is 5.", meta=meta)
    messages = store.messages(conversation.id)

    as_json = json.loads(export.to_json([(conversation, messages)], single=True))
    [call] = as_json["messages"][1]["tool_calls"]
    assert (call["name"], call["server"], call["status"], call["result"]) == (
        "add",
        "calc",
        "ok",
        "5 ```not a fence end```",
    )
    markdown = export.conversation_to_markdown(conversation, messages)
    assert "**Tool** `add` (calc) · ok · 0.02 s" in markdown
    assert '````json\n{"a": 2, "b": 3}\n````' not in markdown  # no needless long fence
    assert '```json\n{"a": 2, "b": 3}\n```' in markdown
    assert "````\n5 ```not a fence end```\n````" in markdown


def test_exports_carry_each_replys_cost_and_the_total_saying_what_is_unknown(
    store: Store,
) -> None:
    conversation, messages = make_conversation(store)  # a reply without a cost
    store.add_message(conversation.id, "user", "And letters?")
    store.add_message(conversation.id, "assistant", "Use `[a-z]`.", meta={"cost": 0.0123})
    item = (conversation, store.messages(conversation.id))
    data = json.loads(to_json([item], single=True))
    assert data["cost"] == {"total": 0.0123, "unknown_replies": 1, "other_requests": []}
    assert [m["cost"] for m in data["messages"]] == [None, None, None, 0.0123]
    assert "_Cost of these replies: $0.0123 + unknown._" in to_markdown([item])
    # Nothing priced: the Markdown says nothing of money; the JSON says null, never 0.
    assert "Cost" not in to_markdown([(conversation, messages)])
    assert json.loads(to_json([(conversation, messages)], single=True))["cost"]["total"] is None
