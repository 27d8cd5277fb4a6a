"""Hostile text a model or a server may send: terminal escapes, control characters, markup.

Every entry is a named payload followed by a marker word; shown harmlessly, the payload's
printable part stays visible before the marker (``[31;1m``, ``]0;pwned``...). Had the ESC
reached the terminal, the terminal would have swallowed that part as a command.
"""

from __future__ import annotations

import json

from tuichat.sanitize import neutralize

#: Each escape sequence or control character tried, by name.
SEQUENCES: dict[str, str] = {
    "csi-sgr": "\x1b[31;1m",
    "csi-clear-screen": "\x1b[2J",
    "csi-cursor-home": "\x1b[H",
    "csi-erase-line": "\x1b[2K",
    "csi-leave-alt-screen": "\x1b[?1049l",
    "csi-mouse-off": "\x1b[?1000l",
    "csi-paste-end": "\x1b[201~",
    "csi-report-cursor": "\x1b[6n",
    "c1-csi": "\x9b7m",
    "osc-0-title": "\x1b]0;pwned-title\x07",
    "osc-2-title-st": "\x1b]2;pwned-title2\x1b\\",
    "osc-52-clipboard": "\x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07",
    "osc-8-link": "\x1b]8;;https://evil.example/x\x1b\\click me\x1b]8;;\x1b\\",
    "c1-osc-title": "\x9d0;c1-title\x9c",
    "dcs-tmux-passthrough": "\x1bPtmux;\x1b\x1b]52;c;cGFzc3Rocm91Z2g=\x07\x1b\\",
    "ris-reset": "\x1bc",
    "save-restore-cursor": "\x1b7\x1b8",
    "charset-line-drawing": "\x1b(0qqq\x1b(B",
    "shift-out": "\x0eqqq\x0f",
    "bell": "\x07\x07",
    "backspace": "abc\x08\x08X",
    "carriage-return": "12345\rXY",
    "delete": "z\x7fz",
    "nul": "n\x00n",
    "vertical-tab-form-feed": "v\x0bf\x0c",
    "lone-surrogate": "s\ud800s",
}

#: Markup Rich and Textual would act on if it were parsed.
MARKUP: dict[str, str] = {
    "markup-style": "[bold red]not bold[/]",
    "markup-link": "[link=https://evil.example]not a link[/link]",
    "markup-action": "[@click=app.quit]not an action[/]",
    "markup-close": "[/]",
    "markdown-link": "[md link](https://evil.example/md)",
}

#: Markup whose text must show as it is (no style, no link, no action).
LITERAL_MARKUP = (
    "[bold red]not bold[/]",
    "[link=https://evil.example]not a link[/link]",
    "[@click=app.quit]not an action[/]",
)


def visible(payload: str) -> str:
    """What must be seen of ``payload`` when shown harmlessly: its printable part, each
    control character as its visible stand-in (see :func:`tuichat.sanitize.neutralize`)."""
    return neutralize(payload)


def hostile_lines() -> list[str]:
    """One Markdown list item per payload: ``- name: PAYLOAD end``."""
    return [f"- {name}: {payload} end\n" for name, payload in {**SEQUENCES, **MARKUP}.items()]


#: The whole hostile reply.
HOSTILE_REPLY = "".join(hostile_lines())

#: A hostile error message from a server (an error body, not a reply).
HOSTILE_ERROR = "Overloaded \x1b]52;c;ZXJyb3I=\x07 [bold]x[/] \x1b[2J\x9b31m please retry"

#: Characters that must never reach a screen or stdout: C0 but TAB and LF, DEL, C1.
FORBIDDEN = {chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))}


def forbidden_in(text: str) -> list[str]:
    """The forbidden characters found in ``text`` (as ``U+XXXX``), plus lone surrogates."""
    found = {f"U+{ord(c):04X}" for c in text if c in FORBIDDEN or "\ud800" <= c <= "\udfff"}
    return sorted(found)


def openai_frames(deltas: list[str], *, model: str = "gpt-4o-mini") -> list[bytes]:
    """An OpenAI stream of ``deltas`` with ASCII-only JSON, so that even a lone surrogate
    travels (as a ``\\ud800`` escape, the way a hostile server would send it)."""

    def frame(delta: dict[str, object], finish: str | None = None) -> bytes:
        chunk = {
            "id": "chatcmpl-hostile",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk)}\n\n".encode("ascii")

    frames = [frame({"role": "assistant", "content": ""})]
    frames += [frame({"content": text}) for text in deltas]
    return [*frames, frame({}, "stop"), b"data: [DONE]\n\n"]
