"""The number fields' check: exactly what Textual's patterns allowed, in linear time."""

from __future__ import annotations

import itertools
import re
import time

import pytest

from tuichat.partial_numbers import is_partial_integer, is_partial_number

#: Textual 8.2.8's patterns for Input(type="integer") and Input(type="number").
TEXTUAL_INTEGER = r"[-+]?(?:\d*|\d+_)*"
TEXTUAL_NUMBER = r"[-+]?(?:\d*|\d+_)*\.?(?:\d*|\d+_)*(?:\d[eE]?[-+]?(?:\d*|\d+_)*)?"

#: Every class of character the patterns tell apart, and one they all refuse; an
#: Arabic-Indic digit, which ``\d`` matches too.
ALPHABET = ["1", "0", "_", ".", "e", "E", "+", "-", "x", "\u0663"]

CHECKS = [
    pytest.param(TEXTUAL_INTEGER, is_partial_integer, id="integer"),
    pytest.param(TEXTUAL_NUMBER, is_partial_number, id="number"),
]


def short_strings(alphabet: list[str], longest: int) -> itertools.chain[tuple[str, ...]]:
    return itertools.chain.from_iterable(
        itertools.product(alphabet, repeat=length) for length in range(longest + 1)
    )


@pytest.mark.parametrize(("pattern", "check"), CHECKS)
def test_every_short_string_gets_the_old_verdict(pattern: str, check: object) -> None:
    compiled = re.compile(pattern)
    # Short strings are quick even for the old pattern: compare every one of them.
    alphabet = ["1", "_", ".", "e", "+", "-", "x"]
    differences = [
        text
        for text in map("".join, short_strings(alphabet, 7))
        if (compiled.fullmatch(text) is not None) != check(text)  # type: ignore[operator]
    ]
    assert differences == []


@pytest.mark.parametrize(("pattern", "check"), CHECKS)
def test_every_character_class_gets_the_old_verdict(pattern: str, check: object) -> None:
    compiled = re.compile(pattern)
    differences = [
        text
        for text in map("".join, short_strings(ALPHABET, 5))
        if (compiled.fullmatch(text) is not None) != check(text)  # type: ignore[operator]
    ]
    assert differences == []


@pytest.mark.parametrize(
    ("text", "integer", "number"),
    [
        ("", True, True),
        ("-12_345", True, True),
        ("1__2", False, False),
        ("_1", False, False),
        ("1.5", False, True),
        ("1.5e-3", False, True),
        ("1e", False, True),
        ("1.2.3", False, False),
        ("12a", False, False),
    ],
)
def test_what_a_person_may_type(text: str, integer: bool, number: bool) -> None:
    assert (is_partial_integer(text), is_partial_number(text)) == (integer, number)


@pytest.mark.parametrize("check", [is_partial_integer, is_partial_number])
def test_a_long_run_of_digits_and_a_letter_is_refused_in_linear_time(check: object) -> None:
    # 20 digits and a letter took Textual's number pattern 22 s; 100 KB must take well
    # under a second, and ten times the text about ten times the time.
    # The best of three, in this thread's CPU time: other processes on a loaded machine
    # must not read as growth. Under 20 ms for 100 KB is linear whatever the ratio.
    timings = []
    for size in (10_000, 100_000):
        text = "1" * size + "a"
        best = float("inf")
        for _ in range(3):
            started = time.thread_time()
            assert not check(text)  # type: ignore[operator]
            best = min(best, time.thread_time() - started)
        timings.append(best)
    assert timings[1] < 1.0
    assert timings[1] < max(30 * timings[0], 0.02)
