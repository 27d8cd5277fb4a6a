"""Who may call ``tuichat serve``: CORS, the bearer token, Host and Origin, the bind address."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.serve.helpers import HELLO
from tests.serve.server import ServeFactory
from tuichat.errors import ConfigError
from tuichat.runtime import Runtime
from tuichat.serve import check_bind, run
from tuichat.serve.settings import ServeSettings
from tuichat.testing import WireServer, anthropic_stream, sse_response

APP = "http://localhost:3000"
PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type",
}


def test_a_preflight_from_a_configured_origin_is_allowed(serve: ServeFactory) -> None:
    served = serve(cors_origins=[APP])
    response = httpx.options(f"{served.url}/api/chat/stream", headers={"origin": APP, **PREFLIGHT})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    # No cookies are involved, so credentials are never allowed.
    assert "access-control-allow-credentials" not in response.headers


def test_a_preflight_from_another_origin_is_refused(serve: ServeFactory) -> None:
    served = serve(cors_origins=[APP])
    response = httpx.options(
        f"{served.url}/api/chat/stream", headers={"origin": "https://evil.example", **PREFLIGHT}
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_an_allowed_origin_can_read_replies(serve: ServeFactory, wire_server: WireServer) -> None:
    served = serve(cors_origins=[APP])
    wire_server.enqueue(sse_response(*anthropic_stream(["hi"])))
    response = httpx.post(f"{served.url}/api/chat", json=HELLO, headers={"origin": APP})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP


def test_a_simple_request_from_another_origin_never_reaches_a_provider(
    serve: ServeFactory, wire_server: WireServer
) -> None:
    # A "simple" cross-site POST needs no preflight: the browser would send it anyway.
    served = serve(cors_origins=[APP])
    response = httpx.post(
        f"{served.url}/api/chat",
        content=b'{"messages": [{"role": "user", "content": "x"}]}',
        headers={"origin": "https://evil.example", "content-type": "text/plain"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "origin_not_allowed"
    assert wire_server.requests == []


def test_a_dns_rebinding_host_is_refused(serve: ServeFactory, wire_server: WireServer) -> None:
    served = serve()
    response = httpx.post(
        f"{served.url}/api/chat", json=HELLO, headers={"host": "attacker.example:8765"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_host"
    assert wire_server.requests == []
    for host in ("localhost:8765", "127.0.0.1", "[::1]:8765"):
        assert httpx.get(f"{served.url}/health", headers={"host": host}).status_code == 200


def test_allowed_hosts_admit_a_proxy_name(serve: ServeFactory) -> None:
    served = serve(allowed_hosts=["chat.internal"])
    response = httpx.get(f"{served.url}/health", headers={"host": "chat.internal"})
    assert response.status_code == 200


def test_a_token_is_required_when_set(serve: ServeFactory, wire_server: WireServer) -> None:
    served = serve(token="s3cret-token")
    url = f"{served.url}/api/chat"
    missing = httpx.post(url, json=HELLO)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["type"] == "unauthorized"
    wrong = httpx.post(url, json=HELLO, headers={"authorization": "Bearer s3cret-tokeN"})
    assert wrong.status_code == 401
    basic = httpx.post(url, json=HELLO, headers={"authorization": "Basic s3cret-token"})
    assert basic.status_code == 401
    assert wire_server.requests == []
    wire_server.enqueue(sse_response(*anthropic_stream(["ok"])))
    right = httpx.post(url, json=HELLO, headers={"authorization": "Bearer s3cret-token"})
    assert right.status_code == 200
    assert right.json()["content"] == "ok"
    # /health stays open for load balancers and scripts.
    assert httpx.get(f"{served.url}/health").status_code == 200
    # The OpenAI-compatible API answers in OpenAI's shape.
    v1 = httpx.get(f"{served.url}/v1/models")
    assert v1.status_code == 401
    assert v1.json()["error"]["code"] == "invalid_api_key"


def test_a_token_refusal_still_carries_cors_headers(serve: ServeFactory) -> None:
    served = serve(token="s3cret-token", cors_origins=[APP])
    response = httpx.post(f"{served.url}/api/chat", json=HELLO, headers={"origin": APP})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == APP


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.com"])
def test_a_non_loopback_bind_without_a_token_is_refused(host: str) -> None:
    settings = ServeSettings(host=host)
    with pytest.raises(ConfigError, match=r"^Refusing to listen on .* without a token") as caught:
        check_bind(settings)
    assert caught.value.exit_code == 2
    assert str(caught.value).count(". ") == 0  # one sentence
    check_bind(ServeSettings(host=host, token="t0ken"))  # with a token it may


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_binds_need_no_token(host: str) -> None:
    check_bind(ServeSettings(host=host))


def test_run_refuses_before_binding_anything(build_runtime: Callable[..., Runtime]) -> None:
    runtime = build_runtime()
    with pytest.raises(ConfigError, match="without a token"):
        run(runtime, ServeSettings(host="0.0.0.0", port=1))


def test_the_command_refuses_a_public_bind_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tuichat.serve.__main__ import main

    assert main(["--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tuichat: Refusing to listen on 0.0.0.0 without a token")
    assert err.count("\n") == 1


def test_an_empty_token_does_not_count() -> None:
    assert ServeSettings(token="  ").token_value() is None
    with pytest.raises(ConfigError):
        check_bind(ServeSettings(host="0.0.0.0", token=""))
