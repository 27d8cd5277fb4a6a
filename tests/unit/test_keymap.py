"""The action table behind keys, help, palette and ``[keymap]``."""

from __future__ import annotations

from tuichat.keymap import ACTIONS, BY_ID, effective_keys, validate_keymap


def test_ids_are_unique_kebab_case() -> None:
    assert len(BY_ID) == len(ACTIONS)
    for spec in ACTIONS:
        assert spec.id.replace("-", "").isalnum() and spec.id.islower()


def test_validate_keymap() -> None:
    assert validate_keymap({"search": "f6", "new-conversation": "ctrl+k,f7"}) == []
    [problem] = validate_keymap({"serch": "f6"})
    assert "unknown action 'serch'" in problem
    [empty] = validate_keymap({"search": " , "})
    assert "needs keys" in empty


def test_effective_keys() -> None:
    assert effective_keys(BY_ID["search"], {}) == "ctrl+f"
    assert effective_keys(BY_ID["search"], {"search": "f6"}) == "f6"


def test_config_toml_documents_every_action_and_the_new_options() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[2] / "config.toml").read_text(encoding="utf-8")
    for spec in ACTIONS:
        assert f'#     {spec.id} = "{spec.keys}"' in text, spec.id
    for option in ("[keymap]", "[presets.reviewer]", "title_from_model"):
        assert option in text
