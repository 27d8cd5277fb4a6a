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

# Lone surrogates: JSON's "\ud800" escapes and undecodable bytes (surrogateescape) give
# them; they cannot be encoded, so a terminal, stdout or SQLite would fail on them.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    # Control Pictures (U+2400...) show C0 and DEL as one visible glyph each.
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def neutralize(text: str) -> str:
    """Replace control characters other than TAB and LF by visible stand-ins.

    Lone surrogates, which no terminal can be sent, become U+FFFD too.
    """
    return _CONTROL.sub(_visible, storable(text))


def storable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so that it can be encoded
    (written to the store, to stdout, to a terminal)."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def decoded(text: str) -> tuple[str, int]:
    """Text that came from outside as bytes (stdin, argv) made valid: bytes that were not
    UTF-8 (kept by Python as surrogate escapes) become U+FFFD.

    Returns:
        The text, and how many characters were replaced.
    """
    if not _SURROGATE.search(text):
        return text, 0
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        data = text.encode("utf-8", "surrogatepass")
    fixed = data.decode("utf-8", "replace")
    return fixed, fixed.count("\ufffd") - text.count("\ufffd")


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


#: Shortest secret the stream redactor looks for. Real API keys are far longer; local
#: servers take placeholders such as "ollama" or "none", and masking those words in every
#: reply that mentions them would garble the text for nothing.
STREAM_SECRET_MIN = 12


class StreamRedactor:
    """Redact secrets from text that arrives in pieces (a streamed reply).

    A secret may be split across two deltas (``"sk-te"`` then ``"st-123…"``), so the
    redactor holds back the end of what it was fed while that end could still be the
    start of a secret, and releases it once it cannot (or at :meth:`flush`).

    Only secrets of :data:`STREAM_SECRET_MIN` characters or more are looked for.
    """

    def __init__(self, secrets: Iterable[str | None]) -> None:
        self._secrets = sorted(
            {s for s in secrets if s and len(s) >= STREAM_SECRET_MIN}, key=len, reverse=True
        )
        self._held = ""

    def feed(self, text: str) -> str:
        """Take the next piece; return what can be shown now (secrets replaced by ``***``)."""
        if not self._secrets:
            return text
        buffer = redact(self._held + text, self._secrets)
        keep = self._longest_partial(buffer)
        self._held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        """The end that was held back; the stream is over, so it is no secret's start."""
        held, self._held = self._held, ""
        return held

    def _longest_partial(self, text: str) -> int:
        """Length of the longest end of ``text`` that begins some secret."""
        longest = 0
        for secret in self._secrets:
            first = secret[0]
            # Only positions holding the secret's first character can start it.
            start = max(0, len(text) - len(secret) + 1)
            index = text.find(first, start)
            while index != -1:
                tail = len(text) - index
                if tail > longest and secret.startswith(text[index:]):
                    longest = tail
                    break
                index = text.find(first, index + 1)
        return longest
