"""Split a growing Markdown source into top-level blocks, incrementally.

A streaming reply is only ever appended to. Its top-level blocks (a paragraph, a list,
a fence, a table...) are *closed* as soon as a later block starts: text that arrives
afterwards can no longer change them. So the splitter keeps the closed blocks (source
and markdown-it tokens, parsed once) and re-parses only the *open* tail, from the start
line of the last block, on each update. A fenced code block that has not met its closing
fence is tracked without any parsing at all: new lines are only scanned for the closer.

This module knows nothing of Textual or of rendering; :mod:`.document` renders the
blocks. The parser is configured exactly like :class:`rich.markdown.Markdown`'s, so a
block rendered on its own looks as it would inside the whole document.

Known limit: a link reference definition (``[x]: https://...``) applies only inside its
own block, where Rich applies it to the whole document. Models rarely write them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

# The same rules as rich.markdown.Markdown uses (CommonMark + strikethrough + tables).
_PARSER = MarkdownIt().enable("strikethrough").enable("table")

# An opening code fence at the top level (CommonMark: up to 3 spaces of indent; a
# backtick fence's info string may not hold backticks).
_FENCE_OPEN = re.compile(r"^ {0,3}(?:(`{3,})[^`]*|(~{3,}).*)$")


def parse(source: str) -> list[Token]:
    """Parse Markdown with the renderer's rules."""
    return _PARSER.parse(source)


class Block:
    """One top-level Markdown block: its source, and its tokens while they are needed."""

    __slots__ = ("_tokens", "kind", "source")

    def __init__(self, source: str, tokens: list[Token]) -> None:
        """Create it.

        Args:
            source: Its source text, including the blank lines that follow it.
            tokens: Its markdown-it tokens (a top-level run: opening token to its close).
        """
        self.source = source
        """Its source text, including the blank lines that follow it."""
        self.kind = tokens[0].type if tokens else ""
        """The type of its first token (``paragraph_open``, ``fence``, ``table_open``...)."""
        self._tokens: list[Token] | None = tokens

    @property
    def tokens(self) -> list[Token]:
        """Its markdown-it tokens (parsed again from the source if they were released)."""
        tokens = self._tokens
        if tokens is None:
            runs = top_level_runs(parse(self.source))
            tokens = [token for _, run in runs for token in run]
        return tokens

    def release(self) -> None:
        """Drop the tokens once rendered: thousands of token objects per long reply would
        otherwise stay alive for the garbage collector to walk on every full pass."""
        self._tokens = None


@dataclass(frozen=True)
class OpenFence:
    """A top-level fenced code block whose closing fence has not arrived yet."""

    info: str
    """The info string (its first word names the language)."""
    code: str
    """The code received so far (the lines after the opening fence)."""


def top_level_runs(tokens: list[Token]) -> list[tuple[int, list[Token]]]:
    """Group tokens into top-level blocks.

    Returns:
        ``(first source line, tokens)`` for each top-level block, in order.
    """
    runs: list[tuple[int, list[Token]]] = []
    current: list[Token] = []
    depth = 0
    for token in tokens:
        if depth == 0:
            current = [token]
            runs.append((token.map[0] if token.map else 0, current))
        else:
            current.append(token)
        depth += token.nesting
    return runs


def _closes(line: str, char: str, length: int) -> bool:
    stripped = line.strip(" ")
    return (
        len(line) - len(line.lstrip(" ")) <= 3
        and len(stripped) >= length
        and stripped == char * len(stripped)
    )


class BlockSplitter:
    """The blocks of a Markdown source that grows at its end.

    ``feed()`` is cheap (it only queues text); ``update()`` does the work, at most once a
    frame, and its cost depends on the size of the open block, not of the source.
    """

    def __init__(self) -> None:
        """Start empty."""
        self.closed: list[Block] = []
        """Blocks that can no longer change, in order."""
        self._pending: list[str] = []
        self._tail = ""
        self._open_tokens: list[Token] = []
        # An open top-level fence: (fence char, fence length, info, where the code starts
        # in the tail, how far the tail was scanned for the closer).
        self._fence: tuple[str, int, str, int, int] | None = None
        self._changed = False
        self.parses = 0
        """How many times the open tail was parsed (for tests and benchmarks)."""
        self.parsed_chars = 0
        """How many characters those parses read in all."""

    @property
    def tail(self) -> str:
        """The source of the open block (after :meth:`update`)."""
        return self._tail

    @property
    def source(self) -> str:
        """The whole source fed so far."""
        return "".join(block.source for block in self.closed) + self._tail + "".join(self._pending)

    @property
    def open_tokens(self) -> list[Token]:
        """Tokens of the open block ([] while it is an open fence or blank)."""
        return self._open_tokens

    @property
    def open_fence(self) -> OpenFence | None:
        """The open block when it is a fenced code block still waiting for its closer."""
        if self._fence is None:
            return None
        _, _, info, code_start, _ = self._fence
        return OpenFence(info, self._tail[code_start:])

    def feed(self, text: str) -> None:
        """Queue more source text."""
        if text:
            self._pending.append(text)

    def update(self) -> bool:
        """Take in the queued text: close the blocks that a later block follows.

        Returns:
            Whether anything changed since the last update.
        """
        if not self._pending:
            return False
        self._tail += "".join(self._pending)
        self._pending.clear()
        if self._fence is not None and not self._fence_closed():
            return True
        self._reparse()
        return True

    def finish(self) -> None:
        """The source is complete: close the open block too."""
        if self._pending:
            self._tail += "".join(self._pending)
            self._pending.clear()
            self._reparse()
        elif self._fence is not None:
            self._reparse()
        if self._open_tokens:
            self.closed.append(Block(self._tail, self._open_tokens))
        elif self._tail and self.closed:
            # Only blank lines after the last block: they belong to it.
            last = self.closed[-1]
            self.closed[-1] = Block(last.source + self._tail, last.tokens)
        self._tail = ""
        self._open_tokens = []
        self._fence = None

    def _fence_closed(self) -> bool:
        """Scan the new complete lines of an open fence for its closing fence."""
        assert self._fence is not None
        char, length, info, code_start, scanned = self._fence
        tail = self._tail
        end = tail.rfind("\n")
        if end >= scanned:
            for line in tail[scanned:end].split("\n"):
                if _closes(line, char, length):
                    return True
            self._fence = (char, length, info, code_start, end + 1)
        # A closer on the last, partial line already closes the fence (as it does at
        # the end of a finished document); a later character may undo that.
        partial = tail[max(end + 1, code_start) :]
        return bool(partial) and _closes(partial, char, length)

    def _reparse(self) -> None:
        tail = self._tail
        tokens = parse(tail)
        self.parses += 1
        self.parsed_chars += len(tail)
        runs = top_level_runs(tokens)
        # A block is closed once a later block starts on a COMPLETE line: a partial line
        # can still turn out to continue it ("2" may become "2. next item").
        complete_lines = tail.count("\n")
        keep = len(runs) - 1
        while keep > 0 and runs[keep][0] >= complete_lines:
            keep -= 1
        if keep > 0:
            starts = _line_offsets(tail, [line for line, _ in runs[: keep + 1]])
            for (_, run), start, end in zip(runs, starts, starts[1:], strict=False):
                self.closed.append(Block(tail[start:end], run))
            tail = tail[starts[-1] :]
            self._tail = tail
            if keep < len(runs) - 1:
                # The rest is still undecided: parse it again as the open tail.
                tokens = parse(tail)
                self.parses += 1
                self.parsed_chars += len(tail)
                runs = top_level_runs(tokens)
            else:
                runs = runs[keep:]
        self._open_tokens = [token for _, run in runs for token in run] if runs else []
        self._fence = None
        if len(self._open_tokens) == 1 and self._open_tokens[0].type == "fence":
            first, newline, _ = tail.partition("\n")
            match = _FENCE_OPEN.match(first)
            # Tracked only once its opening line is complete (the info string may grow).
            if match and newline and not self._ends_with_closer(tail, match):
                fence = match.group(1) or match.group(2)
                info = self._open_tokens[0].info
                code_start = len(first) + len(newline)
                scanned = tail.rfind("\n") + 1
                self._fence = (fence[0], len(fence), info, code_start, max(code_start, scanned))

    @staticmethod
    def _ends_with_closer(tail: str, match: re.Match[str]) -> bool:
        fence = match.group(1) or match.group(2)
        lines = tail.split("\n")[1:]
        return any(_closes(line, fence[0], len(fence)) for line in lines if line)


def _line_offsets(text: str, lines: list[int]) -> list[int]:
    """Character offsets where the given (increasing) line numbers start in ``text``."""
    offsets: list[int] = []
    line = 0
    position = 0
    for wanted in lines:
        while line < wanted:
            position = text.index("\n", position) + 1
            line += 1
        offsets.append(position)
    return offsets
