"""Attachments in the store and in turns: stored once, resent with the history, removed
with the last message that carries them, refused before anything is sent."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from tuichat.attachments import Attachment, AttachmentError, from_bytes
from tuichat.chat import Turn, build_request, history_attachments
from tuichat.compare import Comparison, Contender
from tuichat.protocol import AttachmentLimits, BinaryPart, Finish, TextDelta
from tuichat.provider import ProviderSettings
from tuichat.store import AttachmentInfo, Store
from tuichat.testing import PDF_MINIMAL, PNG_1X1
from tuichat.turns import begin_regenerate

from .conftest import ScriptedProvider, Step, _no_network, scripted_provider

IMAGE = from_bytes(PNG_1X1, "shot.png")
PAPER = from_bytes(PDF_MINIMAL, "docs/paper.pdf")
NOTES = from_bytes(b"todo: ship\n", "notes.txt")


class SeeingProvider(ScriptedProvider):
    """Takes images up to 1 KB and no documents."""

    def attachment_limits(self, model: str) -> AttachmentLimits:
        return AttachmentLimits(kinds=frozenset({"image"}), max_image_bytes=1024)


def seeing(*scripts: list[Step]) -> SeeingProvider:
    provider = SeeingProvider(
        settings=ProviderSettings(),
        client=httpx.AsyncClient(transport=httpx.MockTransport(_no_network)),
    )
    provider.scripts = list(scripts)
    return provider


def test_the_same_bytes_are_stored_once_however_many_messages_carry_them(store: Store) -> None:
    first = store.create_conversation()
    second = store.create_conversation()
    store.add_message(first.id, "user", "look", attachments=[IMAGE])
    store.add_message(second.id, "user", "again", attachments=[IMAGE, NOTES])
    assert store.attachment_hashes() == {IMAGE.sha256, NOTES.sha256}


def test_attachments_go_when_no_message_refers_to_them(store: Store) -> None:
    first = store.create_conversation()
    second = store.create_conversation()
    kept = store.add_message(first.id, "user", "look", attachments=[IMAGE, NOTES])
    store.add_message(second.id, "user", "again", attachments=[IMAGE])
    store.delete_conversation(second.id)
    assert store.attachment_hashes() == {IMAGE.sha256, NOTES.sha256}
    store.delete_message(kept.id)
    assert store.attachment_hashes() == set()


def test_the_log_learns_names_kinds_and_sizes_of_a_messages_files(store: Store) -> None:
    conversation = store.create_conversation()
    message = store.add_message(conversation.id, "user", "see", attachments=[PAPER, IMAGE])
    infos = store.attachment_infos(conversation.id)
    assert infos == {
        message.id: [
            AttachmentInfo(
                "docs/paper.pdf", "document", "application/pdf", len(PDF_MINIMAL), PAPER.sha256
            ),
            AttachmentInfo("shot.png", "image", "image/png", len(PNG_1X1), IMAGE.sha256, 1, 1),
        ]
    }


def test_listing_and_drawing_never_select_an_attachments_bytes(store: Store) -> None:
    conversation = store.create_conversation()
    message = store.add_message(conversation.id, "user", "see", attachments=[IMAGE])
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    store.list_conversations()
    store.messages(conversation.id)
    store.attachment_infos(conversation.id)
    assert statements and not any("a.data" in sql for sql in statements)
    store.message_attachments([message.id])  # building a request is what reads them
    assert "a.data" in statements[-1]


def test_the_newest_prompt_folds_its_text_files_and_carries_its_images(store: Store) -> None:
    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "what is this?", attachments=[NOTES, IMAGE])
    history = store.messages(conversation.id)
    request, _ = build_request(history, model="m", attachments=history_attachments(store, history))
    (message,) = request.messages
    assert message.content == "notes.txt\n```text\ntodo: ship\n```\n\nwhat is this?"
    assert message.parts == (BinaryPart("image", "image/png", PNG_1X1, "shot.png"),)


def test_earlier_attachments_are_resent_with_the_history(store: Store) -> None:
    conversation = store.create_conversation()
    store.add_message(conversation.id, "user", "read this", attachments=[PAPER])
    store.add_message(conversation.id, "assistant", "done")
    store.add_message(conversation.id, "user", "and page one?")
    history = store.messages(conversation.id)
    request, _ = build_request(history, model="m", attachments=history_attachments(store, history))
    assert [len(m.parts) for m in request.messages] == [1, 0, 0]
    assert request.messages[0].parts[0].data == PDF_MINIMAL


async def test_a_turn_saves_the_prompt_with_its_attachments(store: Store) -> None:
    provider = seeing([TextDelta("a dot"), Finish("stop")])
    conversation = store.create_conversation()
    turn = Turn.begin(store, provider, conversation.id, "what?", model="m", attachments=[IMAGE])
    async for _ in turn.stream():
        pass
    assert turn.user_message is not None
    assert [i.name for i in store.attachment_infos(conversation.id)[turn.user_message.id]] == [
        "shot.png"
    ]
    assert provider.requests[0].messages[0].parts[0].media_type == "image/png"


@pytest.mark.parametrize(
    ("attachment", "sentence"),
    [
        (
            PAPER,
            "scripted does not take PDF documents with model m, so docs/paper.pdf cannot be "
            "sent; leave it out or choose another model.",
        ),
        (
            from_bytes(PNG_1X1 + bytes(2048), "big.png"),
            "big.png is 2 KB; scripted takes images up to 1 KB each.",
        ),
    ],
)
def test_what_the_provider_cannot_take_is_refused_and_nothing_is_kept(
    store: Store, attachment: Attachment, sentence: str
) -> None:
    provider = seeing()
    conversation = store.create_conversation()
    with pytest.raises(AttachmentError) as caught:
        Turn.begin(store, provider, conversation.id, "see", model="m", attachments=[attachment])
    assert str(caught.value) == sentence
    assert store.messages(conversation.id) == []
    assert store.attachment_hashes() == set()
    assert provider.requests == []


def test_a_plugin_that_declares_nothing_is_sent_no_images(store: Store) -> None:
    provider = scripted_provider()
    conversation = store.create_conversation()
    with pytest.raises(AttachmentError, match="scripted does not take images"):
        Turn.begin(store, provider, conversation.id, "see", model="m", attachments=[IMAGE])


def test_text_attachments_go_to_every_provider(store: Store) -> None:
    provider = scripted_provider()
    conversation = store.create_conversation()
    turn = Turn.begin(store, provider, conversation.id, "sum up", model="m", attachments=[NOTES])
    assert turn.request.messages[0].content.startswith("notes.txt\n```text\n")


def test_an_old_store_gains_the_attachment_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Store(path) as store:
        store.add_message(store.create_conversation().id, "user", "hi", attachments=[IMAGE])
    tables = {
        row[0]
        for row in sqlite3.connect(path).execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert {"attachments", "message_attachments"} <= tables


def test_regenerating_with_a_provider_that_cannot_see_keeps_the_old_reply_on_show(
    store: Store,
) -> None:
    conversation = store.create_conversation()
    prompt = store.add_message(conversation.id, "user", "look", attachments=[IMAGE])
    reply = store.add_message(conversation.id, "assistant", "a dot")
    with pytest.raises(AttachmentError):
        begin_regenerate(store, scripted_provider(), reply, model="m")
    assert [m.id for m in store.messages(conversation.id)] == [prompt.id, reply.id]


def test_a_comparison_sends_the_files_to_every_model(store: Store) -> None:
    first, second = seeing(), seeing()
    conversation = store.create_conversation()
    comparison = Comparison.begin(
        store,
        conversation.id,
        "which?",
        [Contender(first, "m1"), Contender(second, "m2")],
        attachments=[IMAGE],
    )
    for column in comparison.columns:
        assert column.turn.request.messages[0].parts[0].name == "shot.png"


def test_a_comparison_one_model_cannot_see_keeps_nothing(store: Store) -> None:
    conversation = store.create_conversation()
    with pytest.raises(AttachmentError, match="scripted does not take images"):
        Comparison.begin(
            store,
            conversation.id,
            "which?",
            [Contender(seeing(), "m1"), Contender(scripted_provider(), "m2")],
            attachments=[IMAGE],
        )
    assert store.all_messages(conversation.id) == []
    assert store.get_conversation(conversation.id).title == ""  # type: ignore[union-attr]
