"""The model picker: every model of every usable provider, filtered by fuzzy matching.

The lists come from the screen's catalog (cached in the store, refreshed in the background);
the picker only shows them, asks for a refresh (F5), and dismisses with the choice.
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
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tuichat.catalog import ProviderModels
from tuichat.protocol import ModelInfo
from tuichat.sanitize import one_line

from ..fuzzy import BoundedMatcher

Choice = tuple[str, str]
"""(provider instance, model id)."""


def context_label(tokens: int | None) -> str:
    """``128k ctx`` (or '' when unknown)."""
    if not tokens:
        return ""
    if tokens >= 1_000_000:
        # One decimal at most: Gemini's 1,048,576 reads "1M", not "1.04858M".
        return f"{round(tokens / 1_000_000, 1):g}M ctx"
    if tokens >= 1000:
        return f"{tokens // 1000}k ctx"
    return f"{tokens} ctx"


class ModelPickerScreen(ModalScreen[Choice | None]):
    """Type to filter; Up/Down choose; Enter switches to the model; F5 refreshes; Esc closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Close"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
        Binding("f5,ctrl+r", "refresh_models", "Refresh", id="refresh-models"),
    ]

    def __init__(
        self,
        entries: Sequence[ProviderModels],
        *,
        current: Choice,
        refresh: Callable[[], None] | None = None,
        loading: Sequence[str] = (),
    ) -> None:
        """Create it.

        Args:
            entries: The catalog: each usable provider's models (or error).
            current: The conversation's provider and model (marked).
            refresh: Asks the screen to fetch the lists again.
            loading: Providers whose list is being fetched.
        """
        super().__init__()
        self._entries = list(entries)
        self._current = current
        self._refresh = refresh
        self._loading = set(loading)
        self._shown: list[Choice] = []

    def compose(self) -> ComposeResult:
        """The filter, the models and a hint."""
        with Vertical(id="model-dialog", classes="dialog"):
            yield Label("Choose a model", classes="dialog-heading")
            yield Input(placeholder="Type to filter (fuzzy): provider/model", id="model-filter")
            yield OptionList(id="model-list")
            # (A Label is as wide as its text and was cut at the dialog's edge: this wraps.)
            yield Static("", id="model-status", classes="dialog-hint")
            yield Label(
                "Enter switches · ↑↓ choose · F5 refresh · Esc closes", classes="dialog-hint"
            )

    def on_mount(self) -> None:
        """Focus the filter and list everything."""
        self.query_one("#model-filter", Input).focus()
        self._show()

    @property
    def choices(self) -> list[Choice]:
        """The (provider, model) rows shown, in order."""
        return list(self._shown)

    def show_entries(self, entries: Sequence[ProviderModels], loading: Sequence[str]) -> None:
        """New lists arrived (or a fetch started): show them, keeping the filter."""
        self._entries = list(entries)
        self._loading = set(loading)
        self._show()

    @on(Input.Changed, "#model-filter")
    def _filter(self) -> None:
        self._show()

    def _candidates(self) -> list[tuple[Choice, ModelInfo]]:
        # The current model is offered even before (or without) any list.
        rows: list[tuple[Choice, ModelInfo]] = []
        seen: set[Choice] = set()
        for entry in self._entries:
            for info in entry.models:
                choice = (entry.provider, info.id)
                if choice not in seen:
                    seen.add(choice)
                    rows.append((choice, info))
        if self._current not in seen:
            provider, model = self._current
            rows.insert(0, (self._current, ModelInfo(id=model, provider=provider)))
        return rows

    def _show(self) -> None:
        query = self.query_one("#model-filter", Input).value.strip()
        options = self.query_one("#model-list", OptionList)
        previous = options.highlighted_option.id if options.highlighted_option else None
        matcher = BoundedMatcher(query) if query else None
        scored: list[tuple[float, int, Choice, ModelInfo, Content]] = []
        for order, (choice, info) in enumerate(self._candidates()):
            label = f"{choice[0]}/{choice[1]}"
            if matcher is not None:
                score = matcher.match(label)
                if score <= 0:
                    continue
                text = matcher.highlight(label)
            else:
                score, text = 0.0, Content(label)
            scored.append((score, order, choice, info, text))
        scored.sort(key=lambda row: (-row[0], row[1]))
        self._shown = [row[2] for row in scored]
        rows: list[Option] = []
        for index, (_, _, choice, info, text) in enumerate(scored):
            mark = "● " if choice == self._current else "  "
            details = " · ".join(
                part
                for part in (one_line(info.name or "", 40), context_label(info.context_window))
                if part and part != choice[1]
            )
            prompt = Content.assemble(mark, text, (f"  {details}" if details else "", "dim"))
            rows.append(Option(prompt, id=f"o{index}"))
        typed = self._typed_choice(query)
        if typed is not None and typed not in self._shown:
            # A model the server does not list (new, private, or the server is down)
            # can still be used: the provider answers whether it exists.
            label = f"{typed[0]}/{typed[1]}"
            rows.append(
                Option(
                    Content.assemble(
                        "  ", (one_line(label, 80), "bold"), ("  not listed: use as typed", "dim")
                    ),
                    id=f"o{len(self._shown)}",
                )
            )
            self._shown.append(typed)
        options.clear_options()
        options.add_options(rows)
        if self._shown:
            ids = [f"o{i}" for i in range(len(self._shown))]
            keep = previous if previous in ids and query == "" else None
            if keep is None and not query and self._current in self._shown:
                keep = f"o{self._shown.index(self._current)}"
            options.highlighted = ids.index(keep) if keep else 0
        self._show_status()

    def _typed_choice(self, query: str) -> Choice | None:
        """``provider/model`` typed whole, naming a provider of the picker (listed or not)."""
        provider, slash, model = query.partition("/")
        providers = {entry.provider for entry in self._entries} | {self._current[0]}
        if not slash or not model.strip() or provider not in providers or " " in model.strip():
            return None
        return provider, model.strip()

    def _show_status(self) -> None:
        lines: list[str] = []
        if self._loading:
            lines.append(f"Fetching the models of {', '.join(sorted(self._loading))}…")
        for entry in self._entries:
            if entry.error:
                lines.append(one_line(entry.error, 200))
        if not self._shown:
            lines.append("No model matches." if self._entries else "No model list yet.")
        self.query_one("#model-status", Static).update(Content("\n".join(lines)))

    def action_move(self, step: int) -> None:
        """Move the highlighted row while typing."""
        options = self.query_one("#model-list", OptionList)
        if self._shown:
            current = options.highlighted or 0
            options.highlighted = max(0, min(len(self._shown) - 1, current + step))

    @on(Input.Submitted, "#model-filter")
    def choose_highlighted(self) -> None:
        """Enter switches to the highlighted model."""
        index = self.query_one("#model-list", OptionList).highlighted
        if index is not None and 0 <= index < len(self._shown):
            self.dismiss(self._shown[index])

    @on(OptionList.OptionSelected, "#model-list")
    def choose_selected(self, event: OptionList.OptionSelected) -> None:
        """A click (or Enter in the list) switches to that model."""
        self.dismiss(self._shown[event.option_index])

    def action_refresh_models(self) -> None:
        """Fetch every list again."""
        if self._refresh is not None:
            self._refresh()

    def action_dismiss_none(self) -> None:
        """Close without switching."""
        self.dismiss(None)
