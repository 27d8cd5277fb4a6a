"""The chat screen's prompt library and prompt recall, as one part it holds.

- ``/`` at the start of an empty prompt opens the saved prompts (:mod:`.prompt_picker`);
  a prompt with variables asks them (:mod:`.prompt_form`); the text filled goes into the
  prompt box, not sent, and the prompt's system prompt, model and parameters apply to the
  conversation the way the options dialog's presets do (``Models.apply_options``).
- Up in an empty prompt walks this conversation's prompts (the prompt box does the
  walking; this part hands it the list); Ctrl+R searches every prompt sent
  (:mod:`.recall_search`, over ``Store.recent_prompts``).

A part of the chat screen (see :mod:`tuichat.app.chat`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuichat.errors import TuichatError
from tuichat.prompts import Library, PromptTemplate, load_library
from tuichat.prompts.library import presets_of
from tuichat.prompts.template import INPUT

from ..screens.options import ConversationOptions

if TYPE_CHECKING:
    from ..screens.chat import ChatScreen
    from ..screens.prompt_picker import Picked

#: Most prompts Ctrl+R searches, newest first: a shell keeps about as many (bash's
#: HISTSIZE is 500 by default), and matching them all takes ~40 ms a key press at most.
RECALL_LIMIT = 2000

#: Marks where ``{{input}}`` was, so the cursor lands there (a private-use character).
_CURSOR = "\ue000"


class PromptLibraryPart:
    """What ``/``, Up and Ctrl+R do in the chat screen's prompt."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen

    def mounted(self) -> None:
        """Hand the prompt box this conversation's prompts for Up."""
        self.screen.prompt.recall = self.conversation_prompts

    def conversation_prompts(self) -> list[str]:
        """The open conversation's prompts on the branch shown, newest first."""
        screen = self.screen
        if screen.conversation_id is None:
            return []
        try:
            messages = screen.store.messages(screen.conversation_id)
        except TuichatError as exc:
            screen.report(exc)
            return []
        return [m.content for m in reversed(messages) if m.role == "user" and m.content.strip()]

    def library(self) -> Library:
        """The library as it is on disk now (files may change while the app runs)."""
        from tuichat import locations

        runtime = self.screen.runtime
        presets = runtime.settings.presets if runtime.loaded else {}
        return load_library(locations.prompts_dir(), presets)

    def presets(self) -> dict[str, Any]:
        """What the options dialog offers as presets: the library's prompts that set
        something (the config's presets among them)."""
        return presets_of(self.library())

    # -- / -------------------------------------------------------------------------------------

    def open_picker(self) -> None:
        """``/`` typed in an empty prompt: offer the saved prompts, if there are any."""
        prompt = self.screen.prompt
        typed = prompt.text
        if not typed.startswith("/") or "\n" in typed:
            return
        library = self.library()
        if library.problems:
            # A file left out is said, not hidden: the person wrote it to use it.
            more = len(library.problems) - 1
            also = (
                f" (and {more} more file{'s' if more > 1 else ''}: tuichat prompts)" if more else ""
            )
            self.screen.tell(library.problems[0] + also, severity="warning")
        if not len(library):
            return  # nothing to pick: the / is just a character
        from ..screens.prompt_picker import PromptPickerScreen  # (not before the first frame)

        self.screen.app.push_screen(PromptPickerScreen(library, query=typed[1:]), self._picked)

    def _picked(self, picked: Picked | None) -> None:
        prompt = self.screen.prompt
        prompt.focus()
        if picked is None or picked.template is None:
            prompt.set_text("/" + (picked.typed if picked else ""))
            return
        template = picked.template
        asked = [name for name in template.variables if name != INPUT]
        if not asked:
            self._fill(template, {})
            return

        def filled(values: dict[str, str] | None) -> None:
            prompt.focus()
            if values is None:
                prompt.set_text("/" + picked.typed)
            else:
                self._fill(template, values)

        from ..screens.prompt_form import VariableFormScreen  # (not before the first frame)

        form = VariableFormScreen(template.name, asked, template.defaults)
        self.screen.app.push_screen(form, filled)

    def _fill(self, template: PromptTemplate, values: dict[str, str]) -> None:
        """Put the filled text in the prompt (the cursor where ``{{input}}`` was, else at
        the end) and apply what the template sets for the turn."""
        screen = self.screen
        if INPUT in template.variables:
            values = {**values, INPUT: _CURSOR}
        try:
            rendered = template.render(values)
        except TuichatError as exc:
            screen.report(exc)
            return
        at = rendered.text.find(_CURSOR)
        text = rendered.text.replace(_CURSOR, "")
        prompt = screen.prompt
        prompt.set_text(text)
        if at >= 0:
            prompt.move_cursor(prompt.document.get_location_from_index(at))  # type: ignore[attr-defined]
        system = rendered.system.replace(_CURSOR, "") if rendered.system is not None else None
        if system is None and not rendered.params and not rendered.model:
            return
        current = self._current_options()
        screen.models.apply_options(
            ConversationOptions(
                system_prompt=system if system is not None else current.system_prompt,
                temperature=rendered.params.get("temperature", current.temperature),
                max_tokens=rendered.params.get("max_tokens", current.max_tokens),
                preset=template.name,
                model=rendered.model,
            )
        )

    def _current_options(self) -> ConversationOptions:
        """The conversation's options now, which a template changes only where it sets
        something (the same sources as the options dialog)."""
        screen = self.screen
        if screen.conversation_id is not None:
            conversation = screen.store.get_conversation(screen.conversation_id)
            if conversation is not None:
                params = conversation.params
                return ConversationOptions(
                    system_prompt=conversation.system_prompt,
                    temperature=params.get("temperature"),
                    max_tokens=params.get("max_tokens"),
                )
        pending = screen.models.pending_options
        if pending is not None:
            return pending
        settings = screen.runtime.settings
        return ConversationOptions(
            system_prompt=settings.system_prompt,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
        )

    # -- Ctrl+R --------------------------------------------------------------------------------

    def search_sent(self) -> None:
        """Search every prompt sent; the one chosen goes into the prompt box."""
        screen = self.screen
        try:
            prompts = screen.store.recent_prompts(limit=RECALL_LIMIT)
        except TuichatError as exc:
            screen.report(exc)
            return
        typed = screen.prompt.text
        query = typed if "\n" not in typed else ""

        def chosen(text: str | None) -> None:
            screen.prompt.focus()
            if text is not None:
                screen.prompt.set_text(text)

        from ..screens.recall_search import RecallSearchScreen  # (not before the first frame)

        screen.app.push_screen(RecallSearchScreen(prompts, query=query), chosen)
