"""Writing imported conversations into the store, once each.

Only the store's public API is used (no migration of its own). What was imported is kept
in the settings table: ``import:FORMAT:SOURCE_ID`` holds ``{"id": CONVERSATION,
"done": true}``. The key is written (``done`` false) before the first message and
completed after the last, so an import stopped halfway is redone cleanly by the next one:
the half-written conversation is deleted first. A conversation deleted by the person since
is imported again.

The store stamps rows with its clock; the writer's store is opened on an
:class:`ImportClock`, set to each message's own time before it is written, so imported
conversations keep their dates and sort among the others by them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tuichat.importers.records import Broken, Imported, Item
from tuichat.store import Store

__all__ = ["ImportClock", "Summary", "Writer", "marker_key"]


class ImportClock:
    """A clock the writer sets: the store reads it for every row it stamps."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self.fixed: float | None = None

    def __call__(self) -> float:
        return self._now() if self.fixed is None else self.fixed


@dataclass
class Summary:
    """What an import did (or, with ``dry_run``, would do)."""

    conversations: int = 0
    messages: int = 0
    already: int = 0
    failed: int = 0
    dry_run: bool = False

    def line(self) -> str:
        """The one line printed at the end."""
        verb = "would import" if self.dry_run else "imported"
        return (
            f"{verb} {self.conversations} conversation{_s(self.conversations)} "
            f"({self.messages} message{_s(self.messages)}), "
            f"skipped {self.already} already imported, {self.failed} failed"
        )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def marker_key(fmt: str, source_id: str) -> str:
    """The settings key that records one imported conversation."""
    return f"import:{fmt}:{source_id}"


class Writer:
    """Writes records of one format into a store, counting into a :class:`Summary`."""

    def __init__(
        self,
        store: Store,
        clock: ImportClock,
        summary: Summary,
        report: Callable[[str, str], None],
    ) -> None:
        """Args:
        store: Opened on ``clock``.
        clock: The store's clock.
        summary: Counts what is done.
        report: Called with a conversation's name and why it failed.
        """
        self._store = store
        self._clock = clock
        self.summary = summary
        self._report = report

    def write(self, fmt: str, item: Item) -> None:
        """Import one conversation, unless it was before; a failure is reported and counted."""
        if isinstance(item, Broken):
            self._fail(item.name, item.reason)
            return
        key = marker_key(fmt, item.source_id)
        marker = self._store.get_setting(key)
        previous = marker.get("id") if isinstance(marker, dict) else None
        exists = isinstance(previous, int) and self._store.get_conversation(previous) is not None
        if exists and marker.get("done"):
            self.summary.already += 1
            return
        if self.summary.dry_run:
            self._count(item)
            return
        if exists and isinstance(previous, int):
            # Stopped halfway last time: start it again from nothing.
            self._store.delete_conversation(previous)
        try:
            self._write(key, item)
        except (ValueError, TypeError) as exc:
            self._fail(item.title or item.source_id, str(exc))
            return
        self._count(item)

    def _count(self, item: Imported) -> None:
        self.summary.conversations += 1
        self.summary.messages += len(item.messages)

    def _fail(self, name: str, reason: str) -> None:
        self.summary.failed += 1
        self._report(name, reason)

    def _write(self, key: str, item: Imported) -> None:
        store, clock = self._store, self._clock
        first = item.messages[0].created_at if item.messages else None
        when = item.created_at or first or clock()
        clock.fixed = when
        try:
            conversation = store.create_conversation(
                title=item.title,
                provider=item.provider,
                model=item.model,
                system_prompt=item.system_prompt,
                params=dict(item.params),
            )
            store.set_setting(key, {"id": conversation.id, "done": False})
            try:
                head, latest = self._messages(conversation.id, item, when)
            except BaseException:
                store.delete_conversation(conversation.id)
                store.set_setting(key, None)
                raise
            if head is not None:
                store.set_head(conversation.id, head)
            if clock.fixed != latest:
                # Messages went in tree order, not time order: the newest time orders it.
                clock.fixed = latest
                store.update_conversation(conversation.id, title=item.title)
            store.set_setting(key, {"id": conversation.id, "done": True})
        finally:
            clock.fixed = None

    def _messages(
        self, conversation_id: int, item: Imported, when: float
    ) -> tuple[int | None, float]:
        store, clock = self._store, self._clock
        ids: dict[str, int] = {}
        latest = max(when, item.updated_at or when)
        for message in item.messages:
            if message.parent is not None and message.parent not in ids:
                raise ValueError(f"message {message.key!r} follows one that is not there")
            when = message.created_at or when
            latest = max(latest, when)
            clock.fixed = when
            row = store.add_message(
                conversation_id,
                message.role,
                message.content,
                status=message.status,
                provider=message.provider,
                model=message.model,
                reasoning=message.reasoning,
                parent_id=None if message.parent is None else ids[message.parent],
            )
            if message.details:
                store.update_message(row.id, **message.details)
            ids[message.key] = row.id
        head = ids.get(item.head) if item.head is not None else None
        return head, latest
