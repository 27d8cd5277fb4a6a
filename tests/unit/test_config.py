"""Settings: the file, the environment, precedence, and one-line errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.unit.conftest import ScriptedProvider
from tuichat import hookimpl
from tuichat.config import Settings, find_key_line, load_config, load_settings
from tuichat.errors import ConfigError, UsageError

REPO = Path(__file__).resolve().parents[2]


class ScriptedPlugin:
    @hookimpl
    def register_providers(self, register):
        register(ScriptedProvider)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "missing.toml")
    assert settings == Settings()
    assert settings.ui.theme == "textual-dark"


def test_the_file_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'provider = "ollama"\nmax_tokens = 500\n[ui]\ntheme = "nord"\n'
        '[providers.ollama]\nplugin = "openai"\nbase_url = "http://localhost:11434/v1"\n',
    )
    settings = load_settings(path)
    assert (settings.provider, settings.max_tokens, settings.ui.theme) == ("ollama", 500, "nord")
    assert settings.providers["ollama"]["base_url"] == "http://localhost:11434/v1"


def test_the_environment_wins_over_the_file_and_merges_into_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path, '[ui]\ntheme = "nord"\nfps = 20\n[providers.openai]\ndefault_model = "a"\n'
    )
    monkeypatch.setenv("TUICHAT_UI__THEME", "gruvbox")
    monkeypatch.setenv("TUICHAT_PROVIDERS__OPENAI__BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings(path)
    assert (settings.ui.theme, settings.ui.fps) == ("gruvbox", 20)
    assert settings.providers["openai"] == {
        "default_model": "a",
        "base_url": "http://127.0.0.1:9/v1",
    }


def test_tuichat_config_points_at_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, 'model = "demo/echo"\n')
    monkeypatch.setenv("TUICHAT_CONFIG", str(path))
    loaded = load_config()
    assert (loaded.path, loaded.settings.model) == (path, "demo/echo")


def test_invalid_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[ui]\ntheme = "nord"\nfps = \n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert str(path) in message and "line 3" in message and "\n" not in message


def test_a_wrong_type_names_the_key_its_line_and_what_is_expected(tmp_path: Path) -> None:
    path = write(tmp_path, '# comment\n[ui]\ntheme = "nord"\nfps = "fast"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "line 4" in message and "'ui.fps'" in message and "integer" in message
    assert "'fast'" in message and "\n" not in message


def test_an_unknown_key_is_refused_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, 'provider = "demo"\nthme = "nord"\n')
    with pytest.raises(ConfigError, match=r"line 2: unknown key 'thme'"):
        load_settings(path)


def test_an_out_of_range_value_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "temperature = 7\n")
    with pytest.raises(ConfigError, match=r"line 1: 'temperature' input should be less than"):
        load_settings(path)


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(ConfigError, match="Cannot read config file .*dir.toml"):
        load_settings(tmp_path / "dir.toml")


def test_find_key_line_handles_tables_dotted_keys_and_comments() -> None:
    text = '# top\nprovider = "x"\n[providers.ollama]  # local\nbase_url = "u"\nui.fps = 3\n'
    assert find_key_line(text, ["provider"]) == 2
    assert find_key_line(text, ["providers", "ollama"]) == 3
    assert find_key_line(text, ["providers", "ollama", "base_url"]) == 4
    assert find_key_line(text, ["providers", "ollama", "nope"]) == 3


def test_the_example_config_at_the_repo_root_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    from tuichat.runtime import Runtime

    runtime = Runtime.load(config_path=REPO / "config.toml")
    for name in runtime.instance_names():
        runtime.provider_settings(name)
    assert runtime.default_provider_name() == "demo"


def test_a_bad_provider_table_names_its_key_and_line(make_runtime, tmp_path: Path) -> None:
    text = '[providers.demo]\ninstant = true\nread_timeout = "soon"\n'
    runtime = make_runtime(
        {"providers": {"demo": {"instant": True, "read_timeout": "soon"}}}, text=text
    )
    with pytest.raises(ConfigError) as caught:
        runtime.provider("demo")
    assert "line 3" in str(caught.value) and "'providers.demo.read_timeout'" in str(caught.value)


@pytest.mark.parametrize("url", ["localhost:11434/v1", "ftp://host/v1", "http://"])
def test_a_base_url_that_is_not_http_is_refused_with_its_line(make_runtime, url: str) -> None:
    text = f'[providers.demo]\nbase_url = "{url}"\n'
    runtime = make_runtime({"providers": {"demo": {"base_url": url}}}, text=text)
    with pytest.raises(ConfigError) as caught:
        runtime.provider("demo")
    message = str(caught.value)
    assert "line 2" in message and "must be an http:// or https:// URL" in message, message


def test_an_unknown_plugin_is_refused_naming_the_installed_ones(make_runtime) -> None:
    runtime = make_runtime({"providers": {"local": {"plugin": "nosuch"}}})
    with pytest.raises(ConfigError, match=r"unknown plugin 'nosuch'; installed: demo"):
        runtime.provider("local")


def test_an_unknown_provider_lists_the_known_ones(make_runtime) -> None:
    runtime = make_runtime()
    with pytest.raises(UsageError, match=r"Unknown provider 'nosuch'; the providers are: demo"):
        runtime.resolve("nosuch", None)


def test_the_standard_key_variable_belongs_to_the_plugins_own_instance(
    make_runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCRIPTED_API_KEY", "sk-standard")
    monkeypatch.setenv("LOCAL_KEY", "sk-local")
    runtime = make_runtime(
        {
            "providers": {
                "local": {"plugin": "scripted"},
                "named": {"plugin": "scripted", "api_key_env": "LOCAL_KEY"},
            }
        },
        extra=[ScriptedPlugin()],
    )
    assert runtime.provider("scripted").api_key() == "sk-standard"
    assert runtime.provider("local").api_key() is None
    assert runtime.provider("named").api_key() == "sk-local"


def test_config_keys_win_over_the_environment_and_commands_can_supply_them(
    make_runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCRIPTED_API_KEY", "sk-env")
    command = f"{sys.executable} -c \"print('sk-from-cmd')\""
    runtime = make_runtime(
        {
            "providers": {
                "scripted": {"api_key": "sk-config"},
                "viacmd": {"plugin": "scripted", "api_key_cmd": command},
            }
        },
        extra=[ScriptedPlugin()],
    )
    assert runtime.provider("scripted").api_key() == "sk-config"
    assert runtime.provider("viacmd").api_key() == "sk-from-cmd"


def test_a_failing_key_command_is_one_sentence(make_runtime) -> None:
    command = f'{sys.executable} -c "import sys; sys.exit(3)"'
    runtime = make_runtime(
        {"providers": {"scripted": {"api_key_cmd": command}}}, extra=[ScriptedPlugin()]
    )
    with pytest.raises(ConfigError, match="exited with status 3 and printed no key"):
        runtime.provider("scripted").api_key()


def test_the_standard_base_url_variable_is_honoured_with_its_path(
    make_runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCRIPTED_BASE_URL", "http://127.0.0.1:9/proxy/v1")
    runtime = make_runtime(
        {"providers": {"other": {"plugin": "scripted"}}}, extra=[ScriptedPlugin()]
    )
    assert runtime.provider("scripted").settings.base_url == "http://127.0.0.1:9/proxy/v1"
    assert runtime.provider("other").settings.base_url == ""


def test_the_default_provider_is_the_demo_until_a_key_is_set(
    make_runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = make_runtime(extra=[ScriptedPlugin()])
    assert runtime.default_provider_name() == "demo"
    monkeypatch.setenv("SCRIPTED_API_KEY", "sk-x")
    assert runtime.default_provider_name() == "scripted"
    assert make_runtime({"provider": "demo"}, extra=[ScriptedPlugin()]).default_provider_name() == (
        "demo"
    )


def test_provider_slash_model_picks_both(make_runtime) -> None:
    runtime = make_runtime({"providers": {"demo": {"instant": True}}})
    provider, model = runtime.resolve(None, "demo/echo")
    assert (provider.instance_name, model) == ("demo", "echo")
    provider, model = runtime.resolve("demo", "org/model-with-slash")
    assert model == "org/model-with-slash"
    provider, model = runtime.resolve(None, None)
    assert (provider.instance_name, model) == ("demo", "demo")


def test_a_bad_value_from_the_environment_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[ui]\ntheme = "nord"\n')
    monkeypatch.setenv("TUICHAT_UI__FPS", "abc")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "the environment variable TUICHAT_UI__FPS" in message and "'ui.fps'" in message
    assert "line" not in message


def test_a_bad_provider_value_from_the_environment_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuichat.runtime import Runtime

    monkeypatch.setenv("TUICHAT_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TUICHAT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TUICHAT_PROVIDERS__OPENAI__READ_TIMEOUT", "soon")
    runtime = Runtime.load()
    with pytest.raises(ConfigError, match="variable TUICHAT_PROVIDERS__OPENAI__READ_TIMEOUT"):
        runtime.provider("openai")
