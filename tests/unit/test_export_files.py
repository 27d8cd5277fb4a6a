"""A Markdown export written to a file: its images and PDFs beside it, linked."""

from __future__ import annotations

from pathlib import Path

from tuichat.attachments import from_bytes
from tuichat.export import to_markdown, write_beside
from tuichat.store import Store
from tuichat.testing import PDF_MINIMAL, PNG_1X1


def test_images_and_pdfs_are_written_once_beside_the_export_and_linked(tmp_path: Path) -> None:
    store = Store(tmp_path / "tuichat.db")
    conversation = store.create_conversation(title="Files")
    files = [
        from_bytes(PNG_1X1, "shots/my shot [1].png"),
        from_bytes(PDF_MINIMAL, "paper.pdf"),
        from_bytes(b"boom\n", "err.log"),
    ]
    first = store.add_message(conversation.id, "user", "What?", attachments=files)
    again = store.add_message(
        conversation.id, "user", "And this?", attachments=[from_bytes(PNG_1X1, "copy.png")]
    )
    messages = store.messages(conversation.id)
    attached = store.message_attachments([first.id, again.id])
    export = tmp_path / "out" / "7-files.md"
    export.parent.mkdir()

    links = write_beside(export, attached)
    text = to_markdown([(conversation, messages)], attached, links)

    folder = tmp_path / "out" / "7-files-files"
    assert sorted(p.name for p in folder.iterdir()) == ["1-my-shot-1-.png", "2-paper.pdf"]
    assert (folder / "1-my-shot-1-.png").read_bytes() == PNG_1X1
    assert "![shots/my shot \\[1\\].png](7-files-files/1-my-shot-1-.png)" in text
    assert "[paper.pdf](7-files-files/2-paper.pdf)" in text
    assert "err.log\n```\nboom\n```" in text
    # The same image again is the same file.
    assert "![copy.png](7-files-files/1-my-shot-1-.png)" in text
    store.close()


def test_nothing_is_written_beside_an_export_without_images_or_pdfs(tmp_path: Path) -> None:
    store = Store(tmp_path / "tuichat.db")
    conversation = store.create_conversation(title="Text")
    prompt = store.add_message(
        conversation.id, "user", "Why?", attachments=[from_bytes(b"x\n", "a.txt")]
    )
    export = tmp_path / "a.md"
    assert write_beside(export, store.message_attachments([prompt.id])) == {}
    assert not (tmp_path / "a-files").exists()
    store.close()
