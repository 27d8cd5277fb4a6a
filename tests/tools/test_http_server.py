"""A streamable HTTP MCP server (the test server under uvicorn on 127.0.0.1)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.tools.conftest import SERVER


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def http_server() -> Iterator[str]:
    """The test server's URL, once it accepts connections."""
    port = free_port()
    with subprocess.Popen(
        [sys.executable, str(SERVER), "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as server:
        try:
            deadline = time.monotonic() + 30
            while True:
                assert server.poll() is None, "the HTTP test server ended"
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the HTTP test server never listened"
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            server.terminate()
            server.wait(timeout=10)


async def test_a_streamable_http_server_is_listed_and_called(make_host, http_server: str) -> None:
    host = make_host({"mcp": {"web": {"url": http_server, "headers": {"X-Test": "1"}}}})
    box = await host.toolbox(["web"])
    assert box.notes == ()
    assert (await box.call("add", '{"a": 20, "b": 22}')).content == "42"
    assert (await box.call("header", '{"name": "X-Test"}')).content == "1"
    error = await box.call("fail", "{}")
    assert error.is_error and "the disk is on fire" in error.content
    [status] = await host.status(start=False)
    assert (status.transport, status.state) == ("http", "running")


async def test_an_http_server_that_is_not_there_is_a_note(make_host) -> None:
    url = f"http://127.0.0.1:{free_port()}/mcp"
    box = await make_host({"mcp": {"web": {"url": url}}}).toolbox("all")
    assert box.tools == ()
    assert len(box.notes) == 1 and box.notes[0].startswith(f"The MCP server 'web' at {url}")
