"""Pieces of ``tuichat serve`` that need no server: settings, parsing, framing, the command."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

import httpx
import pytest
from pydantic import ValidationError

from tuichat import errors
from tuichat.errors import UsageError
from tuichat.serve.cli import add_serve_arguments, serve_settings
from tuichat.serve.errors import api_error_from, openai_body
from tuichat.serve.openai_compat import parse_request
from tuichat.serve.security import host_name
from tuichat.serve.settings import ServeSettings, is_loopback
from tuichat.serve.sse import sse_frame


@pytest.mark.parametrize("origin", ["*", "http://localhost:3000/", "localhost:3000", "http://a/b"])
def test_origins_must_be_explicit(origin: str) -> None:
    with pytest.raises(ValidationError):
        ServeSettings(cors_origins=[origin])


def test_good_origins_are_kept() -> None:
    origins = ["http://localhost:3000", "https://chat.example.com"]
    assert ServeSettings(cors_origins=origins).cors_origins == origins


def test_the_token_is_secret() -> None:
    settings = ServeSettings(token="hunter2-token")
    assert "hunter2-token" not in repr(settings)
    assert "hunter2-token" not in settings.model_dump_json()
    assert settings.token_value() == "hunter2-token"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("myhost.lan", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:8765", "127.0.0.1"),
        ("LocalHost", "localhost"),
        ("[::1]:8765", "::1"),
        ("::1", "::1"),
        ("chat.internal:443", "chat.internal"),
    ],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


def test_sse_frames() -> None:
    assert sse_frame({"a": "é\nb"}, event="message") == (
        'event: message\ndata: {"a":"é\\nb"}\n\n'.encode()
    )
    assert sse_frame("two\nlines") == b"data: two\ndata: lines\n\n"


def test_provider_errors_map_to_statuses_without_secrets() -> None:
    cases = {
        errors.AuthError("bad key sk-live-123456", provider="openai"): 502,
        errors.NotFound("no model", provider="openai"): 404,
        errors.BadRequest("bad", provider="openai"): 400,
        errors.RateLimited("slow", provider="openai", retry_after=2.4): 429,
        errors.Overloaded("busy", provider="openai"): 503,
        errors.ProviderTimeout("late", provider="openai"): 504,
        errors.ServerError("oops", provider="openai"): 502,
        errors.UsageError("Unknown provider 'x'"): 404,
        errors.ConfigError("bad table"): 500,
        RuntimeError("secret internals sk-live-123456"): 500,
    }
    for exc, status in cases.items():
        error = api_error_from(exc, secrets=["sk-live-123456"])
        assert error.status == status, exc
        assert "sk-live-123456" not in error.message
    assert api_error_from(errors.RateLimited("slow", retry_after=2.4)).headers == {
        "retry-after": "2"
    }
    assert openai_body(api_error_from(errors.RateLimited("slow")))["error"]["type"] == (
        "rate_limit_error"
    )


def test_openai_requests_translate() -> None:
    parsed = parse_request(
        {
            "model": "anthropic/claude",
            "messages": [
                {"role": "developer", "content": "Rules."},
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                },
                {"role": "assistant", "content": None},
                {"role": "user", "content": "c"},
            ],
            "max_completion_tokens": 9,
            "max_tokens": 3,
            "temperature": 0,
            "top_p": 0.5,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )
    assert parsed.stream and parsed.include_usage
    call = parsed.call
    assert [(m.role, m.content) for m in call.messages] == [
        ("system", "Rules."),
        ("user", "ab"),
        ("assistant", ""),
        ("user", "c"),
    ]
    assert (call.model, call.max_tokens, call.temperature) == ("anthropic/claude", 9, 0.0)


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return parser.parse_args(argv)


def test_command_line_options_override_the_table() -> None:
    base = ServeSettings(port=9000, save=True, cors_origins=["http://a.example"])
    merged = serve_settings(_parse("--host", "::1", "--no-save", "--cors-origin", "http://b"), base)
    assert (merged.host, merged.port, merged.save) == ("::1", 9000, False)
    assert merged.cors_origins == ["http://b"]
    assert serve_settings(_parse(), base) == base


def test_a_bad_origin_option_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="^--cors-origin: "):
        serve_settings(_parse("--cors-origin", "http://b/"), ServeSettings())


def test_the_light_modules_do_not_import_the_web_stack() -> None:
    code = (
        "import sys, tuichat.serve, tuichat.serve.settings, tuichat.serve.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('starlette', 'uvicorn', 'httpx', 'textual')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_python_m_tuichat_serve_runs_and_stops_on_ctrl_c() -> None:
    env = {**os.environ, "TUICHAT_LOAD_PLUGINS": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "tuichat.serve", "--port", "0", "--access-log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        # The URL is printed before uvicorn serves; the socket is already listening.
        response = httpx.get(f"{url}/health?key=sk-should-not-be-logged", timeout=10)
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130  # stopped gracefully by Ctrl+C: "interrupted"
    assert "Application shutdown complete" in err
    # uvicorn writes access lines to stdout, after our URL line.
    assert '"GET /health HTTP/1.1" 200' in out
    assert "sk-should-not-be-logged" not in out + err


def test_tuichat_serve_is_wired_into_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tuichat.cli import build_parser, main

    assert build_parser().parse_args(["serve", "--port", "0"]).command == "serve"
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert capsys.readouterr().err.startswith("tuichat: Refusing to listen on 0.0.0.0")


def test_the_serve_table_and_its_token_come_from_the_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tuichat.config import Settings

    monkeypatch.setenv("TUICHAT_SERVE__TOKEN", "from-the-env")
    settings = Settings(serve={"port": 9001, "cors_origins": ["http://localhost:3000"]})
    serve = settings.serve
    assert isinstance(serve, ServeSettings)
    assert (serve.port, serve.cors_origins) == (9001, ["http://localhost:3000"])
    assert serve.token_value() == "from-the-env"
