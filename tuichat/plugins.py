"""Plugin discovery and the provider registry.

Plugins are found through the ``tuichat`` entry-point group; each implements
``register_providers(register)``. The host owns the registry, so it refuses
duplicate names and remembers which distribution provided what.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pluggy

from tuichat import hookspecs
from tuichat.errors import PluginError
from tuichat.provider import Provider

ENTRY_POINT_GROUP = "tuichat"


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """An installed plugin: its name, distribution, version and providers."""

    name: str
    distribution: str | None
    version: str | None
    providers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Registered:
    """A registered provider class and the plugin that registered it."""

    cls: type[Provider]
    plugin: str


def get_plugin_manager(
    *, load_entrypoints: bool = True, builtins: bool = True
) -> pluggy.PluginManager:
    """Create the plugin manager with tuichat's hookspecs and its plugins loaded.

    Args:
        load_entrypoints: Load installed plugins from the ``tuichat`` entry points.
            ``TUICHAT_LOAD_PLUGINS=a,b`` limits them to those names (empty: none).
        builtins: Register the built-in demo provider.
    """
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    if builtins:
        from tuichat import demo

        pm.register(demo, name="demo")
    if load_entrypoints:
        _load_entrypoints(pm)
    pm.check_pending()
    if os.environ.get("TUICHAT_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda message: print(message, end=""))
        pm.enable_tracing()
    return pm


def _load_entrypoints(pm: pluggy.PluginManager) -> None:
    wanted = os.environ.get("TUICHAT_LOAD_PLUGINS")
    if wanted is None:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:  # a broken third-party plugin must not hide the others
            raise PluginError(
                f"A tuichat plugin failed to load ({type(exc).__name__}: {exc}); "
                "uninstall or upgrade it, or set TUICHAT_LOAD_PLUGINS to the ones you want."
            ) from None
        return
    names = {name.strip() for name in wanted.split(",") if name.strip()}
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in names and pm.get_plugin(ep.name) is None:
            pm.register(ep.load(), name=ep.name)


class ProviderRegistry:
    """Provider classes by name, in registration order."""

    def __init__(self) -> None:
        self._providers: dict[str, Registered] = {}

    def register(self, cls: type[Provider], *, plugin: str) -> None:
        """Add ``cls``; a name already taken is refused with :class:`PluginError`."""
        if not (isinstance(cls, type) and issubclass(cls, Provider)):
            raise PluginError(
                f"Plugin {plugin!r} registered {cls!r}, which is not a tuichat Provider class."
            )
        name = getattr(cls, "name", "")
        if not name or not isinstance(name, str):
            raise PluginError(f"Plugin {plugin!r} registered a provider class with no name.")
        taken = self._providers.get(name)
        if taken is not None:
            raise PluginError(
                f"Provider name {name!r} is registered twice, by plugins {taken.plugin!r} "
                f"and {plugin!r}; uninstall one of them."
            )
        self._providers[name] = Registered(cls, plugin)

    def get(self, name: str) -> type[Provider] | None:
        """The provider class registered as ``name``, if any."""
        found = self._providers.get(name)
        return found.cls if found else None

    def plugin_of(self, name: str) -> str | None:
        """The plugin that registered provider ``name``."""
        found = self._providers.get(name)
        return found.plugin if found else None

    def names(self) -> list[str]:
        """Registered provider names in registration order."""
        return list(self._providers)

    def __contains__(self, name: object) -> bool:
        return name in self._providers

    def __iter__(self) -> Iterator[str]:
        return iter(self._providers)


def load_providers(pm: pluggy.PluginManager) -> ProviderRegistry:
    """Call every plugin's ``register_providers`` hook and collect the classes.

    Implementations run in registration order (``get_hookimpls`` keeps it), so the
    built-in demo provider comes first in every listing.
    """
    registry = ProviderRegistry()
    for impl in pm.hook.register_providers.get_hookimpls():
        plugin_name = pm.get_name(impl.plugin) or repr(impl.plugin)

        def register(cls: type[Provider], _plugin: str = plugin_name) -> None:
            registry.register(cls, plugin=_plugin)

        impl.function(register=register)
    return registry


def list_plugins(pm: pluggy.PluginManager, registry: ProviderRegistry) -> list[PluginInfo]:
    """Installed plugins with their distribution, version and providers."""
    dists: dict[int, Any] = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    infos: list[PluginInfo] = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        provided = tuple(p for p in registry.names() if registry.plugin_of(p) == name)
        dist = dists.get(id(plugin))
        if dist is not None:
            infos.append(PluginInfo(name, dist.project_name, dist.version, provided))
        else:
            from tuichat import __version__

            infos.append(PluginInfo(name, "tuichat (built-in)", __version__, provided))
    infos.sort(key=lambda info: (info.distribution != "tuichat (built-in)", info.name))
    return infos
