"""The declared plugin API: everything in it resolves, it stays cheap, its helpers work."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tuichat import plugin_api
from tuichat.plugin_api import ErrorInfo, int_or_none, merge_extra, redacting


def test_every_declared_name_resolves() -> None:
    missing = [name for name in plugin_api.__all__ if getattr(plugin_api, name, None) is None]
    assert not missing


def test_importing_it_loads_no_http_stack_until_an_http_name_is_used() -> None:
    probe = (
        "import sys, tuichat.plugin_api as api\n"
        "print('httpx' in sys.modules)\n"
        "api.open_sse\n"
        "print('httpx' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["False", "True"]


def test_int_or_none_takes_json_integers_only() -> None:
    assert int_or_none(12) == 12
    assert [int_or_none(v) for v in (True, 1.5, "12", None)] == [None, None, None, None]


def test_merge_extra_merges_nested_objects_one_level_deep() -> None:
    body = {"model": "m", "thinking": {"type": "enabled", "budget": 1024}}
    extra = {"thinking": {"budget": 2048}, "top_k": 5}
    assert merge_extra(body, extra) == {
        "model": "m",
        "thinking": {"type": "enabled", "budget": 2048},
        "top_k": 5,
    }
    assert body["thinking"] == {"type": "enabled", "budget": 1024}


def test_redacting_takes_the_secrets_out_of_the_parsed_message() -> None:
    def parse(response: httpx.Response, body: bytes) -> ErrorInfo:
        return ErrorInfo(message=body.decode(), type="auth", retry_after=3.0)

    parsed = redacting(parse, ["sk-secret"])(httpx.Response(401), b"bad key sk-secret")
    assert "sk-secret" not in (parsed.message or "")
    assert (parsed.type, parsed.retry_after) == ("auth", 3.0)
