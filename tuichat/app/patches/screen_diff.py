"""Send the terminal what changed on it, not every line that was touched.

Textual writes a frame as the whole of every dirty line (``ChopsUpdate``). While the log
follows a growing reply, each new line scrolls the log, so every line of it is dirty and
sent again: about 14 KB a frame, 3 MB for a 2,000-token reply, more than a thin SSH link
carries. :class:`ScreenDiff` keeps a copy of what the terminal shows (a cell per column:
its character and the SGR that draws it) and turns each frame into

* a scroll of the rows that moved, when many rows moved together by the same number of
  lines (a scroll region, ``DECSTBM``, and a delete or insert of lines inside it: VT102,
  what ncurses' scroll optimisation uses), and then
* only the runs of cells that differ from what the terminal then shows.

What the far end shows is exactly what Textual's own output would show
(``tests/app/test_screen_diff.py`` feeds both to a terminal emulator and compares them cell
by cell at every frame). A full repaint (the first frame, a resize, a theme change, a
screen refreshed from scratch) is passed through as Textual wrote it, and what it draws
becomes the copy again: the far end's content is never assumed where Textual assumed
nothing. Anything this module does not recognise is passed through as well, and the copy
is forgotten until the next full repaint.

This reads Textual 8.2.8's private compositor updates (``LayoutUpdate.strips`` and
``region``, ``ChopsUpdate.chops``, ``spans`` and ``chop_ends``); ``tests/app/test_patches.py``
fails when they change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import accumulate
from operator import ne
from typing import NamedTuple

from rich.cells import cell_len
from rich.color import ColorSystem
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate, CompositorUpdate, LayoutUpdate
from textual.strip import Strip

#: A cell: its character ("" for the right half of a wide one) and the SGR that draws it
#: (as Textual renders it: ``prefix\x00suffix``).
Cell = tuple[str, str]
Row = list[Cell]

_MISSING: list[Cell] = []

#: What a cell holds after lines were deleted or inserted: equal to no real cell, so it is
#: always written again (the blank's colour depends on the terminal's BCE).
_BLANK: Cell = ("\x00", "\x00blank")

#: Unchanged cells between two changed runs of a line that are written anyway, rather
#: than moving the cursor (a cursor move costs about 8 bytes).
MERGE_GAP = 6

#: Blank cells erased (ECH, EL) rather than written, when the terminal erases in colour.
ERASE_AT_LEAST = 8

#: A shift is used when at least this many rows moved by it.
MIN_SHIFTED_ROWS = 3

#: What a scroll costs, in cells (its sequences are about 20 bytes).
SCROLL_COST = 10

#: Keys matched by more rows than this (blank lines) say nothing about a shift.
MAX_SAME_ROWS = 3


class Sgr(NamedTuple):
    """A look as the terminal's state: attributes, foreground, background (SGR codes)."""

    attributes: str
    foreground: str
    background: str

    @classmethod
    def parse(cls, codes: str) -> Sgr:
        """The state that ``CSI codes m`` sets, from no attributes (as Rich writes it)."""
        attributes: list[str] = []
        foreground = background = ""
        parts = codes.split(";")
        index = 0
        while index < len(parts):
            code = parts[index]
            if code in ("38", "48") and index + 1 < len(parts):
                size = 5 if parts[index + 1] == "2" else 3
                colour = ";".join(parts[index : index + size])
                index += size
                if code == "38":
                    foreground = colour
                else:
                    background = colour
                continue
            index += 1
            number = int(code) if code.isdigit() else -1
            if 30 <= number <= 37 or 90 <= number <= 97:
                foreground = code
            elif 40 <= number <= 47 or 100 <= number <= 107:
                background = code
            elif number not in (39, 49, 0):
                attributes.append(code)
        return cls(";".join(attributes), foreground, background)

    def codes(self) -> str:
        """Its SGR codes from no attributes."""
        return ";".join(code for code in self if code)

    def to(self, other: Sgr) -> str:
        """The shortest SGR this module writes that turns this state into ``other``."""
        if other == self:
            return ""
        if other == PLAIN:
            return "\x1b[0m"
        codes = []
        if other.attributes != self.attributes:
            mine, theirs = self.attributes.split(";"), other.attributes.split(";")
            off = [_OFF.get(code) for code in mine if code and code not in theirs]
            if None in off:
                return f"\x1b[0;{other.codes()}m"
            # Attributes turned off one by one (bold and dim share one code), then on.
            codes = list(dict.fromkeys(code for code in off if code))
            codes += [code for code in theirs if code and code not in mine]
            if "22" in codes:  # it turns both bold and dim off: put back the one kept
                codes += [code for code in theirs if code in ("1", "2") and code in mine]
            full = f"\x1b[0;{other.codes()}m"
        else:
            full = ""
        if other.foreground != self.foreground:
            codes.append(other.foreground or "39")
        if other.background != self.background:
            codes.append(other.background or "49")
        delta = f"\x1b[{';'.join(codes)}m"
        return full if full and len(full) <= len(delta) else delta


#: The SGR code that turns an attribute off.
_OFF = {
    "1": "22",
    "2": "22",
    "3": "23",
    "4": "24",
    "5": "25",
    "6": "25",
    "7": "27",
    "8": "28",
    "9": "29",
    "21": "24",
    "51": "54",
    "52": "54",
    "53": "55",
}


#: No attributes, the terminal's own colours.
PLAIN = Sgr("", "", "")


class Looks:
    """The SGR of each Rich style, as Textual's ``Strip.render`` writes it, cached."""

    def __init__(self, color_system: ColorSystem | None) -> None:
        # As Strip.render: a console without a colour system renders in true colour.
        self._color_system = color_system or ColorSystem.TRUECOLOR
        self._looks: dict[Style | None, str] = {None: "\x00"}
        self._parts: dict[str, tuple[str, str]] = {"\x00": ("", "")}
        self._sgr: dict[str, Sgr | None | bool] = {}

    def of(self, style: Style | None) -> str:
        """The look of ``style``: what Textual writes around a text in it."""
        look = self._looks.get(style)
        if look is None:
            assert style is not None
            look = Strip.render_style(style, "\x00", self._color_system)
            self._looks[style] = look
            prefix, _, suffix = look.partition("\x00")
            self._parts[look] = (prefix, suffix)
        return look

    def parts(self, look: str) -> tuple[str, str]:
        """What goes before and after a text drawn with ``look``."""
        return self._parts[look]

    def sgr(self, look: str) -> Sgr | None:
        """``look`` as attributes and colours, or None for a look that is not a plain SGR
        (a hyperlink): that one is written whole, from and back to no attributes."""
        parsed: Sgr | bool | None = self._sgr.get(look, False)
        if parsed is False:
            prefix, suffix = self._parts[look]
            parsed = None
            if not prefix:
                parsed = PLAIN
            elif prefix.startswith("\x1b[") and prefix.endswith("m") and suffix == "\x1b[0m":
                parsed = Sgr.parse(prefix[2:-1])
            self._sgr[look] = parsed
        return parsed if isinstance(parsed, Sgr) else None


class ScreenDiff:
    """What the terminal shows, and the output that brings it to the next frame.

    Args:
        color_system: The console's colour system (as Textual renders strips).
        scroll: Whether the terminal takes scroll regions (``DECSTBM``) and line
            insertion and deletion (``IL``/``DL``); without them only changed cells are
            sent.
        erase: Whether the terminal erases in the current background colour (``bce``):
            then a run of blank cells is erased (``ECH``, ``EL``) rather than written.
    """

    def __init__(
        self, color_system: ColorSystem | None, *, scroll: bool = True, erase: bool = False
    ) -> None:
        self.looks = Looks(color_system)
        self.scroll = scroll
        self.erase = erase
        self.rows: list[Row] | None = None
        self._state = PLAIN
        # The cells of the chops of the last frame and of this one, by their segments.
        self._seen: dict[tuple[int, tuple[Segment, ...]], Row | None] = {}
        self._recent: dict[tuple[int, tuple[Segment, ...]], Row | None] = {}
        self.width = 0
        self.height = 0

    def forget(self) -> None:
        """What the terminal shows is unknown (until the next full repaint)."""
        self.rows = None

    def encode(self, update: CompositorUpdate, width: int, height: int) -> str | None:
        """The output for ``update`` on a ``width`` x ``height`` screen, or None when
        Textual's own output of it is to be written (and was taken in as what it shows)."""
        if isinstance(update, LayoutUpdate):
            region = update.region
            if region.x or region.y or region.width != width or region.height != height:
                self.forget()
                return None
            rows = [self._cells(Strip.join(line), width) for line in update.strips]
            if any(row is None for row in rows):
                self.forget()
                return None
            self.rows = rows  # type: ignore[assignment]
            self.width, self.height = width, height
            return None
        if not isinstance(update, ChopsUpdate) or self.rows is None:
            self.forget()
            return None
        if (width, height) != (self.width, self.height):
            self.forget()
            return None
        new = self._apply(update)
        if new is None:
            self.forget()
            return None
        output = self._diff(self.rows, new)
        self.rows = new
        return output

    # -- the next frame --------------------------------------------------------------------

    def _cells(self, strip: Iterable[Segment], width: int) -> Row | None:
        """The cells of a strip of ``width`` columns (None if it is not that wide)."""
        of = self.looks.of
        cells: Row = []
        extend = cells.extend
        for text, style, control in strip:
            if control or not text:
                continue
            look = of(style)
            if text.isascii():
                extend([(char, look) for char in text])
                continue
            for char in text:
                size = cell_len(char)
                if size == 1:
                    cells.append((char, look))
                elif size == 2:
                    cells.append((char, look))
                    cells.append(("", look))
                elif cells:  # a combining mark joins the cell before it
                    previous, previous_look = cells[-1]
                    cells[-1] = (previous + char, previous_look)
                else:
                    return None
        return cells if len(cells) == width else None

    def _chop_cells(self, strip: Strip, width: int) -> Row | None:
        """:meth:`_cells` of a chop, kept from the last frame when it holds the same
        segments (a line that did not change, even if it moved, comes as equal segments,
        though often in a new strip)."""
        key = (width, tuple(strip))
        cells = self._seen.get(key, _MISSING)
        if cells is _MISSING:
            cells = self._cells(strip, width)
        self._recent[key] = cells
        return cells

    def _apply(self, update: ChopsUpdate) -> list[Row] | None:
        """The rows after ``update``: its spans over what is shown."""
        assert self.rows is not None
        rows = list(self.rows)
        touched: set[int] = set()
        self._seen, self._recent = self._recent, {}
        width = self.width
        for y, x1, x2 in update.spans:
            if not 0 <= y < self.height:
                return None
            if y not in touched:
                rows[y] = list(rows[y])
                touched.add(y)
            row = rows[y]
            for end, (x, strip) in zip(update.chop_ends[y], update.chops[y].items(), strict=False):
                if strip is None or x >= x2 or end <= x1:
                    continue
                cells = self._chop_cells(strip, end - x)
                if cells is None or end > width:
                    return None
                start, stop = max(x, x1), min(end, x2)
                row[start:stop] = cells[start - x : stop - x]
        return rows

    # -- the output ------------------------------------------------------------------------

    def _diff(self, old: list[Row], new: list[Row]) -> str:
        changed = [y for y in range(self.height) if old[y] != new[y]]
        if not changed:
            return ""
        out: list[str] = []
        shown = old
        if self.scroll and len(changed) >= MIN_SHIFTED_ROWS:
            shift = self._find_shift(old, new, changed)
            if shift is not None:
                top, bottom, lines = shift
                out.append(_scroll(top, bottom, lines))
                shown = _scrolled(old, top, bottom, lines, self.width)
                changed = [y for y in range(self.height) if shown[y] != new[y]]
        self._state = PLAIN
        for y in changed:
            self._row(out, y, shown[y], new[y])
        # Between frames the terminal has no attributes set, as after Textual's output.
        out.append(self._state.to(PLAIN))
        return "".join(out)

    def _find_shift(
        self, old: list[Row], new: list[Row], changed: list[int]
    ) -> tuple[int, int, int] | None:
        """The rows to scroll and by how many lines (up when positive), when many rows of
        the new frame are rows of the old one moved up or down together."""
        # Keyed by the row without its first third and its last two columns: a sidebar
        # or a scrollbar beside a moving log does not move with it (their cells are
        # written again after the scroll, where they differ).
        left, right = self.width // 3, max(self.width // 3 + 1, self.width - 2)
        where: dict[tuple[Cell, ...], list[int]] = {}
        for y, row in enumerate(old):
            where.setdefault(tuple(row[left:right]), []).append(y)
        votes: Counter[int] = Counter()
        keys = {y: tuple(new[y][left:right]) for y in changed}
        for y in changed:
            found = where.get(keys[y], ())
            if 0 < len(found) <= MAX_SAME_ROWS:
                for y_old in found:
                    if y_old != y:
                        votes[y_old - y] += 1
        if not votes:
            return None
        lines, count = votes.most_common(1)[0]
        if count < MIN_SHIFTED_ROWS:
            return None
        return self._best_region(old, new, lines)

    def _best_region(
        self, old: list[Row], new: list[Row], lines: int
    ) -> tuple[int, int, int] | None:
        """The rows whose scroll by ``lines`` saves the most cells to write, if any.

        Each row's cost is the number of its cells that differ from what the terminal
        would show: as it is (``kept``), or after the scroll (``moved``; a line that comes
        in blank costs every cell). A row beside the log that does not move (the
        sidebar's header) costs more scrolled than kept, so the region is cut there.
        """
        height, width = self.height, self.width
        kept = [0 if old[y] is new[y] else sum(map(ne, old[y], new[y])) for y in range(height)]
        moved = [
            sum(map(ne, old[y + lines], new[y])) if 0 <= y + lines < height else width
            for y in range(height)
        ]
        # gain[y]: what row y saves when it shows the row ``lines`` away; blank[y]: what it
        # saves (a loss) when it comes in blank.
        gain = [kept[y] - moved[y] for y in range(height)]
        blank = [kept[y] - width for y in range(height)]
        size = abs(lines)
        sums_gain = list(accumulate(gain, initial=0))
        sums_blank = list(accumulate(blank, initial=0))
        best, region = SCROLL_COST, None
        # Scrolled rows top..bottom of the terminal: up, rows top..bottom-size show moved
        # rows and the last ``size`` come in blank; down, the first ``size`` come in
        # blank and the others show moved rows. For each bottom, the best top is the one
        # where the sums before it are lowest (prefix sums, one pass).
        lowest, lowest_top = None, 0
        for bottom in range(size, height):
            top = bottom - size  # the newest top this bottom allows
            if lines > 0:
                start = sums_gain[top]
                if lowest is None or start < lowest:
                    lowest, lowest_top = start, top
                saved = (
                    sums_gain[bottom - size + 1]
                    - lowest
                    + sums_blank[bottom + 1]
                    - sums_blank[bottom - size + 1]
                )
            else:
                start = sums_blank[top] - sums_blank[top + size] + sums_gain[top + size]
                if lowest is None or start < lowest:
                    lowest, lowest_top = start, top
                saved = sums_gain[bottom + 1] - lowest
            if saved > best:
                best, region = saved, (lowest_top, bottom, lines)
        return region

    def _row(self, out: list[str], y: int, shown: Row, new: Row) -> None:
        """Write the runs of ``new`` that differ from ``shown`` on line ``y``."""
        width = self.width
        runs: list[list[int]] = []
        x = 0
        while x < width:
            if shown[x] == new[x]:
                x += 1
                continue
            start = x
            while x < width and shown[x] != new[x]:
                x += 1
            if runs and start - runs[-1][1] <= MERGE_GAP:
                runs[-1][1] = x
            else:
                runs.append([start, x])
        for start, stop in runs:
            # Never write half of a wide character, on either side.
            while start > 0 and (new[start][0] == "" or shown[start][0] == ""):
                start -= 1
            while stop < width and (new[stop][0] == "" or shown[stop][0] == ""):
                stop += 1
            out.append(f"\x1b[{y + 1}H" if start == 0 else f"\x1b[{y + 1};{start + 1}H")
            look = new[start][1]
            text: list[str] = []
            for char, cell_look in new[start:stop]:
                if cell_look != look:
                    self._write(out, look, "".join(text), False)
                    look, text = cell_look, []
                text.append(char)
            self._write(out, look, "".join(text), stop == width)

    def _write(self, out: list[str], look: str, text: str, to_the_end: bool) -> None:
        """Write ``text`` drawn with ``look``, from the attributes last written
        (``to_the_end``: it ends at the last column)."""
        sgr = self.looks.sgr(look)
        if sgr is None:
            prefix, suffix = self.looks.parts(look)
            out.append(f"{self._state.to(PLAIN)}{prefix}{text}{suffix}")
            self._state = PLAIN
            return
        blanks = 0
        if self.erase and not sgr.attributes and sgr.background:
            # Blank cells in a plain look are erased in its colours: a space's foreground
            # does not show, and nothing (underline, reverse) draws on it.
            kept = text.rstrip(" ")
            if len(text) - len(kept) >= ERASE_AT_LEAST:
                blanks, text = len(text) - len(kept), kept
        if blanks and not text:
            # Only erased: its foreground does not matter, only its background.
            keep = self._state.foreground if not self._state.attributes else ""
            sgr = Sgr("", keep, sgr.background)
        out.append(f"{self._state.to(sgr)}{text}")
        self._state = sgr
        if blanks:
            out.append("\x1b[K" if to_the_end else f"\x1b[{blanks}X\x1b[{blanks}C")


def _scroll(top: int, bottom: int, lines: int) -> str:
    """Scroll rows ``top``..``bottom`` (0-based, inclusive) up by ``lines`` (down when
    negative): a scroll region, then lines deleted (or inserted) at its top, then the
    region reset to the whole screen. Attributes are reset first, so the lines that come
    in are blank in the default colours."""
    op = f"{lines}M" if lines > 0 else f"{-lines}L"
    return f"\x1b[0m\x1b[{top + 1};{bottom + 1}r\x1b[{top + 1};1H\x1b[{op}\x1b[r"


def _scrolled(rows: list[Row], top: int, bottom: int, lines: int, width: int) -> list[Row]:
    """``rows`` as the terminal shows them after :func:`_scroll`."""
    blank = [_BLANK] * width
    region = rows[top : bottom + 1]
    if lines > 0:
        moved = region[lines:] + [blank] * lines
    else:
        moved = [blank] * -lines + region[: len(region) + lines]
    return rows[:top] + moved + rows[bottom + 1 :]
