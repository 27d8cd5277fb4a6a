"""Refusing a request whose images or documents cannot go, before anything is sent.

A provider declares what its API takes in :class:`~tuichat.protocol.AttachmentLimits`;
a request that breaks them would cost a round trip and come back as an HTTP 400 in
the API's words, so it is refused here with one sentence naming the file and the
limit (exit 2 in ``ask``, DESIGN 5a).
"""

from __future__ import annotations

from tuichat.attachments import AttachmentError, human_size
from tuichat.protocol import AttachmentLimits, BinaryPart, ChatRequest

__all__ = ["check_request"]

_WHAT = {"image": "images", "document": "PDF documents"}


def _base64_size(size: int) -> int:
    return 4 * ((size + 2) // 3)


def _by(limits: AttachmentLimits, label: str) -> str:
    return limits.source or label


def check_request(label: str, request: ChatRequest, limits: AttachmentLimits) -> None:
    """Check every image and document of ``request`` (its history's too) against ``limits``.

    Raises:
        AttachmentError: The first part that cannot go, in one sentence.
    """
    parts: list[BinaryPart] = [part for message in request.messages for part in message.parts]
    for part in parts:
        if part.kind not in limits.kinds:
            raise AttachmentError(
                f"{label} does not take {_WHAT.get(part.kind, part.kind)} with model "
                f"{request.model}, so {part.name} cannot be sent; leave it out or choose "
                "another model."
            )
        limit = limits.max_image_bytes if part.kind == "image" else limits.max_document_bytes
        if limit is not None and len(part.data) > limit:
            raise AttachmentError(
                f"{part.name} is {human_size(len(part.data))}; {_by(limits, label)} takes "
                f"{_WHAT.get(part.kind, part.kind)} up to {human_size(limit)} each."
            )
    total = sum(_base64_size(len(part.data)) for part in parts)
    if limits.max_request_bytes is not None and total > limits.max_request_bytes:
        names = ", ".join(part.name for part in parts)
        raise AttachmentError(
            f"The attachments of this conversation ({names}) add up to {human_size(total)} "
            "once base64-encoded; "
            f"{_by(limits, label)} takes up to {human_size(limits.max_request_bytes)} per "
            "request."
        )
