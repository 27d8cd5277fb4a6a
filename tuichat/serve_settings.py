"""The ``[serve]`` table: where ``tuichat serve`` listens and who may call it.

Configuration, so it lives in the core beside :mod:`tuichat.config`, which reads it:
the core never imports :mod:`tuichat.serve`. It needs only pydantic, not the
``serve`` extra (Starlette, uvicorn).
"""

from __future__ import annotations

import ipaddress
import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = ["DEFAULT_PORT", "ServeSettings", "is_loopback"]

#: The port ``tuichat serve`` listens on unless told otherwise.
DEFAULT_PORT = 8765

# scheme://host[:port], nothing after it: browsers send the Origin header in exactly
# this form, so a trailing slash or a path could never match and would only confuse.
_ORIGIN = re.compile(r"^https?://[^/\s?#]+$")


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1 or ``localhost``).

    Any other name is treated as reachable from elsewhere: we cannot know what a DNS
    name resolves to by the time clients use it.

    Args:
        host: A host name or IP address, IPv6 possibly in brackets.

    Returns:
        True for a loopback address or ``localhost``.
    """
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class ServeSettings(BaseModel):
    """``tuichat serve``: the HTTP API over the providers (the ``[serve]`` table)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    """Address to listen on. Anything but loopback (127.0.0.1, ::1, localhost) needs ``token``."""
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    """TCP port (0 picks a free one and prints it)."""
    token: SecretStr | None = None
    """Bearer token clients must send (``Authorization: Bearer ...``); prefer the
    ``TUICHAT_SERVE__TOKEN`` environment variable to writing it here."""
    cors_origins: list[str] = Field(default_factory=list)
    """Browser origins allowed to call the API (``http://localhost:3000``); no wildcard."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """Extra ``Host`` header names accepted on a loopback bind (a reverse proxy's name);
    loopback names are always accepted. Guards against DNS rebinding."""
    save: bool = False
    """Save served conversations to the store, so they show in the TUI."""
    access_log: bool = False
    """Log one line per request (method, path without query string, status)."""
    keepalive: float = Field(default=15.0, ge=0)
    """Seconds of silence after which an event stream gets a ``: keep-alive`` comment
    (0 disables them); keeps proxies from closing a stream while a model thinks."""
    max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    """Largest request body accepted, in bytes."""

    @field_validator("cors_origins")
    @classmethod
    def _explicit_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin.strip() == "*":
                raise ValueError(
                    "a wildcard would let any web page use your API keys; list each origin"
                )
            if not _ORIGIN.match(origin.strip()):
                raise ValueError(
                    f"{origin!r} is not an origin; write scheme://host[:port] with no path "
                    "nor trailing slash, such as http://localhost:3000"
                )
        return [origin.strip() for origin in origins]

    @field_validator("token")
    @classmethod
    def _non_empty_token(cls, token: SecretStr | None) -> SecretStr | None:
        # An empty TUICHAT_SERVE__TOKEN= must not count as "a token is set".
        if token is not None and not token.get_secret_value().strip():
            return None
        return token

    def token_value(self) -> str | None:
        """The bearer token, or None when the API is open."""
        return self.token.get_secret_value().strip() if self.token is not None else None
