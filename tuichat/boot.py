"""What the first frame of the app needs, remembered from the last start that worked.

Validating the settings (pydantic-settings) and loading the provider plugins (pluggy,
httpx) costs more than Textual's own start-up. The first frame needs only a few of their
results: the UI settings, the ``[keymap]`` and which provider and model the status bar
names. When a start succeeds, those are written here together with a fingerprint of
everything that went into them: tuichat's version, the config file's bytes, the
``TUICHAT_`` variables, the provider variables the plugins read (present or not: no
value of a key is ever kept, nor a hash of one), the ``--provider``/``--model`` asked
for, and the directories plugins are installed in. The next start with the same
fingerprint paints its first frame from these values and loads the real settings and
plugins right after, in the background.

A config that changed since (or a first start) is validated before the screen opens,
so a bad config still stops with one line before anything is drawn; it is never
remembered, as only a start that loaded is. The rare case a remembered start fails
after all (a ``ca_bundle`` file deleted since) stops with the same line, after the app
closes.

Only the standard library here: this runs before anything else is imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Bumped when the file's shape changes: an older file is ignored.
FORMAT = 1

#: Name parts of variables whose values are secrets: only their presence counts.
_SECRET_PARTS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL")


@dataclass(frozen=True, slots=True)
class UIPrefs:
    """The ``[ui]`` settings the app applies from its first frame."""

    theme: str = "textual-dark"
    sidebar: bool = True
    cursor_blink: bool = True
    fps: int = 30


@dataclass(frozen=True, slots=True)
class Boot:
    """The first frame's values, as the last start that loaded them found them."""

    ui: UIPrefs
    keymap: dict[str, str]
    provider: str
    """The provider instance the chat starts with."""
    model: str
    demo: bool
    """Whether that is the built-in demo provider."""
    env_names: tuple[str, ...] = field(default=())
    """The provider variables the plugins read (their presence is in the fingerprint)."""


def _is_secret(name: str) -> bool:
    upper = name.upper()
    return any(part in upper for part in _SECRET_PARTS)


def fingerprint(
    config_path: Path,
    env_names: Iterable[str],
    *,
    provider: str | None,
    model: str | None,
    environ: Mapping[str, str] | None = None,
    config_text: str | None = None,
) -> str:
    """A digest of everything the first frame's values depend on (see the module doc).

    No secret contributes its value, hashed or not: the provider variables ``env_names``
    (keys, and base URLs that may carry credentials) and secret-looking or key-holding
    ``TUICHAT_`` variables count by their presence, and the config's ``api_key`` values
    by theirs. ``config_text`` is the config as loaded (default: read from the file).
    """
    from tuichat import __version__

    environ = os.environ if environ is None else environ
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        digest.update(repr(parts).encode("utf-8", "surrogateescape"))

    add("version", __version__, FORMAT, sys.version_info[:2])
    add("cli", provider, model)
    if config_text is None:
        try:
            config_text = config_path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            add("config", str(config_path), type(exc).__name__)
    if config_text is not None:
        add("config", str(config_path), _config_digest(config_text))
    providers = set(env_names)
    # pydantic-settings reads TUICHAT_ variables whatever their case.
    names = {name for name in environ if name.upper().startswith("TUICHAT_")} | providers
    for name in sorted(names):
        value = environ.get(name)
        if value is None or name in providers or _is_secret(name) or "api_key" in value.lower():
            add("env", name, bool(value and value.strip()))
        else:
            add("env", name, value)
    # Installing or removing a plugin changes the directory it is installed in. (Not
    # the first entry: the script's directory or the working one, not where plugins go.)
    add("path", sys.path)
    for entry in sys.path[1:]:
        try:
            add("mtime", entry, os.stat(entry or ".").st_mtime_ns)
        except OSError:
            add("mtime", entry, None)
    return digest.hexdigest()


def _config_digest(text: str) -> str:
    """The config's content with every ``api_key`` reduced to whether it is set."""
    if "api_key" not in text:
        # (The usual case, keys in the environment: no TOML parser before the frame.)
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return "invalid TOML"

    def scrub(value: object) -> object:
        if isinstance(value, dict):
            return {
                key: bool(item) if key == "api_key" else scrub(item) for key, item in value.items()
            }
        if isinstance(value, list):
            return [scrub(item) for item in value]
        return value

    canonical = json.dumps(scrub(data), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()


def read(path: Path) -> tuple[Boot, str] | None:
    """The boot values kept at ``path`` and their fingerprint; None when missing or unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            return None
        values = data["boot"]
        kept = Boot(
            ui=UIPrefs(**values["ui"]),
            keymap={str(k): str(v) for k, v in values["keymap"].items()},
            provider=str(values["provider"]),
            model=str(values["model"]),
            demo=bool(values["demo"]),
            env_names=tuple(str(name) for name in values.get("env_names", ())),
        )
        return kept, str(data["fingerprint"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write(path: Path, boot: Boot, fingerprint_: str) -> None:
    """Keep ``boot`` under ``fingerprint_`` (atomically; a failure only costs speed)."""
    data: dict[str, Any] = {"format": FORMAT, "fingerprint": fingerprint_, "boot": asdict(boot)}
    data["boot"]["env_names"] = list(boot.env_names)
    text = json.dumps(data, sort_keys=True)
    try:
        if path.read_text(encoding="utf-8") == text:
            return  # the same start as last time: no write at every launch
    except (OSError, UnicodeDecodeError):
        pass
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Yours only, like the store: it says which providers you have keys for.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
