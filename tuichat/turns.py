"""Turns that rework the conversation: regenerate a reply, resend an edited prompt, continue
a reply that was cut short. UI-free, built on :class:`tuichat.chat.Turn`.

Nothing is overwritten. Regenerating adds a new reply beside the old one and an edited
prompt starts a new branch beside the old prompt (the store keeps both, see
:meth:`tuichat.store.Store.add_message`), so the later turns survive as an alternative.

**Continue.** Where the API lets a request end with a partial assistant message that the
model carries on ("prefill": Anthropic's Messages API does), the partial reply is sent as
that last message and the continuation is appended to it seamlessly. Elsewhere (OpenAI
Chat Completions, Gemini, OpenAI-compatible servers) a final assistant message is taken as
finished, so the partial reply is sent followed by a short user turn asking to continue
where it stopped; the answer is appended to the same message. A provider class can claim
prefill with ``supports_prefill = True``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tuichat.chat import Turn, build_request, history_attachments
from tuichat.errors import TuichatError
from tuichat.store import Message, Store

if TYPE_CHECKING:
    from tuichat.provider import Provider

#: The user turn sent to continue where prefill is not available.
CONTINUE_PROMPT = (
    "Continue exactly where your previous message stopped, mid-sentence if need be. "
    "Do not repeat anything, do not add any preamble."
)

#: Statuses of a reply that can be continued.
CONTINUABLE = frozenset({"length", "cancelled", "interrupted", "error"})


class TurnRefused(ValueError):
    """The action does not apply to that message; the text says why, for people."""


def supports_prefill(provider: Provider) -> bool:
    """Whether ``provider`` continues a request's trailing assistant message."""
    return provider.supports_prefill


def begin_regenerate(store: Store, provider: Provider, target: Message, **options: Any) -> Turn:
    """Answer again the prompt of ``target``; the old reply stays as an alternative.

    Args:
        store: The store.
        provider: Who answers.
        target: A reply (its prompt is answered again) or a prompt.
        **options: Passed to :meth:`Turn.begin` (``model``, ``system``...).

    Returns:
        The new turn, its assistant row created.

    Raises:
        TurnRefused: The reply answers no prompt.
    """
    prompt = target if target.role == "user" else _parent(store, target)
    if prompt is None or prompt.role != "user":
        raise TurnRefused("This reply answers no prompt, so it cannot be regenerated.")
    conversation = store.get_conversation(prompt.conversation_id)
    store.set_head(prompt.conversation_id, prompt.id)
    try:
        return Turn.begin(store, provider, prompt.conversation_id, None, **options)
    except TuichatError:
        # Refused before sending (a file the provider cannot take): the old reply stays
        # on show.
        if conversation is not None:
            store.set_head(prompt.conversation_id, conversation.head_id)
        raise


def begin_edit(
    store: Store, provider: Provider, prompt: Message, text: str, **options: Any
) -> Turn:
    """Send ``text`` in place of ``prompt``: a new branch from the same point.

    Args:
        store: The store.
        provider: Who answers.
        prompt: The prompt being edited.
        text: Its new text.
        **options: Passed to :meth:`Turn.begin`.

    Returns:
        The new turn; its user message is the edited prompt.

    Raises:
        TurnRefused: ``prompt`` is not a prompt.
    """
    if prompt.role != "user":
        raise TurnRefused("Only a prompt can be edited and resent.")
    # The edited prompt keeps the files of the one it replaces.
    files = store.message_attachments([prompt.id]).get(prompt.id, [])
    edited = store.add_message(
        prompt.conversation_id, "user", text, parent_id=prompt.parent_id, attachments=files
    )
    turn = Turn.begin(store, provider, prompt.conversation_id, None, **options)
    turn.user_message = edited
    return turn


def begin_continue(
    store: Store,
    provider: Provider,
    reply: Message,
    *,
    model: str,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    context_window: int | None = None,
    **options: Any,
) -> Turn:
    """Carry on ``reply`` (cut by max tokens, stopped or interrupted) in the same message.

    Args:
        store: The store.
        provider: Who answers.
        reply: The last reply of the branch on show.
        model: The model.
        system: The system prompt.
        temperature: Sampling temperature.
        max_tokens: Most tokens for the continuation.
        context_window: The model's context window, if known.
        **options: Passed to :class:`Turn` (``policy``, ``clock``...).

    Returns:
        A turn streaming into ``reply``'s row, its text so far already in ``turn.state``.

    Raises:
        TurnRefused: Not a reply, not the last message, or nothing to continue.
    """
    if reply.role != "assistant":
        raise TurnRefused("Only a reply can be continued.")
    history = store.messages(reply.conversation_id)
    if not history or history[-1].id != reply.id:
        raise TurnRefused("Only the last reply of the conversation can be continued.")
    if not reply.content.strip():
        raise TurnRefused("This reply has no text to continue; regenerate it instead.")
    prefill = supports_prefill(provider)
    # Anthropic refuses a prefill ending in whitespace; the model writes it again anyway.
    partial = reply.content.rstrip() if prefill else reply.content
    # Without its native form: that holds the reply as it came, not the partial text.
    bare = {key: value for key, value in reply.meta.items() if key != "native"}
    sent = [*history[:-1], replace(reply, content=partial, status="complete", meta=bare)]
    if not prefill:
        sent.append(replace(reply, role="user", content=CONTINUE_PROMPT, status="complete"))
    request, omitted = build_request(
        sent,
        model=model,
        system=system,
        temperature=temperature,
        max_tokens=max_tokens,
        context_window=context_window,
        attachments=history_attachments(store, sent),
    )
    provider.check_attachments(request)
    store.update_message(reply.id, status="streaming", content=partial)
    streaming = store.get_message(reply.id) or reply
    turn = Turn(
        store,
        provider,
        request,
        conversation_id=reply.conversation_id,
        user_message=None,
        assistant_message=streaming,
        omitted=omitted,
        **options,
    )
    turn.state.content = partial
    turn.state.reasoning = reply.reasoning
    return turn


def _parent(store: Store, message: Message) -> Message | None:
    return store.get_message(message.parent_id) if message.parent_id is not None else None
