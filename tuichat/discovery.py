"""Local model servers found with no config: Ollama, LM Studio, llama.cpp, vLLM.

Each usual loopback port is asked for its models, all at once and briefly; a server that
answers with a models list in a shape we know becomes a provider instance served by the
``openai`` plugin (every one of them speaks Chat Completions under ``/v1``). Nothing is
written anywhere unless the person asks (``tuichat providers --save-found``). Headless.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

#: Where each server listens unless told otherwise: the name becomes the instance's.
USUAL_PORTS: dict[str, int] = {"ollama": 11434, "lmstudio": 1234, "llamacpp": 8080, "vllm": 8000}

#: Paths asked, in order, per server name; any other name is asked ``/v1/models`` only.
#: Ollama's own list comes first: it answers it even where its OpenAI layer is off.
PATHS: dict[str, tuple[str, ...]] = {"ollama": ("/api/tags", "/v1/models")}
DEFAULT_PATHS: tuple[str, ...] = ("/v1/models",)

#: Seconds a port gets, all requests included: a loopback server answers in milliseconds.
DEFAULT_TIMEOUT = 0.5

#: The most bytes of a models list read (a local server's list is a few kB).
MAX_BODY = 1 << 20

HOST = "127.0.0.1"

#: Host names that mean "this machine" when comparing with a configured base URL.
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "[::1]"})


@dataclass(frozen=True, slots=True)
class Found:
    """A local server that answered."""

    name: str
    """The instance name it is offered under (``ollama``)."""
    port: int
    models: tuple[str, ...]
    """The model ids its list held (may be empty: a server with nothing loaded)."""
    host: str = HOST

    @property
    def where(self) -> str:
        """``127.0.0.1:11434``."""
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What the ``openai`` plugin is pointed at."""
        return f"http://{self.where}/v1"

    def table(self) -> dict[str, Any]:
        """The provider table that serves it (as if read from the config)."""
        table: dict[str, Any] = {"plugin": "openai", "base_url": self.base_url}
        # Ids come from a server: only a plain one becomes a default (and a TOML string).
        plain = next((m for m in self.models if m.isprintable() and m.strip() == m), None)
        if plain:
            table["default_model"] = plain
        return table

    def describe(self) -> str:
        """``ollama, found on 127.0.0.1:11434``."""
        return f"{self.name}, found on {self.where}"


def _model_ids(data: Any) -> tuple[str, ...] | None:
    """The ids of an OpenAI ``{"data": [{"id"}]}`` or Ollama ``{"models": [{"name"}]}``
    list; None for anything else (a web server that is no model server)."""
    if not isinstance(data, dict):
        return None
    for key, field in (("data", "id"), ("models", "name")):
        items = data.get(key)
        if isinstance(items, list) and all(
            isinstance(item, dict) and isinstance(item.get(field), str) for item in items
        ):
            return tuple(item[field] for item in items)
    return None


async def _ask(client: httpx.AsyncClient, url: str) -> tuple[str, ...] | None:
    import httpx

    try:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                return None
            body = bytearray()
            async for piece in response.aiter_bytes():
                body += piece
                if len(body) > MAX_BODY:
                    return None
    except httpx.HTTPError:
        return None
    try:
        return _model_ids(json.loads(bytes(body)))
    except ValueError:
        return None


async def _probe_one(
    client: httpx.AsyncClient, name: str, port: int, host: str, timeout: float
) -> Found | None:
    async def ask_in_turn() -> Found | None:
        for path in PATHS.get(name, DEFAULT_PATHS):
            models = await _ask(client, f"http://{host}:{port}{path}")
            if models is not None:
                return Found(name, port, models, host)
        return None

    try:
        # One deadline for the port, whatever it does: refuse, hang, trickle bytes.
        return await asyncio.wait_for(ask_in_turn(), timeout)
    except TimeoutError:
        return None


async def probe(
    client: httpx.AsyncClient,
    ports: Mapping[str, int] = USUAL_PORTS,
    *,
    host: str = HOST,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Found]:
    """Ask every port at once; what answered with a models list, in ``ports``' order.

    Never raises for what a port does: refused, hung past ``timeout``, or garbage all
    mean "nothing there".
    """
    results = await asyncio.gather(
        *(_probe_one(client, name, port, host, timeout) for name, port in ports.items())
    )
    return [found for found in results if found is not None]


def loopback_port(base_url: str) -> int | None:
    """The port of a base URL on this machine (None for any other host)."""
    try:
        parts = urlsplit(base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return port if (parts.hostname or "").lower() in _LOOPBACK else None


def unshadowed(found: Iterable[Found], taken: Mapping[str, str]) -> list[Found]:
    """Those whose name and port no existing instance has (``taken``: name to base URL):
    a configured instance always wins over a found one."""
    ports = {loopback_port(url) for url in taken.values()}
    return [f for f in found if f.name not in taken and f.port not in ports]


def config_text(found: Iterable[Found], *, today: date | None = None) -> str:
    """The tables to append to a config file, each under a comment saying where from."""
    day = (today or date.today()).isoformat()
    blocks = []
    for item in found:
        lines = [
            f"# {item.describe()} ('tuichat providers --save-found', {day}).",
            f"[providers.{item.name}]",
        ]
        lines += [f"{key} = {json.dumps(value)}" for key, value in item.table().items()]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
