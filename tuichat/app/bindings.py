"""Textual bindings built from the action table in :mod:`tuichat.keymap`.

Every binding carries its kebab-case id, so ``App.set_keymap`` (fed from ``[keymap]`` in
``config.toml``) rebinds it wherever it is declared.
"""

from __future__ import annotations

from textual.binding import Binding

from tuichat.keymap import ACTIONS, Scope

#: Scopes whose bindings are declared on a screen (the others on a focused widget).
SCREEN_SCOPES: frozenset[Scope] = frozenset({"global", "compare"})


def bindings_for(scope: Scope, *, namespace: str = "") -> list[Binding]:
    """The bindings of every action in ``scope``.

    Args:
        scope: Which actions.
        namespace: Prefix of the action strings (``"screen."`` for bindings declared on a
            widget whose actions the screen carries out).

    Returns:
        The bindings, footer ones shown with their short label.
    """
    return [
        Binding(
            spec.keys,
            f"{namespace}{spec.action}",
            spec.footer or spec.description,
            show=bool(spec.footer),
            # Screen-wide keys may win over the focused widget; a widget's keys never do.
            priority=spec.priority if scope in SCREEN_SCOPES else False,
            id=spec.id,
            tooltip=spec.description,
        )
        for spec in ACTIONS
        if spec.scope == scope
    ]


_KEY_NAMES = {
    "question_mark": "?",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "escape": "Esc",
    "enter": "Enter",
    "delete": "Del",
    "up": "↑",
    "down": "↓",
    "home": "Home",
    "end": "End",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "tab": "Tab",
}


def key_label(key: str) -> str:
    """How a Textual key name is shown to people: ``ctrl+n`` -> ``Ctrl+N``, ``f1`` -> ``F1``."""
    key = key.strip()
    if key in _KEY_NAMES:
        return _KEY_NAMES[key]
    *modifiers, base = key.split("+")
    # A lone letter is shown as typed ("k", "G"); with a modifier it reads "Ctrl+N".
    if len(base) == 1:
        base = base.upper() if modifiers else base
    else:
        base = _KEY_NAMES.get(base, base.upper() if base[0] == "f" and base[1:].isdigit() else base)
    return "+".join([*(m.capitalize() for m in modifiers), base])


def keys_label(keys: str) -> str:
    """Comma-separated key names shown as ``Ctrl+N / F2``."""
    return " / ".join(key_label(key) for key in keys.split(",") if key.strip())
