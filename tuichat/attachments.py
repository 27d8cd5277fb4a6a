"""Files in the conversation: what an attachment is and how its kind is known.

The kind comes from the bytes (magic numbers), never from the name: a ``photo.png``
that holds a JPEG goes out as ``image/jpeg``, and a name cannot make a binary file pass
for text. Images (PNG, JPEG, GIF, WebP) and PDF documents travel as binary parts of the
message; any other UTF-8 text is folded into the message's text (:func:`text_block`,
DESIGN 5a): providers only ever see images and documents.

Reading files and folders is :mod:`tuichat.attachment_reader`'s job; this module is
pure and cheap to import (no Textual, no httpx).
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from tuichat.errors import AttachmentError

__all__ = [
    "KINDS_THAT_WORK",
    "Attachment",
    "AttachmentError",
    "Kind",
    "UnknownKind",
    "fenced",
    "from_bytes",
    "human_size",
    "image_size",
    "language_of",
    "sniff",
    "text_block",
    "with_attachments",
]

Kind = Literal["image", "document", "text"]

#: Said whenever a file is refused for its kind, so that the person knows what works.
KINDS_THAT_WORK = "PNG, JPEG, GIF and WebP images, PDF documents and UTF-8 text files"


class UnknownKind(AttachmentError):
    """The bytes are neither an image, a PDF nor UTF-8 text."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """One file attached to a prompt.

    Attributes:
        name: The name as the person gave it (a path as typed, ``stdin`` for ``-a -``):
            it heads a text attachment and names the file in every message about it.
        kind: ``image``, ``document`` (PDF) or ``text``.
        media_type: From the bytes (``image/png``, ``application/pdf``, ``text/plain``).
        data: The exact bytes.
        width: Pixels, for an image whose header says (else None).
        height: Pixels, for an image whose header says (else None).
    """

    name: str
    kind: Kind
    media_type: str
    data: bytes
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        """Bytes."""
        return len(self.data)

    @property
    def sha256(self) -> str:
        """The content address the store keeps it under."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def text(self) -> str:
        """The content of a text attachment."""
        return self.data.decode("utf-8")


def human_size(size: int) -> str:
    """``size`` bytes for a person: ``5 MB``, ``3.2 MB``, ``12 KB``."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    value = size / (1024 * 1024)
    return f"{value:.0f} MB" if value == int(value) else f"{value:.1f} MB"


def sniff(data: bytes) -> tuple[Kind, str] | None:
    """The kind and media type the bytes say, or None when they say neither image,
    PDF nor text (not UTF-8, or holding NUL bytes as binary formats do)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image", "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image", "image/webp"
    if data.startswith(b"%PDF-"):
        return "document", "application/pdf"
    # Valid UTF-8 can hold NUL, but no text file a person means to show does: it is
    # how git, grep and diff tell binary files too.
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text", "text/plain"


def image_size(data: bytes, media_type: str) -> tuple[int, int] | None:
    """Width and height from an image's header, without decoding it (None if unsure)."""
    try:
        if media_type == "image/png" and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return width, height
        if media_type == "image/gif":
            width, height = struct.unpack("<HH", data[6:10])
            return width, height
        if media_type == "image/webp":
            return _webp_size(data)
        if media_type == "image/jpeg":
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and data[20:21] == b"\x2f":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


#: JPEG start-of-frame markers: the ones that carry the picture's size.
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker == 0xFF:  # fill byte
            index += 1
            continue
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None


def from_bytes(data: bytes, name: str) -> Attachment:
    """An attachment of ``data``, its kind read from the bytes.

    Raises:
        UnknownKind: The bytes are no kind that works (the sentence names them).
    """
    found = sniff(data)
    if found is None:
        raise UnknownKind(
            f"{name} is not a file tuichat can attach (it is neither an image, a PDF nor "
            f"UTF-8 text); attach {KINDS_THAT_WORK}."
        )
    kind, media_type = found
    size = image_size(data, media_type) if kind == "image" else None
    width, height = size if size is not None else (None, None)
    return Attachment(name, kind, media_type, data, width, height)


#: Info strings of a text attachment's fence, by file extension. Only common names:
#: an unknown extension gets a bare fence rather than a wrong language.
_LANGUAGES = {
    "bash": "bash",
    "c": "c",
    "cc": "cpp",
    "cfg": "ini",
    "conf": "ini",
    "cpp": "cpp",
    "cs": "csharp",
    "css": "css",
    "csv": "csv",
    "diff": "diff",
    "go": "go",
    "h": "c",
    "hpp": "cpp",
    "html": "html",
    "ini": "ini",
    "java": "java",
    "js": "javascript",
    "json": "json",
    "jsx": "jsx",
    "kt": "kotlin",
    "lua": "lua",
    "md": "markdown",
    "patch": "diff",
    "php": "php",
    "pl": "perl",
    "ps1": "powershell",
    "py": "python",
    "r": "r",
    "rb": "ruby",
    "rs": "rust",
    "scala": "scala",
    "sh": "sh",
    "sql": "sql",
    "swift": "swift",
    "toml": "toml",
    "ts": "typescript",
    "tsx": "tsx",
    "txt": "text",
    "xml": "xml",
    "yaml": "yaml",
    "yml": "yaml",
    "zsh": "zsh",
}

_FILENAMES = {"dockerfile": "dockerfile", "makefile": "makefile"}


def language_of(name: str) -> str:
    """The language a file's name suggests, for a fence's info string ('' if unknown)."""
    path = PurePath(name)
    if path.name.lower() in _FILENAMES:
        return _FILENAMES[path.name.lower()]
    return _LANGUAGES.get(path.suffix.lower().lstrip("."), "")


def _fence_for(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def fenced(text: str, info: str = "") -> str:
    """``text`` in a Markdown fence longer than any run of backticks inside it.

    The text is kept exactly; a line end is added before the closing fence only when
    the text does not end with one.
    """
    fence = _fence_for(text)
    end = "" if text.endswith("\n") else "\n"
    return f"{fence}{info}\n{text}{end}{fence}"


def text_block(attachment: Attachment) -> str:
    """A text attachment as the model reads it (DESIGN 5a): its name as given, then
    its exact content in a fence whose info string is the language of the name."""
    return f"{attachment.name}\n{fenced(attachment.text, language_of(attachment.name))}"


def with_attachments(prompt: str, attachments: Sequence[Attachment]) -> str:
    """The user turn's text: the text attachments first, in order, then the prompt."""
    blocks = [text_block(a) for a in attachments if a.kind == "text"]
    if not blocks:
        return prompt
    return "\n\n".join([*blocks, prompt]) if prompt else "\n\n".join(blocks)
