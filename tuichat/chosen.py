"""Who a chat is with: one provider instance and one model, behind the boot cache.

The app's first frame is painted before the settings and plugins load (see
:mod:`tuichat.boot`): until then the provider cannot be built, and the status bar shows
what the last start resolved for the same config and arguments. :class:`Chosen` is the one
place that knows of those two phases; a screen asks it for the name, the model and
whether the demo answers, and gets a resolved provider whenever it asks for one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuichat.errors import TuichatError
from tuichat.sanitize import neutralize

if TYPE_CHECKING:
    from tuichat.provider import Provider
    from tuichat.runtime import Runtime


class Chosen:
    """The provider and model a chat is with.

    Args:
        runtime: The runtime, loaded or loading later.
        provider: The provider asked for on the command line, if any.
        model: The model (or ``provider/model``) asked for, if any.
    """

    def __init__(self, runtime: Runtime, provider: str | None, model: str | None) -> None:
        self._runtime = runtime
        self._asked = (provider, model)
        self._provider: Provider | None = None
        self._model = runtime.boot.model if runtime.boot is not None else ""
        self.startup_error: str | None = None
        """Why the provider asked for could not be used (the demo answers instead)."""
        if runtime.loaded or runtime.boot is None:
            self.resolve()

    @property
    def resolved(self) -> bool:
        """Whether the provider is built (the runtime has loaded)."""
        return self._provider is not None

    def resolve(self) -> None:
        """Build the provider asked for now (loading the runtime if need be).

        A provider that cannot be used falls back to the demo, with
        :attr:`startup_error` saying why (the command line checks this before the app
        starts; still, the app must never die of it).

        Raises:
            TuichatError: The settings or plugins failed to load (the app stops with it).
        """
        runtime = self._runtime
        provider, model = self._asked
        try:
            self._provider, self._model = runtime.resolve(provider, model)
        except TuichatError as exc:
            if exc is runtime.load_error:
                raise
            self.startup_error = neutralize(str(exc))
            self._provider, self._model = runtime.resolve("demo", None)

    @property
    def provider(self) -> Provider:
        """The provider (resolved now if the runtime is still loading)."""
        if self._provider is None:
            self.resolve()
        assert self._provider is not None
        return self._provider

    @property
    def model(self) -> str:
        """The model (the remembered one until resolved)."""
        return self._model

    @property
    def name(self) -> str:
        """The provider instance's name, as the status bar shows it."""
        if self._provider is None and self._runtime.boot is not None:
            return self._runtime.boot.provider
        return self.provider.instance_name

    @property
    def demo(self) -> bool:
        """Whether the offline demo provider answers."""
        if self._provider is None and self._runtime.boot is not None:
            return self._runtime.boot.demo
        return self.provider.name == "demo"

    def choose(self, provider: Provider, model: str) -> None:
        """Chat with ``provider``'s ``model`` from now on."""
        self._provider, self._model = provider, model
