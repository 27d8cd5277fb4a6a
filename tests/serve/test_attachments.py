"""Images and PDFs through ``serve``: OpenAI content parts in, each provider's shape out."""

from __future__ import annotations

import base64

import httpx
import openai
import pytest

from tests.serve.server import CLAUDE, ServeFactory
from tuichat.testing import WireServer, sse_response
from tuichat.testing.files import PDF_MINIMAL, png
from tuichat.testing.wire import anthropic_stream, gemini_stream

IMAGE = png(3, 2)
IMAGE_URL = "data:image/png;base64," + base64.b64encode(IMAGE).decode()
PDF_URL = "data:application/pdf;base64," + base64.b64encode(PDF_MINIMAL).decode()


def test_the_openai_sdk_sends_an_image_and_a_pdf_to_claude_as_blocks(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    wire_server.enqueue(sse_response(*anthropic_stream(["A chart."])))
    client = openai.OpenAI(base_url=f"{serve().url}/v1", api_key="unused")
    reply = client.chat.completions.create(
        model=f"anthropic/{CLAUDE}",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these?"},
                    {"type": "image_url", "image_url": {"url": IMAGE_URL}},
                    {"type": "file", "file": {"filename": "paper.pdf", "file_data": PDF_URL}},
                ],
            }
        ],
    )
    assert reply.choices[0].message.content == "A chart."
    [message] = wire_server.last_request.json()["messages"]
    assert message["content"] == [
        {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": "image/png",
                "data": base64.b64encode(IMAGE).decode(),
            },
        },
        {
            "type": "document",
            "source": {
                "type": "base64",
                "media_type": "application/pdf",
                "data": base64.b64encode(PDF_MINIMAL).decode(),
            },
        },
        {"type": "text", "text": "What is in these?"},
    ]


def test_the_native_api_takes_content_parts_and_gemini_gets_inline_data(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["Two pixels."])))
    body = {
        "model": "gemini/gemini-3.8-flash",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": IMAGE_URL}},
                    {"type": "text", "text": "Size?"},
                ],
            }
        ],
    }
    response = httpx.post(f"{serve().url}/api/chat", json=body)
    assert response.status_code == 200, response.text
    [content] = wire_server.last_request.json()["contents"]
    assert content["parts"] == [
        {"inline_data": {"mime_type": "image/png", "data": base64.b64encode(IMAGE).decode()}},
        {"text": "Size?"},
    ]


@pytest.mark.parametrize(
    ("part", "says"),
    [
        ({"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}, "data: URL"),
        ({"type": "image_url", "image_url": {"url": "data:image/png;base64,%%%"}}, "base64"),
        (
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAEC"}},
            "not a file tuichat can attach",
        ),
        ({"type": "input_audio", "input_audio": {}}, "text, image_url and file parts"),
    ],
)
def test_a_part_that_cannot_be_passed_on_is_a_400_naming_it(
    serve: ServeFactory, wire_server: WireServer, part: dict[str, object], says: str
) -> None:
    body = {
        "model": f"anthropic/{CLAUDE}",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}, part]}],
    }
    response = httpx.post(f"{serve().url}/v1/chat/completions", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert says in error["message"] and error["param"] == "messages[0].content"
    assert wire_server.requests == []
