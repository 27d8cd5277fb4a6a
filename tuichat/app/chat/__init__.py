"""The chat screen's parts: plain objects, one job each, composed by
:class:`~tuichat.app.screens.chat.ChatScreen`.

The screen owns the widgets and the state every part reads (the open conversation,
who the chat is with); each part owns its own state and reaches another part only
through the screen's attribute for it (``screen.replies``, ``screen.transcript``...),
so a missing method is a type error, not a runtime surprise.

==================  ==========================================================
``transcript``      what the log shows: the branch, its window, the live reply
``replies``         the reply controller: one stream from its start to its end
``conversations``   the sidebar and the actions on one conversation
``drafts``          the unsent text of each conversation
``models``          the model catalog and picker, per-conversation options, titles
``messages``        actions on the selected message (copy, regenerate, edit...)
``comparing``       compare mode, seen from the chat
``tools``           the tool servers offered, approvals, calls in the log
``files``           attachments: chips, ``@`` paths, pasted paths, the picker
``fit``             costs, a conversation too long for the window, summaries
``prompt_library``  saved prompts (``/``), prompt recall (Up, Ctrl+R)
==================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any


def routed(part: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """An ``action_*`` method of the screen carried out by one of its parts.

    Textual looks actions up on the screen by name; this keeps the screen a router
    (one line per key) while the work lives in the part. The signature is the part
    method's, so Textual passes the action's parameters as it would to the method.

    Args:
        part: The screen's attribute holding the part (``"conversations"``).
        method: The part's method (``Conversations.rename_conversation``).
    """

    @wraps(method)
    def action(self: Any, *args: Any, **kwargs: Any) -> Any:
        return method(getattr(self, part), *args, **kwargs)

    return action
