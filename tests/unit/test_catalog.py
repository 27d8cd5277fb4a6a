"""The model catalog: fetched lists, failures, the cache in the store."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from tests.fakes import FakeProvider
from tuichat import catalog
from tuichat.provider import ModelInfo
from tuichat.store import Store


class Hostile(FakeProvider):
    name: ClassVar[str] = "hostile"

    async def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(id="evil\x1b]0;x\x07", provider="wrong", name="N\x9bame")]


class Broken(FakeProvider):
    name: ClassVar[str] = "broken"

    async def list_models(self) -> list[ModelInfo]:
        raise KeyError("plugin bug")


def make(cls: type[FakeProvider]) -> FakeProvider:
    return cls(settings=cls.Settings(), client=None)  # type: ignore[arg-type]


async def test_fetch_neutralises_and_names_the_instance() -> None:
    entry = await catalog.fetch(make(Hostile))
    [info] = entry.models
    assert "\x1b" not in info.id and "\x9b" not in (info.name or "")
    assert info.provider == "hostile" and entry.error is None and entry.fetched_at > 0


async def test_a_failing_plugin_becomes_one_line() -> None:
    entry = await catalog.fetch(make(Broken))
    assert entry.models == () and entry.error == "broken failed to list its models (KeyError)."


def test_merge_keeps_the_old_list_on_failure() -> None:
    old = catalog.ProviderModels("p", (ModelInfo("a", "p"),), None, 5.0)
    failed = catalog.ProviderModels("p", error="down")
    merged = catalog.merge(old, failed)
    assert merged.models == old.models and merged.error == "down"
    assert catalog.merge(old, catalog.ProviderModels("p", ())).models == ()


def test_the_cache_round_trips_and_ignores_garbage(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        entry = catalog.ProviderModels("p", (ModelInfo("a", "p", "A", 1000, 10),), None, 7.0)
        catalog.save_cache(store, [entry])
        assert catalog.load_cache(store) == {"p": entry}
        assert catalog.find(list(catalog.load_cache(store).values()), "p", "a") == entry.models[0]
        store.set_setting(catalog.CACHE_KEY, {"p": {"models": [{"bad": 1}]}, "q": 3})
        assert catalog.load_cache(store) == {}
