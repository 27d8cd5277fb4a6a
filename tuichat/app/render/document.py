"""Render a (growing) Markdown document to lines, block by block, with bounded work.

:class:`MarkdownDocument` sits between a :class:`~.blocks.BlockSplitter` and a widget
that paints with Textual's line API:

* a closed block is rendered once per width (Rich's Markdown renderer, fed the block's
  tokens) and its lines are kept;
* the open block is re-rendered when the source changed, at most once per frame;
* an open code fence is rendered in pieces: every :data:`FENCE_CHUNK` complete lines are
  highlighted once and kept, and only the lines after them are redrawn per frame;
* lines are looked up by number, so the widget produces only the visible ones.

Blocks are joined as Rich joins them in a whole document (one blank line after every
element except a horizontal rule), so the finished reply is line for line what
``rich.markdown.Markdown(source)`` draws (see ``tests/render``).
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from markdown_it.token import Token
from rich.console import Console, ConsoleOptions, RenderableType
from rich.markdown import Markdown as RichMarkdown
from rich.markdown import UnknownElement
from rich.segment import Segment
from rich.syntax import Syntax
from textual.strip import Strip

from ..patches.token_markdown import TokenMarkdown
from .blocks import Block, BlockSplitter, OpenFence

#: Complete lines of an open code fence highlighted together and then kept.
FENCE_CHUNK = 16

#: Closed blocks whose rendered lines are kept (the most recently used ones).
KEEP_BLOCKS = 256


@dataclass(frozen=True)
class RenderContext:
    """What block renders depend on, besides the block and the width."""

    console: Console
    """The console to render with (the app's)."""
    options: ConsoleOptions
    """Its options (the app's ``console_options``)."""
    code_theme: str
    """Pygments theme of code blocks."""

    def key(self, width: int) -> tuple[int, str]:
        """Cache key of renders made in this context at ``width``."""
        return (width, self.code_theme)


def render_lines(renderable: RenderableType, width: int, context: RenderContext) -> list[Strip]:
    """Render anything to lines of at most ``width`` cells (as Textual's RichVisual does)."""
    options = context.options.update(width=width, height=None, highlight=False)
    segments = context.console.render(renderable, options)
    # Simplified (neighbouring segments of one style joined: a third fewer): every frame
    # that scrolls cuts, styles and writes each segment of the lines on screen again.
    return [
        Strip(line).simplify()
        for line in Segment.split_and_crop_lines(
            segments, width, include_new_lines=False, pad=False
        )
    ]


def ends_with_new_line(tokens: list[Token], before: bool) -> bool:
    """Rich's ``new_line`` state after a top-level block (``before``: the state before it).

    Rich puts a blank line before an element when the element left last wants one
    (every element but a horizontal rule). Nested elements set the state too, so a list
    starts with a blank line even at the top of a document.
    """
    if not tokens:
        return before
    return RichMarkdown.elements.get(tokens[0].type, UnknownElement).new_line


# An element that draws nothing and wants a blank line after it: put in front of a
# block rendered on its own, it gives Rich the state the previous block left.
_NEW_LINE_PREFIX = Token("html_block", "", 0, content="")


def render_block(
    tokens: list[Token], width: int, context: RenderContext, *, after_new_line: bool
) -> list[Strip]:
    """Render one top-level block's tokens as Rich renders them inside the document.

    Args:
        tokens: The block's tokens.
        width: Cells per line.
        context: Console, options and code theme.
        after_new_line: Rich's ``new_line`` state after the previous block.
    """
    if not tokens:
        return []
    if after_new_line:
        tokens = [_NEW_LINE_PREFIX, *tokens]
    return render_lines(TokenMarkdown(tokens, code_theme=context.code_theme), width, context)


def _fence_piece(
    code: str, lexer: str, width: int, context: RenderContext, *, top: bool, bottom: bool
) -> list[Strip]:
    """Lines of part of a code fence, padded like Rich's code blocks (1 cell, 1 line)."""
    syntax = Syntax(
        code,
        lexer,
        theme=context.code_theme,
        word_wrap=True,
        padding=(1 if top else 0, 1, 1 if bottom else 0, 1),
    )
    return render_lines(syntax, width, context)


@dataclass
class _FenceLines:
    """The kept pieces of an open code fence at one width."""

    info: str
    lines_done: int = 0
    strips: list[Strip] = field(default_factory=list)


@dataclass
class _WidthCache:
    """Everything rendered at one width."""

    heights: list[int] = field(default_factory=list)
    """Lines of each rendered closed block."""
    starts: list[int] = field(default_factory=list)
    """Line where each rendered closed block starts."""
    kept: OrderedDict[int, list[Strip]] = field(default_factory=OrderedDict)
    """Lines of the most recently used closed blocks (index -> lines), oldest first."""
    open_lines: list[Strip] | None = None
    """Lines of the open block (None: to render)."""
    fence: _FenceLines | None = None
    """Kept pieces of the open code fence."""


class MarkdownDocument:
    """A Markdown source (possibly still growing) and its lines at the widths asked for.

    With a ``budget``, closed blocks are rendered only by :meth:`advance`, for at most
    that many seconds a call, and the document shows the blocks rendered so far (the
    open block once all closed ones are shown): a burst of text can never hold the
    event loop for long, it is shown over the next frames instead. Without one, every
    block is rendered when first needed.
    """

    def __init__(
        self, source: str = "", *, finished: bool = True, budget: float | None = None
    ) -> None:
        """Create it.

        Args:
            source: The text so far (already neutralised).
            finished: Whether no more text will come.
            budget: Most seconds of closed-block rendering per :meth:`advance`.
        """
        self.splitter = BlockSplitter()
        self.splitter.feed(source)
        self.finished = False
        self.budget = budget
        self._shown = 0
        self._caches: dict[tuple[int, str], _WidthCache] = {}
        # Rich's new_line state after each closed block.
        self._states: list[bool] = []
        self.block_renders = 0
        """Closed-block renders so far (each block once per width, and again if its
        lines were dropped from the :data:`KEEP_BLOCKS` most recently used)."""
        self.open_renders = 0
        """Open-block renders so far (at most one per frame)."""
        if finished:
            self.finish()
        else:
            self.update()

    # -- source ------------------------------------------------------------------------------

    @property
    def source(self) -> str:
        """The whole source."""
        return self.splitter.source

    def feed(self, text: str) -> None:
        """Queue more text (cheap: the work happens in :meth:`update`)."""
        self.splitter.feed(text)

    def update(self) -> bool:
        """Take in the queued text; returns whether anything changed."""
        changed = self.splitter.update()
        if changed:
            self._changed()
        return changed

    def finish(self) -> None:
        """No more text: the open block is closed too."""
        self.splitter.finish()
        self.finished = True
        self._changed()

    def _changed(self) -> None:
        for block in self.splitter.closed[len(self._states) :]:
            before = self._states[-1] if self._states else False
            self._states.append(ends_with_new_line(block.tokens, before))
        for cache in self._caches.values():
            cache.open_lines = None
            if self.splitter.open_fence is None:
                cache.fence = None

    def _state_before(self, index: int) -> bool:
        return self._states[index - 1] if index > 0 else False

    @property
    def backlog(self) -> int:
        """Closed blocks not shown yet (only with a budget)."""
        if self.budget is None:
            return 0
        return len(self.splitter.closed) - self._shown

    # -- lines -------------------------------------------------------------------------------

    def _target(self) -> int:
        """How many closed blocks are shown."""
        return len(self.splitter.closed) if self.budget is None else self._shown

    def _width_cache(self, width: int, context: RenderContext) -> _WidthCache:
        key = context.key(width)
        cache = self._caches.get(key)
        if cache is None:
            # Keep one width: a resize re-wraps (lazily), it does not accumulate.
            self._caches.clear()
            cache = self._caches[key] = _WidthCache()
        return cache

    def _cache(self, width: int, context: RenderContext) -> _WidthCache:
        cache = self._width_cache(width, context)
        for _ in range(len(cache.heights), self._target()):
            self._render_next(cache, width, context)
        return cache

    def prepare(self, width: int, context: RenderContext, budget: float) -> bool:
        """Render closed blocks at ``width`` before they are first needed, for at most
        ``budget`` seconds (at least one block): a page of history about to be shown
        is measured in small steps while the app is idle, not all at once in a layout.

        Returns:
            Whether every closed block is rendered at ``width`` now.
        """
        cache = self._width_cache(width, context)
        closed = len(self.splitter.closed)
        deadline = time.perf_counter() + budget
        while len(cache.heights) < closed:
            self._render_next(cache, width, context)
            if time.perf_counter() >= deadline:
                break
        return len(cache.heights) >= closed

    def _render_next(self, cache: _WidthCache, width: int, context: RenderContext) -> None:
        index = len(cache.heights)
        lines = self._render_closed(index, width, context)
        start = cache.starts[-1] + cache.heights[-1] if cache.heights else 0
        cache.heights.append(len(lines))
        cache.starts.append(start)
        self._keep(cache, index, lines)

    def _render_closed(self, index: int, width: int, context: RenderContext) -> list[Strip]:
        self.block_renders += 1
        block = self.splitter.closed[index]
        lines = render_block(block.tokens, width, context, after_new_line=self._state_before(index))
        block.release()
        return lines

    @staticmethod
    def _keep(cache: _WidthCache, index: int, lines: list[Strip]) -> None:
        # Only the most recently used blocks keep their lines: memory (and the garbage
        # collector's work) stays bounded however long the text; a block scrolled back
        # into view is rendered again, which costs about a millisecond.
        kept = cache.kept
        kept[index] = lines
        kept.move_to_end(index)
        while len(kept) > KEEP_BLOCKS:
            kept.popitem(last=False)

    def advance(self, width: int, context: RenderContext) -> bool:
        """Render closed blocks for at most ``budget`` seconds (at least one).

        Returns:
            Whether every closed block is shown now.
        """
        if self.budget is None:
            return True
        cache = self._cache(width, context)
        closed = len(self.splitter.closed)
        deadline = time.perf_counter() + self.budget
        while len(cache.heights) < closed:
            self._render_next(cache, width, context)
            if time.perf_counter() >= deadline:
                break
        if len(cache.heights) != self._shown:
            self._shown = len(cache.heights)
            cache.open_lines = None
        return self._shown == closed

    def _closed_height(self, cache: _WidthCache) -> int:
        if not cache.heights:
            return 0
        return cache.starts[-1] + cache.heights[-1]

    def _open(self, cache: _WidthCache, width: int, context: RenderContext) -> list[Strip]:
        if self._target() < len(self.splitter.closed):
            return []  # Shown once every block before it is.
        if cache.open_lines is not None:
            return cache.open_lines
        fence = self.splitter.open_fence
        if fence is not None:
            lines = self._open_fence(cache, fence, width, context)
        else:
            cache.fence = None
            tokens = self.splitter.open_tokens
            after = self._state_before(len(self.splitter.closed))
            lines = render_block(tokens, width, context, after_new_line=after)
        self.open_renders += 1
        cache.open_lines = lines
        return lines

    def _open_fence(
        self, cache: _WidthCache, fence: OpenFence, width: int, context: RenderContext
    ) -> list[Strip]:
        lexer = fence.info.partition(" ")[0] or "text"
        kept = cache.fence
        if kept is None or kept.info != fence.info:
            kept = cache.fence = _FenceLines(fence.info)
        lines = fence.code.split("\n")
        complete = len(lines) - 1
        # A chunk is kept only once a non-blank line follows it: Rich strips the trailing
        # blank lines of a code block, which a kept chunk could not take back.
        while complete - kept.lines_done >= FENCE_CHUNK and any(
            line.strip() for line in lines[kept.lines_done + FENCE_CHUNK : complete]
        ):
            chunk = "\n".join(lines[kept.lines_done : kept.lines_done + FENCE_CHUNK])
            kept.strips += _fence_piece(
                chunk, lexer, width, context, top=kept.lines_done == 0, bottom=False
            )
            kept.lines_done += FENCE_CHUNK
        rest = "\n".join(lines[kept.lines_done :]).rstrip()
        tail = _fence_piece(rest, lexer, width, context, top=kept.lines_done == 0, bottom=True)
        lead = [Strip([])] if self._state_before(len(self.splitter.closed)) else []
        return lead + kept.strips + tail

    def height(self, width: int, context: RenderContext) -> int:
        """Lines of the document at ``width`` (of what is shown, with a budget)."""
        cache = self._cache(width, context)
        return self._closed_height(cache) + len(self._open(cache, width, context))

    def final_height(self, width: int, context: RenderContext) -> int:
        """Lines at ``width`` that will not change any more: those of the closed blocks
        shown (all of them once the text is finished)."""
        return self._closed_height(self._cache(width, context))

    def line(self, y: int, width: int, context: RenderContext) -> Strip | None:
        """Line ``y`` at ``width`` (None past the end)."""
        cache = self._cache(width, context)
        closed = self._closed_height(cache)
        if 0 <= y < closed:
            index = bisect_right(cache.starts, y) - 1
            lines = cache.kept.get(index)
            if lines is None:
                lines = self._render_closed(index, width, context)
            self._keep(cache, index, lines)
            return lines[y - cache.starts[index]]
        lines = self._open(cache, width, context)
        y -= closed
        return lines[y] if 0 <= y < len(lines) else None

    def lines(self, width: int, context: RenderContext) -> list[Strip]:
        """Every line at ``width`` (tests, exports)."""
        height = self.height(width, context)
        return [line for y in range(height) if (line := self.line(y, width, context)) is not None]


def document_lines(source: str, width: int, context: RenderContext) -> list[Strip]:
    """Render a whole source at once, through the same block path (reference render)."""
    return MarkdownDocument(source).lines(width, context)


def whole_lines(source: str, width: int, context: RenderContext) -> list[Strip]:
    """Render a whole source with Rich's own Markdown renderable (the look to match)."""
    markdown = RichMarkdown(source, code_theme=context.code_theme, hyperlinks=False)
    return render_lines(markdown, width, context)


def texts(lines: Iterable[Strip]) -> list[str]:
    """The text of each line (for comparisons in tests)."""
    return [line.text for line in lines]


__all__ = [
    "Block",
    "MarkdownDocument",
    "RenderContext",
    "TokenMarkdown",
    "document_lines",
    "render_block",
    "whole_lines",
]
