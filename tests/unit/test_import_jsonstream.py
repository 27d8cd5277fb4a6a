"""Reading a JSON array one element at a time, whatever the buffer boundaries."""

from __future__ import annotations

import io
import json

import pytest

from tuichat.importers.jsonstream import JSONArrayError, iter_array

TRICKY = [
    {"title": 'a "quoted" ] title, with [brackets]', "n": 12345678901234567890},
    "é and 🐍 cut mid-character by a small buffer",
    1.5e10,
    [],
    {},
    None,
    True,
    -42,
]


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 1 << 20])
def test_every_element_comes_back_whatever_the_chunk_size(chunk: int) -> None:
    text = json.dumps(TRICKY, ensure_ascii=False, indent=1)

    assert list(iter_array(io.StringIO(text), chunk=chunk)) == TRICKY


def test_a_number_at_the_end_of_a_buffer_is_read_whole() -> None:
    assert list(iter_array(io.StringIO("[1234567, 89]"), chunk=4)) == [1234567, 89]


def test_an_empty_array_has_no_elements() -> None:
    assert list(iter_array(io.StringIO(" [ ] "), chunk=2)) == []


@pytest.mark.parametrize(
    ("text", "says", "before"),
    [
        ('{"a": 1}', "expected a JSON array", []),
        ('[1, {"cut": ', "ends before the array does", [1]),
        ("[1, 2", "ends before the array does", [1, 2]),
        ("[1 2]", "expected ',' or ']'", [1]),
        ("[1, }", "damaged JSON", [1]),
        ("[1,]", "damaged JSON", [1]),
    ],
)
def test_damage_is_an_error_after_the_elements_before_it(
    text: str, says: str, before: list[object]
) -> None:
    seen = []
    with pytest.raises(JSONArrayError, match=says):
        for element in iter_array(io.StringIO(text), chunk=3):
            seen.append(element)
    assert seen == before
