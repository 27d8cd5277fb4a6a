"""Tiny real files for attachment tests: a 1x1 PNG, a minimal PDF and their kin.

Built from bytes (no image library), so a test's request body is known to the byte.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["GIF_1X1", "JPEG_2X3", "PDF_MINIMAL", "PNG_1X1", "WEBP_HEADER", "png"]


def png(width: int = 1, height: int = 1) -> bytes:
    """A valid, all-black RGB PNG of ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


#: A 1x1 PNG.
PNG_1X1 = png()

#: A one-page PDF with no content: enough for every API's PDF reader to accept it.
PDF_MINIMAL = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n"
    b"%%EOF\n"
)

#: A 1x1 GIF.
GIF_1X1 = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)

#: The start of a JPEG 2 pixels wide and 3 high: SOI, an APP0 segment, a SOF0 frame.
JPEG_2X3 = (
    b"\xff\xd8"
    + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\xff\xc0\x00\x11\x08\x00\x03\x00\x02\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    + b"\xff\xd9"
)

#: The header of a 4x5 extended WebP (VP8X): what tuichat reads of one.
WEBP_HEADER = (
    b"RIFF\x1e\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00"
    + (4 - 1).to_bytes(3, "little")
    + (5 - 1).to_bytes(3, "little")
)
