"""Whether a field's text is a number being typed, checked in time linear in its length.

Textual's ``Input(type="number")`` and ``type="integer"`` refuse a keystroke whose result
does not fullmatch a pattern with nested quantifiers (``(?:\\d*|\\d+_)*``): on a long run
of digits followed by a letter, Python's backtracking ``re`` tries every way of cutting
the run and the app freezes (20 digits: 22 s; issue #21, ``docs/upstream.md``). Here the
same two languages are recognised by a small automaton that reads each character once,
so what a person may type, and what is refused, stays exactly as before.

The languages, as Textual 8.2.8 spells them:

- integer: ``[-+]?(?:\\d*|\\d+_)*``
- number: ``[-+]?(?:\\d*|\\d+_)*\\.?(?:\\d*|\\d+_)*(?:\\d[eE]?[-+]?(?:\\d*|\\d+_)*)?``

``\\d`` is any Unicode decimal digit, as in ``re`` (``str.isdecimal``).
"""

from __future__ import annotations

from collections.abc import Mapping

#: Character classes the automata tell apart.
_DIGIT, _SIGN, _DOT, _EXP, _UNDERSCORE, _OTHER = range(6)

#: One automaton: moves per state and class, moves that read nothing, accepting states.
_Moves = Mapping[str, Mapping[int, str]]
_Empty = Mapping[str, tuple[str, ...]]


_CLASSES = {"+": _SIGN, "-": _SIGN, ".": _DOT, "e": _EXP, "E": _EXP, "_": _UNDERSCORE}


def _class(char: str) -> int:
    return _DIGIT if char.isdecimal() else _CLASSES.get(char, _OTHER)


class _Automaton:
    """A small NFA run as a DFA built lazily, one set of states per character read."""

    def __init__(self, moves: _Moves, empty: _Empty, accepting: frozenset[str]) -> None:
        self._moves = moves
        self._empty = empty
        self._accepting = accepting
        self._start = self._closure({"start"})
        self._steps: dict[tuple[frozenset[str], int], frozenset[str]] = {}

    def _closure(self, states: set[str]) -> frozenset[str]:
        todo, seen = list(states), set(states)
        while todo:
            for following in self._empty.get(todo.pop(), ()):
                if following not in seen:
                    seen.add(following)
                    todo.append(following)
        return frozenset(seen)

    def _step(self, states: frozenset[str], kind: int) -> frozenset[str]:
        key = (states, kind)
        found = self._steps.get(key)
        if found is None:
            reached = {self._moves[s][kind] for s in states if kind in self._moves.get(s, {})}
            found = self._steps[key] = self._closure(reached)
        return found

    def fullmatch(self, text: str) -> bool:
        states = self._start
        for char in text:
            states = self._step(states, _class(char))
            if not states:
                return False
        return not states.isdisjoint(self._accepting)


def _digits_and_underscores(first: str, after_digit: str) -> _Moves:
    """``(?:\\d*|\\d+_)*``: digits and underscores, each underscore right after a digit."""
    return {
        first: {_DIGIT: after_digit},
        after_digit: {_DIGIT: after_digit, _UNDERSCORE: first},
    }


_INTEGER = _Automaton(
    moves={"start": {_SIGN: "a"}, **_digits_and_underscores("a", "a1")},
    empty={"start": ("a",)},
    accepting=frozenset({"a", "a1"}),
)

_NUMBER = _Automaton(
    moves={
        "start": {_SIGN: "a"},
        **_digits_and_underscores("a", "a1"),
        "dot": {_DOT: "b"},
        **_digits_and_underscores("b", "b1"),
        "tail": {_DIGIT: "t"},
        "t": {_EXP: "e"},
        "e": {_SIGN: "c"},
        **_digits_and_underscores("c", "c1"),
    },
    empty={
        "start": ("a",),
        "a": ("dot",),
        "a1": ("dot",),
        "dot": ("b",),
        "b": ("tail",),
        "b1": ("tail",),
        "t": ("e",),
        "e": ("c",),
    },
    accepting=frozenset({"b", "b1", "c", "c1"}),
)


def is_partial_integer(text: str) -> bool:
    """Whether ``text`` may stand in an integer field (what ``type="integer"`` allows)."""
    return _INTEGER.fullmatch(text)


def is_partial_number(text: str) -> bool:
    """Whether ``text`` may stand in a number field (what ``type="number"`` allows)."""
    return _NUMBER.fullmatch(text)
