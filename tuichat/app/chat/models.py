"""The chat screen's models: the model catalog and picker, switching model, per-conversation
options and presets, and background titles.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.worker import Worker

from tuichat import catalog
from tuichat.catalog import ProviderModels
from tuichat.errors import TuichatError
from tuichat.sanitize import one_line

from ..screens.models import Choice, ModelPickerScreen
from ..screens.options import ConversationOptions, OptionsScreen

if TYPE_CHECKING:
    from tuichat.provider import Provider

    from ..screens.chat import ChatScreen


class Models:
    """Who the chat is with, the models on offer, and a conversation's options."""

    def __init__(self, screen: ChatScreen) -> None:
        self.screen = screen
        self._loading_models: set[str] = set()
        self._discovering = False
        self._picker: ModelPickerScreen | None = None
        # Options chosen for a conversation not saved yet (applied at its first prompt).
        self._pending: ConversationOptions | None = None

    # -- the catalog ---------------------------------------------------------------------------

    def load_catalog(self) -> None:
        """Show the cached model lists; fetch, in the background, those never fetched."""
        try:
            self.screen.catalog = catalog.load_cache(self.screen.store)
        except TuichatError:
            self.screen.catalog = {}
        missing = [
            name
            for name in catalog.usable_instances(self.screen.runtime)
            if name not in self.screen.catalog
        ]
        self._fetch_models(missing)
        self.discover()

    def discover(self) -> None:
        """Look for local model servers in the background (never before the settings are
        in, so never before the first frame); those found join the picker."""
        if self._discovering or not self.screen.runtime.loaded:
            return
        if not self.screen.runtime.settings.discovery.enabled:
            return
        self._discovering = True
        self.screen.run_worker(
            self._discover_now(), group="discovery", exit_on_error=False, name="discovery"
        )

    async def _discover_now(self) -> None:
        try:
            # The client's pool and TLS context are made in a thread, not on the loop
            # (a start whose config changed gets here before its first frame).
            await asyncio.to_thread(self.screen.runtime.warm_up)
            found = await self.screen.runtime.discover()
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
            self.screen.run_worker(
                self._fetch_one(name), group="models", exit_on_error=False, name=f"models-{name}"
            )
        self._update_picker()

    async def _fetch_one(self, name: str) -> None:
        try:
            provider = self.screen.runtime.provider(name)
        except TuichatError as exc:
            entry = ProviderModels(name, error=one_line(str(exc), 300))
        else:
            entry = await catalog.fetch(provider)
        self.screen.catalog[name] = catalog.merge(self.screen.catalog.get(name), entry)
        self._loading_models.discard(name)
        try:
            catalog.save_cache(self.screen.store, self.screen.catalog.values())
        except TuichatError:
            pass  # the lists stay in memory; the next start fetches them again
        self._update_picker()

    def _refresh_models(self) -> None:
        """Fetch every usable provider's list again (F5 in the picker)."""
        self._fetch_models(catalog.usable_instances(self.screen.runtime))

    def _ordered_catalog(self) -> list[ProviderModels]:
        order = self.screen.runtime.instance_names()
        return sorted(
            self.screen.catalog.values(),
            key=lambda e: order.index(e.provider) if e.provider in order else len(order),
        )

    def _update_picker(self) -> None:
        picker = self._picker
        if picker is not None and picker.is_attached:
            picker.show_entries(self._ordered_catalog(), sorted(self._loading_models))

    # -- switching model -----------------------------------------------------------------------

    def pick_model(self) -> None:
        """Choose the model of this conversation among every usable provider's models."""

        def chosen(choice: Choice | None) -> None:
            if choice is not None and self.switch(*choice) and not self._listed(*choice):
                self.screen.tell(
                    f"{choice[0]} does not list {one_line(choice[1], 60)!r}: it is used as "
                    "typed, and the provider will say if it does not exist.",
                    severity="warning",
                )

        self.open_picker((self.screen.provider.instance_name, self.screen.model), chosen)

    def _listed(self, provider_name: str, model: str) -> bool:
        entry = self.screen.catalog.get(provider_name)
        return entry is not None and any(info.id == model for info in entry.models)

    def open_picker(self, current: Choice, chosen: Callable[[Choice | None], None]) -> None:
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
        self.screen.app.push_screen(self._picker, closed)
        self.discover()  # a server started since: its models appear while the picker is open

    def switch(self, provider_name: str, model: str, *, quiet: bool = False) -> bool:
        """Chat with ``provider_name``'s ``model`` from now on, in this conversation."""
        try:
            provider: Provider = self.screen.runtime.provider(provider_name)
        except TuichatError as exc:
            self.screen.report(exc)
            return False
        self.screen.chosen.choose(provider, model)
        self.screen.status.show_model()
        if self.screen.conversation_id is not None:
            try:
                self.screen.store.update_conversation(
                    self.screen.conversation_id, provider=provider.instance_name, model=model
                )
            except TuichatError as exc:
                self.screen.report(exc)
        if not quiet:
            self.screen.tell(f"Now chatting with {provider.instance_name} · {model}.")
        self.screen.refresh_bindings()
        return True

    def adopt(self, provider_name: str, model: str | None) -> None:
        """Opening a conversation: chat with its provider and model again, if they exist."""
        if provider_name not in self.screen.runtime.instance_names():
            return
        try:
            provider = self.screen.runtime.provider(provider_name)
        except TuichatError:
            return
        self.screen.chosen.choose(provider, model or provider.default_model)
        self.screen.status.show_model()

    # -- options and presets -------------------------------------------------------------------

    def conversation_options(self) -> None:
        """Edit the system prompt, temperature and max tokens, or choose a preset."""
        settings = self.screen.runtime.settings
        conversation = None
        if self.screen.conversation_id is not None:
            try:
                conversation = self.screen.store.get_conversation(self.screen.conversation_id)
            except TuichatError as exc:
                self.screen.report(exc)
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
            self.screen.prompt_library.presets(),  # the library's, presets included
            model_label=f"{self.screen.provider.instance_name} · {self.screen.model}",
            conversation_id=self.screen.conversation_id,
        )
        self.screen.app.push_screen(screen, self.apply_options)

    def apply_options(self, options: ConversationOptions | None) -> None:
        """Apply the options chosen (a model, a system prompt, parameters, a preset) to
        the open conversation, or keep them for one not saved yet."""
        if options is None:
            return
        if options.model:
            try:
                provider, model = self.screen.runtime.resolve(None, options.model)
            except TuichatError as exc:
                self.screen.report(exc)
            else:
                self.switch(provider.instance_name, model, quiet=True)
        if self.screen.conversation_id is None:
            self._pending = options
        else:
            try:
                conversation = self.screen.store.get_conversation(self.screen.conversation_id)
                # The dialog owns these three; the rest (the tools offered) stays.
                kept = {
                    key: value
                    for key, value in (conversation.params if conversation else {}).items()
                    if key not in _OPTION_PARAMS
                }
                self.screen.store.update_conversation(
                    self.screen.conversation_id,
                    system_prompt=options.system_prompt,
                    params={**kept, **_params(options)},
                )
            except TuichatError as exc:
                self.screen.report(exc)
                return
        preset = f" (preset {options.preset})" if options.preset else ""
        self.screen.tell(f"Conversation options saved{preset}.")

    @property
    def pending_options(self) -> ConversationOptions | None:
        """The options chosen for a conversation not saved yet."""
        return self._pending

    def pending_params(self) -> dict[str, Any]:
        return _params(self._pending) if self._pending is not None else {}

    def pending_system_override(self) -> str | None:
        """The system prompt chosen for a conversation not saved yet ("": none chosen
        away from the config's; None: nothing chosen, the config's applies)."""
        if self._pending is not None:
            return self._pending.system_prompt or ""
        return None

    def clear_pending(self) -> None:
        self._pending = None

    # -- titles --------------------------------------------------------------------------------

    def generate_title(
        self,
        conversation_id: int,
        provider: Provider,
        model: str,
        prompt: str,
        reply: str,
        expected: str,
    ) -> Worker[None]:
        """Ask the model for a title in a worker; rename only if the title is still the
        automatic one (``expected``).

        Never raises: a failed or slow title leaves the first-prompt title in place.
        """
        return self.screen.run_worker(
            partial(
                self._generate_title, conversation_id, provider, model, prompt, reply, expected
            ),
            group="title",
            exit_on_error=False,
        )

    async def _generate_title(
        self,
        conversation_id: int,
        provider: Provider,
        model: str,
        prompt: str,
        reply: str,
        expected: str,
    ) -> None:
        # (Through the engine: what the title request cost joins the totals.)
        title = await self.screen.session.write_title(
            conversation_id, provider, model, prompt, reply
        )
        if conversation_id == self.screen.conversation_id:
            self.screen.fit.show_conversation_cost()
        if not title:
            return
        try:
            conversation = self.screen.store.get_conversation(conversation_id)
            # Renamed by the person (or another window) meanwhile: theirs wins.
            if conversation is None or conversation.title != expected:
                return
            self.screen.store.rename_conversation(conversation_id, title)
        except TuichatError:
            return
        await self.screen.conversations.reload()


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
