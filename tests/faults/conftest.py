"""Fixtures of the fault tests: a test certificate, the provider plugins, a clean env."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import tuichat_anthropic
import tuichat_gemini
import tuichat_openai

#: The first-party provider plugins, registered by hand in in-process tests.
PLUGINS = (tuichat_openai, tuichat_anthropic, tuichat_gemini)


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1, valid for a day."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context presenting it."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """Make a throwaway certificate with the openssl command (a base system tool)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is missing (bash scripts/test installs it)")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=tuichat test",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return Certificate(cert, key)


@pytest.fixture
def process_env(tmp_path: Path) -> Callable[..., dict[str, str]]:
    """The environment of a ``tuichat`` process: this test's config and data, no keys.

    Call it with extra variables: ``process_env(OPENAI_API_KEY="...")``.
    """
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TUICHAT_")
        and not name.endswith(("_API_KEY", "_BASE_URL", "_PROXY"))
        and name.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    }
    base.update(
        TUICHAT_CONFIG=str(tmp_path / "config.toml"),
        TUICHAT_DATA_DIR=str(tmp_path / "data"),
        TUICHAT_DISCOVERY__ENABLED="false",
        PYTHONUNBUFFERED="1",
    )

    def make(**extra: str) -> dict[str, str]:
        return {**base, **extra}

    return make


def tuichat_command(*args: str) -> list[str]:
    """``python -m tuichat ARGS`` with this interpreter."""
    return [sys.executable, "-m", "tuichat", *args]
