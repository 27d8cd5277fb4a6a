"""What the first frame needs is remembered under a fingerprint of everything it depends on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tuichat import boot
from tuichat.boot import Boot, UIPrefs

BOOT = Boot(
    ui=UIPrefs(theme="nord", sidebar=False, cursor_blink=False, fps=20),
    keymap={"new-conversation": "ctrl+k"},
    provider="openai",
    model="gpt-test",
    demo=False,
    env_names=("OPENAI_API_KEY", "OPENAI_BASE_URL"),
)


def digest(config: Path, environ: dict[str, str], **asked: str | None) -> str:
    return boot.fingerprint(
        config,
        BOOT.env_names,
        provider=asked.get("provider"),
        model=asked.get("model"),
        environ=environ,
    )


def test_what_is_written_is_read_back_with_its_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "data" / "boot.json"
    boot.write(path, BOOT, "abc")
    assert boot.read(path) == (BOOT, "abc")


def test_the_same_start_again_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "boot.json"
    boot.write(path, BOOT, "abc")
    written = path.stat()
    boot.write(path, BOOT, "abc")
    assert path.stat().st_ino == written.st_ino, "not replaced"
    boot.write(path, BOOT, "changed")
    assert path.stat().st_ino != written.st_ino
    assert boot.read(path) == (BOOT, "changed")


@pytest.mark.parametrize("content", ["", "not json", '{"format": 999}', '{"format": 1}'])
def test_a_missing_or_foreign_file_is_no_boot(tmp_path: Path, content: str) -> None:
    path = tmp_path / "boot.json"
    assert boot.read(path) is None
    path.write_text(content)
    assert boot.read(path) is None


def test_the_fingerprint_follows_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    missing = digest(config, {})
    config.write_text('[ui]\ntheme = "nord"\n')
    first = digest(config, {})
    assert first != missing
    assert digest(config, {}) == first
    config.write_text('[ui]\ntheme = "gruvbox"\n')
    assert digest(config, {}) != first


def test_the_fingerprint_follows_tuichat_variables_and_the_arguments(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    plain = digest(config, {})
    assert digest(config, {"TUICHAT_UI__THEME": "nord"}) != plain
    assert digest(config, {"TUICHAT_UI__THEME": "nord"}) != digest(
        config, {"TUICHAT_UI__THEME": "gruvbox"}
    )
    assert digest(config, {}, provider="openai") != plain
    assert digest(config, {}, model="gpt-other") != plain
    assert digest(config, {"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}) != plain


def test_a_key_counts_by_its_presence_never_its_value(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    without = digest(config, {})
    with_key = digest(config, {"OPENAI_API_KEY": "sk-one-0123456789"})
    assert with_key != without
    assert digest(config, {"OPENAI_API_KEY": "sk-two-9876543210"}) == with_key
    assert digest(config, {"TUICHAT_PROVIDERS__OPENAI__API_KEY": "sk-a"}) == digest(
        config, {"TUICHAT_PROVIDERS__OPENAI__API_KEY": "sk-b"}
    )


def test_no_key_lands_in_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-0123456789")
    monkeypatch.setenv("TUICHAT_PROVIDERS__OPENAI__API_KEY", "sk-other-0123456789")
    path = tmp_path / "boot.json"
    boot.write(path, BOOT, digest(tmp_path / "config.toml", dict(os.environ)))
    text = path.read_text()
    assert "sk-secret" not in text and "sk-other" not in text


def test_tuichat_variables_count_whatever_their_case(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    assert digest(config, {"tuichat_provider": "bogus"}) != digest(config, {})


def test_no_key_contributes_its_value_wherever_it_is_set(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    # A provider's own key variable (``api_key_env``) is one of ``env_names``.
    names = ("MY_OPENAI",)
    one = boot.fingerprint(config, names, provider=None, model=None, environ={"MY_OPENAI": "a"})
    two = boot.fingerprint(config, names, provider=None, model=None, environ={"MY_OPENAI": "b"})
    assert one == two
    tables = 'TUICHAT_PROVIDERS={"openai": {"api_key": "%s"}}'
    assert digest(config, dict([(tables % "sk-a").split("=", 1)])) == digest(
        config, dict([(tables % "sk-b").split("=", 1)])
    )
    config.write_text('[providers.openai]\napi_key = "sk-a"\n')
    with_a = digest(config, {})
    config.write_text('[providers.openai]\napi_key = "sk-b"\n')
    assert digest(config, {}) == with_a
    config.write_text('[providers.openai]\nbase_url = "http://127.0.0.1:1/v1"\n')
    assert digest(config, {}) != with_a


def test_the_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "boot.json"
    boot.write(path, BOOT, "abc")
    assert path.stat().st_mode & 0o777 == 0o600
