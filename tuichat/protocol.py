"""The data of the plugin API: what a provider is asked and what it answers.

Plain dataclasses, free of any dependency, so that the app's first frame and the UI
can name them without loading pydantic (which :mod:`tuichat.provider` needs for the
settings models). Plugins import them from :mod:`tuichat.provider`, which re-exports
them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "content_filter", "tool_calls", "error"]


BinaryKind = Literal["image", "document"]


@dataclass(frozen=True, slots=True)
class BinaryPart:
    """A file a message carries as bytes: an image or a PDF document.

    Text files never come as parts: the core folds them into the message's text, so a
    provider only meets the kinds its API takes as binary input.
    """

    kind: BinaryKind
    media_type: str
    """From the bytes, never the file's name: ``image/png``, ``application/pdf``."""
    data: bytes
    name: str
    """The name the person gave (a path as typed, ``stdin``)."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered to the model in a request.

    ``name`` is already valid for every provider (``[A-Za-z0-9_-]{1,64}``) and unique
    among the request's tools; the core maps it back to the server's own name.
    """

    name: str
    description: str
    parameters: Mapping[str, Any]
    """The JSON Schema of the arguments: an ``object`` schema."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The model asks to run a tool: an event once its arguments are complete, and
    part of the assistant message that asked, in the history sent back.

    ``arguments`` is the JSON text of an object, as the model wrote it (assembled from
    the pieces it streamed; ``"{}"`` when it gave none). ``id`` is the provider's own
    call id; a provider whose API gives none makes one unique within the reply.
    """

    id: str
    name: str
    arguments: str = "{}"


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool call gave, sent back to the model in a ``tool`` message."""

    call_id: str
    name: str
    content: str
    is_error: bool = False
    """The tool failed, or the person declined the call (``content`` says which)."""


@dataclass(frozen=True, slots=True)
class Native:
    """A reply as its provider sent it, for what the API asks to get back unchanged
    (Anthropic's ``thinking`` blocks with their ``signature``, Gemini's
    ``thoughtSignature``): JSON-able data only the plugin named ``plugin`` reads.
    Another plugin rebuilds the message from its text and tool calls.
    """

    plugin: str
    data: Any


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of the conversation history sent to a model.

    ``parts`` are the message's images and documents, in the order given; they come
    before ``content`` in the turn. A provider that declares none in
    :meth:`tuichat.provider.Provider.attachment_limits` is never sent any.

    An ``assistant`` message may carry the ``tool_calls`` it asked for (and its
    ``native`` form); the ``tool`` message after it carries their ``tool_results``,
    one per call, in the order of the calls (its ``content`` is empty).
    """

    role: Role
    content: str
    parts: tuple[BinaryPart, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_results: tuple[ToolResult, ...] = ()
    native: Native | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """Everything a provider needs for one reply.

    ``messages`` holds the user/assistant turns in order; the system prompt travels
    separately because every API places it differently.
    """

    model: str
    messages: Sequence[ChatMessage]
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    #: Tools the model may call; empty: none offered (the request names no tools).
    tools: Sequence[ToolSpec] = ()
    #: Provider-specific request fields, merged into the body last.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """What a provider's API takes as images and documents, checked before sending.

    ``None`` means no limit known. A limit says where it comes from in ``source``
    (``Anthropic's Messages API``), for the sentence that refuses a file.
    """

    kinds: frozenset[BinaryKind] = frozenset({"image", "document"})
    max_image_bytes: int | None = None
    """One image, bytes as read."""
    max_document_bytes: int | None = None
    """One PDF, bytes as read."""
    max_request_bytes: int | None = None
    """All the images and documents of one request together (the history's too), as
    base64 in the request body: the size APIs limit."""
    source: str = ""


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply's text."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning ("thinking"), kept apart from the reply."""

    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts; any may be unknown. Later events replace earlier ones.

    ``input_tokens`` is the whole prompt, ``cached_input_tokens`` the part of it read
    from the provider's prompt cache (billed lower), ``cache_write_tokens`` the part
    written to it (Anthropic bills those above the input price); ``output_tokens`` the
    whole reply, ``reasoning_tokens`` the part of it spent thinking.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    cache_write_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """What the provider says of its response: its id, and the model that answered
    (an alias such as ``gpt-4o`` comes back as the dated model it names)."""

    id: str | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class Finish:
    """The reply ended the way the provider said it ended.

    ``reason`` is normalised; ``raw`` keeps the provider's own value (``end_turn``,
    ``MAX_TOKENS``...).
    """

    reason: FinishReason
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class Retrying:
    """Emitted by the core (never by a provider) before it retries a failed request."""

    attempt: int
    attempts: int
    delay: float
    error: str


@dataclass(frozen=True, slots=True)
class NativeReply:
    """The reply in its provider's own shape, emitted once before :class:`Finish` by a
    provider that needs it back unchanged (see :class:`Native`); the core stores it
    with the reply and sends it back as that message's ``native``."""

    data: Any


ChatEvent = (
    TextDelta | ReasoningDelta | Usage | ResponseInfo | ToolCall | NativeReply | Finish | Retrying
)


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A field of the request that the provider does not send, and why.

    A provider says so through :meth:`tuichat.provider.Provider.left_out` rather than
    dropping a setting silently (a temperature that a reasoning model or an API version
    refuses): every front-end tells the person.
    """

    name: str
    """The setting, as the person knows it (``temperature``)."""
    reason: str
    """Why, in a few words (``Anthropic's API version 2026-10-21 takes none``)."""

    @property
    def sentence(self) -> str:
        """One sentence for the person."""
        return f"The {self.name} was not sent: {self.reason}."


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model a provider offers."""

    id: str
    provider: str
    name: str | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
