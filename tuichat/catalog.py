"""The models of every usable provider: fetched from their models endpoints, cached.

The model picker shows what was cached (in memory and in the store's settings table, so a
restart shows the list at once) and refreshes it in the background; a provider that fails
keeps its previous list and gets a one-line error. Headless: no Textual here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from tuichat.errors import TuichatError
from tuichat.protocol import ModelInfo
from tuichat.sanitize import neutralize, one_line, redact

if TYPE_CHECKING:
    from tuichat.provider import Provider
    from tuichat.runtime import Runtime
    from tuichat.store import Store

#: The store setting holding the cached lists.
CACHE_KEY = "models"

#: Seconds a models request may take.
FETCH_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class ProviderModels:
    """What one provider instance offers."""

    provider: str
    """The instance name."""
    models: tuple[ModelInfo, ...] = ()
    """Its models (ids and names neutralised)."""
    error: str | None = None
    """Why the last fetch failed, one line; None when it worked."""
    fetched_at: float = 0.0
    """Unix seconds of the last successful fetch (0: never)."""


def usable_instances(runtime: Runtime) -> list[str]:
    """Provider instances a chat can be attempted with (a key is present or none needed)."""
    names: list[str] = []
    for name in runtime.instance_names():
        try:
            if runtime.describe(name).usable:
                names.append(name)
        except TuichatError:
            # A broken table is reported when it is chosen, not in the picker.
            continue
    return names


def _clean(info: ModelInfo, provider: str, secrets: list[str]) -> ModelInfo:
    # Model ids and names come from a server: neutralise them before anyone shows them,
    # and mask the key in them (a proxy may echo the request).
    return ModelInfo(
        id=redact(neutralize(info.id), secrets),
        provider=provider,
        name=redact(neutralize(info.name), secrets) if info.name else None,
        context_window=info.context_window,
        max_output_tokens=info.max_output_tokens,
    )


async def fetch(provider: Provider, *, timeout: float = FETCH_TIMEOUT) -> ProviderModels:
    """Ask one provider for its models; failures become a one-line error.

    Args:
        provider: The instance.
        timeout: Seconds before giving up.

    Returns:
        Its models, or an entry with ``error`` set.
    """
    name = provider.instance_name
    try:
        async with asyncio.timeout(timeout):
            models = await provider.list_models()
    except TimeoutError:
        return ProviderModels(name, error=f"{name} did not list its models within {timeout:g} s.")
    except TuichatError as exc:
        sentence = redact(neutralize(str(exc)), provider.secrets())
        return ProviderModels(name, error=one_line(sentence, 300))
    except Exception as exc:  # noqa: BLE001 - a plugin's bug must not break the picker
        return ProviderModels(
            name, error=f"{name} failed to list its models ({type(exc).__name__})."
        )
    secrets = provider.secrets()
    cleaned = tuple(_clean(info, name, secrets) for info in models)
    return ProviderModels(name, cleaned, fetched_at=time.time())


def merge(old: ProviderModels | None, new: ProviderModels) -> ProviderModels:
    """Keep the previous list when a refresh fails (the error is still shown)."""
    if new.error is None or old is None:
        return new
    return ProviderModels(new.provider, old.models, new.error, old.fetched_at)


def load_cache(store: Store) -> dict[str, ProviderModels]:
    """The lists cached in the store (bad entries are ignored)."""
    raw = store.get_setting(CACHE_KEY, {})
    cache: dict[str, ProviderModels] = {}
    if not isinstance(raw, dict):
        return cache
    for name, entry in raw.items():
        try:
            models = tuple(ModelInfo(**item) for item in entry.get("models", []))
            cache[name] = ProviderModels(
                name, models, entry.get("error"), float(entry.get("fetched_at", 0))
            )
        except (TypeError, ValueError, AttributeError):
            continue
    return cache


def save_cache(store: Store, entries: Iterable[ProviderModels]) -> None:
    """Cache the lists in the store."""
    store.set_setting(
        CACHE_KEY,
        {
            entry.provider: {
                "models": [asdict(info) for info in entry.models],
                "error": entry.error,
                "fetched_at": entry.fetched_at,
            }
            for entry in entries
        },
    )


def find(entries: Sequence[ProviderModels], provider: str, model: str) -> ModelInfo | None:
    """The cached info of ``provider``'s ``model`` (for its context window), if known."""
    for entry in entries:
        if entry.provider == provider:
            for info in entry.models:
                if info.id == model:
                    return info
    return None
