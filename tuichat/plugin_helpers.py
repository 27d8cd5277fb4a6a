"""Small pieces every provider plugin needs to read a provider's JSON and errors.

Written once here instead of once per plugin; plugins reach them through
:mod:`tuichat.plugin_api`. Cheap to import: nothing of the HTTP stack until a
parser runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tuichat.sanitize import redact

if TYPE_CHECKING:
    import httpx

    from tuichat.http import ErrorInfo

__all__ = ["int_or_none", "merge_extra", "redacting"]


def int_or_none(value: Any) -> int | None:
    """``value`` if it is a JSON integer, else None (``true`` is not a count).

    Args:
        value: Anything a provider sent where a number belongs (token counts, limits).

    Returns:
        The integer, or None for a missing, null, fractional or textual value.
    """
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def merge_extra(body: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` over ``body``; nested objects (``thinking``...) are merged one level deep.

    So a request's ``extra`` can add one option to an object the plugin builds
    without repeating (or dropping) the plugin's own options in it.

    Args:
        body: The request body the plugin built.
        extra: Fields from the request's ``extra``, which win.

    Returns:
        A new body; neither argument is changed.
    """
    merged = dict(body)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = {**current, **value}
        else:
            merged[key] = value
    return merged


def redacting(
    parse: Callable[[httpx.Response, bytes], ErrorInfo], secrets: list[str]
) -> Callable[[httpx.Response, bytes], ErrorInfo]:
    """``parse``, with the secrets taken out of the message it reads.

    The core quotes this message unredacted when a 200 is not an event stream, and a
    proxy may echo the request (the key with it) in its error body.

    Args:
        parse: The plugin's error body parser.
        secrets: What must never be shown (``Provider.secrets()``).

    Returns:
        A parser of the same shape whose message is redacted.
    """
    from tuichat.http import ErrorInfo

    def parse_redacted(response: httpx.Response, body: bytes) -> ErrorInfo:
        info = parse(response, body)
        message = redact(info.message, secrets) if info.message else None
        return ErrorInfo(message=message, type=info.type, retry_after=info.retry_after)

    return parse_redacted
