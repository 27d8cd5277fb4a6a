"""The welcome panel of an empty conversation while the offline demo provider answers."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

_HEADING = "bold"
_KEY = "bold"


def welcome_content(sidebar_key: str = "Ctrl+B") -> Content:
    """What a first-time user needs: what this is, how to add a provider, the keys
    (``sidebar_key``: the sidebar's key as it reaches the app, F4 inside tmux)."""
    return Content.assemble(
        ("Welcome to tuichat — offline demo", _HEADING),
        "\n\nYou are chatting with the built-in demo provider: it runs offline, needs no key,"
        " and its replies are canned. Send anything to see how a reply streams.\n\n",
        ("Add a real provider", _HEADING),
        "\n  • set ",
        ("OPENAI_API_KEY", _KEY),
        ", ",
        ("ANTHROPIC_API_KEY", _KEY),
        " or ",
        ("GEMINI_API_KEY", _KEY),
        " and restart tuichat\n"
        "  • or add a [providers.<name>] table to config.toml (Ollama, vLLM...)\n"
        "  • tuichat providers shows what tuichat finds and where its config lives\n\n",
        ("Keys", _HEADING),
        "\n  ",
        ("Enter", _KEY),
        " send   ",
        ("Ctrl+J", _KEY),
        " new line   ",
        ("Esc", _KEY),
        " stop a reply   ",
        ("Ctrl+N", _KEY),
        " new conversation\n  ",
        (sidebar_key, _KEY),
        " sidebar   ",
        ("Ctrl+F", _KEY),
        " search   ",
        ("Ctrl+L", _KEY),
        " model   ",
        ("Tab", _KEY),
        " next pane\n  ",
        ("F1", _KEY),
        " every key   ",
        ("Ctrl+P", _KEY),
        " command palette   ",
        ("Ctrl+Q", _KEY),
        " quit",
    )


class WelcomePanel(Static):
    """A short guide shown in an empty conversation with the demo provider."""

    def __init__(
        self, *, sidebar_key: str = "Ctrl+B", id: str | None = None, classes: str | None = None
    ) -> None:
        """Create it.

        Args:
            sidebar_key: How the sidebar's key reads.
            id: The widget id.
            classes: CSS classes.
        """
        super().__init__(welcome_content(sidebar_key), markup=False, id=id, classes=classes)
