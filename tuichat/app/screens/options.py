"""A conversation's options: system prompt, temperature, max tokens, or a named preset.

Presets come from ``[presets.<name>]`` in ``config.toml``; choosing one fills the fields
(and switches the model when the preset names one). Ctrl+S saves, Esc cancels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, TextArea

from tuichat.sanitize import one_line

from ..widgets.number_input import NumberInput

if TYPE_CHECKING:
    from tuichat.config import PresetSettings


@dataclass(frozen=True, slots=True)
class ConversationOptions:
    """What the options screen dismisses with."""

    system_prompt: str | None
    """The system prompt (None: none)."""
    temperature: float | None
    """Sampling temperature (None: the model's default)."""
    max_tokens: int | None
    """Most tokens per reply (None: the provider's default)."""
    preset: str | None = None
    """The preset chosen, if any."""
    model: str | None = None
    """The preset's model (``provider/model`` or a model id), to switch to."""


class OptionsScreen(ModalScreen[ConversationOptions | None]):
    """Edit the options of one conversation."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]

    def __init__(
        self,
        current: ConversationOptions,
        presets: Mapping[str, PresetSettings],
        *,
        model_label: str = "",
        conversation_id: int | None = None,
    ) -> None:
        """Create it.

        Args:
            current: The conversation's options now.
            presets: The presets of ``config.toml``.
            model_label: ``provider · model`` now answering (shown, for context).
            conversation_id: The conversation's id (None: not saved yet), which the
                command line's ``ask --conversation`` and ``export`` take.
        """
        super().__init__()
        self._conversation_id = conversation_id
        self._current = current
        self._presets = dict(presets)
        self._model_label = model_label
        self._preset: str | None = current.preset if current.preset in presets else None

    def compose(self) -> ComposeResult:
        """The preset, the system prompt and the two parameters."""
        current = self._current
        with Vertical(id="options-dialog", classes="dialog"):
            yield Label("Conversation options", classes="dialog-heading")
            if self._model_label:
                yield Label(Content(f"Model: {one_line(self._model_label, 80)}"))
            ident = self._conversation_id
            yield Label(
                f"Id: {ident} (tuichat ask --conversation {ident}, tuichat export {ident})"
                if ident is not None
                else "Id: none yet (the first message saves the conversation)",
                id="options-id",
                markup=False,
            )
            if self._presets:
                yield Select(
                    [(name, name) for name in self._presets],
                    prompt="Preset (none)",
                    value=self._preset if self._preset else Select.NULL,
                    id="options-preset",
                )
            yield Label("System prompt")
            yield TextArea(current.system_prompt or "", id="options-system", soft_wrap=True)
            with Horizontal(id="options-params"):
                yield Label("Temperature ")
                yield NumberInput(
                    _number(current.temperature),
                    placeholder="default",
                    id="options-temperature",
                )
                yield Label("  Max tokens ")
                yield NumberInput(
                    _number(current.max_tokens),
                    integer=True,
                    placeholder="default",
                    id="options-max-tokens",
                )
            yield Label("", id="options-error", classes="dialog-error")
            yield Label("Ctrl+S saves · Tab next field · Esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        """Start in the system prompt."""
        self.query_one("#options-system", TextArea).focus()

    @on(Select.Changed, "#options-preset")
    def apply_preset(self, event: Select.Changed) -> None:
        """Fill the fields from the chosen preset."""
        name = event.value if isinstance(event.value, str) else None
        self._preset = name
        preset = self._presets.get(name) if name else None
        if preset is None:
            return
        if preset.system_prompt is not None:
            self.query_one("#options-system", TextArea).load_text(preset.system_prompt)
        self.query_one("#options-temperature", Input).value = _number(preset.temperature)
        self.query_one("#options-max-tokens", Input).value = _number(preset.max_tokens)

    @on(Input.Submitted)
    def submitted(self) -> None:
        """Enter in a number field saves too."""
        self.action_save()

    def action_save(self) -> None:
        """Check the numbers and dismiss with the options."""
        error = self.query_one("#options-error", Label)
        temperature_text = self.query_one("#options-temperature", Input).value.strip()
        tokens_text = self.query_one("#options-max-tokens", Input).value.strip()
        try:
            temperature = float(temperature_text) if temperature_text else None
            if temperature is not None and not 0 <= temperature <= 2:
                raise ValueError
        except ValueError:
            error.update("Temperature is a number from 0 to 2, or empty for the default.")
            return
        try:
            max_tokens = int(tokens_text) if tokens_text else None
            if max_tokens is not None and max_tokens <= 0:
                raise ValueError
        except ValueError:
            error.update("Max tokens is a whole number above 0, or empty for the default.")
            return
        system = self.query_one("#options-system", TextArea).text
        preset = self._presets.get(self._preset) if self._preset else None
        self.dismiss(
            ConversationOptions(
                system_prompt=system if system.strip() else None,
                temperature=temperature,
                max_tokens=max_tokens,
                preset=self._preset,
                model=preset.model if preset is not None else None,
            )
        )

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)
