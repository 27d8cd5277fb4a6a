"""Rich's Markdown renderable over tokens parsed elsewhere, built without its ``__init__``.

``rich.markdown.Markdown.__init__`` parses its source with markdown-it; tuichat's block
parser (:mod:`tuichat.app.render.blocks`) has parsed it already, once. So the object is
given what ``__rich_console__`` reads (Rich 14's attributes) instead.
``tests/app/test_patches.py`` fails when ``Markdown.__init__`` changes (a new attribute
would be missing here); ``tests/render`` checks the look against Rich's own.
"""

from __future__ import annotations

from markdown_it.token import Token
from rich.markdown import Markdown as RichMarkdown


class TokenMarkdown(RichMarkdown):
    """Rich's Markdown renderable over tokens parsed elsewhere (no second parse)."""

    def __init__(self, tokens: list[Token], *, code_theme: str, hyperlinks: bool = False) -> None:
        """Create it.

        Args:
            tokens: markdown-it tokens (parsed with :func:`.blocks.parse`).
            code_theme: Pygments theme of code blocks.
            hyperlinks: Terminal hyperlinks; when False each link's address is printed
                next to its text, so a reply cannot disguise where a link goes.
        """
        # RichMarkdown.__init__ would parse again; set what __rich_console__ reads.
        self.markup = ""
        self.parsed = tokens
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = hyperlinks
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme
