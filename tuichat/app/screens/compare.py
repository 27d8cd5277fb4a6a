"""Compare mode: one prompt, two or three models answering side by side in columns.

The screen goes through three phases. **setup**: the models are chosen (the chat's model
first, more from the model picker) and the prompt typed; **streaming**: every reply
streams into its column at once, each column with live figures (time to first token,
tokens, tokens/s, how it ended); **done**: a digit picks the reply the conversation goes on
with. A stored comparison opens straight in the done phase.

The chat screen hands in what it owns (starting a comparison in its conversation, the
model picker, its keys); the screen gives back a :class:`CompareOutcome` when it closes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from tuichat import compare
from tuichat.compare import Column, Comparison, StoredComparison
from tuichat.errors import TuichatError
from tuichat.protocol import ChatEvent, TextDelta
from tuichat.sanitize import neutralize, one_line
from tuichat.store import Store

from ..bindings import bindings_for
from ..frames import PromptFrames
from ..meta import stats_line
from ..widgets.compare_column import CompareColumn
from ..widgets.footer import KeysFooter
from ..widgets.message import ReplyView
from ..widgets.prompt import PromptInput
from .models import Choice

#: Seconds between two refreshes of the live figures (the text itself follows the fps).
STATS_INTERVAL = 0.25

#: Below this many columns the columns lose their side padding.
NARROW_COLUMNS = 100

Starter = Callable[[str, Sequence[Choice]], Comparison]
"""Saves the prompt and one reply row per model in the conversation; may raise
:class:`~tuichat.errors.TuichatError` (a missing key, a store that refuses writes)."""

ModelChooser = Callable[[Choice, Callable[[Choice | None], None]], None]
"""Opens the model picker with a model marked; calls back with the choice (None: none)."""


@dataclass(frozen=True, slots=True)
class CompareOutcome:
    """How the compare screen closed."""

    conversation_id: int | None
    """The conversation holding the comparison (None: nothing was sent)."""
    picked: int | None = None
    """The reply picked to continue with (None: none picked; reply 1 stays on show)."""
    choice: Choice | None = None
    """The picked reply's provider and model."""
    draft: str = ""
    """The prompt typed but not sent."""


class CompareScreen(PromptFrames, Screen[CompareOutcome | None]):
    """Two or three models answer one prompt side by side; pick one to continue with."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings_for("compare"))

    # Focus follows the phase (see watch_phase): the prompt, then the first column.
    AUTO_FOCUS = None

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """The focused widget. Textual's own repaints the whole screen when the focus moves
    (a full-screen update, ~40 ms with long replies on show, on every Tab); the widgets
    whose look depends on the focus restyle and repaint themselves."""

    phase: reactive[str] = reactive("setup", init=False)
    """``setup``, ``streaming`` or ``done``."""

    def __init__(
        self,
        store: Store,
        *,
        choices: Sequence[Choice] = (),
        prompt: str = "",
        start: Starter | None = None,
        choose_model: ModelChooser | None = None,
        stored: StoredComparison | None = None,
        on_show: int | None = None,
        key_hint: Callable[[str], str] = lambda binding_id: binding_id,
        fps: int = 30,
        cursor_blink: bool = True,
    ) -> None:
        """Create it: a new comparison (``choices``, ``start``) or a stored one (``stored``).

        Args:
            store: The store (picking a reply switches the branch on show).
            choices: The models chosen so far (the chat's model).
            prompt: The prompt to start from (what the chat's prompt held).
            start: Starts the comparison in the chat's conversation.
            choose_model: Opens the model picker.
            stored: A comparison read back from the store, shown finished.
            on_show: The reply of ``stored`` on the conversation's branch (marked).
            key_hint: How a binding id's keys read (after ``[keymap]``).
            fps: Most redraws per second of each streaming reply.
            cursor_blink: Whether the prompt's cursor blinks (``[ui] cursor_blink``).
        """
        super().__init__()
        self.store = store
        self.choices: list[Choice] = list(choices)
        """The models, one per column."""
        self.comparison: Comparison | None = None
        """The comparison streaming or streamed here (None before sending, or stored)."""
        self.stored = stored
        """The stored comparison shown, if opened from the store."""
        self._prompt = prompt
        self._start = start
        self._choose_model = choose_model
        self._shown_reply = on_show
        self._key = key_hint
        self._fps = fps
        self._cursor_blink = cursor_blink
        self._worker: Worker[None] | None = None
        self._views: list[ReplyView] = []
        self._sealed: set[int] = set()
        self._timer: Timer | None = None
        if stored is not None:
            self.choices = [(r.provider or "?", r.model or "?") for r in stored.replies]

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Heading, the columns, a note on the keys, the prompt (before sending), footer."""
        yield Static(id="compare-heading", markup=False)
        with Horizontal(id="compare-columns"):
            if self.stored is not None:
                yield from self._stored_columns(self.stored)
            else:
                for index, choice in enumerate(self.choices):
                    yield self._new_column(index, choice)
        yield Static(id="compare-note", markup=False)
        yield PromptInput(
            self._prompt,
            id="compare-prompt",
            placeholder="Prompt for every model · Enter sends to all",
        )
        yield KeysFooter()

    def _new_column(self, index: int, choice: Choice) -> CompareColumn:
        return CompareColumn(
            index + 1, _label(choice), stats="waiting for the prompt", classes="compare-column"
        )

    def _stored_columns(self, stored: StoredComparison) -> list[CompareColumn]:
        columns = []
        for index, reply in enumerate(stored.replies):
            error = reply.error if reply.status in ("error", "interrupted") else None
            view = ReplyView(reply.content, status=reply.status, error=error)
            column = CompareColumn(
                index + 1,
                _label((reply.provider or "?", reply.model or "?")),
                stats=stats_line(compare.stats_of(reply)),
                reply=view,
                classes="compare-column",
            )
            if reply.id == self._shown_reply:
                column.set_label(_label(self.choices[index]), mark="on show")
            columns.append(column)
        return columns

    def on_mount(self) -> None:
        """Show the phase; a new comparison with one model asks for another at once."""
        self._place()
        self.query_one("#compare-prompt", PromptInput).cursor_blink = self._cursor_blink
        if self.stored is not None:
            self._show_prompt(self.stored.prompt.content)
            self.phase = "done"
            return
        self._show_heading()
        self._update_note()
        self.query_one("#compare-prompt", PromptInput).focus()
        if len(self.choices) < compare.MIN_COLUMNS:
            self.call_after_refresh(self.action_add_model)

    def on_resize(self) -> None:
        """Narrow terminals trade the columns' padding for text."""
        self._place()

    def _place(self) -> None:
        self.set_class(self.app.size.width < NARROW_COLUMNS, "-narrow")

    def watch_phase(self, phase: str) -> None:
        """Hide the prompt once sent; keys and notes follow the phase."""
        prompt = self.query_one("#compare-prompt", PromptInput)
        prompt.display = phase == "setup"
        columns = self.columns
        if phase != "setup" and columns and (self.focused is None or self.focused is prompt):
            # Keys now go to the columns: digits pick, arrows scroll, Tab moves.
            columns[0].body.focus()
        self._update_note()
        self.refresh_bindings()

    @property
    def columns(self) -> list[CompareColumn]:
        """The columns, in order."""
        return list(self.query(CompareColumn))

    def _show_heading(self) -> None:
        count = len(self.choices)
        text = (
            f"Compare · {count} model{'s' if count != 1 else ''} "
            f"(2 or 3) · one prompt, answered side by side"
        )
        self.query_one("#compare-heading", Static).update(Content(text))

    def _show_prompt(self, prompt: str) -> None:
        self.query_one("#compare-heading", Static).update(
            Content(f"You: {one_line(neutralize(prompt), 300)}")
        )

    def _update_note(self) -> None:
        if self.phase == "setup":
            note = (
                f"{self._key('compare-add-model')} adds a model · "
                f"{self._key('compare-remove-model')} removes the last · Enter sends · "
                f"{self._key('compare-back')} back"
            )
        elif self.phase == "streaming":
            note = f"responding… {self._key('compare-stop')} stops every reply"
        else:
            picks = "/".join(
                self._key(f"compare-pick-{n}") for n in range(1, len(self.choices) + 1)
            )
            note = (
                f"{picks} continue with that reply · {self._key('compare-back')} back to the chat"
            )
        self.query_one("#compare-note", Static).update(Content(note))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Which keys apply in this phase (the footer shows only those)."""
        phase = self.phase
        if action in ("add_model", "remove_model"):
            return phase == "setup"
        if action == "stop":
            return phase == "streaming"
        if action == "back":
            return phase != "streaming"
        if action == "pick":
            index = parameters[0] if parameters else 0
            return phase == "done" and isinstance(index, int) and index < len(self.choices)
        return True

    # -- setup -----------------------------------------------------------------------------

    def action_add_model(self) -> None:
        """Add a column: choose its model in the model picker."""
        if self.phase != "setup" or self._choose_model is None:
            return
        if len(self.choices) >= compare.MAX_COLUMNS:
            self._tell(f"A comparison takes {compare.MAX_COLUMNS} models at most.")
            return
        current = self.choices[-1] if self.choices else ("demo", "demo")
        self._choose_model(current, self._add_choice)

    def _add_choice(self, choice: Choice | None) -> None:
        if choice is None or self.phase != "setup" or len(self.choices) >= compare.MAX_COLUMNS:
            return
        self.choices.append(choice)
        self.query_one("#compare-columns").mount(self._new_column(len(self.choices) - 1, choice))
        self._show_heading()
        self._update_note()
        self.refresh_bindings()
        self.query_one("#compare-prompt", PromptInput).focus()

    async def action_remove_model(self) -> None:
        """Remove the last column."""
        if self.phase != "setup" or not self.choices:
            return
        self.choices.pop()
        columns = self.columns
        if columns:
            await columns[-1].remove()
        self._show_heading()
        self._update_note()
        self.refresh_bindings()

    # -- streaming -------------------------------------------------------------------------

    @on(PromptInput.Submitted, "#compare-prompt")
    async def send_to_all(self, event: PromptInput.Submitted) -> None:
        """Save the prompt and a reply per model, then stream them all at once."""
        event.stop()
        if self.phase != "setup" or self._start is None:
            event.keep()
            return
        if len(self.choices) < compare.MIN_COLUMNS:
            event.keep()
            self._tell(
                f"Add a second model to compare with ({self._key('compare-add-model')}).",
                severity="warning",
            )
            return
        try:
            comparison = self._start(event.text, list(self.choices))
        except TuichatError as exc:
            event.keep()
            self._tell(str(exc), severity="error")
            return
        self.comparison = comparison
        self._show_prompt(event.text)
        self._views = []
        for column, widget in zip(comparison.columns, self.columns, strict=True):
            view = ReplyView(
                streaming=True,
                status="streaming",
                fps=self._fps,
                hold=self.input_pending,
                typing=self.typing,
            )
            self._views.append(view)
            await widget.show_reply(view)
            widget.show_stats(stats_line(column.stats()))
        self.phase = "streaming"
        self._timer = self.set_interval(STATS_INTERVAL, self._show_stats)
        self._worker = self.stream_all(comparison)

    @work(exclusive=True, group="compare", exit_on_error=False)
    async def stream_all(self, comparison: Comparison) -> None:
        """Stream every reply; cancelling the worker (Esc) closes every stream at once."""
        await comparison.run(self._draw, self._seal)

    async def _draw(self, column: Column, event: ChatEvent) -> None:
        # As in the chat: a key press waiting to be shown goes before the next delta, and
        # deltas are queued in the reply, which draws them at most once a frame.
        gate = getattr(self.app, "input_first", None)
        if gate is not None and gate.pending:
            await gate.wait()
        if isinstance(event, TextDelta):
            await self._views[column.index].append(event.text)

    async def _seal(self, column: Column) -> None:
        """Show how a column's reply ended (the others may still stream)."""
        index = column.index
        if index in self._sealed or index >= len(self._views):
            return
        self._sealed.add(index)
        view = self._views[index]
        await view.finish(status=column.turn.state.status, meta="")
        sentence = column.sentence
        if sentence:
            view.show_error(sentence)
        columns = self.columns
        if index < len(columns):
            columns[index].show_stats(stats_line(column.stats()))

    def _show_stats(self) -> None:
        comparison = self.comparison
        if comparison is None:
            return
        for column, widget in zip(comparison.columns, self.columns, strict=False):
            widget.show_stats(stats_line(column.stats(), note=column.retrying))
            if not column.done:
                widget.follow()

    @on(Worker.StateChanged)
    async def streams_ended(self, event: Worker.StateChanged) -> None:
        """Seal every column once the worker ends, however it ended."""
        if event.worker is not self._worker or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        if not self.app.is_running:
            return  # quitting: the turns saved the replies themselves
        await self._finish()

    async def _finish(self) -> None:
        comparison = self.comparison
        if comparison is None or self.phase != "streaming":
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        # A worker cancelled before it ran never started the turns.
        comparison.abandon()
        for column in comparison.columns:
            await self._seal(column)
        self._show_stats()
        self.phase = "done"

    def interrupt(self) -> bool:
        """Ctrl+C: stop every reply, as Esc does; False when none streams."""
        if self.phase != "streaming":
            return False
        self.action_stop()
        return True

    def action_stop(self) -> None:
        """Stop every reply; what arrived is kept."""
        worker = self._worker
        # Once: cancelling again would interrupt the columns saving their replies.
        if worker is not None and not worker.is_cancelled:
            worker.cancel()

    # -- done ------------------------------------------------------------------------------

    def _replies(self) -> list[tuple[int, str, str]]:
        """(row id, status, text) of each column's reply."""
        if self.comparison is not None:
            return [
                (c.message_id, c.turn.state.status, c.turn.state.content)
                for c in self.comparison.columns
            ]
        if self.stored is not None:
            return [(r.id, r.status, r.content) for r in self.stored.replies]
        return []

    def action_pick(self, index: int) -> None:
        """Continue the conversation with reply ``index`` (0-based); back to the chat."""
        replies = self._replies()
        if self.phase != "done" or not 0 <= index < len(replies):
            return
        reply_id, _, text = replies[index]
        if not text.strip():
            self._tell(f"Reply {index + 1} has no text to continue with; pick another.")
            return
        try:
            compare.pick(self.store, reply_id)
        except TuichatError as exc:
            self._tell(str(exc), severity="error")
            return
        self.dismiss(
            CompareOutcome(self._conversation_id(), picked=reply_id, choice=self.choices[index])
        )

    def action_back(self) -> None:
        """Back to the chat: nothing sent, or the comparison kept with reply 1 on show."""
        if self.phase == "streaming":
            return
        if self.phase == "setup":
            text = self.query_one("#compare-prompt", PromptInput).text
            self.dismiss(CompareOutcome(None, draft=text))
            return
        self.dismiss(CompareOutcome(self._conversation_id()))

    def _conversation_id(self) -> int | None:
        if self.comparison is not None:
            return self.comparison.conversation_id
        if self.stored is not None:
            return self.stored.prompt.conversation_id
        return None

    def _tell(self, text: str, *, severity: str = "information") -> None:
        self.notify(one_line(neutralize(text), 400), severity=severity, markup=False)  # type: ignore[arg-type]


def _label(choice: Choice) -> str:
    provider, model = choice
    return f"{provider} · {model}"
