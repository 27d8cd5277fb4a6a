"""The model picker's fuzzy matcher: Textual's results, without its combinatorial freeze."""

from __future__ import annotations

import time

import pytest
from textual.fuzzy import Matcher

from tuichat.app.fuzzy import BoundedMatcher

MODELS = [
    "openai/gpt-4o-mini",
    "openai/gpt-4.1-mini-2025-04-14",
    "anthropic/claude-sonnet-4-5",
    "anthropic/claude-3-5-haiku-latest",
    "gemini/gemini-2.5-flash",
    "ollama/llama3.2:latest",
    "openrouter/meta-llama/llama-3.1-405b-instruct",
    "demo/echo",
]
QUERIES = ["gpt4o", "4o", "sonnet", "claude haiku", "gem25", "llama", "lama31inst", "demo", "zzz"]


@pytest.mark.parametrize("query", QUERIES)
def test_ordinary_queries_score_and_highlight_as_textual_does(query: str) -> None:
    ours, textual = BoundedMatcher(query), Matcher(query)
    for model in MODELS:
        assert ours.match(model) == textual.match(model)
        assert ours.highlight(model).spans == textual.highlight(model).spans


def test_repeated_letters_no_longer_freeze_the_picker() -> None:
    # Textual's matcher lists all C(40, 12) ways of picking the a's: it ran for over 60 s.
    query, name = "aaaaaaaaaaaaz", "a-" * 40 + "z"
    started = time.perf_counter()
    score = BoundedMatcher(query).match(name)
    highlighted = BoundedMatcher(query).highlight(name)
    assert time.perf_counter() - started < 0.1
    assert score > 0
    assert highlighted.plain == name and len(highlighted.spans) == len(query)


def test_a_server_s_model_name_is_shown_as_text_not_markup() -> None:
    name = "evil/[@click=app.quit]quit[/] [link=https://x]x[/link]"
    assert BoundedMatcher("quit").highlight(name).plain == name
