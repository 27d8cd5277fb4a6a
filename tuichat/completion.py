"""Shell completion scripts for bash, zsh and fish, made from the argparse parser.

The parser is the one truth about commands and options: each script is generated from
it when asked (``tuichat completion bash``), so a new option completes without anyone
editing three shell dialects. Standard library only. Values that only a running
tuichat knows (provider names, models) are left to the person; choices the parser
knows (``--format md|json``) and paths are completed.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SHELLS = ("bash", "zsh", "fish")

#: What a word in a script may be without quoting (flags, command names, choices).
_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*|-{1,2}[A-Za-z0-9][A-Za-z0-9-]*")

#: Metavars of arguments that take a path (or a package, which may be one).
_PATH_METAVARS = frozenset({"PATH", "NAME", "FILE", "DIR"})


@dataclass(frozen=True, slots=True)
class Option:
    """One option: its flags, help, and what its value is (if it takes one)."""

    flags: tuple[str, ...]
    help: str
    takes_value: bool
    choices: tuple[str, ...] = ()
    paths: bool = False
    repeatable: bool = False


@dataclass(frozen=True, slots=True)
class Positional:
    """One positional argument."""

    name: str
    help: str
    many: bool
    choices: tuple[str, ...] = ()
    paths: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    """A parser: its options, positionals and subcommands."""

    name: str
    help: str
    options: tuple[Option, ...]
    positionals: tuple[Positional, ...] = ()
    commands: tuple[Command, ...] = ()

    @property
    def valued_flags(self) -> list[str]:
        """Flags whose next word is their value, not a command."""
        return [flag for option in self.options if option.takes_value for flag in option.flags]


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    return " ".join(text.replace("%%", "%").split())


def _words(values: Iterable[object]) -> tuple[str, ...]:
    words = tuple(str(value) for value in values)
    for word in words:
        if not _WORD.fullmatch(word):
            # A choice with spaces or quotes would need quoting in three dialects.
            raise ValueError(f"{word!r} cannot be completed without quoting")
    return words


def _is_path(action: argparse.Action) -> bool:
    return action.type is Path or str(action.metavar or "").upper() in _PATH_METAVARS


def describe(parser: argparse.ArgumentParser, name: str = "", help: str = "") -> Command:
    """The commands and options of ``parser`` (and its subparsers), for the generators."""
    options: list[Option] = []
    positionals: list[Positional] = []
    commands: list[Command] = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: _help(choice) for choice in action._choices_actions}
            for sub, subparser in action.choices.items():
                commands.append(describe(subparser, sub, helps.get(sub, "")))
            continue
        choices = _words(action.choices) if action.choices is not None else ()
        if action.option_strings:
            options.append(
                Option(
                    flags=_words(action.option_strings),
                    help=_help(action),
                    takes_value=action.nargs != 0,
                    choices=choices,
                    paths=_is_path(action),
                    repeatable=isinstance(action, argparse._AppendAction),
                )
            )
        else:
            positionals.append(
                Positional(
                    name=str(action.metavar or action.dest),
                    help=_help(action),
                    many=action.nargs in ("*", "+", argparse.REMAINDER),
                    choices=choices,
                    paths=not choices and _is_path(action),
                )
            )
    return Command(name, help, tuple(options), tuple(positionals), tuple(commands))


def script(parser: argparse.ArgumentParser, shell: str, prog: str = "tuichat") -> str:
    """The completion script for ``shell`` (one of :data:`SHELLS`)."""
    root = describe(parser, prog)
    if shell == "bash":
        return _bash(root)
    if shell == "zsh":
        return _zsh(root)
    if shell == "fish":
        return _fish(root)
    raise ValueError(f"no completion for {shell!r}; the shells are {', '.join(SHELLS)}")


# -- bash --------------------------------------------------------------------------------------


def _function(prog: str) -> str:
    return "_" + re.sub(r"\W", "_", prog)


def _bash_values(command: Command) -> list[str]:
    """``case $prev`` arms: an option's choices, paths, or nothing (a free value)."""
    arms = []
    for option in command.options:
        if not option.takes_value:
            continue
        flags = "|".join(option.flags)
        if option.choices:
            reply = f'COMPREPLY=($(compgen -W "{" ".join(option.choices)}" -- "$cur"))'
        elif option.paths:
            reply = 'COMPREPLY=($(compgen -f -- "$cur"))'
        else:
            reply = "COMPREPLY=()"
        arms.append(f"                {flags}) {reply}; return ;;")
    return arms


def _bash_branch(command: Command, label: str) -> list[str]:
    flags = " ".join(flag for option in command.options for flag in option.flags)
    lines = [f"        {label})", f'            options="{flags}"']
    if command.commands:
        names = " ".join(sub.name for sub in command.commands)
        lines.append(f'            commands="{names}"')
    choices = [c for p in command.positionals for c in p.choices]
    if choices:
        lines.append(f'            values="{" ".join(choices)}"')
    if any(p.paths for p in command.positionals):
        lines.append("            files=1")
    arms = _bash_values(command)
    if arms:
        lines += ['            case "$prev" in', *arms, "            esac"]
    lines.append("            ;;")
    return lines


def _bash(root: Command) -> str:
    name = _function(root.name)
    skip = "|".join(root.valued_flags)
    branches = _bash_branch(root, '""')
    for sub in root.commands:
        branches += _bash_branch(sub, sub.name)
    body = "\n".join(branches)
    return f"""\
# bash completion for {root.name}, generated by '{root.name} completion bash'.
# Load it from ~/.bashrc:  eval "$({root.name} completion bash)"
{name}() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local cmd="" word i skip=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        if [[ -n $skip ]]; then skip=""; continue; fi
        case "$word" in
            {skip or "--"}) skip=1 ;;
            -*) ;;
            *) cmd=$word; break ;;
        esac
    done
    local options="" commands="" values="" files=""
    case "$cmd" in
{body}
        *) return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
    elif [[ -n $commands ]]; then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    elif [[ -n $values ]]; then
        COMPREPLY=($(compgen -W "$values" -- "$cur"))
    elif [[ -n $files ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}}
complete -o filenames -F {name} {root.name}
"""


# -- zsh ---------------------------------------------------------------------------------------


def _zsh_quoted(text: str) -> str:
    """``text`` for inside a single-quoted zsh string."""
    return text.replace("'", "'\\''")


def _zsh_text(text: str) -> str:
    """An option's help inside ``[...]`` of an ``_arguments`` spec: brackets escaped."""
    for char in "\\[]":
        text = text.replace(char, "\\" + char)
    return _zsh_quoted(text)


def _zsh_action(choices: tuple[str, ...], paths: bool) -> str:
    if choices:
        return f"({' '.join(choices)})"
    return "_files" if paths else ""


def _zsh_specs(command: Command) -> list[str]:
    specs = []
    for option in command.options:
        flags = option.flags
        if option.repeatable:
            prefix = "'*'"
        elif flags[0] in ("-h", "--help", "--version"):
            prefix = "'(- *)'"
        else:
            prefix = f"'({' '.join(flags)})'"
        names = flags[0] if len(flags) == 1 else "{" + ",".join(flags) + "}"
        spec = f"{prefix}{names}'[{_zsh_text(option.help)}]"
        if option.takes_value:
            label = max(option.flags, key=len).lstrip("-")
            spec += f":{label}:{_zsh_action(option.choices, option.paths)}"
        specs.append(spec + "'")
    for positional in command.positionals:
        star = "*" if positional.many else ""
        action = _zsh_action(positional.choices, positional.paths)
        label = re.sub(r"\W", "-", positional.name.lower())
        specs.append(f"'{star}:{label}:{action}'")
    return specs


def _zsh_arguments(specs: list[str], indent: str) -> str:
    lines = [f"{indent}_arguments -s -S"] + [f"{indent}    {spec}" for spec in specs]
    return " \\\n".join(lines)


def _zsh(root: Command) -> str:
    name = _function(root.name)
    described = "\n".join(f"        '{sub.name}:{_zsh_quoted(sub.help)}'" for sub in root.commands)
    top = _zsh_arguments(
        [*_zsh_specs(root), f"'1: :{name}_commands'", "'*:: :->args'"], "    "
    ).replace("_arguments -s -S", "_arguments -C -s -S", 1)
    arms = []
    for sub in root.commands:
        specs = _zsh_specs(sub)
        call = _zsh_arguments(specs, "                    ") if specs else "                    :"
        arms.append(f"                {sub.name})\n{call}\n                    ;;")
    cases = "\n".join(arms)
    return f"""\
#compdef {root.name}
# zsh completion for {root.name}, generated by '{root.name} completion zsh'.
# Load it from ~/.zshrc, after compinit:  eval "$({root.name} completion zsh)"
# (or save it as {name} in a folder of $fpath).

{name}_commands() {{
    local -a commands
    commands=(
{described}
    )
    _describe -t commands '{root.name} command' commands
}}

{name}() {{
    local curcontext="$curcontext" state line
    typeset -A opt_args
{top}
    case $state in
        args)
            curcontext="${{curcontext%:*:*}}:{root.name}-$words[1]:"
            case $words[1] in
{cases}
            esac
            ;;
    esac
}}

if [[ $funcstack[1] == {name} ]]; then
    {name} "$@"
else
    compdef {name} {root.name}
fi
"""


# -- fish --------------------------------------------------------------------------------------


def _fish_text(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_option(prog: str, condition: str, option: Option) -> str:
    parts = [f"complete -c {prog} -n {condition}"]
    for flag in option.flags:
        if flag.startswith("--"):
            parts.append(f"-l {flag[2:]}")
        elif len(flag) == 2:
            parts.append(f"-s {flag[1]}")
        else:
            parts.append(f"-o {flag[1:]}")
    if option.takes_value:
        if option.choices:
            parts.append(f"-x -a {_fish_text(' '.join(option.choices))}")
        elif option.paths:
            parts.append("-r -F")
        else:
            parts.append("-x")
    parts.append(f"-d {_fish_text(option.help)}")
    return " ".join(parts)


def _fish(root: Command) -> str:
    prog = root.name
    lines = [
        f"# fish completion for {prog}, generated by '{prog} completion fish'.",
        f"# Save it: {prog} completion fish > ~/.config/fish/completions/{prog}.fish",
        f"complete -c {prog} -f",
    ]
    top = "__fish_use_subcommand"
    lines += [_fish_option(prog, top, option) for option in root.options]
    for sub in root.commands:
        lines.append(f"complete -c {prog} -n {top} -a {sub.name} -d {_fish_text(sub.help)}")
    for sub in root.commands:
        condition = _fish_text(f"__fish_seen_subcommand_from {sub.name}")
        lines += [_fish_option(prog, condition, option) for option in sub.options]
        choices = [c for p in sub.positionals for c in p.choices]
        if choices:
            lines.append(f"complete -c {prog} -n {condition} -a {_fish_text(' '.join(choices))}")
        if any(p.paths for p in sub.positionals):
            lines.append(f"complete -c {prog} -n {condition} -F")
    return "\n".join(lines) + "\n"
