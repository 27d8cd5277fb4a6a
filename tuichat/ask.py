"""``tuichat ask``: one turn, the reply streamed to stdout as it arrives.

stdout gets exactly the reply text (control characters neutralised unless
``--raw``); everything else (retries, warnings, errors) goes to stderr as one
plain line each. Must never import Textual.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from contextlib import aclosing
from typing import TextIO

from tuichat.chat import Turn
from tuichat.console import EXIT_INTERRUPTED, EXIT_OK, fail, open_store, warn
from tuichat.errors import ConfigError, ProviderError, TuichatError, UsageError
from tuichat.http import RetryPolicy
from tuichat.provider import Finish, Retrying, TextDelta
from tuichat.runtime import Runtime
from tuichat.sanitize import decoded, neutralize
from tuichat.signals import SignalCatcher, cause, exit_code
from tuichat.store import Store


def read_prompt(prompt: str | None, stdin: TextIO, stderr: TextIO | None = None) -> str:
    """The prompt from the argument, or from stdin when absent or ``-``.

    Bytes that are not UTF-8 (a binary file piped in) become U+FFFD, with a warning on
    ``stderr``: the rest of the text is kept.

    Raises:
        UsageError: No prompt at all.
    """
    if prompt is None or prompt == "-":
        if prompt is None and stdin.isatty():
            raise UsageError("No prompt given; pass one as an argument or pipe it on stdin.")
        buffer = getattr(stdin, "buffer", None)
        if buffer is not None:
            prompt = buffer.read().decode("utf-8", "surrogateescape").rstrip("\n")
        else:
            prompt = stdin.read().rstrip("\n")
    prompt, replaced = decoded(prompt)
    if replaced and stderr is not None:
        stderr.write(
            f"tuichat: warning: the prompt is not all UTF-8 text; {replaced} byte(s) that "
            "were not are sent as \ufffd.\n"
        )
    if not prompt.strip():
        raise UsageError("The prompt is empty; type something to ask.")
    return prompt


def run_ask(
    args: argparse.Namespace,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    runtime: Runtime | None = None,
) -> int:
    """Run ``tuichat ask``; returns the exit code."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    # SIGHUP / SIGTERM cancel the turn, which saves the reply as interrupted.
    signals = SignalCatcher()
    try:
        prompt = read_prompt(args.prompt, stdin, stderr)
        runtime = runtime or Runtime.load()
        warn(runtime, stderr)
        if not args.no_save:
            open_store(runtime)
        return asyncio.run(_ask(runtime, args, prompt, stdout, stderr, signals))
    except asyncio.CancelledError:
        if signals.received is None:
            raise
        _say(
            stderr,
            f"tuichat: stopped because {cause(signals.received)}; "
            "the partial reply is saved, marked interrupted.\n",
        )
        return exit_code(signals.received)
    except KeyboardInterrupt:
        stderr.write("tuichat: interrupted; the partial reply is saved.\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do.
        _silence_stdout()
        return EXIT_OK
    except TuichatError as exc:
        return fail(exc, stream=stderr)


def _say(stream: TextIO, text: str) -> None:
    """Write a line to ``stream``, which may be a terminal that hung up."""
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        pass


async def _ask(
    runtime: Runtime,
    args: argparse.Namespace,
    prompt: str,
    stdout: TextIO,
    stderr: TextIO,
    signals: SignalCatcher | None = None,
) -> int:
    task = asyncio.current_task()
    if signals is not None and task is not None:

        def stop(signum: int) -> None:
            task.cancel()

        signals.install(stop)
    try:
        provider, model = runtime.resolve(args.provider, args.model)
        if provider.needs_key() and not provider.has_key():
            names = " or ".join(provider.key_env_names()) or (
                f"api_key in [providers.{provider.instance_name}]"
            )
            raise ConfigError(
                f"{provider.label} needs an API key and none is set; set {names} "
                "(see 'tuichat providers')."
            )
        store = runtime.store
        if args.no_save:
            store = Store(":memory:")
        conversation_id = _conversation(store, args, provider.instance_name, model)
        conversation = store.get_conversation(conversation_id)
        system = args.system if args.system is not None else None
        if system is None and conversation is not None:
            system = conversation.system_prompt
        settings = runtime.settings
        turn = Turn.begin(
            store,
            provider,
            conversation_id,
            prompt,
            model=model,
            system=system if system is not None else settings.system_prompt,
            temperature=args.temperature if args.temperature is not None else settings.temperature,
            max_tokens=args.max_tokens or settings.max_tokens,
            policy=RetryPolicy(settings.retry.base_delay, settings.retry.max_delay),
        )
        wrote_newline = True
        finish: Finish | None = None
        try:
            async with aclosing(turn.stream()) as events:
                async for event in events:
                    if isinstance(event, TextDelta):
                        text = event.text if args.raw else neutralize(event.text)
                        if text:
                            stdout.write(text)
                            stdout.flush()
                            wrote_newline = text.endswith("\n")
                    elif isinstance(event, Retrying):
                        stderr.write(
                            f"tuichat: {neutralize(event.error)} Retrying in {event.delay:.0f} s "
                            f"(attempt {event.attempt} of {event.attempts}).\n"
                        )
                        stderr.flush()
                    elif isinstance(event, Finish):
                        finish = event
        finally:
            if not wrote_newline and stdout.isatty():
                stdout.write("\n")
                stdout.flush()
        if turn.state.status == "interrupted" and turn.state.error is not None:
            raise turn.state.error
        if finish is not None and finish.reason == "length":
            stderr.write(
                "tuichat: warning: the reply was cut short by the max tokens limit "
                "(raise --max-tokens to get more).\n"
            )
        elif finish is not None and finish.reason == "content_filter":
            stderr.write("tuichat: warning: the provider's content filter stopped the reply.\n")
        return EXIT_OK
    except ProviderError as exc:
        return fail(exc, stream=stderr)
    finally:
        if signals is not None:
            signals.remove()
        await runtime.aclose()


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _conversation(store: Store, args: argparse.Namespace, provider: str, model: str) -> int:
    if args.conversation is not None:
        if store.get_conversation(args.conversation) is None:
            raise UsageError(
                f"There is no conversation {args.conversation}; 'tuichat export --all' lists them."
            )
        return int(args.conversation)
    if args.continue_latest:
        latest = store.latest_conversation_id()
        if latest is not None:
            return latest
    return store.create_conversation(provider=provider, model=model, system_prompt=args.system).id
