"""An MCP result as the text a model gets back (DESIGN.md 5a: the text parts joined,
other parts named by type), neutralised like model text."""

from __future__ import annotations

from mcp.types import (
    AudioContent,
    BlobResourceContents,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

from tuichat.tools.results import result_text


def test_text_parts_are_joined_and_other_parts_named_by_type() -> None:
    content = [
        TextContent(text="first"),
        ImageContent(data="AAAA", mime_type="image/png"),
        AudioContent(data="AAAA", mime_type="audio/wav"),
        ResourceLink(uri="file:///notes/a.md", name="a"),
        EmbeddedResource(resource=TextResourceContents(uri="file:///b.txt", text="bee")),
        EmbeddedResource(resource=BlobResourceContents(uri="file:///c.bin", blob="AAAA")),
        TextContent(text="last"),
    ]
    assert result_text(content).splitlines() == [
        "first",
        "[image: image/png]",
        "[audio: audio/wav]",
        "[resource link: file:///notes/a.md]",
        "bee",
        "[resource: file:///c.bin]",
        "last",
    ]


def test_structured_content_is_the_text_when_there_is_no_other() -> None:
    assert result_text([], {"temperature": 21.5, "unit": "°C"}) == (
        '{"temperature": 21.5, "unit": "°C"}'
    )
    assert result_text([TextContent(text="21.5 °C")], {"temperature": 21.5}) == "21.5 °C"


def test_control_characters_are_neutralised_in_every_part() -> None:
    content = [
        TextContent(text="\x1b]52;c;aGk=\x07copied?"),
        ImageContent(data="", mime_type="image/png\x1b[2J"),
    ]
    text = result_text(content)
    assert "\x1b" not in text and "\x07" not in text
    assert text.startswith("␛]52;c;aGk=␇copied?")


def test_no_content_at_all_is_empty_text() -> None:
    assert result_text([]) == ""
