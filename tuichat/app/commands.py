"""The command palette (Ctrl+P) offers every action of the app, with its key.

Actions come from :mod:`tuichat.keymap`; only those that apply at the moment (as the chat
screen's ``check_action`` says) are offered, and each shows its key as rebound.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.actions import parse
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tuichat.keymap import ACTIONS, ActionSpec, effective_keys

from .bindings import keys_label
from .screens.chat import ChatScreen

if TYPE_CHECKING:
    from .screens.compare import CompareScreen


class ActionCommands(Provider):
    """Every action of the screen under the palette (chat or compare), by name."""

    def _target(self) -> ChatScreen | CompareScreen | None:
        # The palette is a screen of its own; the actions belong to the one under it.
        from .screens.compare import CompareScreen  # (loaded with compare mode, not before)

        for screen in reversed(self.app.screen_stack):
            if isinstance(screen, ChatScreen | CompareScreen):
                return screen
        return None

    def _keymap(self) -> dict[str, str]:
        for screen in self.app.screen_stack:
            if isinstance(screen, ChatScreen):
                return screen.runtime.keymap
        return {}

    def _commands(self) -> list[tuple[str, str, ActionSpec]]:
        screen = self._target()
        if screen is None:
            return []
        rebound = self._keymap()
        on_compare = not isinstance(screen, ChatScreen)
        commands: list[tuple[str, str, ActionSpec]] = []
        for spec in ACTIONS:
            if not spec.palette or (spec.scope == "compare") != on_compare:
                continue
            namespace, name, params = parse(spec.action)
            if namespace:
                continue
            if not screen.check_action(name, params):
                continue
            commands.append((spec.description, keys_label(effective_keys(spec, rebound)), spec))
        return commands

    async def _run(self, spec: ActionSpec) -> None:
        screen = self._target()
        if screen is not None:
            await screen.run_action(spec.action)

    async def discover(self) -> Hits:
        """Everything that applies now, before anything is typed."""
        for description, keys, spec in self._commands():
            yield DiscoveryHit(description, partial(self._run, spec), help=keys)

    async def search(self, query: str) -> Hits:
        """The actions whose description matches ``query`` (fuzzy)."""
        matcher = self.matcher(query)
        for description, keys, spec in self._commands():
            score = matcher.match(description)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(description), partial(self._run, spec), help=keys
                )
