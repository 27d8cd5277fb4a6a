"""``tuichat prompts``: list, show and import saved prompts; ``ask -t``'s filling.

Kept beside the library so the command line (``tuichat.cli``) only wires it in.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from tuichat.errors import UsageError
from tuichat.prompts.imports import (
    ImportLine,
    fabric_patterns_dir,
    import_fabric,
    import_llm,
    llm_templates_dir,
)
from tuichat.prompts.library import Library, load_library
from tuichat.prompts.template import Rendered


def add_prompts(commands: Any) -> None:
    """Add ``prompts`` and its subcommands to the command line's subparsers."""
    prompts = commands.add_parser(
        "prompts",
        help="the prompt library: list, show, import llm templates and Fabric patterns",
        description=(
            "Saved prompts with {{variables}}: one TOML file each in the prompts folder "
            "beside config.toml, plus the [presets] of config.toml. Use one with "
            "'tuichat ask -t NAME -v key=value', or type / at the start of the app's prompt."
        ),
    )
    actions = prompts.add_subparsers(dest="prompts_command", metavar="ACTION")
    actions.add_parser("list", help="every saved prompt (the default)")
    show = actions.add_parser("show", help="a prompt's file, its variables and settings")
    show.add_argument("name", help="the prompt's name")
    actions.add_parser("path", help="print the prompts folder")
    for name, program, where in (
        ("import-llm", "llm's templates (*.yaml)", "llm templates path"),
        ("import-fabric", "Fabric's patterns (NAME/system.md)", "~/.config/fabric/patterns"),
    ):
        action = actions.add_parser(name, help=f"import {program}")
        action.add_argument(
            "folder", nargs="?", type=Path, metavar="DIR", help=f"the folder (default: {where})"
        )
        action.add_argument("--replace", action="store_true", help="overwrite prompts that differ")


def run_prompts(
    args: argparse.Namespace, library: Library, folder: Path, out: TextIO, err: TextIO
) -> int:
    """Run ``tuichat prompts ...``; returns the exit code."""
    from tuichat.sanitize import strip_controls

    command = args.prompts_command or "list"
    if command == "path":
        out.write(f"{folder}\n")
        return 0
    if command == "show":
        template = library.get(args.name)
        out.write(f"# {template.name} ({strip_controls(template.source)})\n")
        for label, value in (
            ("description", template.description),
            ("model", template.model),
            ("temperature", template.temperature),
            ("max_tokens", template.max_tokens),
            ("variables", ", ".join(template.variables)),
        ):
            if value not in (None, ""):
                out.write(f"{label}: {strip_controls(str(value))}\n")
        for label, text in (("system", template.system), ("prompt", template.prompt)):
            if text:
                out.write(f"\n[{label}]\n{strip_controls(text)}\n")
        return 0
    if command in ("import-llm", "import-fabric"):
        llm = command == "import-llm"
        source = args.folder or (llm_templates_dir() if llm else fabric_patterns_dir())
        run = import_llm if llm else import_fabric
        lines: list[ImportLine] = []
        for line in run(source, folder, replace=args.replace):
            lines.append(line)
            err.write(f"tuichat: prompts: {strip_controls(str(line))}\n")
        counts = {o: sum(1 for line in lines if line.outcome == o) for o in _OUTCOMES}
        out.write(", ".join(f"{n} {o}" for o, n in counts.items()) + f" (into {folder})\n")
        return 1 if lines and counts["failed"] == len(lines) else 0
    for problem in library.problems:
        err.write(f"tuichat: prompts: {strip_controls(problem)}\n")
    rows = [(t.name, ", ".join(t.variables) or "-", _one_line(t.summary, 60)) for t in library]
    if not rows:
        out.write(f"No saved prompts yet; add NAME.toml files to {folder}.\n")
        return 0
    _table([("NAME", "VARIABLES", "ABOUT"), *rows], out)
    return 0


_OUTCOMES = ("added", "updated", "unchanged", "kept", "failed")


def _one_line(text: str, width: int) -> str:
    from tuichat.sanitize import one_line

    return one_line(text, width)


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write("  ".join(cells).rstrip() + "\n")


def parse_values(pairs: Sequence[str]) -> dict[str, str]:
    """``-v key=value`` arguments as a mapping (the last of a repeated key wins).

    Raises:
        UsageError: An argument without ``=``.
    """
    values: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise UsageError(f"-v takes NAME=VALUE, not {pair!r}.")
        values[key.strip()] = value
    return values


def fill_for_ask(
    library: Library, name: str, pairs: Sequence[str], input_text: str | None
) -> Rendered:
    """``ask -t NAME -v ...``: the prompt filled, with PROMPT or stdin as its input.

    Raises:
        UsageError: No such prompt, a bad ``-v``, a variable without a value, or nothing
            to send.
    """
    template = library.get(name)
    rendered = template.render(parse_values(pairs), input_text=input_text)
    if not rendered.text.strip():
        raise UsageError(
            f"The prompt {name!r} has no text of its own; give the text as PROMPT or on stdin."
        )
    return rendered


def library_for(presets: Any) -> tuple[Library, Path]:
    """The library over the prompts folder and the config's presets."""
    from tuichat import locations

    folder = locations.prompts_dir()
    return load_library(folder, presets), folder
