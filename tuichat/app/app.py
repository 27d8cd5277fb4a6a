"""The Textual application: thin. It applies the theme and shows the chat screen."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App
from textual.driver import Driver
from textual.screen import Screen
from textual.theme import Theme

from tuichat import boot, clipboard, locations
from tuichat.chat import live_turns
from tuichat.errors import TuichatError
from tuichat.keymap import BY_ID, effective_keys
from tuichat.runtime import Runtime
from tuichat.sanitize import one_line
from tuichat.signals import SignalCatcher, exit_code
from tuichat.watchdog import Watchdog

from . import heap
from .bindings import keys_label
from .commands import ActionCommands
from .input_first import InputFirst
from .lifecycle import hangup_safe
from .multiplexer import keymap_for_terminal
from .patches import render_crop
from .patches.thin_output import ThinOutput
from .screens.chat import ChatScreen
from .screens.help import HelpScreen
from .workers import settle

if TYPE_CHECKING:
    from tuichat.tools import ToolHost

#: Input that a streaming reply lets through first (not mouse moves: they come in floods).
_FIRST = (events.Key, events.Paste, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)

#: Seconds after the first frame before the watchdog starts (see _start_watchdog).
WATCHDOG_DELAY = 1.0

#: Seconds within which a second Ctrl+Q quits while a reply streams.
QUIT_AGAIN = 5.0

#: The store setting remembering the theme picked in the app.
THEME_KEY = "theme"


class TuichatApp(ThinOutput, App[None]):
    """tuichat's full-screen app over a :class:`~tuichat.runtime.Runtime`.

    The runtime (settings, providers, store) is created by the caller and closed by
    the app when it exits.
    """

    CSS_PATH = "tuichat.tcss"
    TITLE = "tuichat"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS: ClassVar = App.COMMANDS | {ActionCommands}

    def __init__(
        self,
        runtime: Runtime,
        *,
        provider: str | None = None,
        model: str | None = None,
        clock: Callable[[], float] | None = None,
        now: Callable[[], float] | None = None,
        remember: Path | None = None,
    ) -> None:
        """Create it.

        Args:
            runtime: Settings, providers and store; closed when the app exits. One
                still loading (:meth:`Runtime.later`) finishes right after the first
                frame.
            provider: Provider instance to chat with (default: from the settings).
            model: Model, or ``provider/model``.
            clock: Replaces the turns' monotonic clock (tests, for stable timings).
            now: Replaces the wall clock of the sidebar's date groups (tests).
            remember: Where to keep what the next start's first frame needs
                (:mod:`tuichat.boot`), once this start has loaded.
        """
        # Partial updates render only the widgets they touch (see the patch).
        render_crop.install()
        super().__init__()
        self.runtime = runtime
        self._remember = remember
        self.startup_error: TuichatError | None = None
        """Why the runtime failed to load after the first frame (the app then exits)."""
        self._provider = provider
        self._model = model
        self._clock = clock
        self._now = now
        self._bad_theme: str | None = None
        self._quit_asked: float | None = None
        self._signals = SignalCatcher(self._exit_for_signal)
        self.watchdog: Watchdog | None = None
        """Logs a busy loop, ends the app when a hang-up or the quit key goes unanswered."""
        self.quit_keys: frozenset[str] = frozenset()
        """The keys bound to quit, which the terminal's input thread tells the watchdog."""
        self.input_first = InputFirst()
        """Streams wait on it while a key press is not on screen yet."""
        self.collector = heap.IdleCollector(self.input_first.idle_for)
        """Full garbage collections, when the person is idle."""
        self._tool_host: ToolHost | None = None
        self._apply_theme()

    @property
    def tool_host(self) -> ToolHost:
        """The tool servers of this app: made at first use, their servers started when a
        conversation first offers them, stopped when the app exits."""
        if self._tool_host is None:
            from tuichat.tools import ToolHost

            self._tool_host = ToolHost(self.runtime.settings, self.runtime.plugin_manager)
        return self._tool_host

    def _apply_theme(self) -> None:
        """The theme picked in the app, else ``[ui] theme`` (an unknown one is told)."""
        theme = self._remembered_theme() or self.runtime.ui.theme
        if theme in self.available_themes:
            self.theme = theme
        else:
            self._bad_theme = theme

    def _remembered_theme(self) -> str | None:
        """The theme picked in the app, unless ``[ui] theme`` changed since it was picked.

        Picking a theme in the app wins over the config file; editing the file afterwards
        wins over the pick (the file's value at the time of the pick is kept to tell).
        """
        try:
            kept = self.runtime.store.get_setting(THEME_KEY)
        except TuichatError:
            return None
        if not isinstance(kept, dict) or kept.get("config") != self.runtime.ui.theme:
            return None
        name = kept.get("name")
        return name if isinstance(name, str) else None

    def _remember_theme(self, theme: Theme) -> None:
        try:
            self.runtime.store.set_setting(
                THEME_KEY, {"name": theme.name, "config": self.runtime.ui.theme}
            )
        except TuichatError:
            pass  # not remembered this time; the theme still applies now

    def get_default_screen(self) -> Screen[None]:
        """The chat screen is the base of the screen stack."""
        return ChatScreen(
            self.runtime,
            provider=self._provider,
            model=self._model,
            clock=self._clock,
            now=self._now,
        )

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, made safe against a terminal that hangs up (SSH drops)."""
        return hangup_safe(super().get_driver_class())

    def _exit_for_signal(self, signum: int) -> None:
        """SIGHUP or SIGTERM: leave; unmounting saves the reply as ``interrupted``."""
        self.exit(return_code=exit_code(signum))

    def on_mount(self) -> None:
        """Apply the ``[keymap]``, remember theme changes, tell about an unknown theme."""
        self._signals.install()
        self.collector.install()
        self.set_interval(heap.IDLE / 4, self.collector.tick, name="idle-collector")
        # After the first frame: the settings and plugins if they still load, then the
        # HTTP client (httpcore, the TLS context), in a thread, so that neither the
        # screen nor the first reply waits for them.
        self.call_after_refresh(self._finish_start)
        # A second later: its process starts (~40 ms of CPU) while nothing else does.
        self.set_timer(WATCHDOG_DELAY, self._start_watchdog, name="watchdog-start")
        self.set_keymap(keymap_for_terminal(self.runtime.keymap))
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        if self._bad_theme is not None:
            self.notify(
                f"Unknown theme {one_line(self._bad_theme, 60)!r} in [ui] theme; "
                f"using {self.theme}. Try: {', '.join(sorted(self.available_themes))}.",
                severity="warning",
                markup=False,
            )

    async def on_event(self, event: events.Event) -> None:
        """Input from the terminal comes first: note it, so a stream waits until it shows."""
        noted = isinstance(event, _FIRST) and not event.is_forwarded
        await super().on_event(event)
        if noted:
            # Queued behind the event itself on the widget it went to: runs once that
            # widget has handled it and the screen has painted the result.
            # (A mouse event goes to the widget under the pointer: the screen's queue.)
            mouse = isinstance(event, events.MouseEvent)
            target = self.screen if mouse else (self.focused or self.screen)
            shown = self.input_first.arrived()
            # Twice: the screen runs "after refresh" callbacks at its next idle moment
            # with nothing to paint, and the widget asks for its repaint only once its
            # own queue is empty, after the first callback reached the screen. Once,
            # the gate opened before the key's frame and the reply's work went first.
            target.call_after_refresh(target.call_after_refresh, shown)

    def _start_watchdog(self) -> None:
        """Log a busy main loop; end tuichat when a hang-up goes unanswered (a real terminal
        only: under Pilot the test is the one to answer)."""
        if self.is_headless:
            return
        try:
            database = self.runtime.store.path
        except TuichatError:
            database = None
        watchdog = Watchdog(
            locations.log_path(),
            database=database,
            streaming=lambda: [turn.message_id for turn in live_turns()],
        )
        if watchdog.start():
            watchdog.beat_on(asyncio.get_running_loop())
            self.quit_keys = frozenset(
                key.strip() for key in self.runtime.keymap.get("quit", "ctrl+q").split(",")
            )
            self.watchdog = watchdog

    def _finish_start(self) -> None:
        self.run_worker(self._load_runtime(), group="start", exit_on_error=False)

    async def _load_runtime(self) -> None:
        runtime = self.runtime
        if not runtime.loaded:
            try:
                await asyncio.to_thread(runtime.finish_loading)
            except TuichatError as exc:
                # The config changed in a way the remembered start could not see (a
                # ca_bundle deleted): stop with its sentence, as a start that checks first.
                self.startup_error = exc
                self.exit(return_code=exc.exit_code)
                return
            self._apply_loaded_settings()
            # (A runtime loaded before the app started was taken in by the screen's mount.)
            for screen in self.screen_stack:
                if isinstance(screen, ChatScreen):
                    await screen.runtime_loaded()
        for warning in runtime.config.warnings:
            self.notify(warning, severity="warning", timeout=15, markup=False)
        if self._remember is not None:
            await self._keep_boot(self._remember)
        await asyncio.to_thread(self._warm_up)

    def _handle_exception(self, error: Exception) -> None:
        # (Textual's hook for an exception no handler caught.) A remembered start whose
        # settings or plugins fail to load when a handler needed them first (Enter
        # pressed before the load finished) stops as the load's own worker would: with
        # the one sentence, not a traceback.
        if isinstance(error, TuichatError) and error is self.runtime.load_error:
            self.startup_error = error
            self.exit(return_code=error.exit_code)
            return
        super()._handle_exception(error)

    def _apply_loaded_settings(self) -> None:
        """Settings that differ from the remembered ones (a config edited meanwhile)."""
        remembered, runtime = self.runtime.boot, self.runtime
        if remembered is None:
            return
        if runtime.keymap != remembered.keymap:
            self.set_keymap(keymap_for_terminal(runtime.keymap))
        if runtime.ui.theme != remembered.ui.theme:
            self._apply_theme()
        for screen in self.screen_stack:
            if isinstance(screen, ChatScreen) and runtime.ui != remembered.ui:
                screen.apply_ui()

    def _warm_up(self) -> None:
        self.runtime.warm_up()

    async def _keep_boot(self, path: Path) -> None:
        """Remember this start's first-frame values for the next (see tuichat.boot)."""
        runtime = self.runtime
        try:
            provider, model = runtime.resolve(self._provider, self._model)
        except TuichatError:
            return  # the chat fell back to the demo: check again next time
        values = runtime.boot_values(provider, model)
        config, asked = runtime.config, (self._provider, self._model)

        def keep() -> None:
            # The config as it was loaded, not as the file may be by now.
            digest = boot.fingerprint(
                config.path,
                values.env_names,
                provider=asked[0],
                model=asked[1],
                config_text=config.text,
            )
            boot.write(path, values, digest)

        await asyncio.to_thread(keep)

    def copy_to_clipboard(self, text: str) -> None:
        """Copy ``text``: OSC 52 (wrapped for tmux or screen), and a native tool when local.

        Textual's own copy (the mouse selection, Ctrl+C) comes through here too.

        Args:
            text: What to copy.
        """
        self._clipboard = text
        env = os.environ
        route = clipboard.route(text, env)
        if self._driver is not None and route.osc52:
            for sequence in clipboard.osc52_sequences(text, env):
                self._driver.write(sequence)
        if route.native:
            # xclip and friends may take a moment: never in the event loop.
            threading.Thread(
                target=clipboard.run_native, args=(route.native, text), daemon=True
            ).start()

    def _refresh_notifications(self) -> None:
        # (Textual's hook that draws the toasts on the current screen.) The list of keys
        # is read whole: toasts raised while it is open show once it closes (the chat
        # screen draws them again as it resumes), not over it.
        if isinstance(self.screen, HelpScreen):
            return
        super()._refresh_notifications()

    def action_help_quit(self) -> None:
        """Ctrl+C (with no text selected to copy) stops what streams, as in any terminal
        program; with nothing streaming, Textual's hint that Ctrl+Q quits."""
        interrupt = getattr(self.screen, "interrupt", None)
        if callable(interrupt) and interrupt():
            return
        super().action_help_quit()

    async def action_quit(self) -> None:
        """Quit; while a reply streams, only at a second Ctrl+Q (the first says what the
        quit does to the reply), so a reply is never cut without a word."""
        streaming = any(
            getattr(screen, "responding", False) or getattr(screen, "phase", "") == "streaming"
            for screen in self.screen_stack
        )
        now, asked = time.monotonic(), self._quit_asked
        if streaming and (asked is None or now - asked > QUIT_AGAIN):
            self._quit_asked = now
            key = keys_label(effective_keys(BY_ID["quit"], self.runtime.keymap))
            self.notify(
                f"A reply is still streaming. Press {key} again to quit anyway (what arrived "
                "is kept, marked cancelled), or Esc to stop it and stay.",
                title="Quit?",
                severity="warning",
                timeout=QUIT_AGAIN,
                markup=False,
            )
            return
        self.exit()

    async def on_unmount(self) -> None:
        """Let cancelled replies save themselves, then close the runtime."""
        for worker in list(self.workers):
            worker.cancel()
            await settle(worker)
        if self.watchdog is not None:
            self.watchdog.stop()  # first: it hands the signals back to the catcher
        self._signals.remove()
        self.collector.uninstall()
        if self._tool_host is not None:
            await self._tool_host.aclose()  # the tool servers stop with the app
        await self.runtime.aclose()


def make_app(
    runtime: Runtime | None = None,
    *,
    provider: str | None = None,
    model: str | None = None,
) -> TuichatApp:
    """Build the app, loading the runtime from the config and plugins when not given."""
    return TuichatApp(runtime or Runtime.load(), provider=provider, model=model)
