"""Untrusted text is made harmless before anyone sees it."""

from __future__ import annotations

from tuichat.sanitize import neutralize, one_line, redact, strip_controls

HOSTILE = "ok\x1b[2J\x1b]52;c;SGVsbG8=\x07\x9b31m\x08\r\x7fend\tTAB\nLF"


def test_neutralize_keeps_tab_and_newline_and_shows_the_rest() -> None:
    safe = neutralize(HOSTILE)
    assert not any(ch in safe for ch in "\x1b\x07\x9b\x08\r\x7f")
    assert safe.startswith("ok\u241b[2J") and "\tTAB\nLF" in safe


def test_strip_controls_drops_them() -> None:
    assert strip_controls("a\x1bb\x9bc\td\ne") == "abc\td\ne"


def test_redact_replaces_every_secret() -> None:
    assert redact("key sk-abc123 and sk-abc123", ["sk-abc123", None, ""]) == "key *** and ***"


def test_one_line_collapses_and_cuts() -> None:
    assert one_line("a\n\n b\x1b  c") == "a b c"
    assert one_line("x" * 50, 10) == "x" * 9 + "…"
