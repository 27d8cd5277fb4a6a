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

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """A :class:`~textual.widgets.Footer` that skips rebuilds that would show the same."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[object, ...] | None = None
        self._pending = False

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
        return (keys, self.app.ENABLE_COMMAND_PALETTE, self.compact)

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
