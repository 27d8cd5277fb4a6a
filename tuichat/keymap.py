"""Every action of the full-screen app, with its binding id, default keys and description.

One table drives the key bindings, the footer, the help screen (F1), the command palette
and the ``[keymap]`` section of ``config.toml``, so an action cannot exist without a key
and a key cannot be rebound to an action that does not exist. This module is part of the
headless core (config validation reads it), so it must not import Textual.

Binding ids are kebab-case, as posting and Textual's own keymaps spell them; keys use
Textual's names (``ctrl+n``, ``f2``, ``question_mark``), several separated by commas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Scope = Literal["global", "sidebar", "messages", "attachments", "compare"]
"""Where an action's keys work: anywhere (``global``, even while typing), only while the
conversation list (``sidebar``) or the chat log (``messages``) has the focus, or on the
compare screen (``compare``)."""

#: Help-screen headings, in the order they are shown.
SCOPE_TITLES: dict[Scope, str] = {
    "global": "Anywhere",
    "sidebar": "Conversation list (focused)",
    "messages": "Chat log (focused; acts on the selected message)",
    "attachments": "Attachments above the prompt (focused: Shift+Tab from the prompt)",
    "compare": "Compare mode (several models answer one prompt side by side)",
}


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One action of the app.

    Attributes:
        id: The binding id (kebab-case), the key of ``[keymap]`` in ``config.toml``.
        keys: Default keys, comma-separated.
        action: The Textual action run on the chat screen (``new_conversation``).
        description: What it does, for the help screen and the command palette.
        footer: The short label shown in the footer, or '' to keep it out of the footer.
        scope: Where the keys work.
        palette: Whether the command palette offers it.
        priority: For a global action, whether its keys win over the focused widget's (so
            they work while typing). Esc and ? are not: the prompt and dialogs use them.
    """

    id: str
    keys: str
    action: str
    description: str
    footer: str = ""
    scope: Scope = "global"
    palette: bool = True
    priority: bool = True


#: Every action, in help-screen order within each scope.
ACTIONS: tuple[ActionSpec, ...] = (
    # -- anywhere ---------------------------------------------------------------------------
    ActionSpec("help", "f1", "help", "Show every key (this screen)", "Help"),
    ActionSpec("new-conversation", "ctrl+n", "new_conversation", "Start a new conversation", "New"),
    # F4 too: inside tmux, Ctrl+B is tmux's prefix.
    ActionSpec(
        "toggle-sidebar", "ctrl+b,f4", "toggle_sidebar", "Show or hide the sidebar", "Sidebar"
    ),
    ActionSpec("search", "ctrl+f", "search", "Search every prompt and reply", "Search"),
    ActionSpec("pick-model", "ctrl+l", "pick_model", "Choose the model (fuzzy search)", "Model"),
    ActionSpec(
        "compare", "f3", "compare", "Compare 2-3 models side by side on one prompt", "Compare"
    ),
    ActionSpec(
        "conversation-options",
        "ctrl+o",
        "conversation_options",
        "System prompt, temperature, max tokens, preset (this conversation)",
    ),
    ActionSpec("rename-conversation", "f2", "rename_conversation", "Rename the conversation"),
    ActionSpec(
        "delete-conversation", "ctrl+d", "delete_conversation", "Delete the conversation (asks)"
    ),
    ActionSpec(
        "export-conversation", "ctrl+s", "export_conversation", "Export as Markdown or JSON"
    ),
    ActionSpec("open-editor", "ctrl+g", "open_editor", "Write the prompt in $EDITOR"),
    # Ctrl+R is the shells' (and readline's) history search, so it searches the prompts
    # sent; regenerating the last reply moved to F12 (and stays r on a selected reply).
    ActionSpec(
        "search-prompts",
        "ctrl+r",
        "search_prompts",
        "Search every prompt you sent (fuzzy); the one chosen goes into the prompt",
    ),
    ActionSpec(
        "regenerate-last", "f12", "regenerate_last", "Regenerate the last reply (keeps the old)"
    ),
    ActionSpec(
        "continue-last", "ctrl+t", "continue_last", "Continue the last reply (cut or stopped)"
    ),
    ActionSpec(
        "summarise-conversation",
        "f7",
        "summarise_conversation",
        "Summarise the older turns; the summary is sent in their place",
    ),
    ActionSpec(
        "count-tokens",
        "f6",
        "count_tokens",
        "Count the next request's tokens exactly (asks Anthropic or Gemini; shown in the meter)",
    ),
    ActionSpec("pick-theme", "f8", "pick_theme", "Choose the colour theme (remembered)"),
    ActionSpec(
        "pick-tools",
        "f9",
        "pick_tools",
        "Choose the tool servers this conversation offers the model",
    ),
    # Not Ctrl+A: readline's start of line in the prompt, and GNU screen's prefix. F5
    # reaches the app in terminals, tmux and over SSH (F10 opens GNOME Terminal's menu).
    ActionSpec(
        "attach-file",
        "f5",
        "attach_file",
        "Attach a file to the next message (picker; or type @path)",
    ),
    # The app binds Ctrl+Q itself (checked first); this entry puts Quit in the footer.
    ActionSpec("quit", "ctrl+q", "app.quit", "Quit", "Quit", palette=False),
    ActionSpec(
        "stop-reply",
        "escape",
        "stop_reply",
        "Stop the reply; what arrived is kept",
        "Stop",
        priority=False,
    ),
    # Esc is also "back to the prompt" when no reply streams; the two never both apply.
    ActionSpec(
        "focus-prompt",
        "escape",
        "focus_prompt",
        "Back to the prompt",
        palette=False,
        priority=False,
    ),
    # F1 works everywhere; ? only where it is not typed into the prompt.
    ActionSpec(
        "help-key", "question_mark", "help", "Show every key", palette=False, priority=False
    ),
    # -- conversation list ------------------------------------------------------------------
    ActionSpec("pin-conversation", "p", "pin_conversation", "Pin or unpin", "Pin", scope="sidebar"),
    ActionSpec(
        "archive-conversation",
        "a",
        "archive_conversation",
        "Archive (or restore, in the archive)",
        "Archive",
        scope="sidebar",
    ),
    ActionSpec(
        "toggle-archive",
        "A",
        "toggle_archive",
        "Show the archive / the conversations",
        "Archive list",
        scope="sidebar",
    ),
    ActionSpec(
        "rename-highlighted", "r", "rename_conversation", "Rename", scope="sidebar", palette=False
    ),
    ActionSpec(
        "delete-highlighted",
        "d,delete",
        "delete_conversation",
        "Delete (asks)",
        scope="sidebar",
        palette=False,
    ),
    # -- chat log ---------------------------------------------------------------------------
    ActionSpec(
        "previous-message",
        "up,k",
        "select_message(-1)",
        "Select the previous message",
        scope="messages",
        palette=False,
    ),
    ActionSpec(
        "next-message",
        "down,j",
        "select_message(1)",
        "Select the next message",
        scope="messages",
        palette=False,
    ),
    ActionSpec(
        "first-message",
        "home,g",
        "select_edge(False)",
        "Select the first message",
        scope="messages",
        palette=False,
    ),
    ActionSpec(
        "last-message",
        "end,G",
        "select_edge(True)",
        "Select the last message",
        scope="messages",
        palette=False,
    ),
    ActionSpec("copy-message", "c", "copy_message", "Copy the message", "Copy", scope="messages"),
    ActionSpec(
        "copy-code",
        "y",
        "copy_code",
        "Copy a code block of the message",
        "Copy code",
        scope="messages",
    ),
    ActionSpec(
        "regenerate",
        "r",
        "regenerate",
        "Regenerate this reply (keeps the old one)",
        "Regenerate",
        scope="messages",
    ),
    ActionSpec(
        "continue-reply",
        "m",
        "continue_reply",
        "Continue this reply (more)",
        "Continue",
        scope="messages",
    ),
    ActionSpec(
        "edit-prompt",
        "e",
        "edit_prompt",
        "Edit this prompt and resend (keeps the old branch), or a summary's text",
        "Edit",
        scope="messages",
    ),
    ActionSpec(
        "delete-message", "x,delete", "delete_message", "Delete the message", scope="messages"
    ),
    ActionSpec(
        "previous-alternative",
        "left_square_bracket",
        "alternative(-1)",
        "Show the previous alternative (edited prompt, regenerated reply)",
        scope="messages",
    ),
    ActionSpec(
        "next-alternative",
        "right_square_bracket",
        "alternative(1)",
        "Show the next alternative",
        scope="messages",
    ),
    ActionSpec(
        "toggle-reasoning",
        "t",
        "toggle_reasoning",
        "Show or hide the reasoning",
        scope="messages",
    ),
    ActionSpec(
        "toggle-tool-calls",
        "o",
        "toggle_tool_calls",
        "Show or hide the reply's tool calls (arguments and results)",
        scope="messages",
    ),
    ActionSpec(
        "show-comparison",
        "v",
        "show_comparison",
        "Show the comparison this message is part of (pick another reply)",
        scope="messages",
    ),
    ActionSpec(
        "open-attachment",
        "i",
        "open_attachment",
        "Open the message's image in the viewer",
        scope="messages",
    ),
    # -- attachments above the prompt -------------------------------------------------------
    ActionSpec(
        "remove-attachment",
        "delete,backspace",
        "remove",
        "Remove the chosen attachment from the next message",
        "Remove",
        scope="attachments",
        palette=False,
    ),
    ActionSpec(
        "previous-attachment",
        "left",
        "move(-1)",
        "Choose the attachment on the left",
        scope="attachments",
        palette=False,
    ),
    ActionSpec(
        "next-attachment",
        "right",
        "move(1)",
        "Choose the attachment on the right",
        scope="attachments",
        palette=False,
    ),
    # -- compare screen ---------------------------------------------------------------------
    ActionSpec(
        "compare-add-model",
        "ctrl+l",
        "add_model",
        "Add a model to the comparison (fuzzy search)",
        "Add model",
        scope="compare",
    ),
    ActionSpec(
        "compare-remove-model",
        "ctrl+d",
        "remove_model",
        "Remove the last model of the comparison",
        "Remove",
        scope="compare",
    ),
    ActionSpec(
        "compare-stop",
        "escape",
        "stop",
        "Stop every reply; what arrived is kept",
        "Stop",
        scope="compare",
        priority=False,
    ),
    # Esc stops while replies stream and goes back once they ended; the two never both apply.
    ActionSpec(
        "compare-back",
        "escape",
        "back",
        "Back to the chat (reply 1 stays on show unless another was picked)",
        "Back",
        scope="compare",
        priority=False,
    ),
    # Digits are typed into the prompt while it has the focus: not priority keys.
    ActionSpec(
        "compare-pick-1",
        "1",
        "pick(0)",
        "Continue the conversation with reply 1",
        "Pick",
        scope="compare",
        priority=False,
    ),
    ActionSpec(
        "compare-pick-2",
        "2",
        "pick(1)",
        "Continue the conversation with reply 2",
        "Pick",
        scope="compare",
        priority=False,
    ),
    ActionSpec(
        "compare-pick-3",
        "3",
        "pick(2)",
        "Continue the conversation with reply 3",
        "Pick",
        scope="compare",
        priority=False,
    ),
)

#: The actions by binding id.
BY_ID: dict[str, ActionSpec] = {spec.id: spec for spec in ACTIONS}


def validate_keymap(keymap: Mapping[str, str]) -> list[str]:
    """Check a ``[keymap]`` table: every id must exist and every value must name keys.

    Args:
        keymap: Binding id to keys, as written in ``config.toml``.

    Returns:
        One sentence per problem ([] when the table is good).
    """
    problems: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id not in BY_ID:
            problems.append(
                f"unknown action {binding_id!r}; the actions are listed in config.toml and on "
                "the help screen (F1)"
            )
        elif not isinstance(keys, str) or not [k for k in keys.split(",") if k.strip()]:
            problems.append(f'{binding_id!r} needs keys such as "ctrl+k" or "f5,ctrl+k"')
    if not problems:
        problems.extend(_conflicts(keymap))
    return problems


#: Actions that share a key by design: the state decides which one applies.
_SHARED = (frozenset({"stop-reply", "focus-prompt"}), frozenset({"compare-stop", "compare-back"}))


def _collide(first: ActionSpec, second: ActionSpec) -> bool:
    """Whether the two actions' keys work at the same time: same scope, or a key that
    works everywhere (while typing too) over one of a focused list's."""
    if first.scope == second.scope:
        return frozenset({first.id, second.id}) not in _SHARED
    for one, other in ((first, second), (second, first)):
        if one.scope == "global" and one.priority and other.scope in ("sidebar", "messages"):
            return True
    return False


def _conflicts(keymap: Mapping[str, str]) -> list[str]:
    """A key the person gave that another action already has (one of them would be
    hidden: ``quit = "ctrl+n"`` took New away)."""
    problems: list[str] = []
    keys = {
        spec.id: {k.strip() for k in effective_keys(spec, keymap).split(",") if k.strip()}
        for spec in ACTIONS
    }
    for binding_id in keymap:
        spec = BY_ID[binding_id]
        for other in ACTIONS:
            shared = keys[binding_id] & keys[other.id]
            if other.id == binding_id or not shared or not _collide(spec, other):
                continue
            key = sorted(shared)[0]
            problems.append(
                f"{binding_id!r} = {key!r} is already the key of {other.id!r} "
                f"({other.description}); give one of them another key"
            )
    return problems


def effective_keys(spec: ActionSpec, keymap: Mapping[str, str]) -> str:
    """The keys of ``spec`` after the person's ``[keymap]`` (comma-separated).

    Args:
        spec: The action.
        keymap: The ``[keymap]`` table.

    Returns:
        The rebound keys, or the defaults.
    """
    return keymap.get(spec.id, spec.keys)
