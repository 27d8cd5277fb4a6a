"""Paths in the prompt: which ``@`` is a path being typed, which paste names files."""

from __future__ import annotations

from pathlib import Path

from tuichat.app.attach_paths import AtFragment, at_fragment, completions, pasted_paths


def test_an_at_starts_a_path_only_at_the_start_or_after_a_space() -> None:
    assert at_fragment("@src/ma", 7) == AtFragment(0, 7, "src/ma")
    assert at_fragment("read @", 6) == AtFragment(5, 6, "")
    assert at_fragment("mail me@example.com", 19) is None
    assert at_fragment("@one two", 8) is None  # the cursor is past the fragment


def test_completions_list_folders_first_and_hide_dot_files(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "a").mkdir()
    (tmp_path / ".hidden").write_text("h")
    assert completions("", tmp_path) == ["a/", "b.txt"]
    assert completions(".h", tmp_path) == [".hidden"]
    assert completions("a/", tmp_path) == []
    assert completions("missing/x", tmp_path) == []


def test_pasted_paths_of_existing_files_in_the_shapes_terminals_paste(tmp_path: Path) -> None:
    one = tmp_path / "one shot.png"
    two = tmp_path / "two.txt"
    one.write_bytes(b"x")
    two.write_text("y")
    assert pasted_paths(f"'{one}'", tmp_path) == [str(one)]
    assert pasted_paths(f"{tmp_path}/one\\ shot.png {two}\n", tmp_path) == [str(one), str(two)]
    assert pasted_paths(f"file://{tmp_path}/one%20shot.png", tmp_path) == [str(one)]
    assert pasted_paths("./two.txt", tmp_path) == ["./two.txt"]


def test_a_paste_that_is_not_only_existing_paths_is_text(tmp_path: Path) -> None:
    (tmp_path / "two.txt").write_text("y")
    assert pasted_paths("two.txt", tmp_path) is None  # a bare name is meant as text
    assert pasted_paths(f"see {tmp_path}/two.txt", tmp_path) is None
    assert pasted_paths(f"{tmp_path}/missing.png", tmp_path) is None
    assert pasted_paths("'unclosed", tmp_path) is None
    assert pasted_paths("   ", tmp_path) is None
