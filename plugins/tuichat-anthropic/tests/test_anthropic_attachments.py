"""Files in Messages API requests, byte for byte as Anthropic documents them.

Images go as ``image`` blocks and PDFs as ``document`` blocks, each with a base64
``source``, before the text block; text files are folded into the text by the core;
a message without files keeps a plain string ``content``.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tuichat_anthropic import AnthropicProvider, AnthropicSettings

from tuichat.attachments import AttachmentError
from tuichat.http import make_client
from tuichat.testing import (
    PDF_MINIMAL,
    PNG_1X1,
    WireServer,
    anthropic_stream,
    attachment,
    collect,
    conversation_request,
    sse_response,
)

MODEL = "claude-sonnet-4-5"
PNG_B64 = base64.b64encode(PNG_1X1).decode()
PDF_B64 = base64.b64encode(PDF_MINIMAL).decode()
IMAGE_BLOCK = {
    "type": "image",
    "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64},
}
PDF_BLOCK = {
    "type": "document",
    "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64},
}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as shared:
        yield shared


async def sent_messages(
    server: WireServer, client: httpx.AsyncClient, *turns: Any
) -> list[dict[str, Any]]:
    server.enqueue(sse_response(*anthropic_stream(["ok"], model=MODEL)))
    request = conversation_request(MODEL, *turns)
    anthropic = AnthropicProvider(
        settings=AnthropicSettings(base_url=server.url, api_key="sk-ant-test"),
        client=client,
        instance_name="anthropic",
    )
    anthropic.check_attachments(request)
    await collect(anthropic, request)
    messages: list[dict[str, Any]] = server.requests[0].json()["messages"]
    return messages


async def test_an_image_is_an_image_block_before_the_text(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    messages = await sent_messages(
        wire_server, client, ("user", "What is this?", [attachment(PNG_1X1, "dot.png")])
    )
    assert messages == [
        {"role": "user", "content": [IMAGE_BLOCK, {"type": "text", "text": "What is this?"}]}
    ]


async def test_a_pdf_is_a_document_block(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    messages = await sent_messages(
        wire_server,
        client,
        ("user", "Compare", [attachment(PDF_MINIMAL, "a.pdf"), attachment(PNG_1X1, "b.png")]),
    )
    assert messages[0]["content"] == [
        PDF_BLOCK,
        IMAGE_BLOCK,
        {"type": "text", "text": "Compare"},
    ]


async def test_a_text_file_is_folded_into_a_plain_string_content(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    messages = await sent_messages(
        wire_server, client, ("user", "Fix it", [attachment(b"SELECT 1;\n", "q.sql")])
    )
    assert messages == [{"role": "user", "content": "q.sql\n```sql\nSELECT 1;\n```\n\nFix it"}]


async def test_earlier_files_are_sent_again_with_the_history(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    messages = await sent_messages(
        wire_server,
        client,
        ("user", "Read", [attachment(PDF_MINIMAL, "a.pdf")]),
        ("assistant", "An empty page."),
        ("user", "Sure?"),
    )
    assert messages == [
        {"role": "user", "content": [PDF_BLOCK, {"type": "text", "text": "Read"}]},
        {"role": "assistant", "content": "An empty page."},
        {"role": "user", "content": "Sure?"},
    ]


def test_an_image_over_five_mb_is_refused_naming_the_limit() -> None:
    anthropic = AnthropicProvider(settings=AnthropicSettings(), client=httpx.AsyncClient())
    big = attachment(PNG_1X1 + bytes(6 * 1024 * 1024), "big.png")
    request = conversation_request(MODEL, ("user", "?", [big]))
    with pytest.raises(AttachmentError) as caught:
        anthropic.check_attachments(request)
    assert str(caught.value) == (
        "big.png is 6.0 MB; Anthropic's Messages API takes images up to 5 MB each."
    )


def test_files_over_the_32_mb_request_are_refused() -> None:
    anthropic = AnthropicProvider(settings=AnthropicSettings(), client=httpx.AsyncClient())
    pdf = attachment(PDF_MINIMAL + bytes(25 * 1024 * 1024), "big.pdf")
    request = conversation_request(MODEL, ("user", "?", [pdf]))
    with pytest.raises(AttachmentError, match=r"add up to 33\.3 MB once base64-encoded; "):
        anthropic.check_attachments(request)
