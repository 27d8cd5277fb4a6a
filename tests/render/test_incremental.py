"""The streaming Markdown renderer draws exactly what rendering the whole source draws.

Every comparison is of Rich segments (text AND style), line by line, between
:class:`~tuichat.app.render.MarkdownDocument` fed in pieces and Rich's own
``Markdown(source)`` rendered in one go.
"""

from __future__ import annotations

import random

import pytest
from rich.console import Console
from rich.segment import Segment

from tuichat.app.render import MarkdownDocument, RenderContext, document_lines, whole_lines
from tuichat.app.render import document as document_module
from tuichat.app.render.document import FENCE_CHUNK
from tuichat.testing.__main__ import markdown_tokens

WIDTH = 60

CORPUS: dict[str, str] = {
    "prose": "Hello *world*, this is **bold** and `code`.\nA second line.\n\nNext paragraph.\n",
    "headings": "# One\n\nText\n\n## Two\nmore\n\nSetext\n======\n\n### Three ###\n",
    "lists": "- a\n- b\n  - nested\n- c\n\n1. one\n2. two\n\n   still two\n3. three\n\ntail\n",
    "loose list": "- a\n\n- b\n\n\n- c\ntext\n",
    "fence": "Intro:\n\n```python\ndef f(x):\n    return x * 2\n```\n\nAfter.\n",
    "tilde fence": "~~~\n``` not a closer\n~~~~\n\n````md\n```\ninner\n```\n````\nend\n",
    "unclosed fence": "Look:\n\n```js\nconst a = 1;\nlet b = 'x'\n",
    "fence in list": "1. step\n\n   ```sh\n   ls -la\n   ```\n2. next\n",
    "table": "| a | b |\n|---|:-:|\n| 1 | 2 |\n| three | four |\n\nbelow\n",
    "quote": "> quoted *text*\n> more\n>\n> - item\n\nplain\n",
    "rules": "a\n\n---\n\nb\n***\n- x\n\n___\n",
    "indented code": "para\n\n    code line\n    more code\n\nafter\n",
    "html": "<div>\nhtml block\n</div>\n\ntext <b>inline</b>\n",
    "links": "See [the docs](https://example.com) and <https://x.y>.\n\n![img](a.png)\n",
    "starts with a list": "- first\n- second\n\nThen text.\n",
    "starts with a fence": "```\ncode\n```\n",
    "blank lines": "\n\n\npara\n\n\n\n\n",
    "hard breaks": "line one  \nline two\\\nline three\n",
    "hostile": "[bold]x[/] \ufffd]52;c;SGVsbG8=\u2407 and [@click=app.quit]z[/]\n",
}


@pytest.fixture(scope="module")
def context() -> RenderContext:
    console = Console(
        width=WIDTH, color_system="truecolor", force_terminal=True, legacy_windows=False
    )
    return RenderContext(console, console.options, "monokai")


def segments(lines: list) -> list[list[Segment]]:
    return [list(line) for line in lines]


def streamed(pieces: list[str], context: RenderContext, *, measure_every: int = 1):
    """Feed ``pieces`` one frame each; yield (prefix, lines) after every frame."""
    document = MarkdownDocument("", finished=False)
    prefix = ""
    for index, piece in enumerate(pieces):
        document.feed(piece)
        document.update()
        prefix += piece
        if index % measure_every == 0:
            yield prefix, document.lines(WIDTH, context)
    document.finish()
    yield None, document.lines(WIDTH, context)


@pytest.mark.parametrize("name", list(CORPUS))
def test_blocks_joined_look_like_the_whole_document(name: str, context: RenderContext) -> None:
    source = CORPUS[name]
    expected = segments(whole_lines(source, WIDTH, context))
    assert segments(document_lines(source, WIDTH, context)) == expected


@pytest.mark.parametrize("name", list(CORPUS))
def test_every_split_into_two_deltas(name: str, context: RenderContext) -> None:
    source = CORPUS[name]
    expected = segments(whole_lines(source, WIDTH, context))
    for cut in range(len(source) + 1):
        frames = list(streamed([source[:cut], source[cut:]], context))
        # The first frame shows the prefix as a finished document of that text would.
        prefix, lines = frames[0]
        assert segments(lines) == segments(whole_lines(source[:cut], WIDTH, context)), cut
        assert segments(frames[-1][1]) == expected, cut


@pytest.mark.parametrize("name", list(CORPUS))
def test_one_character_per_frame(name: str, context: RenderContext) -> None:
    source = CORPUS[name]
    for prefix, lines in streamed(list(source), context):
        wanted = source if prefix is None else prefix
        assert segments(lines) == segments(whole_lines(wanted, WIDTH, context)), repr(wanted)


def test_a_long_reply_at_random_boundaries(context: RenderContext) -> None:
    source = "".join(markdown_tokens(3000))
    rng = random.Random(6)
    cuts = sorted(rng.sample(range(1, len(source)), 400))
    pieces = [source[a:b] for a, b in zip([0, *cuts], [*cuts, len(source)], strict=True)]
    frames = list(streamed(pieces, context, measure_every=37))
    for prefix, lines in frames[:-1]:
        assert prefix is not None
        assert segments(lines) == segments(whole_lines(prefix, WIDTH, context))
    assert segments(frames[-1][1]) == segments(whole_lines(source, WIDTH, context))


def test_a_long_code_fence_at_random_boundaries(context: RenderContext) -> None:
    code = "".join(f"def f{n}(x):\n    return x + {n}  # comment {n}\n\n" for n in range(120))
    source = f"Here:\n\n```python\n{code}```\n\nDone.\n"
    rng = random.Random(7)
    cuts = sorted(rng.sample(range(1, len(source)), 300))
    pieces = [source[a:b] for a, b in zip([0, *cuts], [*cuts, len(source)], strict=True)]
    frames = list(streamed(pieces, context, measure_every=5))
    for prefix, lines in frames[:-1]:
        # While the fence is open its lines are highlighted in chunks: same text, and
        # the same number of lines, as the whole document (colours may differ a little
        # where a chunk starts inside a multi-line construct).
        assert prefix is not None
        whole = whole_lines(prefix, WIDTH, context)
        assert [line.text for line in lines] == [line.text for line in whole]
    assert segments(frames[-1][1]) == segments(whole_lines(source, WIDTH, context))


def test_resizing_rewraps_from_the_kept_blocks(context: RenderContext) -> None:
    source = "".join(markdown_tokens(600))
    document = MarkdownDocument(source)
    for width in (WIDTH, 30, 100, WIDTH):
        assert segments(document.lines(width, context)) == segments(
            whole_lines(source, width, context)
        )


def test_work_per_frame_does_not_grow_with_the_reply(
    context: RenderContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per frame: at most the newly closed blocks and the open one are rendered."""
    rendered: list[int] = []
    real = document_module.render_lines

    def counting(renderable, width, ctx):  # type: ignore[no-untyped-def]
        lines = real(renderable, width, ctx)
        rendered.append(len(lines))
        return lines

    monkeypatch.setattr(document_module, "render_lines", counting)
    tokens = markdown_tokens(20_000)
    document = MarkdownDocument("", finished=False)
    per_frame_lines: list[int] = []
    per_frame_parsed: list[int] = []
    for start in range(0, len(tokens), 40):  # 40 tokens a frame: 500 frames
        closed_before = len(document.splitter.closed)
        renders_before = document.block_renders
        parsed_before = document.splitter.parsed_chars
        rendered.clear()
        document.feed("".join(tokens[start : start + 40]))
        document.update()
        document.height(WIDTH, context)
        newly_closed = len(document.splitter.closed) - closed_before
        assert document.block_renders - renders_before == newly_closed
        per_frame_lines.append(sum(rendered))
        per_frame_parsed.append(document.splitter.parsed_chars - parsed_before)
    # Each closed block was rendered exactly once over the whole reply.
    assert document.block_renders == len(document.splitter.closed)
    # The work of a late frame is like that of an early one (the sample reply repeats
    # a ~290-token section, so compare the worst frame of the first and last 100).
    assert max(per_frame_lines[-100:]) <= max(per_frame_lines[:100])
    assert max(per_frame_parsed[-100:]) <= max(per_frame_parsed[:100])


def test_an_open_code_fence_is_not_reparsed_nor_rehighlighted_whole(
    context: RenderContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[int] = []
    real = document_module.render_lines

    def counting(renderable, width, ctx):  # type: ignore[no-untyped-def]
        lines = real(renderable, width, ctx)
        rendered.append(len(lines))
        return lines

    monkeypatch.setattr(document_module, "render_lines", counting)
    document = MarkdownDocument("Code:\n\n```python\n", finished=False)
    document.height(WIDTH, context)
    parsed = document.splitter.parsed_chars
    for n in range(600):
        rendered.clear()
        document.feed(f"x_{n} = compute({n}, 'value')\n")
        document.update()
        height = document.height(WIDTH, context)
        # Only the lines after the last kept chunk (plus one new chunk) are highlighted.
        assert sum(rendered) <= 2 * FENCE_CHUNK + 4
    assert document.splitter.parsed_chars == parsed, "an open fence is never re-parsed"
    assert height >= 600
    document.feed("```\n\nDone.\n")
    document.finish()
    source = document.source
    assert segments(document.lines(WIDTH, context)) == segments(whole_lines(source, WIDTH, context))
