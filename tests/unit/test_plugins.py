"""Plugin loading: the hook, the registry, duplicates, listings."""

from __future__ import annotations

from typing import ClassVar

import pytest

from tests.unit.conftest import ScriptedProvider
from tuichat import hookimpl, hookspecs
from tuichat.errors import PluginError
from tuichat.plugins import get_plugin_manager, list_plugins, load_providers

#: Every hook and the test that proves it; a new hookspec without a test fails below.
HOOK_TESTS = {
    "register_providers": "test_a_plugin_registered_through_the_hook_shows_up",
    "register_tools": "test_a_plugins_tools_registered_through_the_hook_are_collected",
}


class ScriptedPlugin:
    @hookimpl
    def register_providers(self, register):
        register(ScriptedProvider)


class Impostor(ScriptedProvider):
    name: ClassVar[str] = "demo"


class ToolPlugin:
    @hookimpl
    def register_tools(self, register):
        from tuichat.plugin_api import Tool

        register(Tool("shout", "Upper-case a text.", {"type": "object"}, str.upper))


def test_a_plugins_tools_registered_through_the_hook_are_collected() -> None:
    """More in tests/tools/test_python_tools.py: offered, run, refused."""
    from tuichat.tools.registry import load_tools

    pm = get_plugin_manager(load_entrypoints=False)
    assert load_tools(pm) == {}  # none is built in
    pm.register(ToolPlugin(), name="voice")
    [(plugin, [tool])] = load_tools(pm).items()
    assert (plugin, tool.name, tool.approve) == ("voice", "shout", "ask")


def test_the_builtin_demo_provider_is_always_there() -> None:
    registry = load_providers(get_plugin_manager(load_entrypoints=False))
    assert registry.names() == ["demo"]
    assert registry.plugin_of("demo") == "demo"


def test_a_plugin_registered_through_the_hook_shows_up() -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(ScriptedPlugin(), name="scripted-plugin")
    registry = load_providers(pm)
    assert registry.names() == ["demo", "scripted"]
    assert registry.get("scripted") is ScriptedProvider
    assert registry.plugin_of("scripted") == "scripted-plugin"
    listed = {info.name: info for info in list_plugins(pm, registry)}
    assert listed["scripted-plugin"].providers == ("scripted",)
    assert listed["demo"].distribution == "tuichat (built-in)"


def test_a_duplicate_provider_name_is_refused_naming_both_plugins() -> None:
    class ImpostorPlugin:
        @hookimpl
        def register_providers(self, register):
            register(Impostor)

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(ImpostorPlugin(), name="impostor")
    with pytest.raises(
        PluginError,
        match=r"'demo' is registered twice, by plugins 'demo' and "
        r"'impostor'",
    ):
        load_providers(pm)


def test_something_that_is_not_a_provider_is_refused() -> None:
    class Confused:
        @hookimpl
        def register_providers(self, register):
            register(object)

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Confused(), name="confused")
    with pytest.raises(PluginError, match="not a tuichat Provider class"):
        load_providers(pm)


def test_tuichat_load_plugins_limits_the_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUICHAT_LOAD_PLUGINS", "")
    registry = load_providers(get_plugin_manager())
    assert registry.names() == ["demo"]


def test_every_hook_has_a_test() -> None:
    specs = {name for name in dir(hookspecs) if name.startswith("register_")}
    assert specs == set(HOOK_TESTS)
    for test_name in HOOK_TESTS.values():
        assert test_name in globals()
