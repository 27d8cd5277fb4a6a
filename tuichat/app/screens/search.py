"""Full-text search over every prompt and reply (SQLite FTS5), opened from anywhere (Ctrl+F).

Results show the conversation's title, who wrote the message and the matching snippet with
the matched words highlighted; Enter opens the conversation scrolled to that message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tuichat.errors import TuichatError
from tuichat.sanitize import one_line
from tuichat.store import SearchHit

from ..later import Later

#: Seconds of quiet typing before the search runs.
DEBOUNCE = 0.15

#: Most results shown.
LIMIT = 100

_HIT_STYLE = "bold reverse"


def snippet_content(snippet: str) -> Content:
    """The snippet as plain text with each «hit» highlighted (markers removed).

    Args:
        snippet: From :meth:`tuichat.store.Store.search` (untrusted text: it is neutralised,
            never parsed as markup).

    Returns:
        One line of content.
    """
    text = one_line(snippet, 400)
    parts: list[str | tuple[str, str]] = []
    rest = text
    while "«" in rest:
        before, _, after = rest.partition("«")
        hit, closed, rest = after.partition("»")
        parts.append(before)
        parts.append((hit, _HIT_STYLE))
        if not closed:
            break
    parts.append(rest)
    return Content.assemble(*parts)


def hit_content(hit: SearchHit) -> Content:
    """Two lines: the conversation's title and who wrote it, then the snippet."""
    title = one_line(hit.conversation_title, 80) or "New conversation"
    who = "you" if hit.role == "user" else hit.role
    return Content.assemble(
        (title, "bold"), (f" · {who}", "dim"), "\n  ", snippet_content(hit.snippet)
    )


class SearchScreen(ModalScreen[SearchHit | None]):
    """Type to search; Up/Down choose a result; Enter opens it; Esc closes.

    Dismisses with the chosen :class:`~tuichat.store.SearchHit`, or None.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Close"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
    ]

    def __init__(self, search: Callable[[str], Sequence[SearchHit]], query: str = "") -> None:
        """Create it.

        Args:
            search: Runs a search (the store's, with its limit).
            query: Text to start with (the last search).
        """
        super().__init__()
        self._search = search
        self._query = query
        self._hits: list[SearchHit] = []
        self._soon = Later(self, self.run_search)

    def compose(self) -> ComposeResult:
        """The query, the results and a hint."""
        with Vertical(id="search-dialog", classes="dialog"):
            yield Label("Search every prompt and reply", classes="dialog-heading")
            yield Input(self._query, placeholder="Words to find", id="search-input")
            yield OptionList(id="search-results")
            yield Label("", id="search-count", classes="dialog-hint")
            yield Label("Enter opens · ↑↓ choose · Esc closes", classes="dialog-hint")

    def on_mount(self) -> None:
        """Focus the query; show the results of a query given at the start."""
        self.query_one("#search-input", Input).focus()
        if self._query:
            self.run_search()

    @property
    def query_text(self) -> str:
        """What was typed (kept for the next search)."""
        return self._query

    @property
    def settled(self) -> bool:
        """Whether the results are those of the query as typed (no search waits to run)."""
        return not self._soon.armed

    @property
    def hits(self) -> list[SearchHit]:
        """The results shown."""
        return list(self._hits)

    @on(Input.Changed, "#search-input")
    def search_soon(self, event: Input.Changed) -> None:
        """Search once typing pauses."""
        self._query = event.value
        self._soon.arm(DEBOUNCE)

    def run_search(self) -> None:
        """Search now and show the results."""
        self._soon.cancel()
        query = self._query
        results = self.query_one("#search-results", OptionList)
        count = self.query_one("#search-count", Label)
        try:
            self._hits = list(self._search(query)) if query.strip() else []
        except TuichatError as exc:
            self._hits = []
            count.update(Content(one_line(str(exc), 200)))
            results.clear_options()
            return
        results.clear_options()
        results.add_options(
            Option(hit_content(hit), id=f"h{index}") for index, hit in enumerate(self._hits)
        )
        if self._hits:
            results.highlighted = 0
        if not query.strip():
            count.update("")
        elif not self._hits:
            count.update("No message matches.")
        else:
            more = "+" if len(self._hits) >= LIMIT else ""
            count.update(f"{len(self._hits)}{more} result{'s' if len(self._hits) != 1 else ''}")

    def action_move(self, step: int) -> None:
        """Move the highlighted result while typing."""
        results = self.query_one("#search-results", OptionList)
        if not self._hits:
            return
        current = results.highlighted or 0
        results.highlighted = max(0, min(len(self._hits) - 1, current + step))

    @on(Input.Submitted, "#search-input")
    def open_highlighted(self) -> None:
        """Enter opens the highlighted result."""
        if self._soon.armed:
            # Enter right after typing: search first, so Enter opens what the text finds.
            self._soon.now()
        index = self.query_one("#search-results", OptionList).highlighted
        if index is not None and 0 <= index < len(self._hits):
            self.dismiss(self._hits[index])

    @on(OptionList.OptionSelected, "#search-results")
    def open_selected(self, event: OptionList.OptionSelected) -> None:
        """A click (or Enter in the list) opens that result."""
        self.dismiss(self._hits[event.option_index])

    def action_dismiss_none(self) -> None:
        """Close without opening anything."""
        self.dismiss(None)
