"""The built-in demo provider: chats offline, with no key, and explains how to add one.

Model ``demo`` answers with a guide to tuichat's providers (real Markdown, streamed at
a reading pace so streaming is visible); model ``echo`` repeats the prompt. Set
``[providers.demo] instant = true`` for tests: no delays, same text every time.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import ClassVar

from pydantic import Field

from tuichat.hookspecs import hookimpl
from tuichat.provider import (
    AttachmentLimits,
    ChatEvent,
    ChatRequest,
    Finish,
    ModelInfo,
    Provider,
    ProviderSettings,
    TextDelta,
    Usage,
)

GUIDE = """\
# Welcome to tuichat

You are chatting with the **built-in demo provider**: it runs offline and needs no key.
Its replies are canned; connect a real provider to talk to a model.

## Add a provider

- **OpenAI**: set `OPENAI_API_KEY`
- **Anthropic Claude**: set `ANTHROPIC_API_KEY`
- **Google Gemini**: set `GEMINI_API_KEY` (or `GOOGLE_API_KEY`)
- **A local server** (Ollama, llama.cpp, vLLM, LM Studio): add a table to your config

| Provider | Key variable | Plugin package |
|---|---|---|
| OpenAI | `OPENAI_API_KEY` | `tuichat-openai` |
| Anthropic | `ANTHROPIC_API_KEY` | `tuichat-anthropic` |
| Gemini | `GEMINI_API_KEY` | `tuichat-gemini` |

For example, in a shell, then restart tuichat:

```bash
export OPENAI_API_KEY=sk-...
tuichat --model openai/gpt-4o-mini
```

Or for Ollama, in your `config.toml` (run `tuichat providers` to see where it lives):

```toml
[providers.ollama]
plugin = "openai"
base_url = "http://localhost:11434/v1"
default_model = "llama3.2"
```

## Keys worth knowing

1. **Enter** sends, **Ctrl+J** starts a new line
2. **Esc** stops a reply and keeps what arrived
3. **Ctrl+N** starts a new conversation, **Ctrl+B** shows or hides the sidebar

Run `tuichat providers` to check which providers tuichat sees.
"""

FOLLOW_UP = """\
This is still the **demo provider**, so I can't really answer that. You wrote:

> {prompt}

To chat with a real model, set `OPENAI_API_KEY`, `ANTHROPIC_API_KEY` or `GEMINI_API_KEY`
and restart tuichat, or add a local server to your `config.toml`. Ask me for **help** to see
the full guide again.
"""

# Words with the whitespace that follows them: a fair stand-in for tokens.
_TOKEN = re.compile(r"\S+\s*|\s+")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into word-sized pieces whose concatenation is ``text``."""
    return _TOKEN.findall(text)


class DemoSettings(ProviderSettings):
    """Settings of the ``[providers.demo]`` table."""

    default_model: str = "demo"
    max_retries: int = 0
    instant: bool = False
    """Send the whole reply at once, with no delays (for tests)."""
    tokens_per_second: float = Field(default=80.0, gt=0)
    """Reading pace of the reply when not instant."""


class DemoProvider(Provider):
    """Offline, keyless, deterministic: the first thing a new user talks to."""

    name: ClassVar[str] = "demo"
    display_name: ClassVar[str] = "Demo (offline)"
    Settings: ClassVar[type[ProviderSettings]] = DemoSettings
    requires_key: ClassVar[bool] = False

    #: Replaced in tests to make the pace deterministic.
    sleep: Callable[[float], Awaitable[None]] = staticmethod(asyncio.sleep)

    async def list_models(self) -> list[ModelInfo]:
        """The guide model and the echo model."""
        return [
            ModelInfo(
                id="demo", provider=self.instance_name, name="Demo guide", context_window=1_000_000
            ),
            ModelInfo(
                id="echo", provider=self.instance_name, name="Echo", context_window=1_000_000
            ),
        ]

    def attachment_limits(self, model: str) -> AttachmentLimits:
        """Every kind, unlimited: the demo reads none of them, and nothing is sent."""
        return AttachmentLimits()

    def reply_for(self, request: ChatRequest) -> str:
        """The full text the demo answers ``request`` with."""
        users = [m.content for m in request.messages if m.role == "user"]
        prompt = users[-1] if users else ""
        if request.model == "echo":
            return prompt
        asked_for_help = prompt.strip().lower().strip("?!. ") in {"help", "guide", "?"}
        if len(users) <= 1 or asked_for_help:
            return GUIDE
        quoted = "\n> ".join(prompt.strip().splitlines()[:5]) or "(nothing)"
        return FOLLOW_UP.format(prompt=quoted)

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[ChatEvent, None]:
        """Stream the canned reply word by word; ``max_tokens`` cuts it (``length``)."""
        settings = self.settings
        assert isinstance(settings, DemoSettings)
        if request.model not in ("demo", "echo"):
            from tuichat.errors import NotFound

            raise NotFound(
                f"The demo provider has no model {request.model!r}; use 'demo' or 'echo'.",
                provider=self.instance_name,
                status=404,
            )
        tokens = tokenize(self.reply_for(request))
        limit = request.max_tokens
        cut = limit is not None and len(tokens) > limit
        if cut and limit is not None:
            tokens = tokens[:limit]
        delay = 0.0 if settings.instant else 1.0 / settings.tokens_per_second
        prompt_tokens = sum(len(tokenize(m.content)) for m in request.messages)
        for token in tokens:
            if delay:
                await self.sleep(delay)
            yield TextDelta(token)
        yield Usage(input_tokens=prompt_tokens, output_tokens=len(tokens))
        yield Finish("length", "max_tokens") if cut else Finish("stop", "stop")


@hookimpl
def register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register the built-in demo provider."""
    register(DemoProvider)
