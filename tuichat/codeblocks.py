"""Find the fenced code blocks of a Markdown text (to copy one of them).

CommonMark fences: a line of three or more backticks or tildes, indented by at most three
spaces, opens a block that a line of the same character, at least as long, closes; an
unclosed fence runs to the end of the text (a reply cut by max tokens).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """One fenced code block."""

    language: str
    """The info string's first word (``python``), or ''."""
    code: str
    """The code, without the fences, ending with a newline when not empty."""

    @property
    def summary(self) -> str:
        """One line to tell blocks apart: the language and the first line of code."""
        first = next((line.strip() for line in self.code.splitlines() if line.strip()), "")
        lines = len(self.code.splitlines())
        label = self.language or "code"
        return f"{label} · {lines} line{'s' if lines != 1 else ''} · {first[:60]}"


def code_blocks(markdown: str) -> list[CodeBlock]:
    """The fenced code blocks of ``markdown``, in order.

    Args:
        markdown: The text.

    Returns:
        Every fenced block (empty ones included).
    """
    blocks: list[CodeBlock] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opened = _OPEN.match(lines[index])
        # A backtick fence's info string may not contain a backtick (that is inline code).
        if opened is None or (opened.group(2)[0] == "`" and "`" in opened.group(3)):
            index += 1
            continue
        indent, fence, info = len(opened.group(1)), opened.group(2), opened.group(3).strip()
        close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        body: list[str] = []
        index += 1
        while index < len(lines) and not close.match(lines[index]):
            line = lines[index]
            # Content lines lose up to the fence's own indentation.
            strip = min(indent, len(line) - len(line.lstrip(" ")))
            body.append(line[strip:])
            index += 1
        index += 1  # past the closing fence (or the end)
        code = "\n".join(body) + ("\n" if body else "")
        blocks.append(CodeBlock(info.split()[0] if info else "", code))
    return blocks
