"""Files in Gemini requests: ``inline_data`` parts with ``mime_type``, before the text.

Text files are folded into the text part by the core; earlier turns' files travel
with the history.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tuichat_gemini import GeminiProvider, GeminiSettings

from tuichat.attachments import AttachmentError
from tuichat.http import make_client
from tuichat.testing import (
    PDF_MINIMAL,
    PNG_1X1,
    WireServer,
    attachment,
    collect,
    conversation_request,
    gemini_stream,
    sse_response,
)

MODEL = "gemini-2.5-flash"
PNG_PART = {"inline_data": {"mime_type": "image/png", "data": base64.b64encode(PNG_1X1).decode()}}
PDF_PART = {
    "inline_data": {"mime_type": "application/pdf", "data": base64.b64encode(PDF_MINIMAL).decode()}
}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as shared:
        yield shared


async def sent_contents(
    server: WireServer, client: httpx.AsyncClient, *turns: Any
) -> list[dict[str, Any]]:
    server.enqueue(sse_response(*gemini_stream(["ok"], model=MODEL)))
    request = conversation_request(MODEL, *turns)
    gemini = GeminiProvider(
        settings=GeminiSettings(base_url=server.url, api_key="gm-test"),
        client=client,
        instance_name="gemini",
    )
    gemini.check_attachments(request)
    await collect(gemini, request)
    contents: list[dict[str, Any]] = server.requests[0].json()["contents"]
    return contents


async def test_an_image_is_an_inline_data_part_before_the_text(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    contents = await sent_contents(
        wire_server, client, ("user", "What is this?", [attachment(PNG_1X1, "dot.png")])
    )
    assert contents == [{"role": "user", "parts": [PNG_PART, {"text": "What is this?"}]}]


async def test_a_pdf_is_an_inline_data_part(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    contents = await sent_contents(
        wire_server, client, ("user", "Summarise", [attachment(PDF_MINIMAL, "paper.pdf")])
    )
    assert contents[0]["parts"] == [PDF_PART, {"text": "Summarise"}]


async def test_a_text_file_is_folded_into_the_text_part(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    contents = await sent_contents(
        wire_server, client, ("user", "Why?", [attachment(b"boom\n", "err.log")])
    )
    assert contents == [{"role": "user", "parts": [{"text": "err.log\n```\nboom\n```\n\nWhy?"}]}]


async def test_earlier_files_are_sent_again_with_the_history(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    contents = await sent_contents(
        wire_server,
        client,
        ("user", "Look", [attachment(PNG_1X1, "dot.png")]),
        ("assistant", "A dot."),
        ("user", "Bigger?"),
    )
    assert contents == [
        {"role": "user", "parts": [PNG_PART, {"text": "Look"}]},
        {"role": "model", "parts": [{"text": "A dot."}]},
        {"role": "user", "parts": [{"text": "Bigger?"}]},
    ]


def test_inline_files_over_the_20_mb_request_are_refused() -> None:
    gemini = GeminiProvider(settings=GeminiSettings(), client=httpx.AsyncClient())
    photo = attachment(PNG_1X1 + bytes(16 * 1024 * 1024), "photo.png")
    request = conversation_request(MODEL, ("user", "?", [photo]))
    with pytest.raises(AttachmentError) as caught:
        gemini.check_attachments(request)
    assert str(caught.value) == (
        "The attachments of this conversation (photo.png) add up to 21.3 MB once "
        "base64-encoded; the Gemini API (inline data) takes up to 20 MB per request."
    )
