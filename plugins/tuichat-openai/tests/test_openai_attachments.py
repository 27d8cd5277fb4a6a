"""Files in Chat Completions requests, byte for byte as OpenAI documents them.

Images go as ``image_url`` parts with a ``data:`` URL, PDFs as ``file`` parts with
``file_data``, both before the ``text`` part; text files are folded into the text by
the core; a message without files keeps a plain string ``content``.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tuichat_openai import OpenAIProvider, OpenAISettings

from tuichat.attachments import AttachmentError
from tuichat.http import make_client
from tuichat.testing import (
    PDF_MINIMAL,
    PNG_1X1,
    WireServer,
    attachment,
    collect,
    conversation_request,
    openai_chat_stream,
    sse_response,
)

MODEL = "gpt-4o-mini"
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG_1X1).decode()
PDF_URL = "data:application/pdf;base64," + base64.b64encode(PDF_MINIMAL).decode()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as shared:
        yield shared


def provider(server: WireServer, client: httpx.AsyncClient, **table: Any) -> OpenAIProvider:
    settings = OpenAISettings(base_url=f"{server.url}/v1", api_key="sk-test", **table)
    return OpenAIProvider(settings=settings, client=client, instance_name="openai")


async def sent_messages(
    server: WireServer, client: httpx.AsyncClient, *turns: Any
) -> list[dict[str, Any]]:
    server.enqueue(sse_response(*openai_chat_stream(["ok"], model=MODEL)))
    request = conversation_request(MODEL, *turns)
    openai = provider(server, client)
    openai.check_attachments(request)
    await collect(openai, request)
    messages: list[dict[str, Any]] = server.requests[0].json()["messages"]
    return messages


async def test_an_image_is_an_image_url_part_before_the_text(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    messages = await sent_messages(
        wire_server, client, ("user", "What is this?", [attachment(PNG_1X1, "dot.png")])
    )
    assert messages == [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": PNG_URL}},
                {"type": "text", "text": "What is this?"},
            ],
        }
    ]


async def test_a_pdf_is_a_file_part_with_file_data(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    messages = await sent_messages(
        wire_server, client, ("user", "Summarise", [attachment(PDF_MINIMAL, "docs/paper.pdf")])
    )
    assert messages[0]["content"] == [
        {"type": "file", "file": {"filename": "paper.pdf", "file_data": PDF_URL}},
        {"type": "text", "text": "Summarise"},
    ]


async def test_a_text_file_is_folded_into_a_plain_string_content(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    messages = await sent_messages(
        wire_server, client, ("user", "Explain", [attachment(b"x = 1\n", "a.py")])
    )
    assert messages == [{"role": "user", "content": "a.py\n```python\nx = 1\n```\n\nExplain"}]


async def test_earlier_files_are_sent_again_with_the_history(
    wire_server: WireServer, client: httpx.AsyncClient
) -> None:
    messages = await sent_messages(
        wire_server,
        client,
        ("user", "Look", [attachment(PNG_1X1, "dot.png")]),
        ("assistant", "A black dot."),
        ("user", "What colour again?"),
    )
    assert messages == [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": PNG_URL}},
                {"type": "text", "text": "Look"},
            ],
        },
        {"role": "assistant", "content": "A black dot."},
        {"role": "user", "content": "What colour again?"},
    ]


def test_a_server_declared_without_vision_refuses_an_image_before_sending() -> None:
    local = OpenAIProvider(
        settings=OpenAISettings(base_url="http://127.0.0.1:1/v1", vision=False),
        client=httpx.AsyncClient(),
        instance_name="ollama",
    )
    request = conversation_request("llama3.2", ("user", "?", [attachment(PNG_1X1, "dot.png")]))
    with pytest.raises(AttachmentError, match=r"^ollama does not take images with model llama3\.2"):
        local.check_attachments(request)


def test_a_pdf_over_openais_limit_is_refused_naming_the_limit() -> None:
    openai = OpenAIProvider(settings=OpenAISettings(), client=httpx.AsyncClient())
    big = attachment(PDF_MINIMAL + bytes(33 * 1024 * 1024), "big.pdf")
    request = conversation_request(MODEL, ("user", "?", [big]))
    with pytest.raises(AttachmentError) as caught:
        openai.check_attachments(request)
    assert str(caught.value) == (
        "big.pdf is 33.0 MB; OpenAI's Chat Completions API takes PDF documents up to 32 MB each."
    )
