"""``tuichat ask``: one turn, the reply streamed to stdout as it arrives.

stdout gets exactly the reply text (control characters neutralised unless
``--raw``); everything else (retries, warnings, errors) goes to stderr as one
plain line each. Must never import Textual.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import select
import sys
from collections.abc import Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, BinaryIO, TextIO, cast

from tuichat.attachment_reader import read_attachments
from tuichat.attachments import Attachment, fenced
from tuichat.console import EXIT_INTERRUPTED, EXIT_OK, fail, open_store, warn
from tuichat.errors import ProviderError, TuichatError, UsageError
from tuichat.provider import Finish, Retrying, TextDelta
from tuichat.report import turn_report
from tuichat.runtime import Runtime
from tuichat.sanitize import decoded, neutralize, strip_controls
from tuichat.session import Overrides, Session
from tuichat.signals import SignalCatcher, cause, exit_code
from tuichat.store import Store
from tuichat.tool_loop import ToolFinished, ToolLimit, ToolUse

if TYPE_CHECKING:
    from tuichat.catalog import ProviderModels
    from tuichat.provider import Provider
    from tuichat.store import Conversation
    from tuichat.tools import ToolHost
    from tuichat.tty_approval import TerminalApprover


def read_files(
    paths: Sequence[str], prompt: str | None, stdin: TextIO | None, stderr: TextIO
) -> list[Attachment]:
    """The files of ``-a``, in order; folder notes go to ``stderr``.

    ``-a -`` takes stdin for the attachment, so the prompt must then be an argument.

    Raises:
        UsageError: A file cannot be attached, or ``-a -`` without a prompt argument.
    """
    if not paths:
        return []
    binary = None
    if "-" in paths:
        if prompt is None or prompt == "-":
            raise UsageError(
                "With '-a -' stdin holds the attachment; give the prompt as an argument."
            )
        binary = _binary(stdin) if stdin is not None else None
    attached = read_attachments(paths, binary)
    for note in attached.notes:
        stderr.write(f"tuichat: note: {neutralize(note)}\n")
    return attached.attachments


def _binary(stdin: TextIO) -> BinaryIO:
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None:
        return cast(BinaryIO, buffer)
    return io.BytesIO(stdin.read().encode("utf-8", "surrogateescape"))


def read_prompt(prompt: str | None, stdin: TextIO | None, stderr: TextIO | None = None) -> str:
    """The prompt from the argument, from stdin, or both.

    With no argument (or ``-``) stdin is the prompt. With an argument and text piped on
    stdin (``cat log | tuichat ask "why does this fail"``), both are sent: the argument,
    then the piped text in a fence, as llm and aichat do. Bytes that are not UTF-8 (a
    binary file piped in) become U+FFFD, with a warning on ``stderr``: the rest of the
    text is kept.

    Raises:
        UsageError: No prompt at all.
    """
    piped = stdin is not None and not _is_terminal(stdin)
    if prompt is None or prompt == "-":
        if stdin is None or (prompt is None and not piped):
            raise UsageError("No prompt given; pass one as an argument or pipe it on stdin.")
        try:
            prompt = _read_all(stdin)
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"Cannot read the prompt from stdin ({exc}); pass it as an argument."
            ) from None
    elif piped:
        assert stdin is not None
        _hint_if_stdin_waits(stdin, stderr)
        try:
            text = _read_all(stdin)
        except (OSError, ValueError):
            text = ""  # a stdin that cannot be read holds no piped text
        if text.strip():
            prompt = f"{prompt}\n\n{fenced(text)}"
    prompt, replaced = decoded(prompt)
    if replaced and stderr is not None:
        stderr.write(
            f"tuichat: warning: the prompt is not all UTF-8 text; {replaced} byte(s) that "
            "were not are sent as \ufffd.\n"
        )
    if not prompt.strip():
        raise UsageError("The prompt is empty; type something to ask.")
    return prompt


def template_input(prompt: str | None, stdin: TextIO | None, stderr: TextIO) -> str | None:
    """``ask -t``'s input (PROMPT, stdin or both, as :func:`read_prompt` reads them), or
    None when there is none: a saved prompt may need no input."""
    piped = stdin is not None and not _is_terminal(stdin)
    if prompt is None and not piped:
        return None
    try:
        return read_prompt(prompt, stdin, stderr)
    except UsageError:
        if prompt is not None and prompt != "-":
            raise
        return None  # an empty pipe (</dev/null in a script) is no input


def apply_template(runtime: Runtime, args: argparse.Namespace, input_text: str | None) -> str:
    """Fill ``ask -t``'s saved prompt; its system prompt, model and parameters apply
    where the command line sets none. Returns the text to send."""
    from tuichat.prompts.command import fill_for_ask, library_for

    library, _ = library_for(runtime.settings.presets)
    rendered = fill_for_ask(library, args.template, args.variables, input_text)
    if args.system is None and rendered.system is not None:
        args.system = rendered.system
    if args.model is None and args.provider is None and rendered.model:
        args.model = rendered.model
    if args.temperature is None:
        args.temperature = rendered.params.get("temperature")
    if args.max_tokens is None:
        args.max_tokens = rendered.params.get("max_tokens")
    return rendered.text


#: Seconds a PROMPT waits on a silent stdin pipe before saying what it waits for.
STDIN_HINT_AFTER = 1.0


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False  # closed: no terminal, and nothing to read either


def _hint_if_stdin_waits(stdin: TextIO, stderr: TextIO | None) -> None:
    """Say so when stdin is a pipe that stays silent (``ssh host tuichat ask ...``
    forwards a terminal that never ends): the piped text is read whole, so the
    person must know to end it (Ctrl+D) or give no stdin (``</dev/null``, ``ssh -n``).
    Nothing is skipped: a slow producer's text still arrives and is sent."""
    if stderr is None:
        return
    try:
        fileno = stdin.fileno()
        ready, _, _ = select.select([fileno], [], [], STDIN_HINT_AFTER)
    except (OSError, ValueError, io.UnsupportedOperation):
        return  # not a real descriptor (a test's StringIO): nothing can block
    if not ready:
        stderr.write(
            "tuichat: reading the text piped on stdin, to send after the prompt; end it "
            "with Ctrl+D, or give no stdin (</dev/null, ssh -n).\n"
        )
        stderr.flush()


def _read_all(stdin: TextIO) -> str:
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None:
        return str(buffer.read().decode("utf-8", "surrogateescape")).rstrip("\n")
    return stdin.read().rstrip("\n")


def run_ask(
    args: argparse.Namespace,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    runtime: Runtime | None = None,
) -> int:
    """Run ``tuichat ask``; returns the exit code."""
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    # SIGHUP / SIGTERM cancel the turn, which saves the reply as interrupted.
    signals = SignalCatcher()
    try:
        paths = getattr(args, "attachments", None) or []
        files = read_files(paths, args.prompt, stdin, stderr)
        # stdin went to the attachment: the prompt is the argument alone.
        text_in = None if "-" in paths else stdin
        template = getattr(args, "template", None)
        prompt = template_input(args.prompt, text_in, stderr) if template else None
        if not template:
            prompt = read_prompt(args.prompt, text_in, stderr)
        runtime = runtime or Runtime.load()
        warn(runtime, stderr)
        if template:
            prompt = apply_template(runtime, args, prompt)
        assert prompt is not None
        if not args.no_save:
            open_store(runtime)
        return asyncio.run(_ask(runtime, args, prompt, stdout, stderr, signals, files))
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
    files: Sequence[Attachment] = (),
) -> int:
    task = asyncio.current_task()
    if signals is not None and task is not None:

        def stop(signum: int) -> None:
            task.cancel()

        signals.install(stop)
    host: ToolHost | None = None
    approver: TerminalApprover | None = None
    try:
        store = Store(":memory:") if args.no_save else runtime.store
        session = Session(runtime, store, models=None if not args.no_save else _no_lists)
        conversation = None
        if args.conversation is not None:
            conversation = session.conversation(args.conversation)
        elif args.continue_latest:
            latest = store.latest_conversation_id()
            conversation = session.conversation(latest) if latest is not None else None
        await runtime.discover_named(
            args.provider, args.model, conversation.provider if conversation else None
        )
        provider, model = session.resolve(args.provider, args.model, conversation=conversation)
        session.require_key(provider)
        overrides = Overrides(
            system=args.system, temperature=args.temperature, max_tokens=args.max_tokens
        )
        tools = None
        if getattr(args, "tools", None):
            # Before the conversation is made: an unknown server leaves nothing behind.
            host, approver, tools = await _tool_use(runtime, args, stderr)
        started = conversation is None
        if conversation is None:
            conversation = session.start_conversation(provider, model, overrides)
        else:
            await _make_room(session, conversation, provider, model, prompt, overrides, stderr)
        try:
            turn = session.send(
                conversation, prompt, provider, model, overrides, attachments=files, tools=tools
            )
        except TuichatError:
            if started:  # refused before anything was sent: leave no empty conversation
                store.delete_conversation(conversation.id)
            raise
        for item in turn.left_out:
            stderr.write(f"tuichat: note: {neutralize(item.sentence)}\n")
            stderr.flush()
        if turn.omitted:
            stderr.write(
                f"tuichat: note: {turn.omitted} earlier message(s) were left out to fit the "
                f'context window of {model} (set when_full = "summarise" in [context] to '
                "have them summarised instead).\n"
            )
        wrote_newline = True
        finish: Finish | None = None
        failure: ProviderError | None = None
        try:
            async with aclosing(turn.stream()) as events:
                async for event in events:
                    if isinstance(event, TextDelta) and not args.json:
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
                    elif isinstance(event, ToolFinished):
                        _say(stderr, _tool_line(event))
                    elif isinstance(event, ToolLimit):
                        _say(
                            stderr,
                            f"tuichat: note: the limit of {event.steps} tool step(s) was "
                            "reached; the model was asked to answer without tools (raise "
                            "--max-tool-steps to allow more).\n",
                        )
        except ProviderError as exc:
            if not args.json:
                raise
            failure = exc
        finally:
            if not wrote_newline and stdout.isatty():
                stdout.write("\n")
                stdout.flush()
        if turn.state.status == "interrupted" and isinstance(turn.state.error, ProviderError):
            if not args.json:
                raise turn.state.error
            failure = turn.state.error
        if args.json:
            sentence = None if failure is None else strip_controls(str(failure))
            report = turn_report(
                turn, error=sentence, saved=not args.no_save, other=session.side_spent
            )
            stdout.write(json.dumps(report, ensure_ascii=True) + "\n")
            stdout.flush()
            if failure is not None:
                return fail(failure, stream=stderr)
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
        if approver is not None:
            approver.close()
        if host is not None:
            await host.aclose()
        await runtime.aclose()


async def _tool_use(
    runtime: Runtime, args: argparse.Namespace, stderr: TextIO
) -> tuple[ToolHost, TerminalApprover | None, ToolUse]:
    """The tools of ``--tools``, started, and who approves their calls: nobody with
    ``--yes``, else the terminal (``/dev/tty``), else no one (calls are declined)."""
    from tuichat.tools import ToolHost
    from tuichat.tty_approval import TerminalApprover

    chosen = str(args.tools).strip()
    names = "all" if chosen == "all" else [n.strip() for n in chosen.split(",") if n.strip()]
    host = ToolHost(runtime.settings, runtime.plugin_manager)
    box = await host.toolbox(names)
    for note in box.notes:
        _say(stderr, f"tuichat: note: {neutralize(note)}\n")
    approver = None if args.yes else TerminalApprover.open()
    settings = runtime.settings.tools
    use = ToolUse(
        box,
        approve=approver,
        yes=bool(args.yes),
        max_steps=args.max_tool_steps or settings.max_steps,
        timeout=settings.timeout,
    )
    return host, approver, use


def _tool_line(event: ToolFinished) -> str:
    """``tool NAME: ok``, ``tool NAME: error: ...`` or ``tool NAME: declined``
    (DESIGN.md 5a), NAME as the tool's server lists it."""
    name = neutralize(event.tool)
    if event.status == "error":
        lines = [line for line in event.content.splitlines() if line.strip()]
        reason = strip_controls(lines[0]) if lines else "failed"
        return f"tool {name}: error: {reason}\n"
    return f"tool {name}: {event.status}\n"


async def _make_room(
    session: Session,
    conversation: Conversation,
    provider: Provider,
    model: str,
    prompt: str,
    overrides: Overrides,
    stderr: TextIO,
) -> None:
    """Summarise the older turns first when the conversation is full and the config says
    so (``[context] when_full = "summarise"``); otherwise the request is trimmed."""
    context = session.runtime.settings.context
    fit = session.fit(conversation, provider, model, prompt, overrides)
    if not fit.full or context.when_full != "summarise":
        return
    summary = await session.summarise(conversation, provider, model)
    if summary is None:
        return
    stderr.write(
        f"tuichat: note: the conversation passed {context.share:.0%} of the context window "
        f"of {model} ({fit.window} tokens); {summary.meta.get('covers')} earlier message(s) "
        f"were summarised by {summary.meta.get('by')} and the summary is sent in their "
        "place.\n"
    )
    stderr.flush()


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _no_lists() -> list[ProviderModels]:
    # --no-save reads no store at all, not even the model lists cached in it.
    return []
