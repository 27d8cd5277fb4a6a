"""The one-line status bar above the prompt: which provider and model answer."""

from __future__ import annotations

from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal
from textual.content import Content
from textual.geometry import Size
from textual.widgets import Label

from tuichat.sanitize import one_line

#: The badge shown while the offline demo provider answers.
DEMO_BADGE = "DEMO — offline, no key needed"


class Note(Label):
    """A note shown whole or not at all: the longest of its wordings that fits its width
    (a note cut at the edge left a stray letter, or lost its last words)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._wordings: tuple[str, ...] = ()

    def set_wordings(self, wordings: tuple[str, ...]) -> None:
        """Longest first; plain text."""
        self._wordings = tuple(one_line(text, 120) for text in wordings if text)
        self.refresh()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """One line, whatever it says: measuring it must not render it (see render)."""
        return 1

    def render(self) -> RenderResult:
        """The first wording that fits, or nothing."""
        # The size Textual gave it, not ``content_region``: that looks the widget up in
        # the screen's map, and from a render during a layout it builds the whole map a
        # second time (every mounted message measured again: 2,000 messages opened in
        # 0.42 s instead of 0.28 s).
        width = self.size.width
        return Content(next((text for text in self._wordings if len(text) <= width), ""))


def tokens_label(tokens: int) -> str:
    """``950``, ``12.3k``, ``1.2M``: a token count at a glance."""
    if tokens < 1000:
        return str(tokens)
    if tokens < 1_000_000:
        return f"{tokens / 1000:.1f}".rstrip("0").rstrip(".") + "k"
    return f"{tokens / 1_000_000:.1f}".rstrip("0").rstrip(".") + "M"


def meter_text(tokens: int, window: int | None, *, exact: bool) -> str:
    """What the context meter says: the next request's size, of the window if known."""
    shown = tokens_label(tokens) if exact else f"~{tokens_label(tokens)}"
    if not window:
        return f"{shown} tokens"
    return f"{shown}/{tokens_label(window)} ({min(tokens * 100 // window, 999)}%)"


class StatusBar(Horizontal):
    """Shows ``provider · model`` and, for the demo provider, a visible badge."""

    def compose(self) -> ComposeResult:
        """The model label, the demo badge and a free note on the right."""
        yield Label(id="status-model")
        yield Label(DEMO_BADGE, id="demo-badge")
        yield Note(id="status-note")
        yield Label(id="conversation-cost")
        yield Label(id="context-meter")

    def show_model(self, provider: str, model: str, *, demo: bool) -> None:
        """Show who answers the next prompt.

        Args:
            provider: Provider instance name.
            model: Model name.
            demo: Whether it is the offline demo provider (shows the badge).
        """
        text = one_line(f"{provider} · {model}", 120)
        self.query_one("#status-model", Label).update(Content(text))
        self.set_class(demo, "-demo")

    def show_meter(self, text: str, level: str) -> None:
        """Show how much of the model's window the next request will use.

        Args:
            text: From :func:`meter_text` ('' hides the meter).
            level: ``ok``, ``near`` (past three quarters of the full share) or ``full``.
        """
        meter = self.query_one("#context-meter", Label)
        meter.update(Content(text))
        meter.display = bool(text)
        for name in ("ok", "near", "full"):
            meter.set_class(level == name, f"-{name}")

    def show_cost(self, text: str) -> None:
        """Show what the conversation cost so far ('' hides it).

        Args:
            text: Plain text (``cost $0.0123 + unknown``).
        """
        label = self.query_one("#conversation-cost", Label)
        label.update(Content(text))
        label.display = bool(text)

    def show_note(self, note: str, *shorter: str) -> None:
        """Show a short note on the right (``responding…``), or clear it with ''.

        Args:
            note: Plain text.
            shorter: Shorter wordings, for when the note does not fit (the note is shown
                whole or not at all).
        """
        self.query_one("#status-note", Note).set_wordings((note, *shorter))
