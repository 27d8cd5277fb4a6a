"""The image viewer draws by the method the terminal speaks (``textual-image``): Kitty's
graphics protocol, Sixel, or half blocks. A real graphics terminal is not at hand in CI:
these check that each method puts its own protocol on the wire."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widget import Widget

from tuichat.app.images import Method, image_widget

#: Kitty's placeholder character (the image shows in the cells that hold it).
KITTY_PLACEHOLDER = "\U0010eeee"


def png(width: int = 40, height: int = 40) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


class Viewer(App[None]):
    def __init__(self, image: Widget) -> None:
        super().__init__()
        self.image = image

    def compose(self) -> ComposeResult:
        self.image.styles.width = 4
        self.image.styles.height = 2
        yield self.image


async def drawn(method: Method) -> list[Strip]:
    app = Viewer(image_widget(png(), method, (10, 20), id="image"))
    async with app.run_test(size=(20, 6)) as pilot:
        await pilot.pause(0.2)
        return app.screen._compositor.render_strips()


async def test_kitty_sends_the_image_once_and_places_it_in_its_cells(
    capfd: pytest.CaptureFixture[str],
) -> None:
    strips = await drawn("kitty")
    text = "".join(segment.text for strip in strips for segment in strip)
    assert text.count(KITTY_PLACEHOLDER) == 4 * 2  # one per cell of the 4x2 image
    sent = capfd.readouterr().out
    assert "\x1b_G" in sent and "f=100" in sent  # the PNG itself, by the graphics protocol


async def test_sixel_draws_a_dcs_sixel_sequence() -> None:
    strips = await drawn("sixel")
    controls = [segment.text for strip in strips for segment in strip if segment.control]
    sixel = "".join(controls) + "".join(segment.text for strip in strips for segment in strip)
    assert "\x1bP" in sixel and "q" in sixel and sixel.count("\x1b\\") >= 1


async def test_elsewhere_half_blocks_draw_it() -> None:
    strips = await drawn("halfcell")
    text = "".join(segment.text for strip in strips for segment in strip)
    assert text.count("▀") == 4 * 2 and "\x1b" not in text
