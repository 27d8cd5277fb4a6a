"""The composition root shared by the TUI, ``tuichat ask`` and later ``serve``.

A :class:`Runtime` holds the settings, the provider registry, the one shared HTTP
client and the store, and turns config tables into provider instances.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuichat.boot import Boot, UIPrefs
from tuichat.errors import ConfigError, TuichatError, UsageError

if TYPE_CHECKING:
    import httpx
    import pluggy

    from tuichat.config import LoadedConfig, Settings
    from tuichat.discovery import Found
    from tuichat.plugins import ProviderRegistry
    from tuichat.provider import Provider, ProviderSettings
    from tuichat.store import Store


@dataclass(frozen=True, slots=True)
class InstanceInfo:
    """A provider instance as ``tuichat providers`` shows it."""

    name: str
    plugin: str
    display_name: str
    base_url: str
    default_model: str
    has_key: bool
    requires_key: bool
    configured: bool
    found_on: str | None = None
    """``127.0.0.1:11434`` for a local server found with no config (:mod:`tuichat.discovery`)."""

    @property
    def usable(self) -> bool:
        """Whether a chat can be attempted (a key is present or none is needed)."""
        return self.has_key or not self.requires_key


class Runtime:
    """Settings + plugins + shared client + store, created once per process.

    Built loaded (:meth:`load`) or to load later (:meth:`later`): then the settings and
    plugins load on first use, or when :meth:`finish_loading` is called, and until then
    :attr:`ui` and :attr:`keymap` answer from the remembered :class:`~tuichat.boot.Boot`.
    """

    def __init__(
        self,
        config: LoadedConfig | None,
        registry: ProviderRegistry | None,
        *,
        plugin_manager: pluggy.PluginManager | None = None,
        client: httpx.AsyncClient | None = None,
        store: Store | None = None,
        database_path: Path | None = None,
        boot: Boot | None = None,
        config_path: Path | None = None,
        load_entrypoints: bool = True,
    ) -> None:
        self._config = config
        self._registry = registry
        self._plugin_manager = plugin_manager
        self._client = client
        self._store = store
        self._database_path = database_path
        self._providers: dict[str, Provider] = {}
        # Local servers found with no config; kept for the run once found, so a chat
        # with one never loses its provider when the server blinks.
        self._found: dict[str, Found] = {}
        self.boot = boot
        """The first frame's values when built by :meth:`later`."""
        self._config_path = config_path
        self._load_entrypoints = load_entrypoints
        self._loading = threading.Lock()
        self._load_error: TuichatError | None = None

    @classmethod
    def load(cls, *, config_path: Path | None = None, load_entrypoints: bool = True) -> Runtime:
        """Read the config and load the installed plugins.

        Raises:
            ConfigError: The config file or environment is wrong.
            PluginError: A plugin failed to load or registered a duplicate name.
        """
        runtime = cls(None, None, config_path=config_path, load_entrypoints=load_entrypoints)
        runtime.finish_loading()
        return runtime

    @classmethod
    def later(cls, boot: Boot, *, config_path: Path | None = None) -> Runtime:
        """A runtime that loads its settings and plugins on first use (see :mod:`tuichat.boot`)."""
        return cls(None, None, boot=boot, config_path=config_path)

    @property
    def loaded(self) -> bool:
        """Whether the settings and plugins are loaded."""
        return self._config is not None

    def finish_loading(self) -> None:
        """Load the settings and plugins now, unless done (safe from any thread).

        Raises:
            ConfigError: The config file or environment is wrong.
            PluginError: A plugin failed to load or registered a duplicate name.
        """
        with self._loading:
            if self._config is not None:
                return
            if self._load_error is not None:
                raise self._load_error
            from tuichat.config import load_config
            from tuichat.plugins import get_plugin_manager, load_providers

            try:
                config = load_config(self._config_path)
                pm = get_plugin_manager(load_entrypoints=self._load_entrypoints)
                registry = load_providers(pm)
            except TuichatError as exc:
                self._load_error = exc
                raise
            self._plugin_manager, self._registry = pm, registry
            self._config = config  # last: it is what ``loaded`` tells

    @property
    def load_error(self) -> TuichatError | None:
        """Why loading the settings or plugins failed, if it did."""
        return self._load_error

    @property
    def config(self) -> LoadedConfig:
        """The loaded config (loading it now if it is not)."""
        if self._config is None:
            self.finish_loading()
        assert self._config is not None
        return self._config

    @property
    def registry(self) -> ProviderRegistry:
        """The providers the plugins registered (loading them now if they are not)."""
        if self._config is None:
            self.finish_loading()
        assert self._registry is not None
        return self._registry

    @property
    def plugin_manager(self) -> pluggy.PluginManager | None:
        """The plugin manager (None when the registry was given ready-made)."""
        if self._config is None:
            self.finish_loading()
        return self._plugin_manager

    @property
    def settings(self) -> Settings:
        """The loaded settings."""
        return self.config.settings

    @property
    def ui(self) -> UIPrefs:
        """The ``[ui]`` settings the app applies; remembered ones until the config loads."""
        if self._config is None and self.boot is not None:
            return self.boot.ui
        ui = self.settings.ui
        return UIPrefs(theme=ui.theme, sidebar=ui.sidebar, cursor_blink=ui.cursor_blink, fps=ui.fps)

    @property
    def keymap(self) -> dict[str, str]:
        """The ``[keymap]``; the remembered one until the config loads."""
        if self._config is None and self.boot is not None:
            return self.boot.keymap
        return self.settings.keymap

    def boot_values(self, provider: Provider, model: str) -> Boot:
        """What the next start needs for its first frame, chatting with ``provider``."""
        env_names: set[str] = set()
        for name in self.instance_names():
            try:
                instance = self.provider(name)
            except TuichatError:
                continue
            env_names.update(instance.key_env_names())
            env_names.update(type(instance).base_url_env)
        return Boot(
            ui=self.ui,
            keymap=dict(self.keymap),
            provider=provider.instance_name,
            model=model,
            demo=provider.name == "demo",
            env_names=tuple(sorted(env_names)),
        )

    @property
    def client(self) -> httpx.AsyncClient:
        """The one shared HTTP client, created on first use."""
        if self._client is None:
            from tuichat.http import make_client

            self._client = make_client(ca_bundle=self.settings.http.ca_bundle)
        return self._client

    def warm_up(self) -> None:
        """Make the shared client ready for its first request now (from any thread): its
        connection pool and TLS context are otherwise made when a reply is asked for."""
        from tuichat.http import warm_up

        warm_up(self.client)

    @property
    def store(self) -> Store:
        """The conversation store, opened on first use.

        Raises:
            StoreError: The database cannot be opened.
        """
        if self._store is None:
            from tuichat import locations
            from tuichat.store import Store

            self._store = Store(self._database_path or locations.database_path())
        return self._store

    # Provider instances -------------------------------------------------------

    def instance_names(self) -> list[str]:
        """Every provider instance: one per plugin provider, named config tables, then
        local servers found (:meth:`discover`)."""
        names = self.registry.names()
        names += [name for name in self.settings.providers if name not in names]
        names += [name for name in self._found if name not in names]
        return names

    @property
    def found(self) -> list[Found]:
        """The local servers :meth:`discover` found so far that serve an instance."""
        return list(self._found.values())

    async def discover(self, *, force: bool = False) -> list[Found]:
        """Ask the ``[discovery]`` ports for local model servers, on the shared client.

        A server whose name or port a configured instance already has is left out (the
        config wins). Off when ``[discovery] enabled = false``, unless ``force``; off
        without the openai plugin, which serves them.

        Returns:
            The servers found this time that were not known before.
        """
        from tuichat import discovery

        options = self.settings.discovery
        if not (options.enabled or force) or self.registry.get("openai") is None:
            return []
        answered = await discovery.probe(self.client, options.ports, timeout=options.timeout)
        taken: dict[str, str] = {}
        for name in self.instance_names():
            if name in self._found:
                continue
            try:
                taken[name] = self.provider_settings(name).base_url
            except TuichatError:
                taken[name] = ""  # a broken table still owns its name
        new = discovery.unshadowed(answered, taken)
        new = [found for found in new if found.name not in self._found]
        self._found.update((found.name, found) for found in new)
        return new

    async def discover_named(self, *names: str | None) -> None:
        """Look for local servers when one of ``names`` (a provider, or the prefix of a
        ``provider/model``) is no instance yet but a server's name in ``[discovery]``:
        ``ask -m ollama/llama3.2`` works with no config, and costs nothing otherwise."""
        wanted = {name.partition("/")[0] for name in names if name}
        ports = self.settings.discovery.ports
        if any(name in ports and name not in self.instance_names() for name in wanted):
            await self.discover()

    def _table(self, name: str) -> tuple[type[Provider], dict[str, Any]]:
        found = self._found.get(name)
        if found is not None and name not in self.settings.providers:
            cls = self.registry.get("openai")
            assert cls is not None  # discover() finds nothing without it
            return cls, found.table()
        table = dict(self.settings.providers.get(name, {}))
        plugin = table.get("plugin") or name
        cls = self.registry.get(str(plugin))
        if cls is None:
            if name in self.settings.providers:
                line = f" ({self._where('providers', name, 'plugin')})"
                raise ConfigError(
                    f"[providers.{name}]{line} uses unknown plugin {plugin!r}; installed: "
                    f"{', '.join(self.registry.names())}. Set plugin to one of them."
                )
            raise self.unknown_provider(name)
        if name == cls.name and "base_url" not in table:
            for env in cls.base_url_env:
                if os.environ.get(env):
                    table["base_url"] = os.environ[env]
                    break
        return cls, table

    def _where(self, *loc: str) -> str:
        from tuichat.config import find_key_line

        line = find_key_line(self.config.text, list(loc))
        return f"{self.config.path}, line {line}" if line else str(self.config.path)

    def unknown_provider(self, name: str) -> UsageError:
        """The error for a provider name nobody registered or configured."""
        return UsageError(
            f"Unknown provider {name!r}; the providers are: {', '.join(self.instance_names())} "
            "(see 'tuichat providers' and 'tuichat plugins')."
        )

    def provider_settings(self, name: str) -> ProviderSettings:
        """Validate instance ``name``'s table against its provider's settings model.

        Raises:
            ConfigError: naming ``providers.<name>.<key>``, its line and what is expected.
        """
        from pydantic import ValidationError

        from tuichat.config import describe_validation_error

        cls, table = self._table(name)
        try:
            return cls.Settings.model_validate(table)
        except ValidationError as exc:
            raise ConfigError(
                describe_validation_error(
                    exc,
                    self.config.path,
                    self.config.text,
                    prefix=("providers", name),
                    model=cls.Settings,
                )
            ) from None

    def provider(self, name: str) -> Provider:
        """The provider instance ``name`` (built once, on the shared client)."""
        if name not in self._providers:
            cls, _ = self._table(name)
            settings = self.provider_settings(name)
            self._providers[name] = cls(settings=settings, client=self.client, instance_name=name)
        return self._providers[name]

    def describe(self, name: str) -> InstanceInfo:
        """What ``tuichat providers`` shows of instance ``name``."""
        provider = self.provider(name)
        return InstanceInfo(
            name=name,
            plugin=provider.name,
            display_name=provider.display_name or provider.name,
            base_url=provider.settings.base_url,
            default_model=provider.default_model,
            has_key=provider.has_key(),
            requires_key=provider.needs_key(),
            configured=name in self.settings.providers,
            found_on=self._found[name].where if name in self._found else None,
        )

    def default_provider_name(self) -> str:
        """The provider to use when none is named.

        ``provider`` from the settings; else the first configured table that can chat;
        else the first plugin provider with a key; else the demo.
        """
        if self.settings.provider:
            return self.settings.provider
        infos = [self.describe(name) for name in self.instance_names()]
        for info in infos:
            if info.configured and info.plugin != "demo" and info.usable:
                return info.name
        for info in infos:
            if info.plugin != "demo" and info.requires_key and info.has_key:
                return info.name
        return "demo"

    def resolve(
        self, provider: str | None, model: str | None, *, owner: str | None = None
    ) -> tuple[Provider, str]:
        """Pick the provider instance and model from (optional) names.

        ``model`` may be ``provider/model``. Without a provider named, a prefix that is
        no provider instance is an error: a typo (``antropic/...``) must not send the
        conversation to the default provider as a model name. A model id that itself
        holds a slash (OpenRouter's ``meta-llama/llama-3``) is given with ``provider``,
        or in full (``openrouter/meta-llama/llama-3``), or with ``owner``: the provider
        such a model id belongs to when its prefix is no instance (a conversation's own
        provider; for the config's ``model``, the config's ``provider``).

        Raises:
            UsageError: An unknown provider, named or as a prefix.
            ConfigError: Its config table is invalid.
        """
        names = self.instance_names()
        model = model or None
        if model and "/" in model and provider is None:
            prefix, _, rest = model.partition("/")
            if prefix in names:
                if not rest:
                    raise UsageError(
                        f"No model after {prefix!r} in {model!r}; write provider/model."
                    )
                provider, model = prefix, rest
            elif owner is not None:
                provider = owner
            else:
                raise UsageError(
                    f"Unknown provider {prefix!r} in model {model!r}; the providers are: "
                    f"{', '.join(names)}. Write provider/model, or name the provider for a "
                    "model id that holds a slash."
                )
        if provider is None and not model and self.settings.model:
            return self.resolve(None, self.settings.model, owner=self.settings.provider)
        name = provider or self.default_provider_name()
        if name not in names:
            raise self.unknown_provider(name)
        instance = self.provider(name)
        return instance, model or instance.default_model

    async def aclose(self) -> None:
        """Close the providers, the shared client and the store."""
        for provider in self._providers.values():
            await provider.aclose()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._store is not None:
            self._store.close()
            self._store = None
