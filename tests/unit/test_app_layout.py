"""The app's code stays in small modules, and the chat screen is composed, not inherited."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "tuichat" / "app"

#: No module of the app is longer than this (issue 13: the chat screen had grown to 800
#: lines over six mixins).
MOST_LINES = 500


def test_no_module_of_the_app_is_over_500_lines() -> None:
    long = {
        str(path.relative_to(APP)): lines
        for path in APP.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MOST_LINES
    }
    assert not long, f"split these by job: {long}"


def test_the_chat_screen_inherits_only_textual_and_the_frame_timer() -> None:
    """Its parts are objects it holds (tuichat/app/chat/), not mixins it inherits."""
    tree = ast.parse((APP / "screens" / "chat.py").read_text(encoding="utf-8"))
    screen = next(
        node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "ChatScreen"
    )
    assert [ast.unparse(base) for base in screen.bases] == ["PromptFrames", "Screen[None]"]


def test_every_part_is_built_with_the_screen_and_nothing_else() -> None:
    for path in sorted((APP / "chat").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.ClassDef) or node.bases or node.decorator_list:
                continue
            init = next(
                (f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"),
                None,
            )
            assert init is not None, f"{path.name}: {node.name} has no __init__"
            assert [a.arg for a in init.args.args] == ["self", "screen"], (path.name, node.name)
