"""The command line: argument parsing and the composition root.

Imports stay lazy so that ``tuichat ask`` and ``--help`` never load Textual; only
running the full-screen app imports :mod:`tuichat.app`.

Exit codes: 0 done, 1 provider or network error, 2 usage or configuration
error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from tuichat.console import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROVIDER,
    EXIT_USAGE,
    fail,
    open_store,
    warn,
)

if TYPE_CHECKING:
    from tuichat.runtime import Runtime


class _Parser(argparse.ArgumentParser):
    """argparse that exits with our usage code and one plain line."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"tuichat: {message}; see '{self.prog} --help'.\n")


def _version() -> str:
    from tuichat import __version__

    return f"tuichat {__version__}"


def build_parser() -> argparse.ArgumentParser:
    """The ``tuichat`` argument parser (DESIGN.md section 5)."""
    parser = _Parser(
        prog="tuichat",
        description="Chat with large language models in your terminal.",
        epilog="Run 'tuichat' alone to open the full-screen app.",
    )
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--provider", "-p", dest="provider", help="provider instance to use")
    parser.add_argument("--model", "-m", dest="model", help="model, or provider/model")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    ask = commands.add_parser(
        "ask",
        help="one turn: stream the reply to stdout",
        description="Send one prompt and stream the reply to stdout as it arrives.",
    )
    ask.add_argument("prompt", nargs="?", help="the prompt; read from stdin when absent or '-'")
    ask.add_argument("-p", "--provider", dest="provider", help="provider instance")
    ask.add_argument("-m", "--model", dest="model", help="model, or provider/model")
    ask.add_argument("-s", "--system", help="system prompt")
    ask.add_argument("--temperature", type=_temperature, help="sampling temperature, 0 to 2")
    ask.add_argument("--max-tokens", type=_positive_int, help="most tokens in the reply")
    where = ask.add_mutually_exclusive_group()
    where.add_argument(
        "-c",
        "--continue",
        dest="continue_latest",
        action="store_true",
        help="continue the most recent conversation",
    )
    where.add_argument(
        "--conversation", type=_positive_int, metavar="ID", help="continue conversation ID"
    )
    ask.add_argument(
        "-a",
        "--attach",
        dest="attachments",
        action="append",
        default=[],
        metavar="PATH",
        help="attach a file or a folder's text files (repeatable; '-' reads one from stdin)",
    )
    ask.add_argument(
        "-t",
        "--template",
        metavar="NAME",
        help="a saved prompt (tuichat prompts); PROMPT or stdin fills its {{input}}",
    )
    ask.add_argument(
        "-v",
        "--var",
        dest="variables",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a value for the saved prompt's {{NAME}} (repeatable)",
    )
    ask.add_argument("--no-save", action="store_true", help="do not save this turn")
    ask.add_argument(
        "--raw", action="store_true", help="do not neutralise control characters in the reply"
    )
    ask.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (content, usage, cost, timings...) instead of the text",
    )
    ask.add_argument(
        "--tools",
        metavar="NAME[,NAME]|all",
        help="offer the tools of these MCP servers ('all': every enabled one)",
    )
    ask.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="run the tools the model calls without asking",
    )
    ask.add_argument(
        "--max-tool-steps",
        type=_positive_int,
        metavar="N",
        help="most rounds of tool calls (default: max_steps in [tools], 10)",
    )

    from tuichat.serve.cli import DESCRIPTION as SERVE_DESCRIPTION
    from tuichat.serve.cli import add_serve_arguments

    serve = commands.add_parser(
        "serve",
        help="serve the providers over HTTP (needs tuichat[serve])",
        description=SERVE_DESCRIPTION,
    )
    add_serve_arguments(serve)

    providers = commands.add_parser(
        "providers",
        help="list provider instances, and local model servers found",
        description=(
            "List the provider instances: the plugins', the config's, and local model "
            "servers (Ollama, LM Studio, llama.cpp, vLLM) found on their usual ports."
        ),
    )
    providers.add_argument(
        "--save-found",
        action="store_true",
        help="append the local servers found to the config file as [providers.NAME] tables",
    )
    models = commands.add_parser("models", help="list the models of a provider")
    models.add_argument("-p", "--provider", dest="provider", help="provider instance")
    commands.add_parser("plugins", help="list installed plugins")
    commands.add_parser(
        "tools",
        help="list MCP servers, their state and their tools",
        description=(
            "List the tool servers: the config's [mcp.NAME] tables, the read_file folder "
            "([tools] read_folder) and plugins' Python tools. Each enabled one is started "
            "to list its tools, then stopped; one that cannot start says why."
        ),
    )
    doctor = commands.add_parser(
        "doctor",
        help="check config, keys, providers, terminal and clipboard",
        description="Check what tuichat needs, one line per check; exit 1 if any failed.",
    )
    doctor.add_argument(
        "--offline", action="store_true", help="do not contact the providers' servers"
    )
    listing = commands.add_parser("list", help="list conversations with their ids")
    listing.add_argument("--json", action="store_true", help="one JSON array instead")
    listing.add_argument("--archived", action="store_true", help="the archived ones instead")
    export = commands.add_parser("export", help="export conversations as Markdown or JSON")
    export.add_argument(
        "id", nargs="?", type=_positive_int, help="conversation ID (default: latest)"
    )
    export.add_argument("--all", action="store_true", help="export every conversation")
    export.add_argument(
        "--format",
        choices=("md", "json"),
        help="output format (default: json for an -o file ending in .json, else md)",
    )
    export.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="PATH",
        help=(
            "write to PATH instead of stdout, replacing it (as curl -o does); Markdown's "
            "images and PDFs go into PATH-files/ beside it, linked"
        ),
    )
    _add_import(commands)
    _add_install(commands)
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description=(
            'Print the completion script for a shell. bash: eval "$(tuichat completion '
            'bash)" in ~/.bashrc; zsh: eval "$(tuichat completion zsh)" in ~/.zshrc after '
            "compinit; fish: tuichat completion fish > ~/.config/fish/completions/tuichat.fish"
        ),
    )
    completion.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell")
    from tuichat.prompts.command import add_prompts

    add_prompts(commands)
    return parser


def _add_install(commands: argparse._SubParsersAction[_Parser]) -> None:
    install = commands.add_parser(
        "install",
        help="install plugins into tuichat's own environment (pip)",
        description=(
            "Install plugin packages with pip, into the environment tuichat runs in, "
            "where its plugins are looked for (as 'llm install' does)."
        ),
    )
    install.add_argument(
        "packages", nargs="+", metavar="NAME", help="package names, paths or URLs, as pip takes"
    )
    install.add_argument(
        "-e", "--editable", action="store_true", help="install these local paths editable"
    )
    install.add_argument("-U", "--upgrade", action="store_true", help="upgrade to the newest")
    install.add_argument("--force-reinstall", action="store_true", help="reinstall anyway")
    install.add_argument("--pre", action="store_true", help="allow pre-release versions")
    install.add_argument("--no-cache-dir", action="store_true", help="do not use pip's cache")
    install.add_argument(
        "--no-index", action="store_true", help="no package index: paths and --find-links only"
    )
    install.add_argument(
        "-f",
        "--find-links",
        action="append",
        default=[],
        metavar="URL",
        help="look for packages in this folder or page too (repeatable)",
    )
    install.add_argument("--no-deps", action="store_true", help="do not install dependencies")
    install.add_argument(
        "--no-build-isolation",
        action="store_true",
        help="build from a path with the build tools already installed",
    )
    uninstall = commands.add_parser(
        "uninstall",
        help="uninstall plugins from tuichat's environment (never tuichat itself)",
        description="Uninstall plugin packages from the environment tuichat runs in.",
    )
    uninstall.add_argument("packages", nargs="+", metavar="NAME", help="package names")


#: ``tuichat.importers.FORMATS`` and ``DATABASES``, spelled here so ``--help`` stays cheap.
IMPORT_FORMATS = ("chatgpt", "claude", "llm", "elia", "oterm", "tuichat")
IMPORT_DATABASES = ("elia", "oterm", "llm")


def _add_import(commands: argparse._SubParsersAction[_Parser]) -> None:
    parser = commands.add_parser(
        "import",
        help="import conversations from ChatGPT, Claude.ai, llm, Elia, oterm or tuichat",
        description=(
            "Import conversations: a ChatGPT or Claude.ai data export (conversations.json "
            "or its zip), tuichat's own JSON export, or the database of llm, Elia or oterm. "
            "A conversation already imported is skipped, so importing again is safe."
        ),
    )
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files to import")
    parser.add_argument(
        "--format",
        choices=("auto", *IMPORT_FORMATS),
        default="auto",
        help="the files' format (default: detected)",
    )
    parser.add_argument(
        "--from",
        dest="program",
        choices=IMPORT_DATABASES,
        help="import that program's database from where it keeps it (no PATH needed)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="read everything, write nothing, say what would be done",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {value}")
    return value


def _temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value <= 2:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 2, got {value:g}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``tuichat``; returns the exit code."""
    args = build_parser().parse_args(argv)
    from tuichat import dotenv, locations
    from tuichat.errors import TuichatError

    # Keys kept in a .env beside the config file (never over a variable already set).
    dotenv.load_for(locations.config_path())

    try:
        if args.command == "ask":
            from tuichat.ask import run_ask

            return run_ask(args)
        if args.command == "doctor":
            # Before loading the runtime: a broken config is one of the things it reports.
            from tuichat import doctor

            checks = doctor.run_checks(
                terminal=doctor.terminal_size(sys.stdout), probe=not args.offline
            )
            return doctor.report(checks, sys.stdout)
        if args.command == "import":
            # The store alone: no provider, key or plugin is needed to import.
            return _import(args, sys.stdout, sys.stderr)
        if args.command == "completion":
            from tuichat.completion import script

            sys.stdout.write(script(build_parser(), args.shell))
            return EXIT_OK
        if args.command == "prompts":
            return _prompts(args)
        if args.command in ("install", "uninstall"):
            # No config or plugin loaded: a broken plugin is what one may want to remove.
            return _pip(args)
        if args.command is None:
            return _run_tui(args)
        runtime = _load_runtime()
        warn(runtime, sys.stderr)
        if args.command == "providers":
            return _providers(runtime, sys.stdout, save_found=args.save_found)
        if args.command == "models":
            return _models(runtime, args.provider, sys.stdout)
        if args.command == "plugins":
            return _plugins(runtime, sys.stdout)
        if args.command == "tools":
            return _tools(runtime, sys.stdout)
        if args.command == "export":
            return _export(runtime, args, sys.stdout)
        if args.command == "list":
            from tuichat import listing

            found = listing.conversations(open_store(runtime), archived=args.archived)
            listing.write_list(found, sys.stdout, as_json=args.json)
            return EXIT_OK
        if args.command == "serve":
            from tuichat.serve.cli import run_serve

            return run_serve(args, runtime)
    except TuichatError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return EXIT_USAGE


def _load_runtime() -> Runtime:
    from tuichat.runtime import Runtime

    return Runtime.load()


def _run_tui(args: argparse.Namespace) -> int:
    from tuichat import boot, locations
    from tuichat.runtime import Runtime

    # The same config, variables and plugins as a start that worked: its first frame
    # needs nothing validated again, so the settings and plugins load after it.
    path = locations.boot_path()
    kept = boot.read(path)
    digest = boot.fingerprint(
        locations.config_path(),
        kept[0].env_names if kept else (),
        provider=args.provider,
        model=args.model,
    )
    if kept is not None and kept[1] == digest and not _names_a_local_server(args):
        runtime = Runtime.later(kept[0])
    else:
        runtime = Runtime.load()
        if args.provider or args.model:
            _discover_named(runtime, args.provider, args.model)
        # Fail on a bad provider before the screen switches to the app.
        runtime.resolve(args.provider, args.model)
    open_store(runtime).recover_interrupted()
    from tuichat.app.app import TuichatApp

    app = TuichatApp(runtime, provider=args.provider, model=args.model, remember=path)
    app.run()
    if app.startup_error is not None:
        return fail(app.startup_error)
    return app.return_code or 0


def _names_a_local_server(args: argparse.Namespace) -> bool:
    """Whether ``--provider``/``--model`` name a server found only by looking
    (``tuichat -m ollama/llama3.2``): then the settings load first, to look."""
    from tuichat.discovery import USUAL_PORTS

    names = (args.provider or "", (args.model or "").partition("/")[0])
    return any(name in USUAL_PORTS for name in names)


def _discover_named(runtime: Runtime, *names: str | None) -> None:
    import asyncio

    async def look() -> None:
        try:
            await runtime.discover_named(*names)
        finally:
            # The client belongs to this loop; the app makes its own on its loop.
            await runtime.aclose()

    asyncio.run(look())


def _providers(runtime: Runtime, out: TextIO, *, save_found: bool = False) -> int:
    import asyncio

    from tuichat.sanitize import one_line

    async def discover() -> None:
        try:
            await runtime.discover(force=save_found)
        finally:
            await runtime.aclose()

    asyncio.run(discover())
    default = runtime.default_provider_name()
    rows = [("", "NAME", "PLUGIN", "KEY", "DEFAULT MODEL", "BASE URL")]
    for name in runtime.instance_names():
        info = runtime.describe(name)
        key = "yes" if info.has_key else ("not needed" if not info.requires_key else "missing")
        mark = "*" if name == default else ""
        # A found server's model id is its text, not ours: one plain line.
        model = one_line(info.default_model, 60)
        rows.append((mark, name, info.plugin, key, model, info.base_url or "-"))
    _table(rows, out)
    from tuichat import locations

    out.write(f"\n* default provider. Config file: {runtime.config.path}\n")
    out.write(f"Data: {locations.database_path()}\n")
    if save_found:
        return _save_found(runtime, out)
    found = runtime.found
    for item in found:
        out.write(f"{item.describe()} (not in the config file).\n")
    if found:
        out.write("'tuichat providers --save-found' adds them to the config file.\n")
    return EXIT_OK


def _save_found(runtime: Runtime, out: TextIO) -> int:
    from tuichat import discovery
    from tuichat.config import load_config
    from tuichat.errors import ConfigError

    found = runtime.found
    path = runtime.config.path
    if not found:
        ports = ", ".join(str(port) for port in runtime.settings.discovery.ports.values())
        out.write(f"No new local model server answered on ports {ports}; nothing saved.\n")
        return EXIT_OK
    before, existed = runtime.config.text, path.exists()
    addition = discovery.config_text(found)
    text = before + ("\n" if before and not before.endswith("\n") else "")
    text += ("\n" if before else "") + addition
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        load_config(path)
    except OSError as exc:
        raise ConfigError(
            f"Cannot write {path}: {exc.strerror or exc}; add these tables by hand:\n{addition}"
        ) from None
    except ConfigError:
        # Never leave a config that no longer loads: put the person's file back.
        if existed:
            path.write_text(before, encoding="utf-8")
        else:
            path.unlink()
        raise
    names = ", ".join(item.name for item in found)
    out.write(f"Saved {names} to {path}.\n")
    return EXIT_OK


def _models(runtime: Runtime, provider_name: str | None, out: TextIO) -> int:
    import asyncio

    provider, _ = runtime.resolve(provider_name, None)

    async def fetch() -> list[str]:
        try:
            return [model.id for model in await provider.list_models()]
        finally:
            await runtime.aclose()

    from tuichat.sanitize import redact, strip_controls

    for model_id in asyncio.run(fetch()):
        # Server text: a proxy echoing the request could put the key in an id.
        out.write(redact(strip_controls(model_id), provider.secrets()) + "\n")
    return EXIT_OK


def _plugins(runtime: Runtime, out: TextIO) -> int:
    from tuichat.plugins import list_plugins

    assert runtime.plugin_manager is not None
    rows = [("NAME", "DISTRIBUTION", "VERSION", "PROVIDERS")]
    for info in list_plugins(runtime.plugin_manager, runtime.registry):
        rows.append(
            (info.name, info.distribution or "-", info.version or "-", ", ".join(info.providers))
        )
    _table(rows, out)
    return EXIT_OK


def _tools(runtime: Runtime, out: TextIO) -> int:
    import asyncio

    from tuichat.tools import ServerStatus, ToolHost
    from tuichat.tools.report import write_status

    host = ToolHost(runtime.settings, runtime.plugin_manager)

    async def look() -> list[ServerStatus]:
        try:
            return await host.status()
        finally:
            await host.aclose()

    write_status(asyncio.run(look()), out, config=runtime.config.path)
    return EXIT_OK


def _export(runtime: Runtime, args: argparse.Namespace, out: TextIO) -> int:
    from tuichat import export
    from tuichat.errors import UsageError

    store = open_store(runtime)
    if args.all:
        ids = [c.id for c in store.list_conversations(limit=1_000_000)]
        ids += [c.id for c in store.list_conversations(limit=1_000_000, archived=True)]
    else:
        chosen = args.id or store.latest_conversation_id()
        if chosen is None:
            raise UsageError("There are no conversations to export yet.")
        ids = [chosen]
    conversations = []
    for conversation_id in ids:
        conversation = store.get_conversation(conversation_id)
        if conversation is None:
            raise UsageError(
                f"There is no conversation {conversation_id}; "
                "the sidebar and 'tuichat export --all' show them."
            )
        conversations.append(conversation)
    bundle = export.collect(store, conversations)
    target: Path | None = args.output if str(args.output) != "-" else None
    fmt = args.format or (export.format_for(target) if target is not None else "md")
    if target is None:
        export.write(out, bundle, fmt=fmt, single=not args.all)
        return EXIT_OK
    try:
        export.write_file(target, bundle, fmt=fmt, single=not args.all)
    except OSError as exc:
        raise UsageError(
            f"Cannot write {exc.filename or target}: {exc.strerror or exc}; "
            "choose another path with -o."
        ) from None
    return EXIT_OK


def _import(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tuichat import locations
    from tuichat.errors import StoreError, StoreUnusable, UsageError
    from tuichat.importers import ImportClock, Progress, default_path, import_paths
    from tuichat.sanitize import strip_controls
    from tuichat.store import Store

    fmt: str = args.format
    paths: list[Path] = list(args.paths)
    if args.program is not None:
        if fmt not in ("auto", args.program):
            raise UsageError(f"--from {args.program} and --format {fmt} disagree; give one.")
        fmt = args.program
        if not paths:
            found = default_path(args.program)
            if not found.exists():
                raise UsageError(f"There is no {args.program} database at {found}; give its path.")
            paths = [found]
    if not paths:
        raise UsageError("Name the files to import, or --from elia, oterm or llm.")

    def report(line: str) -> None:
        # Names and reasons come from the file: never let them drive the terminal.
        err.write(f"tuichat: import: {strip_controls(line)}\n")
        err.flush()

    clock = ImportClock()
    try:
        store = Store(locations.database_path(), clock=clock)
    except StoreError as exc:
        raise StoreUnusable(str(exc)) from None
    with store:
        summary = import_paths(
            store,
            clock,
            paths,
            fmt=fmt,
            dry_run=args.dry_run,
            report=report,
            progress=Progress(err, enabled=err.isatty()),
        )
    out.write(summary.line() + "\n")
    everything_failed = summary.failed and not (summary.conversations or summary.already)
    return EXIT_PROVIDER if everything_failed else EXIT_OK


def _prompts(args: argparse.Namespace) -> int:
    # The config alone (its presets are prompts too): no plugin or store is needed.
    from tuichat.config import load_config
    from tuichat.prompts.command import library_for, run_prompts

    library, folder = library_for(load_config().settings.presets)
    return run_prompts(args, library, folder, sys.stdout, sys.stderr)


def _pip(args: argparse.Namespace) -> int:
    from tuichat import installer

    if args.command == "uninstall":
        argv = installer.uninstall_argv(args.packages)
    else:
        options = installer.PipOptions(
            editable=args.editable,
            upgrade=args.upgrade,
            force_reinstall=args.force_reinstall,
            pre=args.pre,
            no_cache_dir=args.no_cache_dir,
            no_index=args.no_index,
            no_deps=args.no_deps,
            no_build_isolation=args.no_build_isolation,
            find_links=tuple(args.find_links),
        )
        argv = installer.install_argv(args.packages, options)
    # pip has said what went wrong, in its own words, on stderr.
    return EXIT_OK if installer.run(argv) == 0 else EXIT_PROVIDER


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write("  ".join(cells).rstrip() + "\n")
