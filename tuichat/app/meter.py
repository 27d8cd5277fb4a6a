"""The context meter: how much of the model's window the next request will use.

The history's share is computed when it changes (a conversation opened, a reply ended,
another model chosen), from the provider's own figures when the last reply reported
them (its prompt and reply tokens) and estimated otherwise; the prompt being typed is
added as one types, at no cost per key beyond a division. Headless: the screen gives it
a function that shows a text and a level.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tuichat.chat import estimate_tokens

from .widgets.status import meter_text

if TYPE_CHECKING:
    from tuichat.provider import Provider
    from tuichat.session import Session
    from tuichat.store import Conversation, Message


class Meter:
    """Keeps the meter of one screen up to date."""

    def __init__(self, session: Session, show: Callable[[str, str], None]) -> None:
        self._session = session
        self._show = show
        self._history = 0
        self._window: int | None = None
        self._share = 1.0
        self._exact = False
        self._prompt = 0
        self._characters = 0
        # The prompt's length when the provider counted the request (None: not counted).
        self._counted_at: int | None = None
        self._shown: tuple[str, str] | None = None

    @property
    def full(self) -> bool:
        """Whether the next request passes ``[context] share`` of the window."""
        return self._window is not None and self.tokens > self._window * self._share

    @property
    def tokens(self) -> int:
        """The next request's size, as shown."""
        return self._history + self._prompt

    @property
    def shown_text(self) -> str:
        """The figure on show (``~1.4k/2k (70%)``)."""
        return self._shown[0] if self._shown is not None else ""

    def recompute(
        self,
        conversation: Conversation | None,
        provider: Provider,
        model: str,
        history: Sequence[Message] | None = None,
    ) -> None:
        """Measure the history again (call when it or the model changed); ``history`` is
        the branch as the screen read it to draw it (not read again here)."""
        session = self._session
        self._share = session.runtime.settings.context.share
        self._counted_at = None
        if conversation is None:
            options = session.options(provider, model)
            self._history = estimate_tokens(options.system or "")
            self._window, self._exact = options.context_window, False
        else:
            fit = session.fit(conversation, provider, model, history=history)
            self._history, self._window, self._exact = fit.estimated, fit.window, False
            if history is None:
                history = session.store.messages(conversation.id)
            reply = history[-1] if history and history[-1].role == "assistant" else None
            if reply is not None and reply.input_tokens and reply.output_tokens:
                # The provider counted the last request; the next one is that plus the
                # reply it got (and the new prompt).
                self._history = reply.input_tokens + reply.output_tokens
                self._exact = True
        self._draw()

    def typed(self, characters: int) -> None:
        """The prompt now holds ``characters`` characters."""
        self._characters = characters
        self._prompt = characters // 4 if characters else 0
        self._draw()

    def counted(self, tokens: int, characters: int) -> None:
        """The provider counted the next request: ``tokens`` input tokens, with a prompt
        of ``characters`` characters. Exact until the prompt changes; then the change is
        estimated on top of it."""
        self._prompt = characters // 4 if characters else 0
        self._history = max(tokens - self._prompt, 0)
        self._exact = True
        self._counted_at = characters
        self._draw()

    def _draw(self) -> None:
        tokens = self.tokens
        window = self._window
        level = "ok"
        if window:
            if tokens > window * self._share:
                level = "full"
            elif tokens > window * self._share * 0.75:
                level = "near"
        exact = self._exact and (not self._prompt or self._counted_at == self._characters)
        shown = (meter_text(tokens, window, exact=exact), level)
        if shown != self._shown:  # a label repaint only when the figure moved
            self._shown = shown
            self._show(*shown)
