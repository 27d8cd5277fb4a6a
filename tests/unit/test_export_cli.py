"""`tuichat export` to a file (-o): the images and PDFs of a conversation written beside
its Markdown, or carried in its JSON; on stdout, each named with how to get it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tuichat.testing import PDF_MINIMAL, PNG_1X1

from .test_cli import run  # noqa: F401 - the fixture: a real process on a private store


@pytest.fixture
def attached(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    """A stored conversation whose prompt carries an image, a PDF and a text file (given
    by their names: tuichat runs in their folder)."""
    files = tmp_path / "files"
    files.mkdir()
    monkeypatch.chdir(files)
    (files / "shot.png").write_bytes(PNG_1X1)
    (files / "paper.pdf").write_bytes(PDF_MINIMAL)
    (files / "notes.txt").write_text("hello notes\n")
    args = [arg for name in ("shot.png", "paper.pdf", "notes.txt") for arg in ("-a", name)]
    assert run("ask", "-m", "demo/echo", *args, "look").returncode == 0
    return tmp_path


def test_markdown_to_a_file_has_its_images_and_pdfs_beside_it_linked(run, attached) -> None:  # noqa: F811
    target = attached / "out" / "review.md"
    done = run("export", "-o", str(target))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    beside = attached / "out" / "review-files"
    assert sorted(p.name for p in beside.iterdir()) == ["1-shot.png", "2-paper.pdf"]
    assert (beside / "1-shot.png").read_bytes() == PNG_1X1
    assert (beside / "2-paper.pdf").read_bytes() == PDF_MINIMAL
    text = target.read_text()
    assert "![shot.png](review-files/1-shot.png)" in text
    assert "[paper.pdf](review-files/2-paper.pdf)" in text
    # A text file is its text, in the transcript itself: nothing written for it.
    assert "notes.txt\n```text\nhello notes\n```" in text
    assert "attached:" not in text


def test_json_to_a_file_carries_each_attachment_in_base64_with_its_media_type(
    run,  # noqa: F811
    attached,
) -> None:
    target = attached / "backup.json"  # the suffix alone picks JSON
    assert run("export", "-o", str(target)).returncode == 0
    sent = json.loads(target.read_text())["messages"][0]["attachments"]
    assert [(a["name"], a["kind"], a["media_type"]) for a in sent] == [
        ("shot.png", "image", "image/png"),
        ("paper.pdf", "document", "application/pdf"),
        ("notes.txt", "text", "text/plain"),
    ]
    assert base64.b64decode(sent[0]["data"]) == PNG_1X1
    assert base64.b64decode(sent[1]["data"]) == PDF_MINIMAL
    assert base64.b64decode(sent[2]["data"]) == b"hello notes\n"
    assert not (attached / "backup-files").exists()


def test_markdown_on_stdout_says_of_each_image_and_pdf_how_to_have_it_written(
    run,  # noqa: F811
    attached,
) -> None:
    for args in (["export"], ["export", "-o", "-"]):
        done = run(*args)
        assert done.returncode == 0
        notes = [line for line in done.stdout.splitlines() if line.startswith("_(attached:")]
        assert len(notes) == 2
        assert notes[0].startswith("_(attached: shot.png, image/png, ")
        assert notes[1].startswith("_(attached: paper.pdf, application/pdf, ")
        assert all("'tuichat export -o FILE.md' writes it into FILE-files/" in n for n in notes)
    assert not list(Path.cwd().glob("*-files"))


def test_an_existing_file_is_replaced_as_curl_o_does(run, attached) -> None:  # noqa: F811
    target = attached / "review.md"
    target.write_text("old words that must go\n")
    assert run("export", "-o", str(target)).returncode == 0
    assert target.read_text().startswith("# look\n")


def test_a_path_that_cannot_be_written_exits_2_with_one_sentence(run, attached) -> None:  # noqa: F811
    folder = attached / "taken.md"
    folder.mkdir()  # a folder where the file should go
    done = run("export", "--format", "json", "-o", str(folder))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1
    assert f"Cannot write {folder}: Is a directory; choose another path with -o." in done.stderr
