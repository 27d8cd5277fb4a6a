"""Write the prompt in the person's own editor (``$VISUAL``, ``$EDITOR``, else ``vi``)."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from textual.app import App, SuspendNotSupported


def editor_command(env: Mapping[str, str]) -> list[str]:
    """The editor to run, as a command line (``$VISUAL`` wins over ``$EDITOR``)."""
    chosen = env.get("VISUAL") or env.get("EDITOR") or "vi"
    try:
        return shlex.split(chosen) or ["vi"]
    except ValueError:
        return [chosen]


def edit_text(app: App[object], text: str) -> str | None:
    """Suspend the app, let the person edit ``text`` in their editor, and return the result.

    Args:
        app: The running app (suspended while the editor runs).
        text: The prompt so far.

    Returns:
        The edited text, or None when the editor could not run (the app says why).
    """
    command = editor_command(os.environ)
    handle, name = tempfile.mkstemp(prefix="tuichat-prompt-", suffix=".md")
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        try:
            with app.suspend():
                done = subprocess.run([*command, str(path)], check=False)  # noqa: S603
        except SuspendNotSupported:
            app.notify(
                "This terminal cannot hand the screen to an editor.",
                severity="warning",
                markup=False,
            )
            return None
        except OSError as exc:
            app.notify(
                f"Could not run the editor {command[0]!r} ({exc.strerror or exc}); "
                "set $EDITOR to one that exists.",
                severity="error",
                markup=False,
            )
            return None
        if done.returncode != 0:
            app.notify(
                f"The editor exited with status {done.returncode}; the prompt is unchanged.",
                severity="warning",
                markup=False,
            )
            return None
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
