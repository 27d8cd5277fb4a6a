"""Copying text to the person's clipboard from a terminal app, over SSH and inside tmux/screen.

Two routes, used together:

- **OSC 52** (``ESC ] 52 ; c ; <base64> BEL``) asks the terminal itself to set the clipboard,
  so it works over SSH: the bytes travel to the person's own terminal. Inside tmux the plain
  sequence is caught by tmux (with ``set-clipboard on``) and a copy wrapped in tmux's DCS
  passthrough (``ESC P tmux; ... ESC \\``, honoured with ``allow-passthrough on``) reaches
  the outer terminal; inside GNU screen it is wrapped in screen's DCS, in short chunks.
- A **native** tool (``pbcopy``, ``wl-copy``, ``xclip``, ``xsel``) when the session is local,
  for terminals that ignore OSC 52 (macOS Terminal.app).

This module is part of the headless core: no Textual here, the app writes the sequences.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: Largest text sent through OSC 52, in bytes of UTF-8. Terminals cap the sequence (tmux
#: and some emulators drop longer ones silently), so a longer text is refused with a
#: message rather than half-copied.
MAX_OSC52_BYTES = 256 * 1024

# GNU screen truncates a DCS string after 768 bytes: the sequence travels in pieces.
_SCREEN_CHUNK = 76


def osc52(text: str) -> str:
    """The bare OSC 52 sequence that sets the clipboard to ``text``."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"\x1b]52;c;{payload}\x07"


def wrap_tmux(sequence: str) -> str:
    """Wrap ``sequence`` in tmux's DCS passthrough (every ESC inside is doubled)."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def wrap_screen(sequence: str) -> str:
    """Wrap ``sequence`` for GNU screen: DCS strings of at most 76 bytes, back to back."""
    chunks = [sequence[i : i + _SCREEN_CHUNK] for i in range(0, len(sequence), _SCREEN_CHUNK)]
    return "".join(f"\x1bP{chunk}\x1b\\" for chunk in chunks)


def in_tmux(env: Mapping[str, str]) -> bool:
    """Whether the app runs inside tmux."""
    return bool(env.get("TMUX"))


def in_screen(env: Mapping[str, str]) -> bool:
    """Whether the app runs inside GNU screen (and not in a tmux inside it)."""
    return bool(env.get("STY")) and not in_tmux(env)


def is_remote(env: Mapping[str, str]) -> bool:
    """Whether the session came in over SSH (a native clipboard would be the server's)."""
    return any(env.get(name) for name in ("SSH_TTY", "SSH_CONNECTION", "SSH_CLIENT"))


def osc52_sequences(text: str, env: Mapping[str, str]) -> list[str]:
    """The escape sequences to write for ``text`` in this terminal.

    Args:
        text: What to copy.
        env: The environment (``os.environ``).

    Returns:
        Inside tmux: the bare sequence (for tmux's own clipboard) and a wrapped one (for the
        outer terminal); inside screen: the wrapped one; elsewhere: the bare one.
    """
    bare = osc52(text)
    if in_tmux(env):
        return [bare, wrap_tmux(bare)]
    if in_screen(env):
        return [wrap_screen(bare)]
    return [bare]


def native_command(
    env: Mapping[str, str],
    *,
    which: Callable[[str], str | None] = shutil.which,
    platform: str = sys.platform,
) -> list[str] | None:
    """The local clipboard tool to run, if this is a local session that has one.

    Args:
        env: The environment.
        which: Finds a program (tests pass a fake).
        platform: ``sys.platform``.

    Returns:
        The command (text goes to its stdin), or None over SSH or with no tool.
    """
    if is_remote(env):
        return None
    candidates: list[list[str]] = []
    if platform == "darwin":
        candidates.append(["pbcopy"])
    if env.get("WAYLAND_DISPLAY"):
        candidates.append(["wl-copy"])
    if env.get("DISPLAY"):
        candidates += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
    for command in candidates:
        if which(command[0]):
            return command
    return None


def run_native(command: list[str], text: str, *, timeout: float = 3.0) -> bool:
    """Give ``text`` to a clipboard tool; True when it took it.

    xclip and wl-copy stay in the background to serve the selection: their output goes to
    /dev/null, never to a pipe, or waiting for them would last until the next copy.
    """
    try:
        done = subprocess.run(  # noqa: S603 - a fixed, known program
            command,
            input=text.encode("utf-8"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


@dataclass(frozen=True, slots=True)
class Route:
    """How a copy reaches the clipboard, for the confirmation toast and ``tuichat doctor``."""

    osc52: str
    """``OSC 52``, ``OSC 52 (tmux)``, ``OSC 52 (screen)``, or '' when the text is too long."""
    native: list[str] | None
    """The native tool's command, or None."""

    def describe(self) -> str:
        """``OSC 52 (tmux) + xclip``, for people."""
        parts = [self.osc52] if self.osc52 else []
        if self.native:
            parts.append(self.native[0])
        return " + ".join(parts) or "nothing"


def route(text: str, env: Mapping[str, str], **native: object) -> Route:
    """Decide how ``text`` will be copied in this environment.

    Args:
        text: What to copy ('' to describe the routes in general).
        env: The environment.
        **native: Passed to :func:`native_command` (tests).

    Returns:
        The route.
    """
    if len(text.encode("utf-8")) > MAX_OSC52_BYTES:
        kind = ""
    elif in_tmux(env):
        kind = "OSC 52 (tmux)"
    elif in_screen(env):
        kind = "OSC 52 (screen)"
    else:
        kind = "OSC 52"
    return Route(kind, native_command(env, **native))  # type: ignore[arg-type]
