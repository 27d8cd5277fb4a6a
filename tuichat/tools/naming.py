"""The names a model sees for the tools offered to it (DESIGN.md 5a).

A tool keeps its own name when no other offered tool has it, else it becomes
``SERVER__TOOL``; either way the name is cut to ``[A-Za-z0-9_-]{1,64}``, the
characters and length every provider accepts, and kept unique.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Sequence

#: Longest tool name the providers accept.
MAX_LENGTH = 64

_ALLOWED = frozenset(string.ascii_letters + string.digits + "_-")


def valid_name(name: str) -> str:
    """``name`` with every character a provider refuses replaced by ``_``, cut to 64."""
    cleaned = "".join(c if c in _ALLOWED else "_" for c in name[:MAX_LENGTH])
    return cleaned or "tool"


def model_names(offered: Sequence[tuple[str, str]]) -> list[str]:
    """The name the model sees for each ``(server, tool)``, in the same order.

    Uniqueness is judged on the tools' own names; two names that become the same
    once cleaned or cut get ``_2``, ``_3``... at the end.
    """
    counts = Counter(tool for _, tool in offered)
    taken: set[str] = set()
    names = []
    for server, tool in offered:
        base = valid_name(tool if counts[tool] == 1 else f"{server}__{tool}")
        name, number = base, 1
        while name in taken:
            number += 1
            suffix = f"_{number}"
            name = base[: MAX_LENGTH - len(suffix)] + suffix
        taken.add(name)
        names.append(name)
    return names
