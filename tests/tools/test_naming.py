"""The names a model sees (DESIGN.md 5a): a tool's own when unique, else SERVER__TOOL,
always [A-Za-z0-9_-]{1,64} and unique."""

from __future__ import annotations

import re

from tuichat.tools.naming import model_names, valid_name

VALID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def test_a_unique_tool_keeps_its_own_name() -> None:
    assert model_names([("files", "read"), ("web", "search")]) == ["read", "search"]


def test_a_name_two_servers_share_gets_each_servers_name() -> None:
    offered = [("files", "read"), ("git", "read"), ("git", "log")]
    assert model_names(offered) == ["files__read", "git__read", "log"]


def test_characters_providers_refuse_become_underscores() -> None:
    assert valid_name("fs.read file/π") == "fs_read_file__"
    assert valid_name("") == "tool"


def test_long_names_are_cut_to_64_and_stay_unique() -> None:
    long = "x" * 80
    names = model_names([("a", long), ("b", long + "y")])
    assert all(VALID.fullmatch(name) for name in names)
    assert names[0] == "x" * 64 and names[1] == "x" * 62 + "_2"


def test_names_that_meet_once_cleaned_are_told_apart() -> None:
    assert model_names([("s", "a.b"), ("s", "a_b"), ("s", "a b")]) == ["a_b", "a_b_2", "a_b_3"]
