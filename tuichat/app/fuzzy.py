"""Textual's fuzzy matcher, kept from blowing up on repeated letters.

``textual.fuzzy.FuzzySearch`` lists every way the query's letters can be picked out of
the candidate before it scores them: ``"aaaaaaaaaaaaz"`` against ``"a-" * 40 + "z"`` is
5.6 billion ways and the app freezes (``docs/upstream.md``). The model picker matches
what a person types against model names a server sent, so :class:`BoundedMatcher` hands
such a pair to Textual only when the ways are few, and otherwise scores the leftmost
match with Textual's own scoring. It also shows the candidate as plain text: Textual's
``Matcher.highlight`` parses it as markup, and a server's model name is not ours to parse.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.fuzzy import FuzzySearch, Matcher
from textual.style import Style

#: The most ways of picking the letters that Textual's search is left to list.
MOST_WAYS = 5_000


def _ways_at_most(query: str, candidate: str, limit: int) -> int:
    """An upper bound of the ways to pick ``query``'s letters out of ``candidate``,
    counted no further than just past ``limit``."""
    ways = 1
    for letter in query:
        ways *= candidate.count(letter)
        if ways > limit or ways == 0:
            break
    return ways


def _leftmost(query: str, candidate: str) -> list[int] | None:
    """The positions of the first match of ``query``'s letters, in order, or None."""
    offsets: list[int] = []
    start = 0
    for letter in query:
        found = candidate.find(letter, start)
        if found < 0:
            return None
        offsets.append(found)
        start = found + 1
    return offsets


class BoundedFuzzySearch(FuzzySearch):
    """Textual's search, which lists every way only when there are few."""

    def match(self, query: str, candidate: str) -> tuple[float, Sequence[int]]:
        """Score ``candidate`` for ``query`` and give the positions that matched.

        Args:
            query: What a person typed.
            candidate: A string to match it against.

        Returns:
            The score (0: no match) and the positions of the letters matched.
        """
        folded_query = query if self.case_sensitive else query.lower()
        folded = candidate if self.case_sensitive else candidate.lower()
        if folded_query in folded or _ways_at_most(folded_query, folded, MOST_WAYS) <= MOST_WAYS:
            return super().match(query, candidate)
        offsets = _leftmost(folded_query, folded)
        if offsets is None:
            return 0.0, []
        return self.score(folded, offsets), offsets


class BoundedMatcher(Matcher):
    """``textual.fuzzy.Matcher`` over :class:`BoundedFuzzySearch`, highlighting plain text."""

    def __init__(
        self, query: str, *, match_style: Style | None = None, case_sensitive: bool = False
    ) -> None:
        """Create it (the arguments are ``Matcher``'s)."""
        super().__init__(query, match_style=match_style, case_sensitive=case_sensitive)
        self.fuzzy_search = BoundedFuzzySearch(case_sensitive)

    def highlight(self, candidate: str) -> Content:
        """``candidate`` as plain text, the matched letters in the match style."""
        content = Content(candidate)
        score, offsets = self.fuzzy_search.match(self.query, candidate)
        if not score:
            return content
        for offset in offsets:
            if not candidate[offset].isspace():
                content = content.stylize(self.match_style, offset, offset + 1)
        return content
