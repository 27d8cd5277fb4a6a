"""The action table behind keys, help, palette and ``[keymap]``."""

from __future__ import annotations

from tuichat.keymap import ACTIONS, BY_ID, effective_keys, validate_keymap


def test_ids_are_unique_kebab_case() -> None:
    assert len(BY_ID) == len(ACTIONS)
    for spec in ACTIONS:
        assert spec.id.replace("-", "").isalnum() and spec.id.islower()


def test_validate_keymap() -> None:
    assert validate_keymap({"search": "f10", "new-conversation": "ctrl+k,f11"}) == []
    [problem] = validate_keymap({"serch": "f10"})
    assert "unknown action 'serch'" in problem
    [empty] = validate_keymap({"search": " , "})
    assert "needs keys" in empty


def test_effective_keys() -> None:
    assert effective_keys(BY_ID["search"], {}) == "ctrl+f"
    assert effective_keys(BY_ID["search"], {"search": "f10"}) == "f10"


def test_config_toml_documents_every_action_and_the_new_options() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[2] / "config.toml").read_text(encoding="utf-8")
    for spec in ACTIONS:
        assert f'#     {spec.id} = "{spec.keys}"' in text, spec.id
    for option in ("[keymap]", "[presets.reviewer]", "title_from_model"):
        assert option in text


def test_a_key_another_action_has_is_refused() -> None:
    [problem] = validate_keymap({"quit": "ctrl+n"})
    assert problem.startswith("'quit' = 'ctrl+n' is already the key of 'new-conversation'")
    # A global key typed anywhere hides a chat-log key...
    assert validate_keymap({"copy-message": "ctrl+f"})
    # ...but keys of different lists, or of actions that share one by design, do not clash.
    assert validate_keymap({"copy-message": "p"}) == []
    assert validate_keymap({"stop-reply": "escape", "focus-prompt": "escape"}) == []
    assert validate_keymap({"new-conversation": "ctrl+l", "pick-model": "ctrl+k"}) == []


def test_the_default_keys_do_not_clash() -> None:
    assert validate_keymap({spec.id: spec.keys for spec in ACTIONS}) == []
