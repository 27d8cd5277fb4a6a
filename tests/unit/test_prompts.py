"""The prompt library: templates filled, files read, presets folded in, other tools'
prompts imported (fixtures in tests/data/prompts, in llm's and Fabric's own shapes)."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tuichat.config import PresetSettings
from tuichat.errors import UsageError
from tuichat.prompts.command import parse_values
from tuichat.prompts.imports import dollar_to_braces, import_fabric, import_llm
from tuichat.prompts.library import PRESETS_SOURCE, load_library, read_template, to_toml
from tuichat.prompts.template import PromptTemplate, TemplateError, fill, variables_in
from tuichat.store import Store

DATA = Path(__file__).parent.parent / "data" / "prompts"


def test_variables_are_named_in_double_braces_and_other_braces_stay() -> None:
    text = "Explain {{ topic }} to {{reader}}; {{#each}} and {{a.b}} and {{topic}} again"
    assert variables_in(text) == ["topic", "reader"]
    filled = fill(text, {"topic": "TLS", "reader": "a child"})
    assert filled == "Explain TLS to a child; {{#each}} and {{a.b}} and TLS again"


def test_a_value_holding_braces_is_not_filled_again() -> None:
    assert fill("{{a}} {{b}}", {"a": "{{b}}", "b": "x"}) == "{{b}} x"


def test_an_unclosed_brace_is_text() -> None:
    assert variables_in("{{open and {{x}") == []
    assert fill("{{open", {"open": "no"}) == "{{open"


def test_render_fills_the_prompt_and_the_system_prompt_with_defaults() -> None:
    template = PromptTemplate(
        name="review",
        prompt="Review this {{language}} code:\n\n{{input}}",
        system="You are a {{tone}} reviewer.",
        temperature=0.2,
        defaults={"tone": "kind"},
    )
    assert template.variables == ["language", "input", "tone"]
    rendered = template.render({"language": "Rust"}, input_text="fn main() {}")
    assert rendered.text == "Review this Rust code:\n\nfn main() {}"
    assert rendered.system == "You are a kind reviewer."
    assert rendered.params == {"temperature": 0.2}


def test_missing_values_are_one_sentence_naming_them() -> None:
    template = PromptTemplate(name="review", prompt="{{a}} {{b}} {{c}}")
    with pytest.raises(TemplateError) as caught:
        template.render({"b": "x"})
    assert str(caught.value) == (
        "The prompt 'review' needs a value for a, c; give each as -v NAME=VALUE."
    )


def test_a_value_for_no_variable_is_refused_naming_the_variables() -> None:
    template = PromptTemplate(name="review", prompt="{{a}}")
    with pytest.raises(TemplateError, match=r"has no variable 'zz'; its variables: a\."):
        template.render({"a": "1", "zz": "2"})


def test_input_goes_after_a_prompt_that_does_not_name_it_and_is_the_whole_of_an_empty_one() -> None:
    assert PromptTemplate(name="t", prompt="Translate:").render({}, input_text="hi").text == (
        "Translate:\n\nhi"
    )
    assert PromptTemplate(name="t", system="S").render({}, input_text="hi").text == "hi"


def test_a_library_file_round_trips_through_toml(tmp_path: Path) -> None:
    template = PromptTemplate(
        name="x",
        prompt="Line one\nIt's {{thing}}\n",
        system='Say "hi"\tthen\x01stop',
        model="openai/gpt-4o",
        temperature=0.3,
        max_tokens=100,
        description="A test",
        defaults={"thing": "fine", "odd key": "1"},
    )
    path = tmp_path / "x.toml"
    path.write_text(to_toml(template), encoding="utf-8")
    back = read_template(path)
    assert back == PromptTemplate(**{**template.__dict__, "source": str(path)})
    # Texts a literal multi-line string cannot hold go as basic strings.
    for awkward in ("a '''quoted''' block\nend", "ends with a quote\n'", "cr\r\nlf\n"):
        path.write_text(to_toml(PromptTemplate(name="x", prompt=awkward)), encoding="utf-8")
        assert read_template(path).prompt == awkward


def test_presets_are_prompts_of_the_library_and_a_file_cannot_shadow_one(tmp_path: Path) -> None:
    (tmp_path / "reviewer.toml").write_text('prompt = "shadow"\n')
    (tmp_path / "ask.toml").write_text('prompt = "What is {{x}}?"\n')
    (tmp_path / "bad.toml").write_text("prompt = [1\n")
    (tmp_path / "wrong.toml").write_text("temperature = 9\n")
    presets = {"reviewer": PresetSettings(system_prompt="You review.", temperature=0.1)}
    library = load_library(tmp_path, presets)
    assert [t.name for t in library] == ["ask", "reviewer"]
    reviewer = library.get("reviewer")
    assert (reviewer.source, reviewer.system, reviewer.temperature) == (
        PRESETS_SOURCE,
        "You review.",
        0.1,
    )
    assert reviewer.settings_only
    assert len(library.problems) == 3
    assert "not valid TOML" in library.problems[0]
    assert "a preset in config.toml has the name 'reviewer'" in library.problems[1]
    assert "'temperature' must be a number from 0 to 2" in library.problems[2]
    with pytest.raises(UsageError, match=r"No saved prompt is called 'nope'; the prompts: ask"):
        library.get("nope")


def test_minus_v_takes_name_equals_value() -> None:
    assert parse_values(["a=1", "b=x=y", "a=2", "c="]) == {"a": "2", "b": "x=y", "c": ""}
    with pytest.raises(UsageError, match="-v takes NAME=VALUE, not 'oops'"):
        parse_values(["oops"])


def test_llm_dollar_variables_become_double_braces() -> None:
    assert dollar_to_braces("a $x ${y}z $$5 $ $1 ${bad") == (
        "a {{x}} {{y}}z $5 $ $1 ${bad",
        ["x", "y"],
    )


def test_llm_templates_are_imported_once_reporting_each_file(tmp_path: Path) -> None:
    lines = list(import_llm(DATA / "llm", tmp_path))
    report = {Path(line.source).name: (line.outcome, line.note) for line in lines}
    assert report["broken.yaml"][0] == "failed"
    assert report["extract.yaml"] == ("added", "extract left out; schema_object left out")
    assert report["recipe.yaml"] == ("added", "option top_p left out")
    assert report["steampunk.yaml"] == ("added", "")
    library = load_library(tmp_path)
    recipe = library.get("recipe")
    assert recipe.variables == ["ingredients", "country"]
    assert "Budget: $10" in recipe.prompt
    assert (recipe.model, recipe.temperature) == ("gpt-4o-mini", 0.5)
    summarize = library.get("summarize")
    assert summarize.render({}, input_text="words").system == (
        "Summarize this text in the style of GlaDOS"
    )
    assert library.get("steampunk").render({}, input_text="T").text.endswith("summarize: T")

    again = list(import_llm(DATA / "llm", tmp_path))
    assert [line.outcome for line in again] == [
        "failed",
        "unchanged",
        "unchanged",
        "unchanged",
        "unchanged",
    ]

    (tmp_path / "recipe.toml").write_text('prompt = "mine now"\n')
    kept = {Path(line.source).name: line.outcome for line in import_llm(DATA / "llm", tmp_path)}
    assert kept["recipe.yaml"] == "kept"
    assert load_library(tmp_path).get("recipe").prompt == "mine now"
    replaced = list(import_llm(DATA / "llm", tmp_path, replace=True))
    assert "updated" in [line.outcome for line in replaced]


def test_fabric_patterns_are_imported_with_their_system_and_user_prompts(tmp_path: Path) -> None:
    patterns = tmp_path / "patterns"
    shutil.copytree(DATA / "fabric", patterns)
    (patterns / "broken_pattern").mkdir()
    (patterns / "broken_pattern" / "system.md").write_bytes(b"\xff\xfe not text")
    library_folder = tmp_path / "library"
    lines = {
        Path(line.source).name: line.outcome for line in import_fabric(patterns, library_folder)
    }
    assert lines == {"broken_pattern": "failed", "improve_writing": "added", "summarize": "added"}
    library = load_library(library_folder)
    summarize = library.get("summarize")
    assert summarize.settings_only and summarize.system.startswith("# IDENTITY and PURPOSE")
    improve = library.get("improve_writing")
    assert improve.variables == ["input", "lang_code"]
    rendered = improve.render({"lang_code": "en-GB"}, input_text="teh text")
    assert rendered.text == "Improve this text:\n\nteh text"
    assert "in en-GB to enhance" in (rendered.system or "")


def test_recent_prompts_are_newest_first_once_each_and_fast_on_a_big_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    first = store.create_conversation(provider="demo", model="m")
    for text in ("old", "again", "   ", "newer"):
        store.add_message(first.id, "user", text)
        store.add_message(first.id, "assistant", f"reply to {text}")
    second = store.create_conversation(provider="demo", model="m")
    store.add_message(second.id, "user", "again")
    assert store.recent_prompts() == ["again", "newer", "old"]
    assert store.recent_prompts(limit=2) == ["again", "newer"]
    store.close()


def test_recent_prompts_reads_only_as_far_as_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    # 10,000 conversations of 4 messages (2 prompts each): 40,000 rows.
    conn.executemany(
        "INSERT INTO conversations (id, title, params) VALUES (?, '', '{}')",
        [(c,) for c in range(1, 10_001)],
    )
    conn.executemany(
        "INSERT INTO messages (conversation_id, position, role, content) VALUES (?, ?, ?, ?)",
        [
            (c, p, "user" if p % 2 == 0 else "assistant", f"prompt {c} {p} " + "x" * 200)
            for c in range(1, 10_001)
            for p in range(4)
        ],
    )
    conn.commit()
    conn.close()
    store = Store(path)
    started = time.perf_counter()
    prompts = store.recent_prompts(limit=1000)
    elapsed = time.perf_counter() - started
    store.close()
    assert len(prompts) == 1000 and prompts[0].startswith("prompt 10000 2 ")
    assert elapsed < 0.25, f"{elapsed:.3f} s for 1,000 prompts out of 40,000 messages"
