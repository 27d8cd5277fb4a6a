"""The [mcp.NAME] and [tools] tables (DESIGN.md 5a)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from tuichat.config import Settings


def test_no_tables_means_no_servers_and_the_default_limits() -> None:
    settings = Settings()
    assert settings.mcp == {}
    assert (settings.tools.max_steps, settings.tools.timeout, settings.tools.plugins) == (
        10,
        60.0,
        [],
    )


def test_a_stdio_table_in_the_shape_other_mcp_clients_use() -> None:
    table = {
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
        "env": {"DEBUG": "1"},
        "cwd": "~/work",
    }
    server = Settings(mcp={"files": table}).mcp["files"]
    assert (server.transport, server.approve, server.enabled, server.timeout) == (
        "stdio",
        "ask",
        True,
        None,
    )
    assert server.args[0] == "-y" and server.env == {"DEBUG": "1"}
    assert server.cwd == Path("~/work").expanduser()


def test_an_http_table() -> None:
    table = {"url": "https://example.org/mcp", "headers": {"Authorization": "Bearer x"}}
    server = Settings(mcp={"web": {**table, "approve": "always", "timeout": 5}}).mcp["web"]
    assert (server.transport, server.approve, server.timeout) == ("http", "always", 5)


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({}, "needs exactly one of command"),
        ({"command": "a", "url": "http://h/mcp"}, "needs exactly one of command"),
        ({"command": "  "}, "is empty"),
        ({"url": "ftp://h"}, "no http:// or https:// address"),
        ({"url": "http://h/mcp", "args": ["x"]}, "a url server takes headers"),
        ({"command": "a", "headers": {"A": "b"}}, "headers are for a url server"),
        ({"command": "a", "timeout": 0}, "greater than 0"),
        ({"command": "a", "approve": "never"}, "'ask' or 'always'"),
        ({"command": "a", "disabled": True}, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_table_is_refused(table: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Settings(mcp={"x": table})


def test_the_environment_can_set_a_servers_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUICHAT_MCP__WEB__URL", "http://127.0.0.1:8000/mcp")
    monkeypatch.setenv("TUICHAT_TOOLS__MAX_STEPS", "3")
    settings = Settings()
    assert settings.mcp["web"].url == "http://127.0.0.1:8000/mcp"
    assert settings.tools.max_steps == 3


def test_the_documented_tool_tables_of_config_toml_are_valid() -> None:
    """Uncomment the examples of the tools section of the example config: they load."""
    text = (Path(__file__).resolve().parents[2] / "config.toml").read_text(encoding="utf-8")
    section = text[text.index("# --- Tools: MCP servers") :]
    lines = []
    for line in section.splitlines():
        body = line.removeprefix("# ")
        if body.startswith("[") or (body[:1].isalpha() and " = " in body):
            lines.append(body)
    data = tomllib.loads("\n".join(lines))
    data["tools"]["read_folder"] = str(Path.home())  # it must exist
    settings = Settings(**data)
    assert list(settings.mcp) == ["files", "search"]
    assert settings.mcp["files"].timeout == 60 and settings.mcp["search"].approve == "always"
    assert settings.tools.max_steps == 10
