"""Make untrusted text (from a model or a server) harmless before anyone sees it.

Textual passes ESC and C1 bytes in widget text straight to the terminal (a reply
holding OSC 52 set the clipboard), so every string from outside is neutralised
before it reaches a widget, a title, a toast, stdout or an error message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# C0 except TAB and LF, DEL, and C1. CR is dropped too: it rewrites the line on a tty.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    # Control Pictures (U+2400...) show C0 and DEL as one visible glyph each.
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def neutralize(text: str) -> str:
    """Replace control characters other than TAB and LF by visible stand-ins."""
    return _CONTROL.sub(_visible, text)


def strip_controls(text: str) -> str:
    """Drop control characters other than TAB and LF (for one-line labels)."""
    return _CONTROL.sub("", text)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every secret (longer than 3 characters) found in ``text`` by ``***``."""
    for secret in secrets:
        if secret and len(secret) > 3:
            text = text.replace(secret, "***")
    return text


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace and cut ``text`` to ``limit`` characters for a message."""
    flat = " ".join(strip_controls(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
