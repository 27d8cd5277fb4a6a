"""The options dialog's number fields: the same keys allowed and refused as Textual's
``type="number"``/``"integer"``, in time linear in the text (issue #21)."""

from __future__ import annotations

import time

import pytest
from textual.widgets import Input

from tests.app.support import SIZE, until
from tuichat.app.screens.options import OptionsScreen
from tuichat.app.widgets.number_input import NumberInput


async def open_options(pilot) -> OptionsScreen:
    await pilot.press("ctrl+o")
    await until(pilot, lambda: isinstance(pilot.app.screen, OptionsScreen), "the options")
    screen = pilot.app.screen
    assert isinstance(screen, OptionsScreen)
    return screen


@pytest.mark.parametrize(
    ("field", "typed", "kept"),
    [
        ("#options-temperature", "-1_5.2e+3x", "-1_5.2e+3"),
        ("#options-temperature", "1.2.3", "1.23"),
        ("#options-max-tokens", "12_3.5a", "12_35"),
        ("#options-max-tokens", "__7", "7"),
    ],
)
async def test_a_field_keeps_what_the_stock_field_kept(make_app, field, typed, kept) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_options(pilot)
        screen.query_one(field, Input).focus()
        await pilot.press(*typed)
        assert screen.query_one(field, Input).value == kept


@pytest.mark.parametrize("field", ["#options-temperature", "#options-max-tokens"])
async def test_forty_digits_and_a_letter_are_refused_at_once(make_app, field) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_options(pilot)
        number = screen.query_one(field, Input)
        number.focus()
        await pilot.press(*"1" * 40)
        started = time.perf_counter()
        await pilot.press("a")
        # Textual's pattern took 22 s for 20 digits; 40 would take longer than the universe.
        assert time.perf_counter() - started < 0.5
        assert number.value == "1" * 40
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, OptionsScreen), "the dialog to close")


async def test_a_pasted_100_kb_run_is_refused_in_linear_time(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_options(pilot)
        number = screen.query_one("#options-temperature", Input)
        number.focus()
        await pilot.pause()
        started = time.perf_counter()
        number.insert_text_at_cursor("9" * 100_000 + "z")
        assert time.perf_counter() - started < 1.0
        assert number.value == ""


async def test_no_field_of_the_app_checks_keys_with_textuals_patterns(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_options(pilot)
        fields = list(screen.query(Input))
        assert {field.id for field in fields} >= {"options-temperature", "options-max-tokens"}
        assert all(field.type == "text" and field.restrict is None for field in fields)
        assert [isinstance(field, NumberInput) for field in fields] == [True, True]
        # The validation messages are Textual's own, as before.
        temperature, tokens = fields
        assert temperature.validate("x").failure_descriptions == ["Must be a valid number."]
        assert tokens.validate("1.5").failure_descriptions == ["Must be a valid integer."]


def test_no_input_in_the_app_asks_textual_for_a_typed_or_restricted_field() -> None:
    # Textual's type="number"/"integer" patterns backtrack exponentially; a restrict
    # pattern runs on every keystroke: each would need the same proof as NumberInput's.
    import pathlib
    import re

    import tuichat.app

    root = pathlib.Path(tuichat.app.__file__).parent
    asked = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in root.rglob("*.py")
        for match in re.finditer(
            r"""\b(?:type\s*=\s*["'](?:number|integer)["']|restrict\s*=)""", path.read_text()
        )
    ]
    assert asked == []


async def test_a_pasted_100_kb_number_keeps_the_field_answering(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_options(pilot)
        number = screen.query_one("#options-max-tokens", Input)
        number.focus()
        await pilot.pause()  # focused first: focusing selects the whole text
        number.insert_text_at_cursor("9" * 100_000)
        await pilot.pause()
        started = time.perf_counter()
        await pilot.press("x", "8")
        assert time.perf_counter() - started < 0.5
        assert number.value == "9" * 100_000 + "8"
        # Too long to be a number of tokens: Textual's message, as before.
        assert number.validate(number.value).failure_descriptions == ["Must be a valid integer."]
