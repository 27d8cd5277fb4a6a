"""One served chat turn: resolve the model, write the history, stream through :class:`Turn`.

Every endpoint (``/api/chat``, ``/api/chat/stream``, ``/v1/chat/completions``) goes
through here, so the served reply is driven by exactly the engine the TUI and
``tuichat ask`` use: the same retry policy, the same finalising of the reply, the
same store. With ``save`` off the store is a private in-memory one and the
conversation is deleted once the reply is over.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Literal

from tuichat.attachments import Attachment
from tuichat.chat import Turn, title_from_prompt
from tuichat.errors import MissingKey
from tuichat.protocol import Native, ToolCall, ToolSpec
from tuichat.provider import ChatEvent, LeftOut, Provider
from tuichat.runtime import Runtime
from tuichat.serve.errors import ApiError, api_error_from
from tuichat.serve.natives import Natives
from tuichat.serve.signatures import Signature, signatures_of
from tuichat.serve.tool_history import fold
from tuichat.session import Overrides, Session
from tuichat.store import Store
from tuichat.tool_loop import ToolEvent

__all__ = ["ChatCall", "Exchange", "MessageRole", "Outcome", "Role", "Turns", "TurnMessage"]

Role = Literal["system", "user", "assistant"]
"""The roles of the native API's messages."""

MessageRole = Literal["system", "user", "assistant", "tool"]
"""The roles of the OpenAI-compatible API's messages (``tool``: a tool's result)."""


@dataclass(frozen=True, slots=True)
class TurnMessage:
    """One message of the history a client sent."""

    role: MessageRole
    content: str
    attachments: tuple[Attachment, ...] = ()
    """Files the message carries (images, PDFs), in order."""
    tool_calls: tuple[ToolCall, ...] = ()
    """An assistant message's calls of the tools the client offered."""
    signatures: tuple[Signature, ...] = ()
    """Each call's thought signature (Gemini's), as the client got it with the call."""
    tool_call_id: str | None = None
    """A ``tool`` message: the call whose result it is."""


@dataclass(frozen=True, slots=True)
class ChatCall:
    """A chat request, whichever API it came through.

    Attributes:
        messages: The conversation; the last one is the user's new prompt, or a tool's
            result (the model goes on from the tools' results). System messages are
            joined into the system prompt.
        model: ``model`` or ``provider/model``; the default when None.
        provider: The provider instance; taken from ``model`` or the default when None.
        system_prompt: The system prompt (before any system messages).
        temperature: Sampling temperature.
        max_tokens: Most tokens in the reply.
        tools: Tools the model may call; its calls end the reply, for the client to run.
    """

    messages: Sequence[TurnMessage]
    model: str | None = None
    provider: str | None = None
    system_prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    tools: tuple[ToolSpec, ...] = ()

    @property
    def uses_tools(self) -> bool:
        """Tools offered, or tool calls and results in the history."""
        return bool(self.tools) or any(m.tool_calls or m.role == "tool" for m in self.messages)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a finished reply ended."""

    content: str
    finish_reason: str | None
    input_tokens: int | None
    output_tokens: int | None
    conversation_id: int | None
    left_out: tuple[LeftOut, ...] = ()
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost: float | None = None
    """US dollars (None: unknown)."""
    tool_calls: tuple[ToolCall, ...] = ()
    """The calls the model asked for (``finish_reason`` ``tool_calls``), for the client."""
    signatures: tuple[Signature, ...] = ()
    """Each call's thought signature (Gemini's; None for other providers)."""

    def left_out_fields(self) -> list[dict[str, str]]:
        """What the provider did not send of the request, and why (``left_out``)."""
        return [{"name": item.name, "reason": item.reason} for item in self.left_out]

    def usage(self) -> dict[str, int | None]:
        """Token counts as the native API reports them (None when unknown)."""
        total = None
        if self.input_tokens is not None or self.output_tokens is not None:
            total = (self.input_tokens or 0) + (self.output_tokens or 0)
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": total,
            "cached_input_tokens": self.cached_input_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }


class Turns:
    """Creates :class:`Exchange` objects over one runtime and store policy.

    Args:
        runtime: The runtime (providers, settings, store).
        save: Write conversations to ``runtime.store`` (they show in the TUI);
            otherwise to ``scratch``, deleting each once its reply is over.
        scratch: The in-memory store used when not saving.
    """

    def __init__(self, runtime: Runtime, *, save: bool, scratch: Store) -> None:
        self.runtime = runtime
        self.save = save
        self.scratch = scratch
        self.natives = Natives()
        """Replies that asked for tools, in their providers' shapes, for when they return."""

    @property
    def store(self) -> Store:
        """Where conversations are written."""
        return self.runtime.store if self.save else self.scratch

    def session(self) -> Session:
        """The conversation engine over :attr:`store` (one per request: it is cheap)."""
        return Session(self.runtime, self.store)

    def prepare(self, call: ChatCall) -> Exchange:
        """Pick the provider and model and check it can chat; writes nothing yet.

        Raises:
            ApiError: An unknown provider (404), a provider without a key (503), a
                provider whose config table is invalid (500).
        """
        if not call.messages or call.messages[-1].role not in ("user", "tool"):
            raise ApiError(
                422,
                "invalid_request",
                "The last message must be the user's prompt (role 'user') or a tool's "
                "result (role 'tool').",
                param="messages",
            )
        if call.messages[-1].role == "user" and not call.messages[-1].content.strip():
            raise ApiError(
                422, "invalid_request", "The prompt (the last message) is empty.", param="messages"
            )
        session = self.session()
        try:
            provider, model = session.resolve(call.provider, call.model)
        except Exception as exc:  # noqa: BLE001 - UsageError/ConfigError become 4xx/5xx
            raise api_error_from(exc) from None
        if call.uses_tools and not provider.supports_tools:
            raise ApiError(
                400,
                "tools_not_supported",
                f"The plugin of provider {provider.label!r} does not support tool calling; "
                "send the request without tools, tool calls and tool messages.",
                param="tools",
                provider=provider.instance_name,
            )
        if not model:
            raise ApiError(
                422,
                "invalid_request",
                f"No model given and provider {provider.instance_name!r} has no default; "
                "set 'model'.",
                param="model",
                provider=provider.instance_name,
            )
        try:
            session.require_key(provider)
        except MissingKey as exc:
            raise ApiError(
                503,
                "provider_not_configured",
                f"The server has no API key for {provider.label}; set {exc.names} where "
                "tuichat serve runs.",
                provider=provider.instance_name,
            ) from None
        return Exchange(self, provider, model, call)


class Exchange:
    """One request's turn: iterate :meth:`events`, then read :meth:`outcome`.

    The conversation is written when :meth:`events` starts, not before, so a request
    whose stream never starts (its client left at once) leaves nothing behind.
    """

    def __init__(self, turns: Turns, provider: Provider, model: str, call: ChatCall) -> None:
        self.turns = turns
        self.provider = provider
        self.model = model
        self.call = call
        self.turn: Turn | None = None
        self.conversation_id: int | None = None

    @property
    def model_id(self) -> str:
        """``provider/model``: the id the OpenAI-compatible API names models by."""
        return f"{self.provider.instance_name}/{self.model}"

    def _system_prompt(self) -> str | None:
        call = self.call
        parts = [call.system_prompt] if call.system_prompt else []
        parts += [m.content for m in call.messages if m.role == "system" and m.content]
        # None: as in `tuichat ask`, the configured default applies when the client sets none.
        return "\n\n".join(parts) if parts else None

    def _begin(self, session: Session) -> Turn:
        call = self.call
        overrides = Overrides(
            system=self._system_prompt(),
            temperature=call.temperature,
            max_tokens=call.max_tokens,
        )
        turns = [m for m in call.messages if m.role != "system"]
        first_prompt = next((m.content for m in turns if m.role == "user"), "")
        conversation = session.start_conversation(
            self.provider, self.model, overrides, title=title_from_prompt(first_prompt)
        )
        self.conversation_id = conversation.id
        last = turns[-1]
        # A last tool message: the model goes on from the tools' results, with no prompt.
        prompt = last if last.role == "user" else None
        plugin = self.provider.name

        def recall(message: TurnMessage) -> Native | None:
            return self.turns.natives.find(
                plugin, message.content, message.tool_calls, message.signatures
            )

        history = fold(turns[:-1] if prompt else turns, plugin, recall)
        for message in history:
            session.store.add_message(
                conversation.id,
                message.role,
                message.content,
                attachments=message.attachments,
                meta=message.meta,
            )
        return session.send(
            conversation,
            prompt.content if prompt else None,
            self.provider,
            self.model,
            overrides,
            attachments=prompt.attachments if prompt else (),
            offer_tools=call.tools,
        )

    async def events(self) -> AsyncGenerator[ChatEvent | ToolEvent, None]:
        """Write the conversation, then stream the reply's events while saving them.

        Closing this generator (the client left) cancels the reply upstream at once
        and finalises it as ``cancelled``.

        Raises:
            ProviderError: The reply failed (after it was finalised in the store).
        """
        session = self.turns.session()
        store = session.store
        try:
            self.turn = self._begin(session)
            async with aclosing(self.turn.stream()) as events:
                async for event in events:
                    yield event
            state = self.turn.state
            self.turns.natives.keep(state.content, state.tool_calls, self.turn.native)
            if state.status == "interrupted" and state.error is not None:
                # Ended without the provider's terminator: an incomplete reply.
                raise state.error
        finally:
            if not self.turns.save and self.conversation_id is not None:
                store.delete_conversation(self.conversation_id)

    def outcome(self) -> Outcome:
        """How the reply ended; call once :meth:`events` is exhausted."""
        assert self.turn is not None, "iterate events() first"
        state = self.turn.state
        calls = tuple(state.tool_calls)
        return Outcome(
            content=state.content,
            finish_reason=state.finish_reason,
            input_tokens=state.input_tokens,
            output_tokens=state.output_tokens,
            conversation_id=self.conversation_id if self.turns.save else None,
            left_out=tuple(self.turn.left_out),
            cached_input_tokens=state.cached_input_tokens,
            reasoning_tokens=state.reasoning_tokens,
            cost=state.cost,
            tool_calls=calls,
            signatures=self.signatures(calls),
        )

    def signatures(self, calls: Sequence[ToolCall]) -> tuple[Signature, ...]:
        """Each of the reply's calls' thought signature, from its native form."""
        return signatures_of(self.turn.native if self.turn else None, calls)

    async def complete(self) -> Outcome:
        """Run the whole reply and return its outcome (the non-streaming endpoints)."""
        async with aclosing(self.events()) as events:
            async for _ in events:
                pass
        return self.outcome()
