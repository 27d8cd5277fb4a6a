"""Files attached to the next message: chips above the prompt, sent with it, removable."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.widgets import DirectoryTree

from tests.app.support import (
    SIZE,
    chat_screen,
    fake,
    replies,
    settle_reply,
    toasts,
    until,
    visible_text,
)
from tests.fakes import Script
from tuichat.app.screens.chat import ChatScreen
from tuichat.app.screens.file_picker import FilePickerScreen
from tuichat.app.screens.image_viewer import ImageViewerScreen
from tuichat.app.widgets.attachment_lines import AttachmentLines
from tuichat.attachments import human_size
from tuichat.protocol import AttachmentLimits, BinaryPart
from tuichat.testing import PNG_1X1


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A folder holding an image, a text file and a binary file of no kind that works."""
    tmp_path = tmp_path / "files"
    tmp_path.mkdir()
    (tmp_path / "shot.png").write_bytes(PNG_1X1)
    (tmp_path / "notes.md").write_text("# Notes\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02")
    return tmp_path


def takes_images(app) -> None:
    fake(app.runtime).attachment_limits = lambda model: AttachmentLimits()  # type: ignore[method-assign]


def at(screen: ChatScreen, folder: Path) -> ChatScreen:
    screen.files.launch_dir = folder
    return screen


async def test_attached_files_show_as_chips_and_go_with_the_prompt(make_app, files) -> None:
    app = make_app(Script(["Seen."]))
    takes_images(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = at(chat_screen(pilot), files)
        assert not screen.files.chips.display
        assert await screen.files.attach(["shot.png", "notes.md"])
        assert screen.files.chips.display
        rendered = str(screen.files.chips.render())
        assert "shot.png · image · 1 KB · 1×1" in rendered
        assert "notes.md · text · 1 KB" in rendered
        screen.prompt.insert("What is this?")
        await pilot.press("enter")
        await settle_reply(pilot)
        [request] = fake(app.runtime).requests
        user = request.messages[-1]
        assert user.parts == (BinaryPart("image", "image/png", PNG_1X1, "shot.png"),)
        assert user.content == "notes.md\n```markdown\n# Notes\n```\n\nWhat is this?"
        assert screen.files.attachments == []
        assert not screen.files.chips.display
        infos = app.runtime.store.attachment_infos(screen.conversation_id)
        assert [[i.name for i in found] for found in infos.values()] == [["shot.png", "notes.md"]]


async def test_a_chip_is_removed_from_the_keyboard(make_app, files) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = at(chat_screen(pilot), files)
        await screen.files.attach(["shot.png", "notes.md"])
        await pilot.pause()
        await pilot.press("shift+tab")
        assert screen.focused is screen.files.chips
        await pilot.press("right", "delete")
        await until(pilot, lambda: len(screen.files.attachments) == 1, "one chip left")
        assert [a.name for a in screen.files.attachments] == ["shot.png"]
        await pilot.press("backspace")
        await until(pilot, lambda: not screen.files.attachments, "no chip left")
        assert not screen.files.chips.display
        assert screen.focused is screen.prompt


async def test_a_file_that_cannot_be_attached_is_one_sentence_and_keeps_the_rest(
    make_app, files
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = at(chat_screen(pilot), files)
        screen.prompt.insert("keep me")
        await screen.files.attach(["shot.png"])
        assert not await screen.files.attach(["missing.png"])
        assert not await screen.files.attach(["blob.bin"])
        await pilot.pause()
        assert toasts(pilot)[-2:] == [
            "missing.png does not exist; check the path.",
            "blob.bin is not a file tuichat can attach (it is neither an image, a PDF nor "
            "UTF-8 text); attach PNG, JPEG, GIF and WebP images, PDF documents and UTF-8 "
            "text files.",
        ]
        assert [a.name for a in screen.files.attachments] == ["shot.png"]
        assert screen.prompt.text == "keep me"


async def test_a_model_that_refuses_images_keeps_the_prompt_and_its_files(make_app, files) -> None:
    app = make_app(Script(["never"]))
    async with app.run_test(size=SIZE) as pilot:
        screen = at(chat_screen(pilot), files)
        await screen.files.attach(["shot.png"])
        screen.prompt.insert("Look")
        await pilot.press("enter")
        await until(pilot, lambda: screen.prompt.text == "Look", "the prompt back")
        assert fake(app.runtime).requests == []
        assert [a.name for a in screen.files.attachments] == ["shot.png"]
        log = "\n".join(str(w.render()) for w in screen.chat_log.query("InlineError"))
        assert "does not take images" in log


async def test_at_completes_a_path_and_attaches_the_file_chosen(make_app, files) -> None:
    (files / "docs").mkdir()
    (files / "docs" / "plan.txt").write_text("the plan\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = at(chat_screen(pilot), files)
        await pilot.press("r", "e", "a", "d", "space", "@")
        await until(pilot, lambda: screen.files.completer.is_open, "the completer")
        offered = [str(o.prompt) for o in screen.files.completer.options]
        assert offered == ["docs/", "blob.bin", "notes.md", "shot.png"]
        await pilot.press("d", "tab")  # a folder: completion goes on inside it
        await until(pilot, lambda: screen.prompt.text == "read @docs/", "the folder")
        await until(pilot, lambda: screen.files.completer.option_count == 1, "its files")
        await pilot.press("enter")
        await until(pilot, lambda: screen.files.attachments, "the chip")
        assert [a.name for a in screen.files.attachments] == ["docs/plan.txt"]
        assert screen.prompt.text == "read "
        assert not screen.files.completer.is_open
        assert replies(pilot) == []  # Enter chose the path; it did not send


async def test_esc_closes_the_completer_and_tilde_expands(make_app, files, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(files))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await pilot.press("@", "~", "/", "s")
        await until(pilot, lambda: screen.files.completer.is_open, "the completer")
        assert [str(o.prompt) for o in screen.files.completer.options] == ["~/shot.png"]
        await pilot.press("escape")
        await until(pilot, lambda: not screen.files.completer.is_open, "the completer to close")
        await pilot.press("h")
        await pilot.pause()
        assert not screen.files.completer.is_open  # closed for this fragment
        assert screen.prompt.text == "@~/sh"
        assert screen.focused is screen.prompt


@pytest.mark.parametrize(
    "paste",
    ["'{folder}/my shot.png'", "{folder}/my\\ shot.png", "file://{folder}/my%20shot.png"],
    ids=["quoted", "escaped", "file-url"],
)
async def test_a_pasted_path_becomes_an_attachment(make_app, files, paste) -> None:
    (files / "my shot.png").write_bytes(PNG_1X1)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        screen.prompt.insert("see ")
        await pilot.pause()
        app.post_message(events.Paste(paste.format(folder=files)))
        await until(pilot, lambda: screen.files.attachments, "the chip")
        assert [a.name for a in screen.files.attachments] == [f"{files}/my shot.png"]
        assert screen.prompt.text == "see "


async def test_a_paste_that_is_not_only_paths_stays_text(make_app, files) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        text = f"look at {files}/shot.png please"
        app.post_message(events.Paste(text))
        await until(pilot, lambda: screen.prompt.text == text, "the text")
        assert screen.files.attachments == []


async def test_the_file_picker_attaches_the_file_chosen(make_app, files) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = at(chat_screen(pilot), files)
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, FilePickerScreen), "the picker")
        tree = app.screen.query_one(DirectoryTree)
        await until(pilot, lambda: tree.root.children, "the tree to load")
        names = [str(node.label) for node in tree.root.children]
        assert names == ["blob.bin", "notes.md", "shot.png"]
        tree.focus()
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: screen.files.attachments, "the chip")
        assert [a.name for a in screen.files.attachments] == ["notes.md"]
        assert app.screen is screen
        assert screen.focused is screen.prompt


def picture(width: int, height: int) -> bytes:
    """A PNG of ``width`` x ``height`` pixels: four coloured quarters."""
    import io

    from PIL import Image

    image = Image.new("RGB", (width, height), "navy")
    image.paste("orange", (0, 0, width // 2, height // 2))
    image.paste("teal", (width // 2, height // 2, width, height))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def test_the_viewer_shows_an_image_in_half_blocks_that_fit_80x24(
    make_app, files, monkeypatch
) -> None:
    monkeypatch.delenv("KITTY_WINDOW_ID", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")  # no graphics: the half-block fallback
    (files / "wide.png").write_bytes(picture(300, 200))
    app = make_app(Script(["A picture."]))
    takes_images(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = at(chat_screen(pilot), files)
        await screen.files.attach(["wide.png"])
        screen.prompt.insert("What is it?")
        await pilot.press("enter")
        await settle_reply(pilot)
        await pilot.press("shift+tab")  # the chat log; the last reply is selected
        await until(pilot, lambda: screen.chat_log.has_focus, "the log")
        await pilot.press("up", "i")
        await until(pilot, lambda: isinstance(app.screen, ImageViewerScreen), "the viewer")
        await pilot.pause()
        image = app.screen.query_one("#image")
        assert type(image).__name__ == "HalfcellImage"
        assert (image.region.width, image.region.height) == (69, 23)
        assert image.region.bottom <= 24
        assert "wide.png · image · " in visible_text(pilot).splitlines()[0]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back to the chat")


async def test_a_prompt_in_the_log_names_its_files_without_reading_their_bytes(
    make_app, files, monkeypatch
) -> None:
    (files / "wide.png").write_bytes(picture(300, 200))
    app = make_app(Script(["Seen."]))
    takes_images(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = at(chat_screen(pilot), files)
        await screen.files.attach(["wide.png", "notes.md"])
        screen.prompt.insert("Both?")
        await pilot.press("enter")
        await settle_reply(pilot)
        expected = ["wide.png", "notes.md"]
        [lines] = screen.chat_log.query(AttachmentLines)
        assert lines.names == expected
        size = human_size((files / "wide.png").stat().st_size)
        assert str(lines.render()) == (
            f"+ wide.png · image · {size} · 300×200\n+ notes.md · text · 1 KB"
        )
        conversation = screen.conversation_id
        # Opened again from the store: the log is drawn from the records alone.
        store = app.runtime.store
        monkeypatch.setattr(store, "message_attachments", None)  # bytes are not read
        await pilot.press("ctrl+n")
        await until(pilot, lambda: screen.conversation_id is None, "a new conversation")
        await screen.open_conversation(conversation)
        await until(pilot, lambda: screen.chat_log.query(AttachmentLines), "the lines")
        [lines] = screen.chat_log.query(AttachmentLines)
        assert lines.names == expected


async def test_compare_mode_sends_the_files_too(make_app, files) -> None:
    from tests.app.test_compare import open_compare, pick_model, send_to_all, until_done

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = at(chat_screen(pilot), files)
        await screen.files.attach(["notes.md"])
        compare = await open_compare(pilot)
        await pick_model(pilot, "echo")
        await send_to_all(pilot, "Summarise")
        await until_done(pilot, compare)
        assert screen.files.attachments == []
        [conversation] = app.runtime.store.list_conversations()
        [found] = app.runtime.store.attachment_infos(conversation.id).values()
        assert [f.name for f in found] == ["notes.md"]
        echoed = compare.columns[1].reply
        assert echoed is not None and echoed.text.startswith("notes.md\n```markdown\n# Notes")


async def test_the_export_writes_images_beside_the_markdown(make_app, files) -> None:
    from tuichat.app.screens.export import ExportScreen

    app = make_app(Script(["Seen."]))
    takes_images(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = at(chat_screen(pilot), files)
        await screen.files.attach(["shot.png"])
        screen.prompt.insert("Look")
        await pilot.press("enter")
        await settle_reply(pilot)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen), "the export dialog")
        target = files / "out.md"
        field = app.screen.query_one("#export-path")
        field.value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, target.exists, "the export")
        assert "![shot.png](out-files/1-shot.png)" in target.read_text()
        assert (files / "out-files" / "1-shot.png").read_bytes() == PNG_1X1


async def test_the_chips_are_kept_across_a_restart_until_sent(
    make_app, build_runtime, files
) -> None:
    app = make_app(runtime=build_runtime(fake=True))
    async with app.run_test(size=SIZE) as pilot:
        screen = at(chat_screen(pilot), files)
        await screen.files.attach(["shot.png", "notes.md"])
        await pilot.pause()
    (files / "notes.md").unlink()  # gone meanwhile: said, and left out

    again = make_app(runtime=build_runtime(fake=True))
    async with again.run_test(size=SIZE) as pilot:
        screen = chat_screen(pilot)
        await until(pilot, lambda: screen.files.chips.count == 1, "the chips back")
        assert [a.name for a in screen.files.attachments] == ["shot.png"]
        assert screen.files.attachments[0].data == PNG_1X1
        # (A toast is a message the app takes in on its next turn: waited for.)
        await until(pilot, lambda: bool(toasts(pilot)), "the toast for the missing file")
        assert toasts(pilot)[-1].startswith("notes.md (attached before tuichat quit) is left out: ")
        assert toasts(pilot)[-1].endswith("notes.md does not exist; check the path.")
        screen.prompt.insert("Now")
        await pilot.press("enter")
        await settle_reply(pilot)

    last = make_app(runtime=build_runtime(fake=True))
    async with last.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert chat_screen(pilot).files.attachments == []
