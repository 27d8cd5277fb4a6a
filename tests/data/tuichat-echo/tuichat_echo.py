"""tuichat-echo: the smallest complete provider plugin (it shouts the prompt back)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable

from tuichat import hookimpl
from tuichat.provider import (
    ChatEvent,
    ChatRequest,
    Finish,
    ModelInfo,
    Provider,
    ProviderSettings,
    TextDelta,
    Usage,
)


class EchoSettings(ProviderSettings):
    """Settings of ``[providers.echo]``."""

    default_model: str = "shout"


class EchoProvider(Provider):
    """Answers with the last prompt in capitals, one word at a time."""

    name = "echo"
    display_name = "Echo (third party)"
    Settings = EchoSettings
    requires_key = False

    async def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(id="shout", provider=self.instance_name)]

    async def stream_chat(self, request: ChatRequest) -> AsyncGenerator[ChatEvent, None]:
        words = request.messages[-1].content.upper().split()
        for word in words:
            yield TextDelta(word + " ")
        yield Usage(input_tokens=len(words), output_tokens=len(words))
        yield Finish("stop", "done")


@hookimpl
def register_providers(register: Callable[[type[Provider]], None]) -> None:
    register(EchoProvider)
