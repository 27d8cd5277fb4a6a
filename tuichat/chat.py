"""One chat turn, UI-free: history -> request -> events -> store.

The user's message is saved before anything is sent; the assistant's row exists
from the start with status ``streaming``, its text is checkpointed at least once a
second while it streams, and it is finalised with how it ended (``complete``,
``length``, ``cancelled``, ``interrupted`` or ``error``). Nothing received is ever
discarded. The TUI, ``tuichat ask`` and ``serve`` all drive turns through here.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tuichat import errors
from tuichat.attachments import Attachment, with_attachments
from tuichat.protocol import (
    BinaryPart,
    ChatEvent,
    ChatMessage,
    ChatRequest,
    Finish,
    LeftOut,
    Native,
    NativeReply,
    ReasoningDelta,
    ResponseInfo,
    Retrying,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)
from tuichat.sanitize import StreamRedactor, neutralize, one_line, redact, storable
from tuichat.store import Message, Store
from tuichat.tool_loop import (
    DECLINED,
    ROUND_BREAK,
    CallRecord,
    Offered,
    RoundRecord,
    Stopwatch,
    ToolEvent,
    ToolFinished,
    ToolLimit,
    ToolStarted,
    ToolUse,
    expand,
    native_from,
    native_json,
)

if TYPE_CHECKING:
    # (Both load httpx or pydantic: the app's first frame must not wait for them.)
    from tuichat.http import RetryPolicy
    from tuichat.prices import Price
    from tuichat.provider import Provider

#: Statuses of an assistant message whose text may be sent back as history.
HISTORY_STATUSES = frozenset({"complete", "length", "cancelled", "interrupted"})

#: Rough characters per token, for trimming history when the model's window is known.
CHARS_PER_TOKEN = 4

#: Tokens an image or a PDF is counted as when trimming history: their bytes say little
#: of what they cost (a small PNG of dense text may cost more than a large photo), and
#: counting the base64 would leave out every turn before a screenshot.
TOKENS_PER_PART = 1600

#: Seconds between two saves of a streaming reply. A crash (kill -9, power cut of the
#: process) loses at most this much of the text, plus the time one save takes.
CHECKPOINT_INTERVAL = 0.5

#: Seconds after which a reply whose text did not change is still marked alive in the
#: store, well within :meth:`Store.recover_interrupted`'s staleness window (5 s): another
#: tuichat must not claim a stream that is only waiting for a slow model.
HEARTBEAT_INTERVAL = 2.0


def estimate_tokens(text: str) -> int:
    """A cheap, deliberately generous token estimate."""
    return len(text) // CHARS_PER_TOKEN + 1


def title_from_prompt(prompt: str, limit: int = 60) -> str:
    """A conversation title from the first prompt: its first line, shortened."""
    for line in prompt.strip().splitlines():
        if line.strip():
            return one_line(line, limit)
    return "New conversation"


def _answered(reply: Message) -> bool:
    # A reply whose tools ran is an answer even before it wrote text: the calls and
    # their results are sent back.
    said = bool(reply.content) or bool(reply.meta.get("rounds"))
    return reply.role == "assistant" and said and reply.status in HISTORY_STATUSES


def sendable(history: Sequence[Message]) -> list[Message]:
    """The messages of ``history`` that a request carries.

    A reply is sent when it holds text and ended in :data:`HISTORY_STATUSES` (finished,
    cut by max tokens, stopped or interrupted: the partial text is kept). A reply that
    failed, or was stopped before any text, is not sent, **and neither is the prompt it
    answered**: the person gets that prompt back to try again, and sending it would put
    it twice in a row on the wire (``user "x", user "x"``). Prompts that no reply follows
    (the newest one, or several a client sent in a row) are all sent.
    """
    talk = [m for m in history if m.role in ("user", "assistant")]
    sent: list[Message] = []
    for index, message in enumerate(talk):
        if message.role == "assistant":
            if _answered(message):
                sent.append(message)
            continue
        reply = talk[index + 1] if index + 1 < len(talk) else None
        if message.content and (reply is None or reply.role == "user" or _answered(reply)):
            sent.append(message)
    return sent


def _turn(message: Message, attachments: Sequence[Attachment]) -> list[ChatMessage]:
    """A stored message as sent: text attachments folded into its text, before it;
    images and documents as its parts, in the order given. A reply whose tools ran
    becomes its rounds (see :func:`tuichat.tool_loop.expand`)."""
    if message.role == "assistant":
        native = native_from(message.meta.get("native"))
        base = ChatMessage("assistant", message.content, native=native)
        return expand(message.content, message.meta, base)
    parts = tuple(
        BinaryPart(a.kind, a.media_type, a.data, a.name)
        for a in attachments
        if a.kind == "image" or a.kind == "document"
    )
    return [
        ChatMessage(
            role="user", content=with_attachments(message.content, attachments), parts=parts
        )
    ]


def _tokens(message: ChatMessage) -> int:
    tools = sum(len(c.arguments) for c in message.tool_calls) + sum(
        len(r.content) for r in message.tool_results
    )
    return (
        estimate_tokens(message.content)
        + TOKENS_PER_PART * len(message.parts)
        + tools // CHARS_PER_TOKEN
    )


def history_attachments(store: Store, history: Sequence[Message]) -> dict[int, list[Attachment]]:
    """The attachments, bytes included, of the prompts of ``history`` a request carries."""
    return store.message_attachments(m.id for m in sendable(history) if m.role == "user")


def build_request(
    history: Sequence[Message],
    *,
    model: str,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    context_window: int | None = None,
    attachments: Mapping[int, Sequence[Attachment]] | None = None,
) -> tuple[ChatRequest, int]:
    """Turn stored messages into a request that fits the model's context window.

    The newest summary on the branch stands in for the messages it covers (see
    :mod:`tuichat.summaries`). Oldest turns are left out first; the system prompt and
    the newest message never are. Failed replies, and the prompts they answered, are not
    sent (see :func:`sendable`).
    ``attachments`` (by message id, see :func:`history_attachments`) go with the
    messages that carry them, earlier turns' included: a model keeps seeing the
    screenshot the conversation is about.

    Returns:
        The request and how many history messages were left out to fit.
    """
    from tuichat import summaries

    history, system = summaries.apply(history, system)
    files = attachments or {}
    turns = [sent for m in sendable(history) for sent in _turn(m, files.get(m.id, ()))]
    omitted = 0
    if context_window:
        budget = context_window - (max_tokens or 0) - estimate_tokens(system or "")
        total = sum(_tokens(m) for m in turns)
        while len(turns) > 1 and total > budget:
            total -= _tokens(turns[0])
            turns.pop(0)
            omitted += 1
        # The API wants the history to start with a user turn.
        while len(turns) > 1 and turns[0].role != "user":
            turns.pop(0)
            omitted += 1
    request = ChatRequest(
        model=model,
        messages=tuple(turns),
        system=system or None,
        temperature=temperature,
        max_tokens=max_tokens,
    )
    return request, omitted


@dataclass
class TurnState:
    """What a turn has received so far and how it ended.

    ``content`` and ``reasoning`` are kept as pieces and joined when read: ``+=`` on an
    attribute copies the whole string every time (CPython resizes in place only a
    local), which made a long reply cost quadratic time in copying.
    """

    _content: list[str] = field(default_factory=list, repr=False)
    _reasoning: list[str] = field(default_factory=list, repr=False)
    status: str = "streaming"
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    cache_write_tokens: int | None = None
    """Prompt tokens written to the provider's cache (Anthropic), priced at their rate."""
    response_id: str | None = None
    """The provider's id of its response (``chatcmpl-...``, ``msg_...``), if it gave one."""
    response_model: str | None = None
    """The model the provider says answered (may name the dated model of an alias)."""
    finish_raw: str | None = None
    """The provider's own finish reason (``end_turn``, ``MAX_TOKENS``...)."""
    cost: float | None = None
    """US dollars the reply cost, once it ended (None: the price or a count unknown)."""
    ttft_ms: float | None = None
    duration_ms: float | None = None
    error: errors.TuichatError | None = None
    retries: list[str] = field(default_factory=list)
    rounds: list[RoundRecord] = field(default_factory=list)
    """The rounds whose reply asked for tools, with the calls' results (see
    :mod:`tuichat.tool_loop`)."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    """Calls the last round asked for that the turn did not run (no tools given to it:
    ``serve`` hands them to its client)."""
    tool_limit: int | None = None
    """Set when the most rounds ran: the last request offered no tools."""

    @property
    def content(self) -> str:
        """The reply's text so far."""
        return _joined(self._content)

    @content.setter
    def content(self, text: str) -> None:
        self._content = [text] if text else []

    @property
    def reasoning(self) -> str:
        """The model's reasoning so far."""
        return _joined(self._reasoning)

    @reasoning.setter
    def reasoning(self, text: str) -> None:
        self._reasoning = [text] if text else []

    def add_content(self, text: str) -> None:
        """Append to the reply's text (O(1))."""
        if text:
            self._content.append(text)

    def add_reasoning(self, text: str) -> None:
        """Append to the reasoning (O(1))."""
        if text:
            self._reasoning.append(text)


def _later(new: int | None, old: int | None) -> int | None:
    """A count from a later Usage event replaces an earlier one, unless unknown."""
    return new if new is not None else old


def _sum(before: int | None, now: int | None) -> int | None:
    """Counts of the rounds so far plus this round's (None while both are unknown)."""
    if before is None:
        return now
    return before + (now or 0)


def _left_out(provider: Provider, request: ChatRequest) -> list[LeftOut]:
    try:
        return list(provider.left_out(request))
    except Exception:  # noqa: BLE001 - a plugin's bug must not stop the reply
        return []


def _joined(parts: list[str]) -> str:
    if len(parts) > 1:
        parts[:] = ["".join(parts)]
    return parts[0] if parts else ""


#: Turns of this process whose row is not finalised yet (see :func:`live_turns`).
_LIVE_TURNS: weakref.WeakSet[Turn] = weakref.WeakSet()


def live_turns() -> list[Turn]:
    """The turns of this process whose reply is not finalised yet.

    A signal handler (SIGHUP, SIGTERM) marks them with :meth:`Turn.interrupt` before it
    cancels them, so that they are saved as ``interrupted``, not ``cancelled``.
    """
    return list(_LIVE_TURNS)


class Turn:
    """One assistant reply, persisted as it streams.

    Create it with :meth:`begin` (which saves the prompt), then iterate
    :meth:`stream`. Whatever way the iteration ends (finished, failed, cancelled,
    closed) the assistant row is finalised.

    The text it yields and saves has the provider's secrets (its API key) masked: a
    server that echoes the request's headers must not get the key into the store.
    """

    def __init__(
        self,
        store: Store,
        provider: Provider,
        request: ChatRequest,
        *,
        conversation_id: int,
        user_message: Message | None,
        assistant_message: Message,
        omitted: int = 0,
        policy: RetryPolicy | None = None,
        checkpoint_interval: float = CHECKPOINT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        price: Price | None = None,
        tools: ToolUse | None = None,
        offer_tools: Sequence[ToolSpec] = (),
    ) -> None:
        self.store = store
        self.provider = provider
        self.tools = tools
        offered = tuple(tools.runner.specs()) if tools is not None else tuple(offer_tools)
        if offered and provider.supports_tools:
            request = replace(request, tools=offered)
        self.request = request
        self.conversation_id = conversation_id
        self.user_message = user_message
        self.assistant_message = assistant_message
        self.omitted = omitted
        self.left_out = _left_out(provider, request)
        """What the provider will not send of the request, and why (shown to the person)."""
        if offered and not provider.supports_tools:
            self.left_out.append(
                LeftOut("tools", f"{provider.label}'s plugin does not support tool calling")
            )
        self.policy = policy
        self.checkpoint_interval = checkpoint_interval
        self.clock = clock
        self.price = price
        """The model's price (None: unknown), for :attr:`TurnState.cost`."""
        self._meta = dict(assistant_message.meta)
        # A continued reply's earlier native form holds only its old text: sent back, it
        # would stand in for the whole reply. This stream brings its own, if any.
        self._meta.pop("native", None)
        self.state = TurnState()
        self._saved_length = 0
        self._saved_reasoning = 0
        self._idle = 0.0
        self._interruption: str | None = None
        self._break_pending = False
        self._round_start = 0
        self._started = 0.0
        self._round_finished = False
        self._round_calls: list[ToolCall] = []
        self._round_native: Native | None = None
        _LIVE_TURNS.add(self)

    @classmethod
    def begin(
        cls,
        store: Store,
        provider: Provider,
        conversation_id: int,
        prompt: str | None,
        *,
        model: str,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        context_window: int | None = None,
        policy: RetryPolicy | None = None,
        checkpoint_interval: float = CHECKPOINT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        price: Price | None = None,
        attachments: Sequence[Attachment] = (),
        tools: ToolUse | None = None,
        offer_tools: Sequence[ToolSpec] = (),
    ) -> Turn:
        """Save ``prompt`` with its ``attachments`` (``None`` regenerates from the history
        as it is), create the streaming assistant row and build the request.

        ``tools`` are offered and run by the turn (see :mod:`tuichat.tool_loop`);
        ``offer_tools`` are only offered: calls of them end the turn and wait in
        :attr:`TurnState.tool_calls` for whoever runs them (``serve``'s client).

        Raises:
            AttachmentError: The provider cannot take the request's images or documents
                (this prompt's or the history's); the prompt is not kept, nothing is sent.
        """
        user_message = None
        if prompt is not None:
            user_message = store.add_message(
                conversation_id, "user", prompt, attachments=attachments
            )
        history = store.messages(conversation_id)
        request, omitted = build_request(
            history,
            model=model,
            system=system,
            temperature=temperature,
            max_tokens=max_tokens,
            context_window=context_window,
            attachments=history_attachments(store, history),
        )
        try:
            provider.check_attachments(request)
        except errors.TuichatError:
            if user_message is not None:
                # Unanswered, it would be resent with the next prompt.
                store.delete_message(user_message.id)
            raise
        if prompt is not None:
            conversation = store.get_conversation(conversation_id)
            if conversation is not None and not conversation.title:
                store.rename_conversation(conversation_id, title_from_prompt(prompt))
        assistant = store.add_message(
            conversation_id,
            "assistant",
            "",
            status="streaming",
            provider=provider.instance_name,
            model=model,
        )
        return cls(
            store,
            provider,
            request,
            conversation_id=conversation_id,
            user_message=user_message,
            assistant_message=assistant,
            omitted=omitted,
            policy=policy,
            checkpoint_interval=checkpoint_interval,
            clock=clock,
            price=price,
            tools=tools,
            offer_tools=offer_tools,
        )

    @property
    def native(self) -> Native | None:
        """The last request's reply in its provider's shape, if the provider sent one
        (see :class:`~tuichat.protocol.NativeReply`): ``serve`` hands what is in it to
        its client with the calls the turn did not run."""
        return self._round_native

    @property
    def message_id(self) -> int:
        """The assistant message's row id."""
        return self.assistant_message.id

    def interrupt(self, reason: str) -> None:
        """End the reply as ``interrupted`` when it is cancelled next, not ``cancelled``.

        For a cancellation the person did not ask for: the terminal went away (SIGHUP),
        the process was told to stop (SIGTERM). ``reason`` becomes the row's error
        sentence. Call it, then cancel the task iterating :meth:`stream`.
        """
        self._interruption = reason

    async def stream(self) -> AsyncGenerator[ChatEvent | ToolEvent, None]:
        """Stream the reply's events while saving them.

        With tools (see :class:`~tuichat.tool_loop.ToolUse`), a reply that asks for them
        is answered and carried on, round after round, in this one stream: the calls'
        :class:`~tuichat.tool_loop.ToolStarted` and ``ToolFinished`` events come between
        the rounds' text, which is separated by a blank line.

        Raises:
            ProviderError: After the row is finalised as ``error`` or ``interrupted``.
            asyncio.CancelledError: After it is finalised as ``cancelled`` (``interrupted``
                after :meth:`interrupt`); a tool running then is stopped with it.
        """
        state = self.state
        started = self.clock()
        self._started = started
        self._note_adjustments()
        saver = asyncio.create_task(self._checkpoint_every_interval())
        request = self.request
        try:
            while True:
                self._round_start = len(state.content)
                async for event in self._one_request(request):
                    yield event
                if not self._round_finished:
                    break
                calls = self._round_calls
                if not calls or state.finish_reason != "tool_calls":
                    break
                if self.tools is None or not request.tools:
                    state.tool_calls = list(calls)  # not ours to run (serve's client runs them)
                    self._meta["tool_calls"] = [
                        {"id": c.id, "name": c.name, "arguments": c.arguments} for c in calls
                    ]
                    break
                record = RoundRecord(state.content[self._round_start :], [], self._round_native)
                state.rounds.append(record)
                async for tool_event in self._run_calls(record, calls):
                    yield tool_event
                limited = len(state.rounds) >= self.tools.max_steps
                if limited:
                    state.tool_limit = len(state.rounds)
                    yield ToolLimit(len(state.rounds))
                request = replace(
                    request,
                    messages=(*request.messages, *record.messages()),
                    tools=() if limited else request.tools,
                )
                self._break_pending = bool(state.content)
                self._meta["tail_start"] = len(state.content)
                self._save_rounds()
            if self._round_finished:
                state.status = {"length": "length", "error": "error"}.get(
                    state.finish_reason or "", "complete"
                )
            else:
                state.status = "interrupted"
                state.error = errors.StreamInterrupted(
                    f"{self.provider.label} ended the reply without finishing it; "
                    "the partial reply is kept, try again for the rest.",
                    provider=self.provider.label,
                )
        except errors.ProviderError as exc:
            state.status = (
                "interrupted"
                if isinstance(exc, errors.StreamInterrupted | errors.ProviderTimeout)
                and (state.content or state.reasoning or state.rounds)
                else "error"
            )
            state.error = exc
            raise
        except (asyncio.CancelledError, GeneratorExit):
            self._mark_cancelled()
            raise
        except Exception as exc:
            state.status = "error"
            state.error = errors.TuichatError(
                f"Unexpected failure while streaming from {self.provider.label} "
                f"({type(exc).__name__}); the partial reply is kept."
            )
            raise
        finally:
            saver.cancel()
            state.duration_ms = (self.clock() - started) * 1000
            self._finalise()

    async def _one_request(self, request: ChatRequest) -> AsyncGenerator[ChatEvent, None]:
        """One request's events, its text added to the state. Sets ``_round_finished``
        (the provider's terminator came), ``_round_calls`` and ``_round_native``.

        Usage adds up over the rounds: each request is billed.
        """
        from tuichat.http import stream_with_retries

        state = self.state
        self._round_finished = False
        self._round_calls = []
        self._round_native = None
        before = (
            state.input_tokens,
            state.output_tokens,
            state.cached_input_tokens,
            state.reasoning_tokens,
            state.cache_write_tokens,
        )
        counted: list[int | None] = [None, None, None, None, None]
        # Built at the first text: a key from api_key_cmd is only known once the
        # request went out.
        masks: tuple[StreamRedactor, StreamRedactor] | None = None
        try:
            async with aclosing(
                stream_with_retries(self.provider, request, policy=self.policy)
            ) as events:
                async for event in events:
                    if isinstance(event, TextDelta | ReasoningDelta):
                        if masks is None:
                            secrets = self.provider.secrets()
                            masks = (StreamRedactor(secrets), StreamRedactor(secrets))
                        if isinstance(event, TextDelta):
                            if state.ttft_ms is None and event.text:
                                state.ttft_ms = (self.clock() - self._started) * 1000
                            text = masks[0].feed(storable(event.text))
                            if text and self._break_pending:
                                # This round's own text starts after the break.
                                self._break_pending = False
                                self._round_start = len(state.content) + len(ROUND_BREAK)
                                self._meta["tail_start"] = self._round_start
                                text = ROUND_BREAK + text
                            state.add_content(text)
                            event = TextDelta(text)
                        else:
                            text = masks[1].feed(storable(event.text))
                            state.add_reasoning(text)
                            event = ReasoningDelta(text)
                        if not text:
                            continue  # held back: it may be the start of a secret
                    elif isinstance(event, Usage):
                        fresh = (
                            event.input_tokens,
                            event.output_tokens,
                            event.cached_input_tokens,
                            event.reasoning_tokens,
                            event.cache_write_tokens,
                        )
                        counted = [_later(n, o) for n, o in zip(fresh, counted, strict=True)]
                        (
                            state.input_tokens,
                            state.output_tokens,
                            state.cached_input_tokens,
                            state.reasoning_tokens,
                            state.cache_write_tokens,
                        ) = (_sum(b, c) for b, c in zip(before, counted, strict=True))
                    elif isinstance(event, ResponseInfo):
                        state.response_id = event.id or state.response_id
                        state.response_model = event.model or state.response_model
                    elif isinstance(event, ToolCall):
                        self._round_calls.append(event)
                    elif isinstance(event, NativeReply):
                        self._round_native = Native(self.provider.name, event.data)
                        continue  # the provider's business, kept with the reply
                    elif isinstance(event, Finish):
                        for tail in self._release(masks):
                            yield tail
                        state.finish_reason = event.reason
                        state.finish_raw = event.raw
                        self._round_finished = True
                    elif isinstance(event, Retrying):
                        state.retries.append(event.error)
                    yield event
            for tail in self._release(masks):
                yield tail
        except errors.ProviderError:
            for tail in self._release(masks):
                yield tail
            raise
        except (asyncio.CancelledError, GeneratorExit):
            self._release(masks)  # no yielding now; the text is still saved
            raise
        if self._round_native is not None and not self._round_calls:
            self._meta["native"] = native_json(self._round_native)

    async def _run_calls(
        self, record: RoundRecord, calls: Sequence[ToolCall]
    ) -> AsyncGenerator[ToolEvent, None]:
        """Approve and run a round's calls one by one, each result saved as it comes."""
        tools = self.tools
        assert tools is not None
        runner = tools.runner
        for call in calls:
            offered = runner.find(call.name)
            entry = CallRecord(
                call,
                offered.tool if offered is not None else call.name,
                offered.server if offered is not None else "",
            )
            record.calls.append(entry)
            self._save_rounds()
            watch = Stopwatch()
            if offered is None:
                entry.status, entry.result = "error", f"There is no tool named {call.name!r}."
            elif not await self._approved(offered, call):
                entry.status, entry.result = "declined", DECLINED
            else:
                yield ToolStarted(call, entry.tool, entry.server)
                outcome = await runner.call(call.name, call.arguments, timeout=tools.timeout)
                entry.status = "error" if outcome.is_error else "ok"
                entry.result = redact(storable(outcome.content), self.provider.secrets())
            entry.seconds = watch.seconds()
            self._save_rounds()
            yield ToolFinished(
                call, entry.tool, entry.server, entry.status, entry.result, entry.seconds
            )

    async def _approved(self, offered: Offered, call: ToolCall) -> bool:
        tools = self.tools
        assert tools is not None
        if offered.approve == "always" or tools.yes:
            return True
        if tools.approve is None:
            return False
        return await tools.approve(offered, call) in ("yes", "always")

    def _save_rounds(self) -> None:
        """Keep the rounds in the reply's meta now: a crash mid-loop loses nothing that ran."""
        self._meta["rounds"] = [r.to_json() for r in self.state.rounds]
        try:
            self.store.update_message(self.message_id, content=self.state.content, meta=self._meta)
        except errors.StoreError:
            pass  # the final save writes them again, and reports its own failure

    def _note_adjustments(self) -> None:
        """Keep with the reply what the request left out (history, settings): the
        front-ends show it then and after a restart."""
        meta = self._meta
        before = dict(meta)
        if self.omitted:
            meta["omitted"] = self.omitted
        if self.left_out:
            meta["left_out"] = [{"name": o.name, "reason": o.reason} for o in self.left_out]
        if meta != before:
            try:
                self.store.update_message(self.message_id, meta=meta)
            except errors.StoreError:
                pass  # only a note: the reply itself is saved by the checkpoints

    def _release(self, masks: tuple[StreamRedactor, StreamRedactor] | None) -> list[ChatEvent]:
        """Add the text the redactors held back to the state; the events to yield."""
        if masks is None:
            return []
        released: list[ChatEvent] = []
        text, reasoning = masks[0].flush(), masks[1].flush()
        if reasoning:
            self.state.add_reasoning(reasoning)
            released.append(ReasoningDelta(reasoning))
        if text:
            self.state.add_content(text)
            released.append(TextDelta(text))
        return released

    def _mark_cancelled(self) -> None:
        state = self.state
        if self._interruption is None:
            state.status = "cancelled"
            return
        state.status = "interrupted"
        state.error = errors.StreamInterrupted(self._interruption, provider=self.provider.label)

    def abandon(self) -> None:
        """Finalise a turn whose stream never ran (cancelled before it started) as
        ``cancelled`` (``interrupted`` after :meth:`interrupt`); a turn that already ended
        is left as it is."""
        if self.state.status == "streaming":
            self._mark_cancelled()
            self._finalise()

    async def _checkpoint_every_interval(self) -> None:
        while True:
            await asyncio.sleep(self.checkpoint_interval)
            try:
                self.checkpoint()
            except errors.StoreError:
                # Locked or full for a moment: the next checkpoint (or the final save,
                # which reports its failure) tries again. The reply keeps streaming.
                pass

    def checkpoint(self) -> None:
        """Save the text received so far, if it changed since the last save.

        While it does not change (a slow model thinking), the row's timestamp is still
        refreshed every :data:`HEARTBEAT_INTERVAL` seconds.
        """
        state = self.state
        if len(state.content) == self._saved_length and len(state.reasoning) == (
            self._saved_reasoning
        ):
            self._idle += self.checkpoint_interval
            if self._idle >= HEARTBEAT_INTERVAL:
                self.store.update_message(self.message_id)
                self._idle = 0.0
            return
        self.store.update_message(self.message_id, content=state.content, reasoning=state.reasoning)
        self._saved_length = len(state.content)
        self._saved_reasoning = len(state.reasoning)
        self._idle = 0.0

    def _finalise(self) -> None:
        _LIVE_TURNS.discard(self)
        state = self.state
        error_text = None
        if state.error is not None:
            error_text = redact(neutralize(str(state.error)), self.provider.secrets())
        fields: dict[str, Any] = {
            "content": state.content,
            "reasoning": state.reasoning,
            "status": state.status,
            "finish_reason": state.finish_reason,
            "input_tokens": state.input_tokens,
            "output_tokens": state.output_tokens,
            "ttft_ms": state.ttft_ms,
            "duration_ms": state.duration_ms,
            "error": error_text,
        }
        state.cost = (
            self.price.cost(
                state.input_tokens,
                state.output_tokens,
                state.cached_input_tokens,
                state.cache_write_tokens,
            )
            if self.price is not None
            else None
        )
        response = self._response_meta()
        if state.rounds:
            self._meta["rounds"] = [r.to_json() for r in state.rounds]
        if response or state.rounds or "native" in self._meta or "tool_calls" in self._meta:
            fields["meta"] = {**self._meta, **response}
        self.store.update_message(self.message_id, **fields)

    def _response_meta(self) -> dict[str, Any]:
        """What the full response said beyond the text, for the reply's meta (exports,
        ``ask --json``): only what is known."""
        state = self.state
        found: dict[str, Any] = {}
        usage = {
            "cached_input_tokens": state.cached_input_tokens,
            "reasoning_tokens": state.reasoning_tokens,
        }
        if state.cache_write_tokens is not None:
            usage["cache_write_tokens"] = state.cache_write_tokens
        if any(value is not None for value in usage.values()):
            found["usage"] = usage
        response = {"id": state.response_id, "model": state.response_model}
        if any(value is not None for value in response.values()):
            found["response"] = response
        if state.finish_raw is not None:
            found["finish_raw"] = state.finish_raw
        if state.cost is not None:
            found["cost"] = state.cost
        return found
