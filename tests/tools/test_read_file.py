"""The built-in read_file tool: off until [tools] read_folder names a folder; read-only,
and nothing outside that folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from tuichat.config import Settings
from tuichat.tools.read_file import MAX_BYTES


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    notes = tmp_path / "notes"
    (notes / "sub").mkdir(parents=True)
    (notes / "a.md").write_text("alpha\n", encoding="utf-8")
    (notes / "sub" / "b.md").write_text("beta\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("do not read", encoding="utf-8")
    (notes / "escape").symlink_to(tmp_path / "secret.txt")
    return notes


def arguments(path: str) -> str:
    return json.dumps({"path": path})


async def test_there_is_no_such_tool_until_a_folder_is_set(make_host) -> None:
    host = make_host({})
    assert host.servers() == []
    assert (await host.toolbox("all")).tools == ()


async def test_it_reads_the_files_of_its_folder(make_host, folder: Path) -> None:
    host = make_host({"tools": {"read_folder": str(folder)}})
    assert host.servers() == ["folder"]
    box = await host.toolbox("all")
    [tool] = box.tools
    assert (tool.spec.name, tool.server, tool.approve) == ("read_file", "folder", "ask")
    assert (await box.call("read_file", arguments("a.md"))).content == "alpha\n"
    assert (await box.call("read_file", arguments("sub/b.md"))).content == "beta\n"


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("../secret.txt", "is outside the folder"),
        (str(Path("/etc/passwd")), "is outside the folder"),
        ("escape", "is outside the folder"),
        ("missing.md", "there is no file 'missing.md'"),
        ("sub", "there is no file 'sub'"),
        ("", "give the file's path"),
    ],
)
async def test_nothing_outside_the_folder_is_read(
    make_host, folder: Path, path: str, says: str
) -> None:
    box = await make_host({"tools": {"read_folder": str(folder)}}).toolbox("all")
    outcome = await box.call("read_file", arguments(path))
    assert outcome.is_error and says in outcome.content
    assert "do not read" not in outcome.content


async def test_a_long_file_is_cut_and_says_so(make_host, folder: Path) -> None:
    (folder / "long.txt").write_text("x" * (MAX_BYTES + 10), encoding="utf-8")
    box = await make_host({"tools": {"read_folder": str(folder)}}).toolbox("all")
    content = (await box.call("read_file", arguments("long.txt"))).content
    assert content.startswith("x" * 100) and content.endswith("longer than 256 KB]")


def test_a_read_folder_that_is_no_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="names no folder"):
        Settings(tools={"read_folder": str(tmp_path / "absent")})
