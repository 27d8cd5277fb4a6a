"""Finding fenced code blocks to copy one."""

from __future__ import annotations

from tuichat.codeblocks import code_blocks


def test_backtick_and_tilde_fences_with_languages() -> None:
    text = (
        "Intro\n\n```python\nprint(1)\n```\n\n~~~\nplain\n~~~\n\n````md\n```\nnested\n```\n````\n"
    )
    blocks = code_blocks(text)
    assert [(b.language, b.code) for b in blocks] == [
        ("python", "print(1)\n"),
        ("", "plain\n"),
        ("md", "```\nnested\n```\n"),
    ]
    assert blocks[0].summary == "python · 1 line · print(1)"


def test_an_unclosed_fence_runs_to_the_end() -> None:
    assert [b.code for b in code_blocks("text\n```js\nlet a = 1;\nlet b")] == [
        "let a = 1;\nlet b\n"
    ]


def test_inline_code_and_indented_fences() -> None:
    assert code_blocks("use ```inline``` here") == []
    [block] = code_blocks("  ```\n  indented\n    more\n  ```")
    assert block.code == "indented\n  more\n"
    assert code_blocks("```\n```")[0].code == ""
