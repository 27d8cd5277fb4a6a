"""The footer of keys, redrawn only when the keys it shows change.

Textual's footer rebuilds all of its key widgets each time a screen says its bindings
may have changed, and screens say so on every focus move and selection change (often
several times for one key press). Rebuilding is a remove, a mount and a restyle of a
dozen widgets plus a full-screen layout: 5-10 ms each, which is what a key press waits
for. Here the shown keys are compared first, and one rebuild at most is pending.

Each key widget also binds itself to the footer's ``compact`` attribute, and Textual
drops the bindings of removed widgets only when ``compact`` changes, which it never
does here: every rebuild kept a dozen dead widgets alive (~45 KB per focus move, 250 MB
after 1,200 of them). They are dropped before each rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: Actions in the order the footer keeps them when it cannot show every key: what is
#: needed to get anywhere first (send, stop, quit, help), then the keys of the focused
#: list or log (copy, regenerate, pin...: what the focus was moved there for), then the
#: conveniences of the screen.
KEEP_FIRST: tuple[str, ...] = ("submit", "stop_reply", "app.quit", "help")
KEEP_AFTER_FOCUSED: tuple[str, ...] = (
    "pick_model",
    "new_conversation",
    "compare",
    "search",
    "toggle_sidebar",
    "newline",  # (the prompt's hint says Ctrl+J already)
)


def key_width(key: FooterKey) -> int:
    """Columns a footer key takes: `` ^q Quit `` (a space either side)."""
    return len(key.key_display) + len(key.description) + (3 if key.description else 2)


def _rank(key: FooterKey) -> int:
    if key.has_class("-command-palette"):
        return -1  # docked at the right edge and always there
    if key.action in KEEP_FIRST:
        return KEEP_FIRST.index(key.action)
    if key.action in KEEP_AFTER_FOCUSED:
        return 100 + KEEP_AFTER_FOCUSED.index(key.action)
    return len(KEEP_FIRST)  # a key of the focused widget


def fit(keys: Iterable[Widget], width: int) -> list[Widget]:
    """The keys that fit in ``width`` columns, the least needed dropped first, in the
    order they came."""
    shown = list(keys)
    footer_keys = [key for key in shown if isinstance(key, FooterKey)]
    used = sum(key_width(key) for key in footer_keys)
    for key in sorted(footer_keys, key=_rank, reverse=True):
        if used <= width or _rank(key) < 0:
            break
        shown.remove(key)
        used -= key_width(key)
    return shown


class KeysFooter(Footer):
    """A :class:`~textual.widgets.Footer` that skips rebuilds that would show the same."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[object, ...] | None = None
        self._pending = False

    def compose(self) -> ComposeResult:
        """Textual's keys, minus the least needed ones when they do not all fit: at 80
        columns Quit and Compare were cut off the end."""
        yield from fit(super().compose(), self.app.size.width)

    def on_resize(self) -> None:
        """Another width may fit other keys."""
        self.bindings_changed(self.screen)

    def _forget_removed_keys(self) -> None:
        watchers = getattr(self, "__watchers", {}).get("compact")
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if node.is_attached]

    def _signature(self) -> tuple[object, ...]:
        keys = tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )
        return (keys, self.app.ENABLE_COMMAND_PALETTE, self.compact, self.app.size.width)

    def bindings_changed(self, screen: Screen[object]) -> None:
        """The screen's bindings may have changed: rebuild once, if the keys differ."""
        if self._pending:
            return
        self._pending = True
        self.call_after_refresh(self._rebuild, screen)

    async def _rebuild(self, screen: Screen[object]) -> None:
        self._pending = False
        if not self.is_attached or screen is not self.screen:
            return
        signature = self._signature()
        if signature == self._shown and self._bindings_ready:
            return
        if screen.app.app_focus:
            # (Without the focus, Textual's handler below does not rebuild: not shown.)
            self._shown = signature
            self._forget_removed_keys()
        # Textual's own handler: marks the bindings ready and schedules the rebuild.
        super().bindings_changed(screen)
