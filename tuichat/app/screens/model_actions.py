"""The chat screen's model actions: the model catalog and picker, per-conversation options and
presets, background titles, the theme and the help screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work

from tuichat import catalog, titles
from tuichat.catalog import ProviderModels
from tuichat.errors import TuichatError
from tuichat.sanitize import one_line

from .base import ChatScreenBase
from .help import HelpScreen
from .models import Choice, ModelPickerScreen
from .options import ConversationOptions, OptionsScreen

if TYPE_CHECKING:
    from tuichat.provider import Provider


class ModelActions(ChatScreenBase):
    """Models, options, titles, theme and help."""

    def _init_model_actions(self) -> None:
        self._loading_models: set[str] = set()
        self._discovering = False
        self._picker: ModelPickerScreen | None = None
        # Options chosen for a conversation not saved yet (applied at its first prompt).
        self._pending: ConversationOptions | None = None

    # -- the catalog ---------------------------------------------------------------------------

    def _load_catalog(self) -> None:
        """Show the cached model lists; fetch, in the background, those never fetched."""
        try:
            self.catalog = catalog.load_cache(self.store)
        except TuichatError:
            self.catalog = {}
        missing = [
            name for name in catalog.usable_instances(self.runtime) if name not in self.catalog
        ]
        self._fetch_models(missing)
        self._discover()

    def _discover(self) -> None:
        """Look for local model servers in the background (never before the settings are
        in, so never before the first frame); those found join the picker."""
        if self._discovering or not self.runtime.loaded:
            return
        if not self.runtime.settings.discovery.enabled:
            return
        self._discovering = True
        self.run_worker(
            self._discover_now(), group="discovery", exit_on_error=False, name="discovery"
        )

    async def _discover_now(self) -> None:
        try:
            # The client's pool and TLS context are made in a thread, not on the loop
            # (a start whose config changed gets here before its first frame).
            await asyncio.to_thread(self.runtime.warm_up)
            found = await self.runtime.discover()
        except TuichatError:
            found = []  # (a bad [http] ca_bundle): the provider that uses it says so
        finally:
            self._discovering = False
        self._fetch_models([item.name for item in found])

    def _fetch_models(self, names: list[str]) -> None:
        for name in names:
            if name in self._loading_models:
                continue
            self._loading_models.add(name)
            self.run_worker(
                self._fetch_one(name), group="models", exit_on_error=False, name=f"models-{name}"
            )
        self._update_picker()

    async def _fetch_one(self, name: str) -> None:
        try:
            provider = self.runtime.provider(name)
        except TuichatError as exc:
            entry = ProviderModels(name, error=one_line(str(exc), 300))
        else:
            entry = await catalog.fetch(provider)
        self.catalog[name] = catalog.merge(self.catalog.get(name), entry)
        self._loading_models.discard(name)
        try:
            catalog.save_cache(self.store, self.catalog.values())
        except TuichatError:
            pass  # the lists stay in memory; the next start fetches them again
        self._update_picker()

    def _refresh_models(self) -> None:
        """Fetch every usable provider's list again (F5 in the picker)."""
        self._fetch_models(catalog.usable_instances(self.runtime))

    def _ordered_catalog(self) -> list[ProviderModels]:
        order = self.runtime.instance_names()
        return sorted(
            self.catalog.values(),
            key=lambda e: order.index(e.provider) if e.provider in order else len(order),
        )

    def _update_picker(self) -> None:
        picker = self._picker
        if picker is not None and picker.is_attached:
            picker.show_entries(self._ordered_catalog(), sorted(self._loading_models))

    # -- switching model -----------------------------------------------------------------------

    def action_pick_model(self) -> None:
        """Choose the model of this conversation among every usable provider's models."""

        def chosen(choice: Choice | None) -> None:
            if choice is not None and self._switch_model(*choice) and not self._listed(*choice):
                self.tell(
                    f"{choice[0]} does not list {one_line(choice[1], 60)!r}: it is used as "
                    "typed, and the provider will say if it does not exist.",
                    severity="warning",
                )

        self._open_model_picker((self.provider.instance_name, self.model), chosen)

    def _listed(self, provider_name: str, model: str) -> bool:
        entry = self.catalog.get(provider_name)
        return entry is not None and any(info.id == model for info in entry.models)

    def _open_model_picker(self, current: Choice, chosen: Callable[[Choice | None], None]) -> None:
        """Show the picker over the catalog (kept up to date while it is open)."""

        def closed(choice: Choice | None) -> None:
            self._picker = None
            chosen(choice)

        self._picker = ModelPickerScreen(
            self._ordered_catalog(),
            current=current,
            refresh=self._refresh_models,
            loading=sorted(self._loading_models),
        )
        self.app.push_screen(self._picker, closed)
        self._discover()  # a server started since: its models appear while the picker is open

    def _switch_model(self, provider_name: str, model: str, *, quiet: bool = False) -> bool:
        """Chat with ``provider_name``'s ``model`` from now on, in this conversation."""
        try:
            provider: Provider = self.runtime.provider(provider_name)
        except TuichatError as exc:
            self._report(exc)
            return False
        self.chosen.choose(provider, model)
        self._show_model()
        if self.conversation_id is not None:
            try:
                self.store.update_conversation(
                    self.conversation_id, provider=provider.instance_name, model=model
                )
            except TuichatError as exc:
                self._report(exc)
        if not quiet:
            self.tell(f"Now chatting with {provider.instance_name} · {model}.")
        self.refresh_bindings()
        return True

    def _adopt_model(self, provider_name: str, model: str | None) -> None:
        """Opening a conversation: chat with its provider and model again, if they exist."""
        if provider_name not in self.runtime.instance_names():
            return
        try:
            provider = self.runtime.provider(provider_name)
        except TuichatError:
            return
        self.chosen.choose(provider, model or provider.default_model)
        self._show_model()

    # -- options and presets -------------------------------------------------------------------

    def action_conversation_options(self) -> None:
        """Edit the system prompt, temperature and max tokens, or choose a preset."""
        settings = self.runtime.settings
        conversation = None
        if self.conversation_id is not None:
            try:
                conversation = self.store.get_conversation(self.conversation_id)
            except TuichatError as exc:
                self._report(exc)
                return
        if conversation is not None:
            params = conversation.params
            current = ConversationOptions(
                system_prompt=conversation.system_prompt,
                temperature=params.get("temperature"),
                max_tokens=params.get("max_tokens"),
                preset=params.get("preset"),
            )
        else:
            current = self._pending or ConversationOptions(
                system_prompt=settings.system_prompt,
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
            )
        screen = OptionsScreen(
            current,
            self.prompt_library.presets(),  # issue 17: the library's, presets included
            model_label=f"{self.provider.instance_name} · {self.model}",
            conversation_id=self.conversation_id,
        )
        self.app.push_screen(screen, self._apply_options)

    def _apply_options(self, options: ConversationOptions | None) -> None:
        if options is None:
            return
        if options.model:
            try:
                provider, model = self.runtime.resolve(None, options.model)
            except TuichatError as exc:
                self._report(exc)
            else:
                self._switch_model(provider.instance_name, model, quiet=True)
        if self.conversation_id is None:
            self._pending = options
        else:
            try:
                conversation = self.store.get_conversation(self.conversation_id)
                # The dialog owns these three; the rest (the tools offered) stays.
                kept = {
                    key: value
                    for key, value in (conversation.params if conversation else {}).items()
                    if key not in _OPTION_PARAMS
                }
                self.store.update_conversation(
                    self.conversation_id,
                    system_prompt=options.system_prompt,
                    params={**kept, **_params(options)},
                )
            except TuichatError as exc:
                self._report(exc)
                return
        preset = f" (preset {options.preset})" if options.preset else ""
        self.tell(f"Conversation options saved{preset}.")

    def _pending_params(self) -> dict[str, Any]:
        return _params(self._pending) if self._pending is not None else {}

    def _pending_system_override(self) -> str | None:
        """The system prompt chosen for a conversation not saved yet ("": none chosen
        away from the config's; None: nothing chosen, the config's applies)."""
        if self._pending is not None:
            return self._pending.system_prompt or ""
        return None

    def _clear_pending_options(self) -> None:
        self._pending = None

    # -- titles --------------------------------------------------------------------------------

    @work(group="title", exit_on_error=False)
    async def generate_title(
        self,
        conversation_id: int,
        provider: Provider,
        model: str,
        prompt: str,
        reply: str,
        expected: str,
    ) -> None:
        """Ask the model for a title; rename only if the title is still the automatic one.

        Never raises: a failed or slow title leaves the first-prompt title in place.
        """
        title = await titles.generate_title(provider, model, prompt, reply)
        if not title:
            return
        try:
            conversation = self.store.get_conversation(conversation_id)
            # Renamed by the person (or another window) meanwhile: theirs wins.
            if conversation is None or conversation.title != expected:
                return
            self.store.rename_conversation(conversation_id, title)
        except TuichatError:
            return
        await self._reload_sidebar()

    # -- long conversations --------------------------------------------------------------------

    def action_summarise_conversation(self) -> None:
        """Have the older turns summarised now; the summary is sent in their place."""
        if self.responding:
            self.tell("A reply is streaming: summarise once it ends.")
            return
        if self.conversation_id is None:
            self.tell("Nothing to summarise yet: this conversation has no turns.")
            return
        self.summarise_older(send_after=False)

    @work(group="summary", exclusive=True, exit_on_error=False)
    async def summarise_older(self, *, send_after: bool) -> None:
        """Summarise the older turns (by ``[context] summary_model``, else this model),
        draw the conversation again, and send the prompt waiting in the box if asked."""
        if self.conversation_id is None:
            return
        self.tell("Summarising the older turns…", title="Context")
        try:
            conversation = self.session.conversation(self.conversation_id)
            summary = await self.session.summarise(conversation, self.provider, self.model)
        except TuichatError as exc:
            self._report(exc)
            return
        if summary is None:
            self.tell("Nothing old enough to summarise: the last messages are kept as they are.")
        else:
            await self._render_log()
            self.tell(
                f"Summarised {summary.meta.get('covers')} earlier messages; the summary is "
                "sent in their place.",
                title="Context",
            )
        if send_after:
            # Decided: sent now, even if the kept turns alone still pass the share.
            self.send_as_it_is()

    # -- theme and help ------------------------------------------------------------------------

    def action_pick_theme(self) -> None:
        """Choose the colour theme (the app remembers it)."""
        self.app.action_change_theme()

    def action_help(self) -> None:
        """Show every key."""
        self.app.push_screen(HelpScreen(self.runtime.keymap))


#: The conversation params the options dialog sets.
_OPTION_PARAMS = frozenset({"temperature", "max_tokens", "preset"})


def _params(options: ConversationOptions) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if options.temperature is not None:
        params["temperature"] = options.temperature
    if options.max_tokens is not None:
        params["max_tokens"] = options.max_tokens
    if options.preset:
        params["preset"] = options.preset
    return params
