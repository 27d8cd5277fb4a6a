"""Attachments: kinds from the bytes, text in a fence, files, stdin and folders."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tuichat import attachment_reader
from tuichat.attachment_reader import read_attachments, read_path, read_stdin
from tuichat.attachments import (
    KINDS_THAT_WORK,
    AttachmentError,
    from_bytes,
    text_block,
    with_attachments,
)
from tuichat.errors import UsageError
from tuichat.testing import GIF_1X1, JPEG_2X3, PDF_MINIMAL, PNG_1X1, WEBP_HEADER, png


@pytest.mark.parametrize(
    ("data", "media_type", "size"),
    [
        (PNG_1X1, "image/png", (1, 1)),
        (png(3, 7), "image/png", (3, 7)),
        (JPEG_2X3, "image/jpeg", (2, 3)),
        (GIF_1X1, "image/gif", (1, 1)),
        (WEBP_HEADER, "image/webp", (4, 5)),
    ],
)
def test_images_are_known_by_their_bytes_with_their_size(
    data: bytes, media_type: str, size: tuple[int, int]
) -> None:
    attachment = from_bytes(data, "picture")
    assert (attachment.kind, attachment.media_type) == ("image", media_type)
    assert (attachment.width, attachment.height) == size


def test_a_pdf_is_a_document() -> None:
    attachment = from_bytes(PDF_MINIMAL, "paper.pdf")
    assert (attachment.kind, attachment.media_type) == ("document", "application/pdf")


def test_an_extension_that_lies_does_not_change_the_kind(tmp_path: Path) -> None:
    lying = tmp_path / "photo.png"
    lying.write_bytes(JPEG_2X3)
    assert read_path(str(lying)).media_type == "image/jpeg"
    text = tmp_path / "notes.pdf"
    text.write_text("just words\n")
    assert read_path(str(text)).kind == "text"


def test_a_binary_file_of_another_kind_is_refused_naming_the_kinds_that_work(
    tmp_path: Path,
) -> None:
    blob = tmp_path / "archive.png"
    blob.write_bytes(b"PK\x03\x04\x00\x00binary\xff\xfe")
    with pytest.raises(AttachmentError) as caught:
        read_path(str(blob))
    message = str(caught.value)
    assert message.startswith(str(blob))
    assert KINDS_THAT_WORK in message
    assert isinstance(caught.value, UsageError)  # ask exits 2


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("café\n".encode("latin-1"))
    with pytest.raises(AttachmentError, match="neither an image, a PDF nor UTF-8 text"):
        read_path(str(latin))


def test_a_missing_file_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError, match=r"nope\.txt does not exist; check the path\.$"):
        read_path(str(tmp_path / "nope.txt"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_one_sentence(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    secret.chmod(0)
    with pytest.raises(AttachmentError, match="secret.txt cannot be read: Permission denied"):
        read_path(str(secret))


def test_a_file_over_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachment_reader, "MAX_FILE_BYTES", 1024)
    big = tmp_path / "big.png"
    big.write_bytes(png(40, 40) + b"\x00" * 2048)
    with pytest.raises(AttachmentError, match=r"big\.png is 2 KB, over the 1 KB limit for one"):
        read_path(str(big))


def test_a_file_that_changes_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "growing.log"
    log.write_text("line 1\n")
    real_open = Path.open

    def open_and_grow(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        handle = real_open(self, *args, **kwargs)  # type: ignore[call-overload]
        with real_open(self, "a") as writer:
            writer.write("line 2\n")
        return handle

    monkeypatch.setattr(Path, "open", open_and_grow)
    with pytest.raises(AttachmentError, match="changed while it was being read"):
        read_path(str(log))


def test_a_text_attachment_is_its_name_then_its_exact_content_in_a_fence() -> None:
    attachment = from_bytes(b"print('hi')\n", "src/app.py")
    assert text_block(attachment) == "src/app.py\n```python\nprint('hi')\n```"


def test_the_fence_is_longer_than_any_backtick_run_inside() -> None:
    attachment = from_bytes(b"a ```` run\nno newline at the end", "notes.md")
    assert text_block(attachment) == (
        "notes.md\n`````markdown\na ```` run\nno newline at the end\n`````"
    )


def test_text_attachments_come_before_the_prompt_in_the_order_given() -> None:
    first = from_bytes(b"one\n", "a.txt")
    image = from_bytes(PNG_1X1, "b.png")
    second = from_bytes(b"two\n", "c")
    assert with_attachments("why?", [first, image, second]) == (
        "a.txt\n```text\none\n```\n\nc\n```\ntwo\n```\n\nwhy?"
    )


def test_stdin_is_named_stdin_and_its_kind_comes_from_the_bytes() -> None:
    assert read_stdin(io.BytesIO(PNG_1X1)).name == "stdin"
    assert read_stdin(io.BytesIO(PNG_1X1)).media_type == "image/png"
    assert text_block(read_stdin(io.BytesIO(b"hello\n"))) == "stdin\n```\nhello\n```"


def test_stdin_can_give_one_attachment_only() -> None:
    with pytest.raises(AttachmentError, match="Only one attachment can come from stdin"):
        read_attachments(["-", "-"], io.BytesIO(b"x"))


def test_a_folder_gives_its_text_files_minus_what_its_gitignore_ignores(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "build").mkdir()
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("# built things\nbuild/\n*.log\n")
    (project / "README.md").write_text("# Project\n")
    (project / "src" / "main.py").write_text("print(1)\n")
    (project / "src" / "debug.log").write_text("noise\n")
    (project / "build" / "out.txt").write_text("generated\n")
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (project / "logo.png").write_bytes(PNG_1X1)
    (project / "blob.bin").write_bytes(b"\x00\x01\x02")

    attached = read_attachments([str(project)])

    names = [a.name for a in attached.attachments]
    assert names == [
        os.path.join(str(project), ".gitignore"),
        os.path.join(str(project), "README.md"),
        os.path.join(str(project), "src/main.py"),
    ]
    assert attached.notes == [
        f"{project}: 3 file(s) attached; left out: 2 ignored by its .gitignore, 2 not text."
    ]


def test_a_folder_over_its_cap_says_what_it_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attachment_reader, "FOLDER_MAX_FILES", 2)
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(name)
    attached = read_attachments([str(tmp_path)])
    assert len(attached.attachments) == 2
    assert "1 over the folder limit of 2 files" in attached.notes[0]


def test_a_folder_with_nothing_to_attach_is_refused(tmp_path: Path) -> None:
    (tmp_path / "only.bin").write_bytes(b"\x00")
    with pytest.raises(AttachmentError, match=r"holds no text file to attach \(1 not text\)"):
        read_attachments([str(tmp_path)])
