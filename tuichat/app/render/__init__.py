"""Streaming Markdown rendering with bounded work per frame (see :mod:`.document`)."""

from __future__ import annotations

from .blocks import Block, BlockSplitter, OpenFence, parse
from .document import MarkdownDocument, RenderContext, document_lines, whole_lines

__all__ = [
    "Block",
    "BlockSplitter",
    "MarkdownDocument",
    "OpenFence",
    "RenderContext",
    "document_lines",
    "parse",
    "whole_lines",
]
