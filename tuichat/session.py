"""The conversation engine: what a turn is, decided once for every front-end.

The TUI's chat screen and compare mode, ``tuichat ask`` and ``tuichat serve`` all start
their turns here, so they cannot drift apart: a :class:`Session` resolves who answers
(strictly: an unknown provider is an error, never a silent fallback; a stored
conversation stays with its own provider unless the person names another), checks the
key, resolves a turn's options in one order (the front-end's overrides, then the
conversation's own, then ``config.toml``), looks up the model's context window so that
every front-end trims the history alike, and begins the turn, a regenerate, an edit, a
continuation or a comparison.

The history rule lives in :func:`tuichat.chat.build_request`: a prompt is sent only
together with its answer, so a prompt whose reply failed (or was stopped before any
text) is never sent twice when the person tries again.

Headless: no Textual, no HTTP here (the provider and the turn do that).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tuichat import turns
from tuichat.chat import Turn
from tuichat.costs import Purpose, SideCost, Tally
from tuichat.errors import MissingKey, TuichatError, UsageError
from tuichat.turns import TurnRefused

__all__ = ["MissingKey", "Overrides", "Session", "TurnOptions", "TurnRefused", "missing_key"]

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from tuichat.attachments import Attachment
    from tuichat.catalog import ProviderModels
    from tuichat.compare import Comparison, Contender
    from tuichat.http import RetryPolicy
    from tuichat.prices import Price
    from tuichat.protocol import ModelInfo, ToolSpec
    from tuichat.provider import Provider
    from tuichat.runtime import Runtime
    from tuichat.store import Conversation, Message, Store
    from tuichat.tool_loop import ToolUse


@dataclass(frozen=True, slots=True)
class Overrides:
    """What a front-end sets for a turn, above the conversation's own options.

    ``None`` means "not set here": the conversation's value, else the config's, applies.
    ``system`` may be ``""`` to send no system prompt at all.
    """

    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None

    def params(self) -> dict[str, Any]:
        """The parameters set here, as a conversation stores them."""
        params: dict[str, Any] = {}
        if self.temperature is not None:
            params["temperature"] = self.temperature
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        return params


@dataclass(frozen=True, slots=True)
class TurnOptions:
    """A turn's options, resolved: what :meth:`tuichat.chat.Turn.begin` takes."""

    model: str
    system: str | None
    temperature: float | None
    max_tokens: int | None
    context_window: int | None
    policy: RetryPolicy | None = None
    clock: Callable[[], float] = field(default=time.monotonic)
    price: Price | None = None

    def as_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :meth:`Turn.begin` and the :mod:`tuichat.turns` helpers."""
        return {
            "model": self.model,
            "system": self.system,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "context_window": self.context_window,
            "policy": self.policy,
            "clock": self.clock,
            "price": self.price,
        }


@dataclass(frozen=True, slots=True)
class Fit:
    """How much of the model's window the next request would use (an estimate)."""

    estimated: int
    """Tokens, estimated generously from the text (see :func:`tuichat.chat.estimate_tokens`)."""
    window: int | None
    """The model's context window, if known."""
    share: float
    """The share of the window from which the conversation counts as full."""

    @property
    def full(self) -> bool:
        """Whether the request passes that share (never, with an unknown window)."""
        return self.window is not None and self.estimated > self.window * self.share


def missing_key(provider: Provider) -> MissingKey | None:
    """The error for a provider that needs a key and has none; None when it can chat."""
    if not provider.needs_key() or provider.has_key():
        return None
    names = " or ".join(provider.key_env_names()) or (
        f"api_key in [providers.{provider.instance_name}]"
    )
    return MissingKey(
        f"{provider.label} needs an API key and none is set; set {names} "
        "(see 'tuichat providers').",
        provider=provider.instance_name,
        names=names,
    )


class Session:
    """Starts turns for one front-end, over one runtime and one store.

    Args:
        runtime: Settings and providers.
        store: Where conversations are read and written (``ask --no-save`` and
            ``serve`` without saving pass a private in-memory one).
        models: The model lists known (for context windows); by default the lists
            the model picker cached in ``runtime.store``.
        clock: The turns' monotonic clock (tests pass a fixed one).
    """

    def __init__(
        self,
        runtime: Runtime,
        store: Store | None = None,
        *,
        models: Callable[[], Iterable[ProviderModels]] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.runtime = runtime
        self._store = store
        self._models = models
        self._cached_models: list[ProviderModels] | None = None
        self.clock = clock or time.monotonic
        #: The requests beyond the replies this session made (titles, summaries), in
        #: order: what ``ask --json`` reports beside its turn.
        self.side_spent: list[SideCost] = []

    @property
    def store(self) -> Store:
        """The store turns are written to."""
        return self._store if self._store is not None else self.runtime.store

    # -- who answers ---------------------------------------------------------------------

    def resolve(
        self,
        provider: str | None = None,
        model: str | None = None,
        *,
        conversation: Conversation | None = None,
    ) -> tuple[Provider, str]:
        """Who answers: the named provider and model, else the conversation's, else the
        config's default.

        ``model`` may be ``provider/model`` (strictly: see :meth:`Runtime.resolve`). A
        stored conversation stays with its own provider unless another is named:
        ``-m other-model`` changes only the model.

        Raises:
            UsageError: An unknown provider (instance or prefix).
            ConfigError: The provider's config table is invalid.
        """
        runtime = self.runtime
        model = model or None
        own = conversation.provider if conversation is not None else None
        if provider is not None or not own:
            return runtime.resolve(provider, model)
        names = runtime.instance_names()
        if own not in names:
            raise UsageError(
                f"This conversation is with provider {own!r}, which is not configured any "
                f"more; the providers are: {', '.join(names)}. Name one to continue with it."
            )
        if model is not None and "/" in model:
            # Another provider's prefix moves the conversation there (the person named
            # it); any other slash belongs to a model id of the conversation's own.
            return runtime.resolve(None, model, owner=own)
        instance = runtime.provider(own)
        assert conversation is not None
        return instance, model or conversation.model or instance.default_model

    def require_key(self, provider: Provider) -> None:
        """Check that ``provider`` can be asked.

        Raises:
            MissingKey: It needs an API key and none is set.
        """
        error = missing_key(provider)
        if error is not None:
            raise error

    # -- a turn's options ----------------------------------------------------------------

    def model_info(self, provider: str, model: str) -> ModelInfo | None:
        """What the model lists say of ``provider``'s ``model`` (its context window)."""
        from tuichat import catalog

        return catalog.find(self._model_lists(), provider, model)

    def _model_lists(self) -> list[ProviderModels]:
        if self._models is not None:
            return list(self._models())
        if self._cached_models is None:
            from tuichat import catalog

            try:
                self._cached_models = list(catalog.load_cache(self.runtime.store).values())
            except TuichatError:
                self._cached_models = []
        return self._cached_models

    def options(
        self,
        provider: Provider,
        model: str,
        conversation: Conversation | None = None,
        overrides: Overrides | None = None,
    ) -> TurnOptions:
        """Resolve a turn's options: ``overrides``, else the conversation's, else the config's.

        A conversation's system prompt is the one it was started with (``None``: none);
        a new conversation gets the config's ``system_prompt``.
        """
        from tuichat.http import RetryPolicy  # (httpx: not before the app's first frame)

        settings = self.runtime.settings
        overrides = overrides or Overrides()
        params: Mapping[str, Any] = conversation.params if conversation is not None else {}
        if overrides.system is not None:
            system = overrides.system or None
        elif conversation is not None:
            system = conversation.system_prompt
        else:
            system = settings.system_prompt
        temperature = _first(overrides.temperature, params.get("temperature"), settings.temperature)
        max_tokens = _first(overrides.max_tokens, params.get("max_tokens"), settings.max_tokens)
        info = self.model_info(provider.instance_name, model)
        return TurnOptions(
            model=model,
            system=system,
            temperature=temperature,
            max_tokens=max_tokens,
            context_window=info.context_window if info is not None else None,
            policy=RetryPolicy(settings.retry.base_delay, settings.retry.max_delay),
            clock=self.clock,
            price=self.price(provider, model),
        )

    def price(self, provider: Provider, model: str) -> Price | None:
        """What ``provider``'s ``model`` costs (None: unknown): ``[prices]``, else the
        shipped table (see :mod:`tuichat.prices`)."""
        from tuichat import prices

        return prices.find(
            self.runtime.settings.price_table(),
            instance=provider.instance_name,
            plugin=provider.name,
            model=model,
        )

    # -- turns ---------------------------------------------------------------------------

    def start_conversation(
        self,
        provider: Provider,
        model: str,
        overrides: Overrides | None = None,
        *,
        title: str = "",
        params: Mapping[str, Any] | None = None,
    ) -> Conversation:
        """Create a conversation with ``provider``, keeping the options it starts with.

        Its system prompt is the override's, else the config's; its parameters are
        ``params`` (the TUI's options dialog) plus the overrides set.
        """
        options = self.options(provider, model, None, overrides)
        stored = dict(params or {})
        stored.update((overrides or Overrides()).params())
        return self.store.create_conversation(
            title=title,
            provider=provider.instance_name,
            model=model,
            system_prompt=options.system,
            params=stored,
        )

    def conversation(self, conversation_id: int) -> Conversation:
        """A stored conversation.

        Raises:
            UsageError: There is no such conversation.
        """
        conversation = self.store.get_conversation(conversation_id)
        if conversation is None:
            raise UsageError(
                f"There is no conversation {conversation_id}; 'tuichat list' shows them."
            )
        return conversation

    def send(
        self,
        conversation: Conversation,
        prompt: str | None,
        provider: Provider,
        model: str,
        overrides: Overrides | None = None,
        attachments: Sequence[Attachment] = (),
        tools: ToolUse | None = None,
        offer_tools: Sequence[ToolSpec] = (),
    ) -> Turn:
        """Save ``prompt`` and its ``attachments`` in ``conversation`` and begin the reply.

        ``prompt`` None answers the history as it is (``serve``'s client sent the results
        of the tools the model called). With ``tools``, the reply may call them (see
        :mod:`tuichat.tool_loop`); ``offer_tools`` are only offered: their calls end the
        turn, for the front-end's client to run (see :meth:`Turn.begin`).

        Raises:
            MissingKey: The provider needs a key and has none.
            AttachmentError: The provider cannot take the request's images or documents;
                nothing is saved or sent.
        """
        self.require_key(provider)
        options = self.options(provider, model, conversation, overrides)
        return Turn.begin(
            self.store,
            provider,
            conversation.id,
            prompt,
            attachments=attachments,
            tools=tools,
            offer_tools=offer_tools,
            **options.as_kwargs(),
        )

    def regenerate(
        self,
        target: Message,
        provider: Provider,
        model: str,
        overrides: Overrides | None = None,
        tools: ToolUse | None = None,
    ) -> Turn:
        """Answer ``target``'s prompt again (see :func:`tuichat.turns.begin_regenerate`)."""
        self.require_key(provider)
        options = self._options_for(target, provider, model, overrides)
        return turns.begin_regenerate(
            self.store, provider, target, tools=tools, **options.as_kwargs()
        )

    def edit(
        self,
        prompt: Message,
        text: str,
        provider: Provider,
        model: str,
        overrides: Overrides | None = None,
        tools: ToolUse | None = None,
    ) -> Turn:
        """Resend ``prompt`` as ``text``, a new branch (see :func:`tuichat.turns.begin_edit`)."""
        self.require_key(provider)
        options = self._options_for(prompt, provider, model, overrides)
        return turns.begin_edit(
            self.store, provider, prompt, text, tools=tools, **options.as_kwargs()
        )

    def continue_reply(
        self,
        reply: Message,
        provider: Provider,
        model: str,
        overrides: Overrides | None = None,
        tools: ToolUse | None = None,
    ) -> Turn:
        """Carry on ``reply`` in place (see :func:`tuichat.turns.begin_continue`)."""
        self.require_key(provider)
        options = self._options_for(reply, provider, model, overrides)
        return turns.begin_continue(self.store, provider, reply, tools=tools, **options.as_kwargs())

    def contenders(self, choices: Sequence[tuple[str, str]]) -> list[Contender]:
        """The ``(provider, model)`` choices of a comparison, checked.

        Raises:
            UsageError: An unknown provider.
            MissingKey: One of them has no key.
        """
        from tuichat.compare import Contender

        contenders = []
        for provider_name, model in choices:
            provider, model = self.resolve(provider_name, model)
            error = missing_key(provider)
            if error is not None:
                raise MissingKey(
                    f"{error} Or remove that model from the comparison.",
                    provider=error.provider,
                    names=error.names,
                )
            info = self.model_info(provider.instance_name, model)
            contenders.append(
                Contender(
                    provider,
                    model,
                    info.context_window if info is not None else None,
                    self.price(provider, model),
                )
            )
        return contenders

    def compare(
        self,
        conversation: Conversation,
        prompt: str,
        contenders: Sequence[Contender],
        overrides: Overrides | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> Comparison:
        """Save ``prompt`` and its ``attachments`` and begin one reply per contender (see
        :meth:`contenders`)."""
        from tuichat.compare import Comparison

        first = contenders[0]
        options = self.options(first.provider, first.model, conversation, overrides)
        return Comparison.begin(
            self.store,
            conversation.id,
            prompt,
            contenders,
            system=options.system,
            temperature=options.temperature,
            max_tokens=options.max_tokens,
            policy=options.policy,
            clock=self.clock,
            attachments=attachments,
        )

    # -- long conversations -------------------------------------------------------------

    def fit(
        self,
        conversation: Conversation,
        provider: Provider,
        model: str,
        prompt: str = "",
        overrides: Overrides | None = None,
        history: Sequence[Message] | None = None,
    ) -> Fit:
        """How much of ``model``'s window the conversation plus ``prompt`` would use.

        ``history``: the conversation's branch when the caller has read it already (the
        app has, to draw it: reading 2,000 messages again costs a tenth of a second).
        """
        from tuichat.chat import build_request, estimate_tokens

        options = self.options(provider, model, conversation, overrides)
        if history is None:
            history = self.store.messages(conversation.id)
        request, _ = build_request(history, model=model, system=options.system)
        estimated = estimate_tokens(request.system or "") + estimate_tokens(prompt)
        estimated += sum(estimate_tokens(message.content) for message in request.messages)
        estimated += options.max_tokens or 0
        share = self.runtime.settings.context.share
        return Fit(estimated, options.context_window, share)

    async def count_next(
        self,
        conversation: Conversation | None,
        provider: Provider,
        model: str,
        prompt: str = "",
    ) -> int | None:
        """The input tokens of the next request (the history as it would be sent, trimmed
        or summarised, its system prompt and ``prompt``), counted by ``provider``'s own
        endpoint; None when it has none.

        Raises:
            MissingKey: The provider needs a key and has none.
            ProviderError: The count request failed.
        """
        from dataclasses import replace

        from tuichat.chat import build_request, history_attachments
        from tuichat.protocol import ChatMessage

        self.require_key(provider)
        options = self.options(provider, model, conversation)
        history = self.store.messages(conversation.id) if conversation is not None else []
        request, _ = build_request(
            history,
            model=model,
            system=options.system,
            temperature=options.temperature,
            max_tokens=options.max_tokens,
            context_window=options.context_window,
            attachments=history_attachments(self.store, history),
        )
        if prompt.strip():
            request = replace(request, messages=(*request.messages, ChatMessage("user", prompt)))
        return await provider.count_tokens(request)

    async def summarise(
        self, conversation: Conversation, provider: Provider, model: str
    ) -> Message | None:
        """Have the older turns of ``conversation`` summarised and store the summary, which
        every later request sends in their place (see :mod:`tuichat.summaries`).

        The last ``[context] keep_recent`` messages stay as they are; an earlier summary
        is summarised again with what followed it. The summary is written by
        ``[context] summary_model``, else by ``model``.

        Returns:
            The stored summary, or None when there is nothing old enough to summarise.

        Raises:
            ProviderError: The summary request failed; nothing is stored.
        """
        written = await self._write_summary(
            conversation, provider, model, keep=self.runtime.settings.context.keep_recent
        )
        if written is None:
            return None
        text, meta = written
        return self.store.add_message(conversation.id, "system", text, meta=meta)

    async def fork_summarised(
        self, conversation: Conversation, provider: Provider, model: str
    ) -> Conversation | None:
        """Start a new conversation whose first message is a summary of all of
        ``conversation`` (same system prompt and options), for the next turn to go there.

        Returns:
            The new conversation, or None when there is nothing to summarise.

        Raises:
            ProviderError: The summary request failed; nothing is stored.
        """
        written = await self._write_summary(conversation, provider, model, keep=0)
        if written is None:
            return None
        text, meta = written
        title = f"{conversation.title} (continued)" if conversation.title else ""
        store = self.store
        fork = store.create_conversation(
            title=title,
            provider=provider.instance_name,
            model=model,
            system_prompt=conversation.system_prompt,
            params=dict(conversation.params),
        )
        # Its ``through`` names a message of the old conversation: none of the new one's
        # messages is covered, so every turn after the summary is sent as it is.
        store.add_message(fork.id, "system", text, meta={**meta, "from": conversation.id})
        return fork

    async def _write_summary(
        self, conversation: Conversation, provider: Provider, model: str, *, keep: int
    ) -> tuple[str, dict[str, Any]] | None:
        """The summary of ``conversation`` but its last ``keep`` messages, and its meta;
        None when there is nothing to summarise."""
        from tuichat import summaries
        from tuichat.chat import sendable
        from tuichat.protocol import ChatMessage

        settings = self.runtime.settings.context
        history = self.store.messages(conversation.id)
        previous = summaries.latest(history)
        rest, _ = summaries.apply(history, None)
        candidates = sendable(rest)
        covered = candidates[:-keep] if keep else candidates
        # The kept part must start with a prompt, as every request must.
        while covered and len(covered) < len(candidates) and covered[-1].role == "user":
            covered = covered[:-1]
        if not covered:
            return None
        messages = [ChatMessage(m.role, m.content) for m in covered]  # type: ignore[arg-type]
        if previous is not None:
            earlier = f"(Summary of what came before: {previous.text})"
            messages.insert(0, ChatMessage("user", earlier))
        writer, writer_model = provider, model
        if settings.summary_model:
            writer, writer_model = self.resolve(None, settings.summary_model)
        self.require_key(writer)
        tally = Tally()
        try:
            text = await summaries.write(writer, writer_model, messages, tally=tally)
        finally:
            # Paid for even when it failed halfway or the fork took its text elsewhere:
            # the cost of summarising a conversation is that conversation's.
            self._record_spent(conversation.id, "summary", writer, writer_model, tally)
        if not text:
            return None
        covers = len(covered) + (previous.covers if previous is not None else 0)
        return text, summaries.meta(covered[-1].id, covers, writer.instance_name, writer_model)

    async def write_title(
        self, conversation_id: int, provider: Provider, model: str, prompt: str, reply: str
    ) -> str | None:
        """Ask ``model`` for a title of a first exchange (see :mod:`tuichat.titles`) and
        add what the request cost to the conversation's totals.

        Returns:
            The title, or None when the model gave nothing usable (never raises but for
            cancellation: a title is a nicety).
        """
        from tuichat import titles

        tally = Tally()
        try:
            return await titles.generate_title(provider, model, prompt, reply, tally=tally)
        finally:
            self._record_spent(conversation_id, "title", provider, model, tally)

    def _record_spent(
        self, conversation_id: int, purpose: Purpose, provider: Provider, model: str, tally: Tally
    ) -> None:
        """Keep what a side request cost, if it was billed; a store that cannot take it
        is logged, never raised: the figure must not cost the person a title or summary."""
        if not tally.billed:
            return
        spent = tally.spent(purpose, provider.instance_name, model, self.price(provider, model))
        self.side_spent.append(spent)
        try:
            self.store.add_side_cost(conversation_id, spent)
        except TuichatError as exc:
            log.warning("the cost of a %s request was not kept: %s", purpose, exc)

    def _options_for(
        self, message: Message, provider: Provider, model: str, overrides: Overrides | None
    ) -> TurnOptions:
        conversation = self.store.get_conversation(message.conversation_id)
        return self.options(provider, model, conversation, overrides)


def _first(*values: Any) -> Any:
    """The first value that is set (not None): 0 and 0.0 count as set."""
    return next((value for value in values if value is not None), None)
