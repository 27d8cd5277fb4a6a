"""The smallest Textual app with a footer: the startup baseline (benchmark 3)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Static


class Minimal(App[None]):
    """One line of text and a footer."""

    BINDINGS = [("ctrl+q", "quit", "Quit")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        """The text and the footer."""
        yield Static("minimal textual app ready")
        yield Footer()


if __name__ == "__main__":
    Minimal().run()
