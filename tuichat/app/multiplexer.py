"""Keys a terminal multiplexer keeps for itself, and which key to offer instead.

tmux takes Ctrl+B as its prefix (the app never sees it unless pressed twice), and tuichat
is made to live in tmux: where a hint names a key, it names one that reaches the app.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from tuichat.keymap import ACTIONS, effective_keys

#: The prefix key each multiplexer keeps by default, found by its environment variable.
PREFIXES: dict[str, tuple[str, str]] = {"TMUX": ("tmux", "ctrl+b"), "STY": ("screen", "ctrl+a")}


def taken_by(env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """(multiplexer name, its prefix key) when running inside one, else None."""
    env = os.environ if env is None else env
    return next((prefix for name, prefix in PREFIXES.items() if env.get(name)), None)


def usable_key(keys: str, env: Mapping[str, str] | None = None) -> str:
    """The first of comma-separated ``keys`` that the multiplexer lets through (the first
    key when all are taken or none is)."""
    names = [key.strip() for key in keys.split(",") if key.strip()]
    taken = taken_by(env)
    for key in names:
        if taken is None or key != taken[1]:
            return key
    return names[0] if names else ""


def keymap_for_terminal(
    keymap: Mapping[str, str], env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``keymap`` with, inside a multiplexer, a usable key put first for each action whose
    first key the multiplexer keeps (the footer shows an action's first key: ``F4
    Sidebar`` inside tmux, not ``^b``)."""
    result = dict(keymap)
    taken = taken_by(env)
    if taken is None:
        return result
    for spec in ACTIONS:
        keys = [key.strip() for key in effective_keys(spec, keymap).split(",") if key.strip()]
        usable = usable_key(",".join(keys), env)
        if keys and keys[0] == taken[1] and usable != keys[0]:
            result[spec.id] = ",".join([usable, *(key for key in keys if key != usable)])
    return result
