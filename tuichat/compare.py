"""Compare mode, UI-free: one prompt answered by two or three models at once.

A comparison is stored with the conversation's message tree: ONE user message and one
assistant reply per model, the replies siblings under the prompt. The prompt and the
replies carry ``{"compare": <group id>}`` in their meta (the replies also their
``"column"``), so a stored comparison can be found and shown again. Each reply is an
ordinary :class:`~tuichat.chat.Turn` (saved before sending, checkpointed, finalised with
how it ended); :meth:`Comparison.run` streams them concurrently, and one reply failing
never stops the others. Picking a reply to continue with makes its branch the
conversation's head; the other replies stay as its alternatives.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuichat import errors
from tuichat.chat import (
    CHECKPOINT_INTERVAL,
    Turn,
    TurnState,
    build_request,
    estimate_tokens,
    history_attachments,
    title_from_prompt,
)
from tuichat.protocol import ChatEvent, Retrying, TextDelta
from tuichat.sanitize import neutralize, redact
from tuichat.store import Message, Store
from tuichat.tool_loop import ToolFinished, ToolLimit, ToolStarted

if TYPE_CHECKING:
    from tuichat.attachments import Attachment
    from tuichat.http import RetryPolicy
    from tuichat.prices import Price
    from tuichat.provider import Provider

#: The meta key tying a comparison's prompt and replies together.
COMPARE_KEY = "compare"

#: The meta key holding a reply's column (0-based).
COLUMN_KEY = "column"

#: How many models a comparison takes.
MIN_COLUMNS = 2
MAX_COLUMNS = 3

EventSink = Callable[["Column", ChatEvent], Awaitable[None]]
"""Called with each event of each column, in the order they arrive."""

EndSink = Callable[["Column"], Awaitable[None]]
"""Called when a column's reply has ended and is saved (not when it is cancelled)."""


@dataclass(frozen=True, slots=True)
class Contender:
    """One model of a comparison."""

    provider: Provider
    """Who answers."""
    model: str
    """The model asked."""
    context_window: int | None = None
    """The model's context window in tokens, if known (history is trimmed to fit)."""
    price: Price | None = None
    """The model's price, if known (each reply's cost)."""


@dataclass(frozen=True, slots=True)
class ColumnStats:
    """What a column shows about its reply: live while it streams, final after."""

    status: str
    """The reply's status (``streaming``, ``complete``, ``error``...)."""
    ttft_ms: float | None
    """Time to first token, milliseconds (None before it)."""
    tokens: int | None
    """Output tokens: reported by the provider, else estimated from the text."""
    estimated: bool
    """Whether ``tokens`` is an estimate (the provider has not reported usage yet)."""
    tokens_per_second: float | None
    """Output speed after the first token (None until it can be told)."""
    finish_reason: str | None
    """The provider's normalised stop reason, once it finished."""


#: Shortest time after the first token over which a speed is told: a reply that came in
#: one or two chunks (or the first moments of one) has no meaningful rate.
MIN_SPEED_SECONDS = 0.2


def speed(tokens: int | None, seconds: float | None) -> float | None:
    """Tokens per second, or None when it cannot be told (no tokens, too little time)."""
    if not tokens or seconds is None or seconds < MIN_SPEED_SECONDS:
        return None
    return tokens / seconds


def stats_of(message: Message) -> ColumnStats:
    """The figures of a stored reply (a comparison shown again)."""
    return _figures(message, generation_seconds(message.duration_ms, message.ttft_ms))


def generation_seconds(duration_ms: float | None, ttft_ms: float | None) -> float | None:
    """Seconds from the first token to the end, when both times are known."""
    if duration_ms is None or ttft_ms is None:
        return None
    return (duration_ms - ttft_ms) / 1000


def _figures(reply: Message | TurnState, seconds: float | None) -> ColumnStats:
    tokens = reply.output_tokens
    estimated = tokens is None and bool(reply.content)
    if estimated:
        tokens = estimate_tokens(reply.content)
    return ColumnStats(
        status=reply.status,
        ttft_ms=reply.ttft_ms,
        tokens=tokens,
        estimated=estimated,
        tokens_per_second=speed(tokens, seconds),
        finish_reason=reply.finish_reason,
    )


class Column:
    """One model's reply in a comparison: its turn, its live figures and its error."""

    def __init__(self, index: int, turn: Turn, *, live_clock: Callable[[], float]) -> None:
        self.index = index
        """0-based position among the columns."""
        self.turn = turn
        """The reply's turn (its row, its state)."""
        self.error: errors.TuichatError | None = None
        """Why the reply failed, if it did."""
        self.retrying: str | None = None
        """A note while the request is retried before its first token."""
        self._live_clock = live_clock
        self._first_at: float | None = None

    @property
    def provider(self) -> Provider:
        """Who answers."""
        return self.turn.provider

    @property
    def model(self) -> str:
        """The model asked."""
        return self.turn.request.model

    @property
    def message_id(self) -> int:
        """The reply's row id."""
        return self.turn.message_id

    @property
    def done(self) -> bool:
        """Whether the reply has ended, however it ended."""
        return self.turn.state.status != "streaming"

    @property
    def sentence(self) -> str | None:
        """The error as one human sentence, neutralised, the provider's secrets masked."""
        error = self.error or self.turn.state.error
        if error is None or self.turn.state.status == "cancelled":
            return None
        return redact(neutralize(str(error)), self.provider.secrets())

    def observe(self, event: ChatEvent) -> None:
        """Note what the live figures need from ``event`` (called for every event)."""
        if isinstance(event, TextDelta) and event.text:
            self.retrying = None
            if self._first_at is None:
                self._first_at = self._live_clock()
        elif isinstance(event, Retrying):
            self.retrying = (
                f"retrying in {event.delay:.0f} s (attempt {event.attempt} of {event.attempts})"
            )

    def stats(self) -> ColumnStats:
        """The column's figures now: final ones (from the turn's clock) once it ended."""
        state = self.turn.state
        seconds: float | None = None
        if self.done:
            seconds = generation_seconds(state.duration_ms, state.ttft_ms)
        elif self._first_at is not None:
            # The live speed runs on its own clock: reading the turn's clock at every
            # redraw would change the figures the turn saves.
            seconds = self._live_clock() - self._first_at
        return _figures(state, seconds)


class Comparison:
    """A prompt saved once and its replies, one per model, streamed concurrently.

    Create it with :meth:`begin` (which saves the prompt and a ``streaming`` row per
    model), then await :meth:`run`. Cancelling :meth:`run` closes every stream at once;
    each reply is saved with what arrived and how it ended.
    """

    def __init__(
        self,
        store: Store,
        *,
        conversation_id: int,
        group: str,
        prompt: Message,
        columns: Sequence[Column],
    ) -> None:
        self.store = store
        self.conversation_id = conversation_id
        self.group = group
        """The id shared by the prompt's and the replies' ``compare`` meta."""
        self.prompt = prompt
        """The user message every model answers."""
        self.columns = list(columns)
        """The replies, in the order the models were chosen."""

    @classmethod
    def begin(
        cls,
        store: Store,
        conversation_id: int,
        prompt: str,
        contenders: Sequence[Contender],
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        policy: RetryPolicy | None = None,
        checkpoint_interval: float = CHECKPOINT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        live_clock: Callable[[], float] = time.monotonic,
        attachments: Sequence[Attachment] = (),
    ) -> Comparison:
        """Save ``prompt`` and one streaming reply row per contender; build the requests.

        The prompt follows the branch on show; the first reply is left as the head, so
        the conversation reads on with it until another is picked.

        Args:
            store: The store.
            conversation_id: The conversation (it must exist).
            prompt: The prompt every model answers.
            contenders: Two or three models.
            system: The system prompt.
            temperature: Sampling temperature.
            max_tokens: Most tokens per reply.
            policy: Retry policy before the first token.
            checkpoint_interval: Seconds between two saves of a streaming reply.
            clock: The turns' clock (time to first token, duration).
            live_clock: The clock of the live speed shown while streaming.
            attachments: Files the prompt carries, in order.

        Raises:
            ValueError: Fewer than two or more than three contenders.
            StoreError: The store refused a write.
            AttachmentError: One of the models cannot take the files; nothing is kept.
        """
        if not MIN_COLUMNS <= len(contenders) <= MAX_COLUMNS:
            raise ValueError(f"A comparison takes {MIN_COLUMNS} to {MAX_COLUMNS} models.")
        group = uuid.uuid4().hex[:12]
        user = store.add_message(
            conversation_id, "user", prompt, meta={COMPARE_KEY: group}, attachments=attachments
        )
        history = store.messages(conversation_id)
        files = history_attachments(store, history)
        requests = [
            build_request(
                history,
                model=contender.model,
                system=system,
                temperature=temperature,
                max_tokens=max_tokens,
                context_window=contender.context_window,
                attachments=files,
            )
            for contender in contenders
        ]
        try:
            for contender, (request, _omitted) in zip(contenders, requests, strict=True):
                contender.provider.check_attachments(request)
        except errors.TuichatError:
            store.delete_message(user.id)  # unanswered, it would go out with the next prompt
            raise
        conversation = store.get_conversation(conversation_id)
        if conversation is not None and not conversation.title:
            store.rename_conversation(conversation_id, title_from_prompt(prompt))
        columns: list[Column] = []
        for index, (contender, (request, omitted)) in enumerate(
            zip(contenders, requests, strict=True)
        ):
            meta: dict[str, Any] = {COMPARE_KEY: group, COLUMN_KEY: index}
            if omitted:
                meta["omitted"] = omitted
            reply = store.add_message(
                conversation_id,
                "assistant",
                "",
                status="streaming",
                provider=contender.provider.instance_name,
                model=contender.model,
                meta=meta,
                parent_id=user.id,
            )
            turn = Turn(
                store,
                contender.provider,
                request,
                conversation_id=conversation_id,
                user_message=user,
                assistant_message=reply,
                omitted=omitted,
                policy=policy,
                price=contender.price,
                checkpoint_interval=checkpoint_interval,
                clock=clock,
            )
            columns.append(Column(index, turn, live_clock=live_clock))
        store.set_head(conversation_id, columns[0].message_id)
        return cls(
            store, conversation_id=conversation_id, group=group, prompt=user, columns=columns
        )

    @property
    def done(self) -> bool:
        """Whether every reply has ended."""
        return all(column.done for column in self.columns)

    async def run(self, sink: EventSink | None = None, ended: EndSink | None = None) -> None:
        """Stream every reply at once; returns when all have ended.

        A provider error ends only its own column (see :attr:`Column.error`). Cancelling
        this coroutine cancels every stream and waits until each reply is saved.

        Args:
            sink: Called with each event of each column (to draw it).
            ended: Called as each column ends (to seal it while the others stream on).
        """
        tasks = [
            # Named so a profiler or a traceback can tell the columns apart.
            asyncio.create_task(
                self._run_column(column, sink, ended),
                name=f"compare-{self.group}-{column.index + 1}",
            )
            for column in self.columns
        ]
        try:
            await asyncio.wait(tasks)
            for task in tasks:
                # Only ``ended`` can fail here (the streams' errors stay in their column):
                # a bug, raised once every column has ended.
                failure = task.exception()
                if failure is not None:
                    raise failure
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            # Cancelled again meanwhile (Esc twice, the app quitting): the columns still
            # close their streams and save their replies before this returns.
            # (asyncio.wait, not gather: a cancelled gather cancels the columns again.)
            while pending := [task for task in tasks if not task.done()]:
                try:
                    await asyncio.wait(pending)
                except asyncio.CancelledError:
                    continue
            for task in tasks:
                if not task.cancelled():
                    task.exception()  # retrieved: a column's failure is in its row
            raise
        finally:
            self.abandon()

    async def _run_column(
        self, column: Column, sink: EventSink | None, ended: EndSink | None
    ) -> None:
        turn = column.turn
        try:
            async with aclosing(turn.stream()) as events:
                async for event in events:
                    if isinstance(event, ToolStarted | ToolFinished | ToolLimit):
                        continue  # a comparison offers no tools
                    column.observe(event)
                    if sink is not None:
                        await sink(column, event)
        except errors.TuichatError as exc:
            column.error = exc
        except Exception as exc:
            # A bug in one column (or in drawing it) must not end the other streams.
            column.error = turn.state.error or errors.TuichatError(
                f"Unexpected failure while streaming from {turn.provider.label} "
                f"({type(exc).__name__}); the partial reply is kept."
            )
        if ended is not None:
            await ended(column)

    def abandon(self) -> None:
        """Finalise the replies whose stream never started (cancelled before it did)."""
        for column in self.columns:
            try:
                column.turn.abandon()
            except errors.StoreError:
                pass  # the row stays 'streaming'; the next start recovers it

    def pick(self, index: int) -> int:
        """Continue the conversation with column ``index``'s reply; returns its row id."""
        return pick(self.store, self.columns[index].message_id)


def pick(store: Store, reply_id: int) -> int:
    """Make the branch through ``reply_id`` the one on show; returns the new head."""
    head = store.show_branch(reply_id)
    return reply_id if head is None else head


@dataclass(frozen=True, slots=True)
class StoredComparison:
    """A comparison read back from the store."""

    group: str
    """The group id."""
    prompt: Message
    """The prompt."""
    replies: list[Message]
    """The replies, in column order."""


def group_of(message: Message) -> str | None:
    """The comparison ``message`` belongs to, if any."""
    group = message.meta.get(COMPARE_KEY)
    return group if isinstance(group, str) and group else None


def load(store: Store, message_id: int) -> StoredComparison | None:
    """The comparison a prompt or reply belongs to (None when it belongs to none).

    Replies regenerated later from the same prompt are not part of it.
    """
    message = store.get_message(message_id)
    if message is None:
        return None
    group = group_of(message)
    if group is None:
        return None
    prompt = message
    if message.role != "user":
        if message.parent_id is None:
            return None
        parent = store.get_message(message.parent_id)
        if parent is None or group_of(parent) != group:
            return None
        prompt = parent
    replies = [reply for reply in store.children(prompt.id) if group_of(reply) == group]
    if not replies:
        return None

    def column(reply: Message) -> int:
        value = reply.meta.get(COLUMN_KEY)
        return value if isinstance(value, int) else MAX_COLUMNS

    replies.sort(key=column)
    return StoredComparison(group=group, prompt=prompt, replies=replies)
