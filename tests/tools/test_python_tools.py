"""Python tools from plugins (the ``register_tools`` hook), offered like a server's."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from tuichat.errors import PluginError, UsageError
from tuichat.plugin_api import Tool, hookimpl
from tuichat.plugins import get_plugin_manager

OBJECT = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}


def shout(arguments: dict[str, Any]) -> str:
    return arguments["text"].upper() + "\x1b[2J"


async def whisper(arguments: dict[str, Any]) -> str:
    await asyncio.sleep(0)
    return arguments["text"].lower()


def broken(arguments: dict[str, Any]) -> str:
    raise KeyError("missing")


def plugin(*tools: Tool) -> SimpleNamespace:
    @hookimpl
    def register_tools(register):  # type: ignore[no-untyped-def]
        for tool in tools:
            register(tool)

    return SimpleNamespace(register_tools=register_tools)


def manager(**plugins: SimpleNamespace):  # type: ignore[no-untyped-def]
    pm = get_plugin_manager(load_entrypoints=False)
    for name, module in plugins.items():
        pm.register(module, name=name)
    return pm


VOICE = plugin(
    Tool("shout", "Upper-case a text.\nLoudly.", OBJECT, shout, approve="always"),
    Tool("whisper", "Lower-case a text.", OBJECT, whisper),
    Tool("broken", "Always fails.", OBJECT, broken),
)


async def test_a_plugins_tools_are_off_until_the_config_names_the_plugin(make_host) -> None:
    host = make_host({}, manager(voice=VOICE))
    assert host.servers() == ["voice"]
    assert (await host.toolbox("all")).tools == ()
    [status] = await host.status()
    assert (status.enabled, status.state, status.tools) == (False, "stopped", ())
    assert status.why is not None and "add 'voice' to plugins in [tools]" in status.why
    with pytest.raises(UsageError, match=r"add 'voice' to plugins in \[tools\]"):
        await host.toolbox(["voice"])


async def test_a_named_plugins_tools_are_offered_and_run(make_host) -> None:
    host = make_host({"tools": {"plugins": ["voice"]}}, manager(voice=VOICE))
    box = await host.toolbox("all")
    assert [(t.spec.name, t.server, t.approve) for t in box.tools] == [
        ("shout", "voice", "always"),
        ("whisper", "voice", "ask"),
        ("broken", "voice", "ask"),
    ]
    loud = await box.call("shout", '{"text": "hi"}')
    assert (loud.content, loud.is_error) == ("HI␛[2J", False)
    assert (await box.call("whisper", '{"text": "HI"}')).content == "hi"
    failed = await box.call("broken", '{"text": "x"}')
    assert failed.is_error
    assert failed.content == "The tool 'broken' failed: KeyError: 'missing'."


async def test_a_plugins_tool_past_its_timeout_is_an_error(make_host) -> None:
    async def forever(arguments: dict[str, Any]) -> str:
        await asyncio.Event().wait()
        return ""

    slow = plugin(Tool("forever", "Never ends.", OBJECT, forever))
    box = await make_host({"tools": {"plugins": ["slow"]}}, manager(slow=slow)).toolbox("all")
    outcome = await box.call("forever", "{}", timeout=0.05)
    assert outcome.is_error and "did not finish within 0.05 seconds" in outcome.content


async def test_a_plugins_tools_are_listed_in_the_status(make_host) -> None:
    host = make_host({"tools": {"plugins": ["voice"]}}, manager(voice=VOICE))
    [status] = await host.status()
    assert (status.name, status.transport, status.enabled, status.state) == (
        "voice",
        "python",
        True,
        "running",
    )
    assert [(tool.name, tool.summary) for tool in status.tools][0] == (
        "shout",
        "Upper-case a text.",
    )


async def test_a_plugin_named_in_the_config_that_registers_no_tool_is_said(make_host) -> None:
    host = make_host({"tools": {"plugins": ["voise"]}}, manager(voice=VOICE))
    assert host.servers() == ["voice", "voise"]
    box = await host.toolbox("all")
    assert box.tools == ()
    assert box.notes == (
        "No installed plugin 'voise' registers tools; check plugins in [tools] against "
        "'tuichat plugins'.",
    )
    statuses = {status.name: status for status in await host.status()}
    assert (statuses["voise"].state, statuses["voice"].enabled) == ("failed", False)


@pytest.mark.parametrize(
    ("registered", "says"),
    [
        ("not a tool", "which is not a tuichat Tool"),
        (Tool("", "x", OBJECT, shout), "a tool with no name"),
        (Tool("x", "x", {"type": "string"}, shout), "not an object JSON Schema"),
        (Tool("x", "x", OBJECT, "not callable"), "with no function"),  # type: ignore[arg-type]
        (Tool("x", "x", OBJECT, shout, approve="never"), "use 'ask' or 'always'"),  # type: ignore[arg-type]
    ],
)
async def test_a_plugin_that_registers_a_bad_tool_is_refused(make_host, registered, says) -> None:
    host = make_host({}, manager(bad=plugin(registered)))
    with pytest.raises(PluginError, match=says):
        host.servers()


async def test_one_name_twice_in_a_plugin_is_refused(make_host) -> None:
    twice = plugin(Tool("x", "a", OBJECT, shout), Tool("x", "b", OBJECT, shout))
    with pytest.raises(PluginError, match="registered the tool 'x' twice"):
        make_host({}, manager(twice=twice)).servers()
