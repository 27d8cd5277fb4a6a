"""The scrolling chat log, with a cursor that selects one message for the message actions.

Each message widget in the log carries the id ``m<row id>`` (:func:`message_dom_id`), so
the log can tell the screen which stored message is selected without knowing the store.
With the log focused, Up/Down (or k/j) move the selection; the screen carries out the
actions (copy, regenerate, edit...) on it through the bindings declared here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

from ..bindings import bindings_for

#: Seconds a message scrolled to stays in view while the log settles around it.
PIN_SECONDS = 0.5


def message_dom_id(message_id: int) -> str:
    """The DOM id of the widget showing stored message ``message_id``."""
    return f"m{message_id}"


def message_id_of(widget: Widget) -> int | None:
    """The stored message a widget shows, from its DOM id (None for other widgets)."""
    dom_id = widget.id or ""
    if dom_id.startswith("m") and dom_id[1:].isdigit():
        return int(dom_id[1:])
    return None


class ChatLog(VerticalScroll, can_focus=True, can_focus_children=False):
    """The chat log: messages in order, one of them selected while the log has focus."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings_for("messages", namespace="screen."))

    @dataclass
    class SelectionChanged(Message):
        """Another message was selected (or none)."""

        chat_log: ChatLog
        """The log that sent it."""
        message_id: int | None
        """The selected message's row id, or None."""

        @property
        def control(self) -> ChatLog:
            """The log (for ``@on(..., selector)``)."""
            return self.chat_log

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        """Create it.

        Args:
            id: The widget id.
            classes: CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self._selected: int | None = None
        self._pin: tuple[Widget, bool] | None = None
        self._pin_until = 0.0
        self._pin_timer: Timer | None = None

    @property
    def message_widgets(self) -> list[Widget]:
        """The widgets showing stored messages, in order."""
        return [child for child in self.children if message_id_of(child) is not None]

    @property
    def selected_id(self) -> int | None:
        """The selected message's row id, if one is selected and still shown."""
        if self._selected is None:
            return None
        if not self.query(f"#{message_dom_id(self._selected)}"):
            return None
        return self._selected

    def widget_for(self, message_id: int) -> Widget | None:
        """The widget showing stored message ``message_id``, if it is shown."""
        found = self.query(f"#{message_dom_id(message_id)}")
        return found.first() if found else None

    def select(self, message_id: int | None, *, scroll: bool = True, top: bool = False) -> None:
        """Select a message (None: no selection) and scroll it into view.

        Args:
            message_id: The stored message's row id.
            scroll: Whether to scroll it into view.
            top: Scroll it to the top of the log rather than just into view.
        """
        previous = self.widget_for(self._selected) if self._selected is not None else None
        if previous is not None:
            previous.remove_class("-selected")
        widget = self.widget_for(message_id) if message_id is not None else None
        self._selected = message_id if widget is not None else None
        if widget is not None:
            widget.add_class("-selected")
            if scroll:
                # Scrolling away from the end must not be undone by the anchor.
                self.release_anchor()
                self._scroll_when_laid_out(widget, top)
        self.post_message(self.SelectionChanged(self, self._selected))

    def _scroll_when_laid_out(self, widget: Widget, top: bool) -> None:
        """Scroll to ``widget`` now, and again each time the log's layout changes for a
        moment.

        A conversation opened from a dialog (a search hit) is drawn while the dialog still
        covers the screen, and replies measure their height at their first layout: the
        widget's place moves as the log settles, so the scroll follows it for
        :data:`PIN_SECONDS`.
        """
        self._pin = (widget, top)
        self._pin_until = time.monotonic() + PIN_SECONDS
        if self._pin_timer is None:
            # A few times a frame-ish: the layout settles within a couple of refreshes.
            self._pin_timer = self.set_interval(0.04, self._follow_pin)
        self._follow_pin()

    def _follow_pin(self) -> None:
        pin = self._pin
        if pin is None:
            return
        widget, top = pin
        if (
            not widget.is_attached
            or message_id_of(widget) != self._selected
            or time.monotonic() > self._pin_until
        ):
            self._unpin()
            return
        self.scroll_to_widget(widget, animate=False, top=top, immediate=True)

    def _unpin(self) -> None:
        self._pin = None
        if self._pin_timer is not None:
            self._pin_timer.stop()
            self._pin_timer = None

    def on_resize(self) -> None:
        """The content changed size (a reply measured itself): keep a pinned message in view."""
        if self._pin is not None:
            self.call_after_refresh(self._follow_pin)

    def move_selection(self, step: int) -> None:
        """Select the message ``step`` places away (from the last one when none is selected).

        Args:
            step: -1 for the previous message, 1 for the next.
        """
        ids = [message_id_of(widget) for widget in self.message_widgets]
        if not ids:
            return
        current = self.selected_id
        if current is None or current not in ids:
            index = len(ids) - 1
        else:
            index = max(0, min(len(ids) - 1, ids.index(current) + step))
        self.select(ids[index])

    def select_edge(self, last: bool) -> None:
        """Select the first or the last message."""
        widgets = self.message_widgets
        if widgets:
            self.select(message_id_of(widgets[-1 if last else 0]))

    def on_focus(self) -> None:
        """Entering the log selects the last message, so the actions have a target."""
        if self.selected_id is None:
            self.select_edge(last=True)
