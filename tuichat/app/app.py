"""The Textual application: thin. It applies the theme and shows the chat screen."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from textual.screen import Screen

from tuichat.runtime import Runtime
from tuichat.sanitize import one_line

from .screens.chat import ChatScreen, settle


class TuichatApp(App[None]):
    """tuichat's full-screen app over a :class:`~tuichat.runtime.Runtime`.

    The runtime (settings, providers, store) is created by the caller and closed by
    the app when it exits.
    """

    CSS_PATH = "tuichat.tcss"
    TITLE = "tuichat"
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        runtime: Runtime,
        *,
        provider: str | None = None,
        model: str | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Create it.

        Args:
            runtime: Settings, providers and store; closed when the app exits.
            provider: Provider instance to chat with (default: from the settings).
            model: Model, or ``provider/model``.
            clock: Replaces the turns' monotonic clock (tests, for stable timings).
        """
        super().__init__()
        self.runtime = runtime
        self._provider = provider
        self._model = model
        self._clock = clock
        self._bad_theme: str | None = None
        theme = runtime.settings.ui.theme
        if theme in self.available_themes:
            self.theme = theme
        else:
            self._bad_theme = theme

    def get_default_screen(self) -> Screen[None]:
        """The chat screen is the base of the screen stack."""
        return ChatScreen(
            self.runtime, provider=self._provider, model=self._model, clock=self._clock
        )

    def on_mount(self) -> None:
        """Tell about a theme name that does not exist."""
        if self._bad_theme is not None:
            self.notify(
                f"Unknown theme {one_line(self._bad_theme, 60)!r} in [ui] theme; "
                f"using {self.theme}. Try: {', '.join(sorted(self.available_themes))}.",
                severity="warning",
                markup=False,
            )

    async def on_unmount(self) -> None:
        """Let cancelled replies save themselves, then close the runtime."""
        for worker in list(self.workers):
            worker.cancel()
            await settle(worker)
        await self.runtime.aclose()


def make_app(
    runtime: Runtime | None = None,
    *,
    provider: str | None = None,
    model: str | None = None,
) -> TuichatApp:
    """Build the app, loading the runtime from the config and plugins when not given."""
    return TuichatApp(runtime or Runtime.load(), provider=provider, model=model)
