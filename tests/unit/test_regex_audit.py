"""Every regular expression that reads text a person typed, or a model or server sent,
finishes in time linear in that text (issue #21).

Python's ``re`` backtracks: a pattern whose quantifiers can split the same run of
characters in many ways takes quadratic, cubic or exponential time on that run followed
by a character that makes the match fail. Each test below feeds one pattern, the way
tuichat uses it, such runs growing to 100 KB, and fails as soon as one size takes longer
than the budget or the time grows faster than the text. The last tests show that the
check catches the patterns that were unsafe before (Textual's number fields, the config
table header, the OpenAI plugin's HTML tag stripper).

Read without a regular expression, so not listed here: the keymap (split on commas), the
search query (``Store.fts_query``: split on whitespace), the providers' SSE (httpx-sse
splits lines with ``str.split``). The model picker's fuzzy matching is not a regular
expression but blew up the same way: ``tests/app/test_fuzzy.py``.
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tuichat_anthropic
import tuichat_gemini
import tuichat_openai

from tuichat import codeblocks, completion, config, demo, installer, sanitize, titles
from tuichat.app.render import blocks
from tuichat.app.screens.export import default_export_path
from tuichat.partial_numbers import is_partial_integer, is_partial_number
from tuichat.testing import sse

#: The largest text fed: 100 KB.
LARGEST = 100_000

#: The most one size may take, in seconds (100 KB through a linear pattern: milliseconds).
BUDGET = 0.5

#: Below this, 100 KB is fast whatever its ratio to 25 KB: on a loaded machine one slow
#: timing of a linear scan (33 ms here) must not read as superlinear growth. The unsafe
#: patterns of test_the_audit_fails_on_unsafe_patterns take seconds there.
FLOOR = 0.15


def best_time(
    run: Callable[[str], Any], text: str, budget: float = BUDGET, repeat: int = 3
) -> float:
    """The fastest of ``repeat`` runs, in CPU seconds of this thread (the minimum is the
    least noisy); one run when it is slow enough to measure alone."""
    best = float("inf")
    for _ in range(repeat):
        # This thread's CPU time, not the wall clock: other processes on a loaded machine
        # (a shared CI runner, the suite's own servers) must not read as growth.
        # The collector off while timed: a full collection walks every object the run
        # made (markdown-it's tokens), so its cost grows with the text and the heap the
        # rest of the suite left, and read as superlinear growth of a linear parser.
        gc.disable()
        try:
            started = time.thread_time()
            run(text)
            best = min(best, time.thread_time() - started)
        finally:
            gc.enable()
        if best > budget / 5:
            break
    return best


def assert_linear(
    run: Callable[[str], Any],
    adversarial: Callable[[int], str],
    *,
    budget: float = BUDGET,
    start: int = 8,
    growth: float = 1.125,
    repeat: int = 3,
) -> None:
    """``run`` on ``adversarial(n)`` for n growing from ``start`` to 100 KB: every size
    within ``budget``, and 100 KB at most 8 times 25 KB (linear: 4; quadratic: 16).

    Small steps by default: an exponential pattern must fail on a size it finishes in
    seconds.
    """
    timings: dict[int, float] = {}
    size = start
    while True:
        size = min(size, LARGEST)
        text = adversarial(size)
        took = best_time(run, text, budget, repeat)
        assert took <= budget, f"{took:.2f} s for {len(text)} characters: not linear"
        timings[size] = took
        if size == LARGEST:
            break
        size = max(size + 2, int(size * growth))
    quarter = max((s for s in timings if s <= LARGEST // 4), default=LARGEST)
    small, large = timings[quarter], timings[LARGEST]
    # Measured again before it counts as growth: a slow moment of a shared machine (a
    # virtual one counts the host's steal as this thread's CPU) hits one pair of
    # timings, superlinear growth hits every pair.
    for _ in range(2):
        if large <= max(8 * small, FLOOR):
            return
        small = best_time(run, adversarial(quarter), budget, repeat)
        large = best_time(run, adversarial(LARGEST), budget, repeat)
    assert large <= max(8 * small, FLOOR), (
        f"{small:.4f} s for {quarter} characters but {large:.4f} s "
        f"for {LARGEST}: grows faster than the text"
    )


class runs:  # noqa: N801 (reads as a phrase: runs(" ", "x", start="["))
    """``start``, then ``unit`` repeated to ``n`` characters, then ``end`` (makes it fail)."""

    def __init__(self, unit: str, end: str = "", start: str = "") -> None:
        self.unit, self.end, self.start = unit, end, start

    def __call__(self, n: int) -> str:
        return self.start + self.unit * (n // len(self.unit)) + self.end

    def __str__(self) -> str:
        return f"{self.start!r}+{self.unit!r}*n+{self.end!r}"


# -- sanitising: model and server text ---------------------------------------------------


@pytest.mark.parametrize("adversarial", [runs("\x1b", "a"), runs("\x1b[31m", "\x9b")], ids=str)
def test_sanitize_control_is_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(sanitize.neutralize, adversarial)


def test_sanitize_surrogate_is_linear() -> None:
    assert_linear(sanitize.storable, runs("\ud800", "a"))


# -- Markdown and code blocks: model text ------------------------------------------------


@pytest.mark.parametrize(
    "adversarial",
    [runs("`", "x`", start="```"), runs("x", "`", start="```"), runs(" ", "x")],
    ids=str,
)
def test_render_fence_open_is_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(blocks._FENCE_OPEN.match, adversarial)


@pytest.mark.parametrize(
    "adversarial",
    [
        runs("`", " x\n", start="```\n"),
        runs("`", "x"),
        runs("~", "\n", start="~~~\n"),
        runs("```\n", "x"),
        runs(" ", "x", start="```\n```"),
    ],
    ids=str,
)
def test_codeblocks_open_and_close_are_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(codeblocks.code_blocks, adversarial)


@pytest.mark.parametrize(
    "adversarial",
    [runs("[![", "a"), runs("a**", "_"), runs("`a", "b"), runs("<a", " ")],
    ids=str,
)
def test_markdown_parse_is_linear(adversarial: Callable[[int], str]) -> None:
    # markdown-it's own patterns read the model's text as it streams (re-parsing the open
    # tail): linear, but Python, so a larger budget and two sizes.
    assert_linear(blocks.parse, adversarial, budget=5.0, start=25_000, growth=4.0)


def test_demo_token_is_linear() -> None:
    # The demo echoes the prompt a person typed, split into words.
    assert_linear(demo.tokenize, runs(" \t", "a"))


# -- titles: model text ------------------------------------------------------------------


@pytest.mark.parametrize(
    "adversarial", [runs(" ", "x", start="title"), runs("title ", ":")], ids=str
)
def test_title_prefix_is_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(titles.clean_title, adversarial)


def test_export_slug_is_linear() -> None:
    # The title (a model's or a person's) becomes the export's file name.
    assert_linear(lambda title: default_export_path(Path("exports"), 1, title), runs("!-", "a"))


# -- config and keymap parsing: what a person wrote ----------------------------------------


@pytest.mark.parametrize(
    "adversarial",
    [
        runs(" ", "x", start="["),
        runs("[", "x"),
        runs("[ ", "x"),
        runs(" ", "x]y", start="[a"),
        runs("]", "x", start="[a"),
    ],
    ids=str,
)
def test_config_table_header_is_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(lambda line: config.find_key_line(line, ["ui", "theme"]), adversarial)


@pytest.mark.parametrize("adversarial", [runs("a", "!"), runs(" ", "!"), runs("a ", "!")], ids=str)
def test_config_key_is_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(lambda line: config.find_key_line(line, ["theme"]), adversarial)


@pytest.mark.parametrize(
    "adversarial", [runs("a", "/", start="http://"), runs("a", " ", start="https://")], ids=str
)
def test_serve_origin_is_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(re.compile(SERVE_ORIGIN).match, adversarial)


# -- the number fields: what a person typed -----------------------------------------------


@pytest.mark.parametrize("check", [is_partial_number, is_partial_integer])
@pytest.mark.parametrize(
    "adversarial", [runs("1", "a"), runs("1_", "a"), runs("1", ".1.")], ids=str
)
def test_options_number_fields_are_linear(
    check: Callable[[str], bool], adversarial: Callable[[int], str]
) -> None:
    assert_linear(check, adversarial)


# -- plugins: what a server sent -----------------------------------------------------------


@pytest.mark.parametrize(
    "adversarial",
    [runs("<", "", start=">"), runs("<a", "", start=">"), runs("a", "", start="<>")],
    ids=str,
)
def test_openai_tag_is_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(lambda body: tuichat_openai.parse_openai_error(None, body.encode()), adversarial)


def test_anthropic_date_is_linear() -> None:
    assert_linear(tuichat_anthropic._DATE.match, runs("1", "x"))


@pytest.mark.parametrize(
    "adversarial", [runs(" ", "x"), runs("1", "x"), runs("1", " x", "1s")], ids=str
)
def test_gemini_duration_is_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(tuichat_gemini.parse_duration, adversarial)


@pytest.mark.parametrize("adversarial", [runs("1", "x", start="/v1"), runs("/v1", "x")], ids=str)
def test_gemini_versioned_is_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(tuichat_gemini._VERSIONED.search, adversarial)


# -- the test kit's server: what a client sent ---------------------------------------------


def test_testing_sse_newline_is_linear() -> None:
    assert_linear(sse._NEWLINE.split, runs("\r", "a"))


def test_testing_models_path_is_linear() -> None:
    assert_linear(
        lambda path: re.search(r"/models/([^/:]+):", path), runs("a", "/", start="/models/")
    )


# -- patterns tested by their text (the guard below checks the source still holds it) -----

#: ``tuichat serve``'s allowed origins (``--cors-origin``, the config).
SERVE_ORIGIN = r"^https?://[^/\s?#]+$"
#: A model name's snapshot suffix, when prices are looked up (a server's model names).
PRICES_SNAPSHOT = r"[-@:](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3}|latest)"
#: The longest backtick run of a text ``ask`` fences (an attachment, a person's file).
ASK_BACKTICKS = r"`+"


@pytest.mark.parametrize(
    "adversarial", [runs("1", "x", start="-"), runs("-1", "x"), runs("-2024-01-0", "x")], ids=str
)
def test_prices_snapshot_is_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(re.compile(PRICES_SNAPSHOT).fullmatch, adversarial)
    assert_linear(re.compile(PRICES_SNAPSHOT).search, adversarial)


def test_ask_backticks_is_linear() -> None:
    assert_linear(lambda text: re.findall(ASK_BACKTICKS, text), runs("`", "a"))


# -- install, uninstall and completion: package names typed, the parser's words -------------


@pytest.mark.parametrize("adversarial", [runs("a.", "!"), runs("-_.", "a")], ids=str)
def test_installer_names_are_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(installer._NAME.match, adversarial)
    assert_linear(installer.normalize, adversarial)


@pytest.mark.parametrize("adversarial", [runs("a-", " "), runs("--a", " ", start="-")], ids=str)
def test_completion_words_are_linear(adversarial: Callable[[int], str]) -> None:
    assert_linear(completion._WORD.fullmatch, adversarial)
    assert_linear(completion._function, adversarial)


# -- every pattern in the source is one of those above ---------------------------------------

#: Each regular expression of tuichat and its plugins, and the test that feeds it.
AUDITED = {
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f]": "test_sanitize_control_is_linear",
    "[\ud800-\udfff]": "test_sanitize_surrogate_is_linear",
    r"^\s*+\[++([^\]]++)\]++\s*+(#.*)?$": "test_config_table_header_is_linear",
    r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=": "test_config_key_is_linear",
    SERVE_ORIGIN: "test_serve_origin_is_linear",
    r"^ {0,3}(?:(`{3,})[^`]*|(~{3,}).*)$": "test_render_fence_open_is_linear",
    r"[^a-z0-9]+": "test_export_slug_is_linear",
    r"\S+\s*|\s+": "test_demo_token_is_linear",
    r"^(title|titre|subject)\s*:\s*": "test_title_prefix_is_linear",
    r"\r\n|\r|\n": "test_testing_sse_newline_is_linear",
    r"\s*\S+\s*": "(the test kit's own sample text, not input)",
    r"/models/([^/:]+):": "test_testing_models_path_is_linear",
    r"^( {0,3})(`{3,}|~{3,})(.*)$": "test_codeblocks_open_and_close_are_linear",
    r"^\d{4}-\d{2}-\d{2}$": "test_anthropic_date_is_linear",
    r"<[^<>]++>": "test_openai_tag_is_linear",
    r"^\s*(\d+(?:\.\d+)?)s\s*$": "test_gemini_duration_is_linear",
    r"/v1(?:alpha|beta)?\d*$": "test_gemini_versioned_is_linear",
    PRICES_SNAPSHOT: "test_prices_snapshot_is_linear",
    ASK_BACKTICKS: "test_ask_backticks_is_linear",
    r"[A-Za-z0-9][A-Za-z0-9._-]*": "test_installer_names_are_linear",
    r"[-_.]+": "test_installer_names_are_linear",
    r"[A-Za-z0-9_][A-Za-z0-9_.+-]*|-{1,2}[A-Za-z0-9][A-Za-z0-9-]*": (
        "test_completion_words_are_linear"
    ),
    r"\W": "test_completion_words_are_linear",
}

#: Patterns built at run time, by file: what builds them and the test that feeds them.
BUILT = {"tuichat/codeblocks.py": "test_codeblocks_open_and_close_are_linear"}

_RE_CALLS = {
    "compile",
    "match",
    "fullmatch",
    "search",
    "sub",
    "subn",
    "split",
    "findall",
    "finditer",
}


def regular_expressions() -> list[tuple[str, str | None]]:
    """(file, pattern text or None when built at run time) for each ``re.<call>(pattern)``
    in tuichat and its plugins, tests left out."""
    import ast

    root = Path(__file__).resolve().parents[2]
    files = [*root.joinpath("tuichat").rglob("*.py"), *root.glob("plugins/*/*.py")]
    found: list[tuple[str, str | None]] = []
    for path in files:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr in _RE_CALLS
                and node.args
            ):
                first = node.args[0]
                pattern = first.value if isinstance(first, ast.Constant) else None
                found.append((path.relative_to(root).as_posix(), pattern))
    return found


def test_every_regular_expression_in_the_source_is_audited() -> None:
    # A new pattern (or a changed one) needs its adversarial test above, then its entry.
    unaudited = [
        f"{path}: {pattern!r}" if pattern is not None else f"{path}: (built at run time)"
        for path, pattern in regular_expressions()
        if (pattern not in AUDITED if pattern is not None else path not in BUILT)
    ]
    assert unaudited == []
    assert set(AUDITED.values()) - {"(the test kit's own sample text, not input)"} <= set(globals())


# -- the check catches the patterns that were unsafe ---------------------------------------

TEXTUAL_INTEGER = r"[-+]?(?:\d*|\d+_)*"
TEXTUAL_NUMBER = r"[-+]?(?:\d*|\d+_)*\.?(?:\d*|\d+_)*(?:\d[eE]?[-+]?(?:\d*|\d+_)*)?"
OLD_CONFIG_HEADER = r"^\s*\[+\s*([^\]]+?)\s*\]+\s*(#.*)?$"
OLD_OPENAI_TAG = r"<[^>]+>"


@pytest.mark.parametrize(
    ("run", "adversarial"),
    [
        pytest.param(re.compile(TEXTUAL_NUMBER).fullmatch, runs("1", "a"), id="textual-number"),
        pytest.param(re.compile(TEXTUAL_INTEGER).fullmatch, runs("1", "a"), id="textual-integer"),
        pytest.param(re.compile(OLD_CONFIG_HEADER).match, runs(" ", "x", "["), id="config-header"),
        pytest.param(
            lambda text: re.sub(OLD_OPENAI_TAG, " ", text), runs("<", "", ">"), id="openai-tag"
        ),
    ],
)
def test_the_check_fails_the_patterns_that_were_unsafe(
    run: Callable[[str], Any], adversarial: Callable[[int], str]
) -> None:
    with pytest.raises(AssertionError, match="not linear|faster than the text"):
        assert_linear(run, adversarial)
