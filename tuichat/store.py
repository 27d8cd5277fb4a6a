"""The conversation store: SQLite (stdlib ``sqlite3``), WAL mode, FTS5 search.

Two tuichat processes (two SSH sessions, say) may share one database file, so every write is
an explicit ``BEGIN IMMEDIATE`` transaction with a busy timeout, and a lock that outlasts the
timeout is retried a few times before it becomes a :class:`~tuichat.errors.StoreError`.

A file that is not ours (corrupt, not SQLite, or another program's database) is refused
without ever being written to.

This module must not import Textual or httpx: it is used by the command line and by tests.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar, get_args

from tuichat.attachments import Attachment
from tuichat.costs import CostTotal, SideCost
from tuichat.errors import StoreError, StoreUnusable
from tuichat.migrations import LATEST_VERSION, migrate, newer_schema_error, user_version

__all__ = [
    "MESSAGE_STATUSES",
    "AttachmentInfo",
    "ROLES",
    "HEAD",
    "Conversation",
    "Message",
    "MessageStatus",
    "SearchHit",
    "Store",
    "fts_query",
]

MessageStatus = Literal["streaming", "complete", "length", "cancelled", "interrupted", "error"]

#: Every valid :data:`MessageStatus`.
MESSAGE_STATUSES: frozenset[str] = frozenset(get_args(MessageStatus))

#: Every valid message role.
ROLES: frozenset[str] = frozenset({"system", "user", "assistant"})

_T = TypeVar("_T")

_CONNECT_TIMEOUT = 5.0
_LOCK_RETRIES = 4
_LOCK_BACKOFF = 0.05
_SNIPPET_TOKENS = 12

_CONVERSATION_FIELDS = frozenset(
    {"title", "provider", "model", "system_prompt", "params", "pinned", "archived", "draft"}
)
_CONVERSATION_COLUMNS = (
    "id, title, created_at, updated_at, provider, model, system_prompt, params, pinned, "
    "archived, draft, head_id"
)
_MESSAGE_COLUMNS = (
    "id, conversation_id, position, role, content, reasoning, status, provider, model, "
    "finish_reason, input_tokens, output_tokens, ttft_ms, duration_ms, error, created_at, "
    "updated_at, parent_id, meta"
)


class _Head:
    """The type of :data:`HEAD`."""

    def __repr__(self) -> str:
        return "HEAD"


#: ``add_message(parent_id=HEAD)``: append to the branch on show (the default).
HEAD = _Head()


@dataclass(frozen=True, slots=True)
class Conversation:
    """One conversation, without its messages.

    Attributes:
        id: Row id.
        title: Title shown in the sidebar ('' until named).
        created_at: Unix seconds.
        updated_at: Unix seconds of the last change (orders the sidebar).
        provider: Provider instance name, if chosen.
        model: Model name, if chosen.
        system_prompt: System prompt, if any.
        params: Request parameters (temperature...), a JSON object.
        pinned: Shown above unpinned conversations.
        archived: Hidden from the main list.
        draft: Unsent text of the input box.
        head_id: The last message of the branch on show (None: no message yet).
    """

    id: int
    title: str
    created_at: float
    updated_at: float
    provider: str | None
    model: str | None
    system_prompt: str | None
    params: dict[str, Any]
    pinned: bool
    archived: bool
    draft: str
    head_id: int | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation.

    Attributes:
        id: Row id.
        conversation_id: Owning conversation.
        position: Creation order within the conversation, from 0 (gaps after deletions and
            between branches); a message always comes after the one it follows.
        role: ``system``, ``user`` or ``assistant``.
        content: Text.
        reasoning: Reasoning ("thinking") text, '' if none.
        status: A :data:`MessageStatus`.
        provider: Provider that wrote an assistant reply.
        model: Model that wrote an assistant reply.
        finish_reason: The provider's stop reason.
        input_tokens: Prompt tokens reported by the provider.
        output_tokens: Completion tokens reported by the provider.
        ttft_ms: Time to first token, milliseconds.
        duration_ms: Total duration, milliseconds.
        error: Error sentence when ``status`` is ``error``.
        created_at: Unix seconds.
        updated_at: Unix seconds of the last write (checkpoints included).
        parent_id: The message this one follows (None for a conversation's first). Two
            messages with one parent are alternatives: an edited prompt, a regenerated reply.
        meta: Facts without a column of their own, a JSON object (``omitted``: history
            messages the request left out to fit the model's context window).
    """

    id: int
    conversation_id: int
    position: int
    role: str
    content: str
    reasoning: str
    status: str
    provider: str | None
    model: str | None
    finish_reason: str | None
    input_tokens: int | None
    output_tokens: int | None
    ttft_ms: float | None
    duration_ms: float | None
    error: str | None
    created_at: float
    updated_at: float
    parent_id: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """What the log shows of an attachment, without its bytes.

    Attributes:
        name: The name it was given with (a path as typed, ``stdin``).
        kind: ``image``, ``document`` or ``text``.
        media_type: From its bytes.
        size: Bytes.
        sha256: Its content address.
        width: Pixels of an image, when its header said.
        height: Pixels of an image, when its header said.
    """

    name: str
    kind: str
    media_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One message matching a search.

    Attributes:
        conversation_id: Conversation holding the message.
        conversation_title: Its title.
        message_id: The matching message.
        position: The message's position in its conversation.
        role: The message's role.
        snippet: A short excerpt with each hit wrapped in ``«`` and ``»``.
    """

    conversation_id: int
    conversation_title: str
    message_id: int
    position: int
    role: str
    snippet: str


def fts_query(text: str) -> str:
    """Turn a person's raw search text into an FTS5 query that cannot be a syntax error.

    Each whitespace-separated term becomes an FTS5 string (inner quotes doubled), so operators
    and punctuation (``AND``, ``-``, ``*``, ``"``...) are searched as text; the last term is a
    prefix so results appear while typing. Terms are implicitly ANDed.

    Args:
        text: What the person typed.

    Returns:
        The MATCH expression, or '' when there is nothing to search for.
    """
    terms = ['"' + term.replace('"', '""') + '"' for term in text.split()]
    if not terms:
        return ""
    terms[-1] += "*"
    return " ".join(terms)


class Store:
    """The conversation store over one SQLite file.

    Safe to share between threads (calls are serialised by a lock) and between processes
    (SQLite locking, WAL mode, busy timeout and retries).

    Attributes:
        path: The database file, or None for an in-memory store.
    """

    path: Path | None

    def __init__(
        self, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time
    ) -> None:
        """Open (creating if needed) and migrate the store.

        Args:
            path: The database file, or ``":memory:"``. Its directory is created if missing.
            clock: Source of unix-seconds timestamps (tests pass a fake one).

        Raises:
            StoreError: The file is corrupt, not SQLite, another program's database, written
                by a newer tuichat, or cannot be created or written.
        """
        self._clock = clock
        self._lock = threading.RLock()
        memory = os.fspath(path) == ":memory:"
        self.path = None if memory else Path(path).expanduser()
        self._name = "the in-memory conversation store" if memory else str(self.path)
        self._conn = self._connect()

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time) -> Store:
        """Open a store; the same as calling the class.

        Args:
            path: The database file, or ``":memory:"``.
            clock: Source of unix-seconds timestamps.

        Returns:
            The open store.
        """
        return cls(path, clock=clock)

    # -- lifecycle ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        target = ":memory:"
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._unwritable(exc.strerror or str(exc)) from exc
            target = str(self.path)
        try:
            conn = sqlite3.connect(
                target,
                timeout=_CONNECT_TIMEOUT,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise self._unwritable(str(exc)) from exc
        try:
            self._prepare(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        # Only read-only statements until the file is known to be ours: a foreign or damaged
        # file must come out of this byte-for-byte unchanged.
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(_CONNECT_TIMEOUT * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            version = user_version(conn)
            tables = {
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            }
        except sqlite3.OperationalError as exc:
            raise self._translate(exc) from exc
        except sqlite3.DatabaseError as exc:
            raise StoreUnusable(
                f"The conversation store {self._name} is damaged or is not a SQLite database; "
                "move it aside (tuichat will start a new one) or set TUICHAT_DATA_DIR to use "
                "another directory."
            ) from exc
        if tables and "conversations" not in tables:
            raise StoreUnusable(
                f"{self._name} is another program's SQLite database, not a tuichat conversation "
                "store; move it aside or set TUICHAT_DATA_DIR to use another directory."
            )
        if version > LATEST_VERSION:
            raise newer_schema_error(version, path=self._name)
        try:
            # Switching a new file to WAL needs it to itself: when several tuichats open a
            # new store at once, SQLite answers "locked" at once, without a busy wait.
            self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            self._retry(lambda: migrate(conn, path=self._name))
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    def close(self) -> None:
        """Close the connection; further calls fail. Closing twice is harmless."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- errors and transactions ---------------------------------------------------------------

    def _unwritable(self, reason: str) -> StoreError:
        return StoreError(
            f"Cannot create or write the conversation store {self._name} ({reason}); check the "
            "directory's permissions or set TUICHAT_DATA_DIR to another directory."
        )

    def _locked(self) -> StoreError:
        return StoreError(
            f"The conversation store {self._name} stayed locked by another tuichat for too "
            "long; try again in a moment."
        )

    def _translate(self, exc: sqlite3.Error) -> StoreError:
        message = str(exc).lower()
        if _is_locked(exc):
            return self._locked()
        if "disk is full" in message:
            return StoreError(
                f"The disk holding {self._name} is full; free some space and try again."
            )
        if "readonly" in message or "unable to open" in message or "permission" in message:
            return self._unwritable(str(exc))
        if isinstance(exc, sqlite3.DatabaseError) and (
            "malformed" in message or "not a database" in message
        ):
            return StoreUnusable(
                f"The conversation store {self._name} is damaged; move it aside (tuichat will "
                "start a new one) or set TUICHAT_DATA_DIR to use another directory."
            )
        return StoreError(
            f"The conversation store {self._name} failed ({exc}); if this keeps happening, move "
            "it aside or set TUICHAT_DATA_DIR to use another directory."
        )

    def _retry(self, operation: Callable[[], _T]) -> _T:
        delay = _LOCK_BACKOFF
        for attempt in range(_LOCK_RETRIES + 1):
            try:
                with self._lock:
                    return operation()
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc) or attempt == _LOCK_RETRIES:
                    raise
            # Sleep without the lock so this process's other threads are not stalled.
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _read(self, operation: Callable[[sqlite3.Connection], _T]) -> _T:
        try:
            return self._retry(lambda: operation(self._conn))
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    def _write(self, operation: Callable[[sqlite3.Connection], _T]) -> _T:
        conn = self._conn

        def transaction() -> _T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = operation(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return result

        try:
            return self._retry(transaction)
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc

    # -- conversations -------------------------------------------------------------------------

    def create_conversation(
        self,
        *,
        title: str = "",
        provider: str | None = None,
        model: str | None = None,
        system_prompt: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Conversation:
        """Create an empty conversation.

        Args:
            title: Title ('' until named).
            provider: Provider instance name.
            model: Model name.
            system_prompt: System prompt.
            params: Request parameters, stored as a JSON object.

        Returns:
            The new conversation.
        """
        params_json = _dump_params(params)
        now = self._clock()

        def insert(conn: sqlite3.Connection) -> Conversation:
            cursor = conn.execute(
                "INSERT INTO conversations (title, created_at, updated_at, provider, model, "
                "system_prompt, params) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (title, now, now, provider, model, system_prompt, params_json),
            )
            return self._fetch_conversation(conn, _rowid(cursor))

        return self._write(insert)

    def get_conversation(self, conversation_id: int) -> Conversation | None:
        """Return a conversation, or None if it does not exist.

        Args:
            conversation_id: Row id.

        Returns:
            The conversation or None.
        """
        return self._read(lambda conn: _maybe_conversation(conn, conversation_id))

    def list_conversations(
        self, *, limit: int = 100, offset: int = 0, archived: bool = False
    ) -> list[Conversation]:
        """Return one page of conversations for the sidebar, without reading any message.

        Args:
            limit: Page size.
            offset: Conversations to skip.
            archived: List archived conversations instead of the others.

        Returns:
            Pinned first, then most recently updated first (ties: newest id first).
        """

        def query(conn: sqlite3.Connection) -> list[Conversation]:
            rows = conn.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE archived = ? "
                "ORDER BY pinned DESC, updated_at DESC, id DESC LIMIT ? OFFSET ?",
                (int(archived), limit, offset),
            ).fetchall()
            return [_conversation(row) for row in rows]

        return self._read(query)

    def count_conversations(self, *, archived: bool = False) -> int:
        """Count conversations.

        Args:
            archived: Count archived conversations instead of the others.

        Returns:
            The number of conversations.
        """
        return self._read(
            lambda conn: int(
                conn.execute(
                    "SELECT COUNT(*) FROM conversations WHERE archived = ?", (int(archived),)
                ).fetchone()[0]
            )
        )

    def update_conversation(self, conversation_id: int, **fields: Any) -> Conversation:
        """Change some fields of a conversation.

        ``updated_at`` is bumped unless only ``draft`` changes (typing must not reorder the
        sidebar).

        Args:
            conversation_id: Row id.
            **fields: Any of title, provider, model, system_prompt, params, pinned, archived,
                draft.

        Returns:
            The updated conversation.

        Raises:
            ValueError: An unknown field, or None for title or draft.
            StoreError: The conversation does not exist (another window may have deleted it).
        """
        unknown = sorted(set(fields) - _CONVERSATION_FIELDS)
        if unknown:
            raise ValueError(
                f"Unknown conversation field(s): {', '.join(unknown)}; expected some of "
                f"{', '.join(sorted(_CONVERSATION_FIELDS))}."
            )
        values: dict[str, Any] = {}
        for name, value in fields.items():
            if name in ("title", "draft"):
                if not isinstance(value, str):
                    raise ValueError(f"Conversation {name} must be a string, not {value!r}.")
                values[name] = value
            elif name == "params":
                values[name] = _dump_params(value)
            elif name in ("pinned", "archived"):
                values[name] = int(bool(value))
            else:
                values[name] = value
        if values and set(values) != {"draft"}:
            values["updated_at"] = self._clock()

        def update(conn: sqlite3.Connection) -> Conversation:
            if values:
                assignments = ", ".join(f"{name} = ?" for name in values)
                conn.execute(
                    f"UPDATE conversations SET {assignments} WHERE id = ?",
                    (*values.values(), conversation_id),
                )
            return self._fetch_conversation(conn, conversation_id)

        return self._write(update)

    def rename_conversation(self, conversation_id: int, title: str) -> Conversation:
        """Set a conversation's title.

        Args:
            conversation_id: Row id.
            title: New title.

        Returns:
            The updated conversation.
        """
        return self.update_conversation(conversation_id, title=title)

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a conversation and all its messages (and their search index entries).

        Deleting a conversation that does not exist does nothing.

        Args:
            conversation_id: Row id.
        """
        self._write(
            lambda conn: conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        )

    def latest_conversation_id(self) -> int | None:
        """Return the most recently updated unarchived conversation, to resume it.

        Returns:
            Its id, or None when there is none.
        """

        def query(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(
                "SELECT id FROM conversations WHERE archived = 0 "
                "ORDER BY updated_at DESC, id DESC LIMIT 1"
            ).fetchone()
            return None if row is None else int(row[0])

        return self._read(query)

    def _fetch_conversation(self, conn: sqlite3.Connection, conversation_id: int) -> Conversation:
        conversation = _maybe_conversation(conn, conversation_id)
        if conversation is None:
            raise self._missing_conversation(conversation_id)
        return conversation

    def _missing_conversation(self, conversation_id: int) -> StoreError:
        return StoreError(
            f"Conversation {conversation_id} no longer exists; another tuichat window may have "
            "deleted it."
        )

    # -- messages ------------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str = "",
        *,
        status: str = "complete",
        provider: str | None = None,
        model: str | None = None,
        reasoning: str = "",
        meta: dict[str, Any] | None = None,
        parent_id: int | None | _Head = HEAD,
        attachments: Sequence[Attachment] = (),
    ) -> Message:
        """Append a message to a conversation and bump the conversation's ``updated_at``.

        The message follows the branch on show (its head) unless ``parent_id`` names another
        message, which starts an alternative branch there: that is how a prompt is edited
        and resent without losing the turns after it. Either way the new message becomes the
        conversation's head.

        Args:
            conversation_id: Owning conversation.
            role: ``system``, ``user`` or ``assistant``.
            content: Text.
            status: A :data:`MessageStatus` (``streaming`` for a reply being received).
            provider: Provider writing an assistant reply.
            model: Model writing an assistant reply.
            reasoning: Reasoning text.
            meta: Facts without a column of their own (a JSON object).
            parent_id: The message this one follows: :data:`HEAD` (the default) for the end
                of the branch on show, None to start the conversation anew, or a message id
                of this conversation.
            attachments: Files the message carries, in order; their bytes are stored once
                (by SHA-256) however many messages carry them.

        Returns:
            The new message; its position follows the conversation's last one (0 for the
            first).

        Raises:
            ValueError: An unknown role or status, or a parent from another conversation.
            StoreError: The conversation does not exist.
        """
        _check_role(role)
        _check_status(status)
        meta_json = _dump_object(meta, "Message meta")
        now = self._clock()

        def insert(conn: sqlite3.Connection) -> Message:
            # The write lock is held from BEGIN IMMEDIATE, so no other process can take the
            # same position (or move the head) between these reads and the insert.
            row = conn.execute(
                "SELECT head_id FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if row is None:
                raise self._missing_conversation(conversation_id)
            parent = row[0] if isinstance(parent_id, _Head) else parent_id
            if parent is not None:
                _check_owned(conn, conversation_id, parent)
            position = conn.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM messages WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()[0]
            cursor = conn.execute(
                "INSERT INTO messages (conversation_id, position, role, content, reasoning, "
                "status, provider, model, created_at, updated_at, parent_id, meta) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    position,
                    role,
                    content,
                    reasoning,
                    status,
                    provider,
                    model,
                    now,
                    now,
                    parent,
                    meta_json,
                ),
            )
            message_id = _rowid(cursor)
            _link_attachments(conn, message_id, attachments, now)
            conn.execute(
                "UPDATE conversations SET updated_at = ?, head_id = ? WHERE id = ?",
                (now, message_id, conversation_id),
            )
            message = _maybe_message(conn, message_id)
            assert message is not None
            return message

        return self._write(insert)

    def update_message(
        self,
        message_id: int,
        *,
        content: str | None = None,
        reasoning: str | None = None,
        status: str | None = None,
        finish_reason: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        ttft_ms: float | None = None,
        duration_ms: float | None = None,
        error: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        """Change the given (non-None) fields of a message and refresh its ``updated_at``.

        Used for the once-a-second checkpoint of a streaming reply and for finalising it. With
        no field given, only ``updated_at`` is refreshed: a heartbeat that keeps
        :meth:`recover_interrupted` in another window from claiming a live stream. A message
        that no longer exists (deleted by another window) is ignored.

        Args:
            message_id: Row id.
            content: Full text so far.
            reasoning: Full reasoning text so far.
            status: A :data:`MessageStatus`.
            finish_reason: The provider's stop reason.
            input_tokens: Prompt tokens.
            output_tokens: Completion tokens.
            ttft_ms: Time to first token, milliseconds.
            duration_ms: Total duration, milliseconds.
            error: Error sentence.
            meta: Replaces the message's meta object.

        Raises:
            ValueError: An unknown status.
        """
        if status is not None:
            _check_status(status)
        meta_json = None if meta is None else _dump_object(meta, "Message meta")
        given = {
            "content": content,
            "reasoning": reasoning,
            "status": status,
            "finish_reason": finish_reason,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "ttft_ms": ttft_ms,
            "duration_ms": duration_ms,
            "error": error,
            "meta": meta_json,
        }
        values = {name: value for name, value in given.items() if value is not None}
        values["updated_at"] = self._clock()
        assignments = ", ".join(f"{name} = ?" for name in values)
        self._write(
            lambda conn: conn.execute(
                f"UPDATE messages SET {assignments} WHERE id = ?",
                (*values.values(), message_id),
            )
        )

    def get_message(self, message_id: int) -> Message | None:
        """Return a message, or None if it does not exist.

        Args:
            message_id: Row id.

        Returns:
            The message or None.
        """
        return self._read(lambda conn: _maybe_message(conn, message_id))

    def messages(self, conversation_id: int) -> list[Message]:
        """Return the messages of the branch on show: the head and everything it follows.

        Alternatives (earlier versions of an edited prompt, regenerated replies) are left
        out; :meth:`all_messages` has them and :meth:`alternatives` finds them.

        Args:
            conversation_id: Owning conversation.

        Returns:
            The messages ordered by position ([] for an unknown conversation).
        """

        def query(conn: sqlite3.Connection) -> list[Message]:
            # Walk up from the head; the depth bound stops a (never written) cycle.
            rows = conn.execute(
                "WITH RECURSIVE branch(id, depth) AS ("
                " SELECT head_id, 0 FROM conversations WHERE id = ? AND head_id IS NOT NULL"
                " UNION ALL"
                " SELECT m.parent_id, branch.depth + 1 FROM messages AS m"
                " JOIN branch ON m.id = branch.id"
                " WHERE m.parent_id IS NOT NULL AND branch.depth < 1000000"
                f") SELECT {_MESSAGE_COLUMNS} FROM messages"
                " WHERE conversation_id = ? AND id IN (SELECT id FROM branch)"
                " ORDER BY position",
                (conversation_id, conversation_id),
            ).fetchall()
            return [_message(row) for row in rows]

        return self._read(query)

    def all_messages(self, conversation_id: int) -> list[Message]:
        """Return every message of a conversation, alternatives included.

        Args:
            conversation_id: Owning conversation.

        Returns:
            The messages ordered by position ([] for an unknown conversation).
        """

        def query(conn: sqlite3.Connection) -> list[Message]:
            rows = conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? "
                "ORDER BY position",
                (conversation_id,),
            ).fetchall()
            return [_message(row) for row in rows]

        return self._read(query)

    def cost_totals(self, conversation_ids: Sequence[int]) -> dict[int, CostTotal]:
        """What each conversation's replies cost, every branch included (each was paid
        for): one aggregate over the messages of these conversations, for a sidebar page.

        Args:
            conversation_ids: The conversations (a page: at most a few hundred).

        Returns:
            Their totals (a conversation without replies is left out); see
            :mod:`tuichat.costs` for what counts as unknown.
        """
        if not conversation_ids:
            return {}
        marks = ", ".join("?" * len(conversation_ids))

        def query(conn: sqlite3.Connection) -> list[tuple[int, float | None, int]]:
            # (The same rule as tuichat.costs.counts: a reply with text or output tokens;
            # a side request is only stored when it was billed.)
            return conn.execute(
                "SELECT conversation_id, SUM(cost), SUM(unknown) FROM ("
                "  SELECT conversation_id, cost, "
                "  cost IS NULL AND status != 'streaming' "
                "    AND (content != '' OR COALESCE(output_tokens, 0) > 0) AS unknown "
                "  FROM (SELECT conversation_id, status, content, output_tokens, "
                "        CASE WHEN json_type(meta, '$.cost') IN ('integer', 'real') "
                "             THEN json_extract(meta, '$.cost') END AS cost "
                f"       FROM messages WHERE role = 'assistant' AND conversation_id IN ({marks})) "
                "  UNION ALL "
                "  SELECT conversation_id, cost, cost IS NULL FROM side_costs "
                f"  WHERE conversation_id IN ({marks})"
                ") GROUP BY conversation_id",
                (*conversation_ids, *conversation_ids),
            ).fetchall()

        return {
            owner: CostTotal(known, int(unknown or 0))
            for owner, known, unknown in self._read(query)
        }

    def add_side_cost(self, conversation_id: int, spent: SideCost) -> None:
        """Keep what a request beyond the replies (a title, a summary) used and cost, for
        the conversation's totals.

        Args:
            conversation_id: The conversation it was made for.
            spent: Its purpose, provider, model, token counts and cost.

        Raises:
            StoreError: The conversation is gone, or the database cannot be written.
        """
        now = self._clock()

        def insert(conn: sqlite3.Connection) -> None:
            self._fetch_conversation(conn, conversation_id)
            conn.execute(
                "INSERT INTO side_costs (conversation_id, purpose, provider, model, "
                "input_tokens, output_tokens, cached_input_tokens, cost, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    spent.purpose,
                    spent.provider,
                    spent.model,
                    spent.input_tokens,
                    spent.output_tokens,
                    spent.cached_input_tokens,
                    spent.cost,
                    now,
                ),
            )

        self._write(insert)

    def side_costs(self, conversation_id: int) -> list[SideCost]:
        """What the requests beyond the replies of a conversation cost, oldest first."""

        def query(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(
                "SELECT purpose, provider, model, input_tokens, output_tokens, "
                "cached_input_tokens, cost FROM side_costs WHERE conversation_id = ? "
                "ORDER BY id",
                (conversation_id,),
            ).fetchall()

        return [SideCost(*row) for row in self._read(query)]

    def alternative_counts(self, conversation_id: int) -> dict[int, tuple[int, int]]:
        """For each message with alternatives: its rank among them and how many there are.

        Reads ids only, so showing "2/3" beside every branched message costs one query.

        Args:
            conversation_id: Owning conversation.

        Returns:
            ``{message_id: (n, of)}`` (1-based ``n``, creation order) for messages that
            share their parent with at least one other.
        """

        def query(conn: sqlite3.Connection) -> list[tuple[int, int | None]]:
            return conn.execute(
                "SELECT id, parent_id FROM messages WHERE conversation_id = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()

        siblings: dict[int | None, list[int]] = {}
        for message_id, parent_id in self._read(query):
            siblings.setdefault(parent_id, []).append(message_id)
        counts: dict[int, tuple[int, int]] = {}
        for group in siblings.values():
            if len(group) > 1:
                for rank, message_id in enumerate(group, start=1):
                    counts[message_id] = (rank, len(group))
        return counts

    def alternatives(self, message_id: int) -> list[Message]:
        """Return a message and its alternatives: the messages that follow the same one.

        Args:
            message_id: Row id.

        Returns:
            Them in creation order, the message itself included ([] if it does not exist).
        """

        def query(conn: sqlite3.Connection) -> list[Message]:
            message = _maybe_message(conn, message_id)
            if message is None:
                return []
            rows = conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? "
                "AND parent_id IS ? ORDER BY position",
                (message.conversation_id, message.parent_id),
            ).fetchall()
            return [_message(row) for row in rows]

        return self._read(query)

    def children(self, message_id: int) -> list[Message]:
        """Return the messages that follow ``message_id`` directly (its replies, say).

        Args:
            message_id: Row id.

        Returns:
            Them in creation order ([] if there are none or the message does not exist).
        """

        def query(conn: sqlite3.Connection) -> list[Message]:
            rows = conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE parent_id = ? ORDER BY position",
                (message_id,),
            ).fetchall()
            return [_message(row) for row in rows]

        return self._read(query)

    def set_head(self, conversation_id: int, message_id: int | None) -> None:
        """Make ``message_id`` the last message on show (None: show no message).

        Used before regenerating a reply: the head moves back to the prompt, so the new
        reply becomes an alternative of the old one. Does not bump ``updated_at``.

        Args:
            conversation_id: Owning conversation.
            message_id: A message of that conversation, or None.

        Raises:
            ValueError: The message belongs to another conversation or does not exist.
        """

        def update(conn: sqlite3.Connection) -> None:
            if message_id is not None:
                _check_owned(conn, conversation_id, message_id)
            conn.execute(
                "UPDATE conversations SET head_id = ? WHERE id = ?", (message_id, conversation_id)
            )

        self._write(update)

    def show_branch(self, message_id: int) -> int | None:
        """Show the branch through ``message_id``: its newest continuation becomes the head.

        From the message, the newest follower is taken at each step down to a message
        nobody follows, which becomes the conversation's head. Switching to an alternative
        and opening a search hit in an old branch both go through here.

        Args:
            message_id: Row id.

        Returns:
            The new head, or None when the message does not exist.
        """

        def update(conn: sqlite3.Connection) -> int | None:
            message = _maybe_message(conn, message_id)
            if message is None:
                return None
            head = message.id
            while True:
                row = conn.execute(
                    "SELECT id FROM messages WHERE parent_id = ? ORDER BY position DESC LIMIT 1",
                    (head,),
                ).fetchone()
                if row is None:
                    break
                head = int(row[0])
            conn.execute(
                "UPDATE conversations SET head_id = ? WHERE id = ?",
                (head, message.conversation_id),
            )
            return head

        return self._write(update)

    def delete_message(self, message_id: int) -> None:
        """Delete a message (and its search index entry); a missing one is ignored.

        What followed it now follows its parent, so deleting a message never cuts a
        branch off; a head that was this message moves to its parent.

        Args:
            message_id: Row id.
        """

        def delete(conn: sqlite3.Connection) -> None:
            message = _maybe_message(conn, message_id)
            if message is None:
                return
            conn.execute(
                "UPDATE messages SET parent_id = ? WHERE parent_id = ?",
                (message.parent_id, message_id),
            )
            conn.execute(
                "UPDATE conversations SET head_id = ? WHERE id = ? AND head_id = ?",
                (message.parent_id, message.conversation_id, message_id),
            )
            conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))

        self._write(delete)

    # -- attachments ---------------------------------------------------------------------------

    def attachment_infos(self, conversation_id: int) -> dict[int, list[AttachmentInfo]]:
        """The attachments of every message of a conversation, without their bytes.

        One query, reading no blob: what the log needs to show names, kinds and sizes.

        Args:
            conversation_id: Owning conversation.

        Returns:
            ``{message_id: [info, ...]}`` in the order given, for messages that have some.
        """

        def query(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(
                "SELECT l.message_id, l.name, a.kind, a.media_type, a.size, a.sha256, a.width,"
                " a.height FROM message_attachments AS l"
                " JOIN attachments AS a ON a.id = l.attachment_id"
                " JOIN messages AS m ON m.id = l.message_id"
                " WHERE m.conversation_id = ? ORDER BY l.message_id, l.position",
                (conversation_id,),
            ).fetchall()

        infos: dict[int, list[AttachmentInfo]] = {}
        for message_id, *fields in self._read(query):
            infos.setdefault(message_id, []).append(AttachmentInfo(*fields))
        return infos

    def message_attachments(self, message_ids: Iterable[int]) -> dict[int, list[Attachment]]:
        """The attachments of ``message_ids`` with their bytes: for building a request.

        Args:
            message_ids: Message row ids.

        Returns:
            ``{message_id: [attachment, ...]}`` in the order given, for messages that
            have some.
        """
        ids = sorted(set(message_ids))
        if not ids:
            return {}

        def query(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            marks = ", ".join("?" * len(ids))
            return conn.execute(
                "SELECT l.message_id, l.name, a.kind, a.media_type, a.data, a.width, a.height"
                " FROM message_attachments AS l JOIN attachments AS a ON a.id = l.attachment_id"
                f" WHERE l.message_id IN ({marks}) ORDER BY l.message_id, l.position",
                ids,
            ).fetchall()

        found: dict[int, list[Attachment]] = {}
        for message_id, name, kind, media_type, data, width, height in self._read(query):
            found.setdefault(message_id, []).append(
                Attachment(name, kind, media_type, bytes(data), width, height)
            )
        return found

    def attachment_hashes(self) -> set[str]:
        """The SHA-256 of every attachment stored (each is stored once)."""
        return self._read(
            lambda conn: {row[0] for row in conn.execute("SELECT sha256 FROM attachments")}
        )

    def recover_interrupted(self, stale_after: float = 5.0) -> int:
        """Mark replies left ``streaming`` by a crashed tuichat as ``interrupted``.

        Only rows not written for ``stale_after`` seconds are claimed: another live tuichat
        may be streaming into the same file; it checkpoints every half second, and
        refreshes the row every 2 s while the model is silent (``tuichat.chat``).

        Args:
            stale_after: Seconds without a checkpoint after which a stream is dead.

        Returns:
            How many messages were marked.
        """
        now = self._clock()
        return self._write(
            lambda conn: (
                conn.execute(
                    "UPDATE messages SET status = 'interrupted', updated_at = ? "
                    "WHERE status = 'streaming' AND updated_at < ?",
                    (now, now - stale_after),
                ).rowcount
            )
        )

    def mark_interrupted(self, message_ids: list[int], error: str) -> int:
        """Mark replies still ``streaming`` as ``interrupted`` with ``error``, text as saved.

        For tuichat's watchdog (:mod:`tuichat.sentinel`), ending a tuichat whose main loop
        cannot save its own replies any more.

        Args:
            message_ids: The replies that were streaming.
            error: The sentence saying why they stopped.

        Returns:
            How many messages were marked (one already finalised is left as it is).
        """
        now = self._clock()
        marks = ", ".join("?" for _ in message_ids)
        if not message_ids:
            return 0
        return self._write(
            lambda conn: (
                conn.execute(
                    "UPDATE messages SET status = 'interrupted', error = ?, updated_at = ? "
                    f"WHERE status = 'streaming' AND id IN ({marks})",
                    (error, now, *message_ids),
                ).rowcount
            )
        )

    # -- search --------------------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 50) -> list[SearchHit]:
        """Full-text search over message content.

        The raw text is safe: see :func:`fts_query`. Matching ignores case and diacritics and
        treats the last word as a prefix.

        Args:
            query: What the person typed.
            limit: Most hits returned.

        Returns:
            Hits from the most recently updated conversations first, in message order within
            a conversation; [] for an empty query.
        """
        expression = fts_query(query)
        if not expression:
            return []

        def run(conn: sqlite3.Connection) -> list[SearchHit]:
            rows = conn.execute(
                "SELECT m.conversation_id, c.title, m.id, m.position, m.role, "
                "snippet(messages_fts, 0, '«', '»', '…', ?) "
                "FROM messages_fts "
                "JOIN messages AS m ON m.id = messages_fts.rowid "
                "JOIN conversations AS c ON c.id = m.conversation_id "
                "WHERE messages_fts MATCH ? "
                "ORDER BY c.updated_at DESC, c.id DESC, m.position LIMIT ?",
                (_SNIPPET_TOKENS, expression, limit),
            ).fetchall()
            return [
                SearchHit(
                    conversation_id=row[0],
                    conversation_title=row[1],
                    message_id=row[2],
                    position=row[3],
                    role=row[4],
                    snippet=row[5],
                )
                for row in rows
            ]

        return self._read(run)

    def recent_prompts(self, *, limit: int = 1000) -> list[str]:
        """Every prompt ever sent, newest first, each text once (the app's Ctrl+R).

        Walks the messages from the newest row back (the rowid order, no sort) and
        stops at ``limit`` distinct prompts, so the time follows ``limit``, not the
        size of the store.

        Args:
            limit: Most prompts returned.

        Returns:
            The prompts' texts; blank ones left out.
        """

        def run(conn: sqlite3.Connection) -> list[str]:
            found: dict[str, None] = {}
            cursor = conn.execute(
                "SELECT content FROM messages WHERE role = 'user' ORDER BY id DESC"
            )
            while len(found) < limit:
                rows = cursor.fetchmany(256)
                if not rows:
                    break
                for (content,) in rows:
                    if content.strip() and content not in found:
                        found[content] = None
                        if len(found) >= limit:
                            break
            cursor.close()
            return list(found)

        return self._read(run)

    # -- settings ------------------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        """Return a value the app kept (the theme picked, cached model lists...).

        Args:
            key: Its name.
            default: Returned when it was never set or cannot be read.

        Returns:
            The JSON value stored, or ``default``.
        """
        row = self._read(
            lambda conn: conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        )
        if row is None:
            return default
        try:
            return json.loads(row[0])
        except ValueError:
            # A hand-edited or damaged value is as good as none.
            return default

    def set_setting(self, key: str, value: Any) -> None:
        """Keep a JSON-serialisable value under ``key`` (None deletes it).

        Args:
            key: Its name.
            value: The value.
        """
        if value is None:
            self._write(lambda conn: conn.execute("DELETE FROM settings WHERE key = ?", (key,)))
            return
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        now = self._clock()
        self._write(
            lambda conn: conn.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (key, text, now),
            )
        )


# -- row helpers -----------------------------------------------------------------------------


def _is_locked(exc: BaseException) -> bool:
    message = str(exc).lower()
    return "database is locked" in message or "database table is locked" in message


def _rowid(cursor: sqlite3.Cursor) -> int:
    rowid = cursor.lastrowid
    assert rowid is not None
    return rowid


def _link_attachments(
    conn: sqlite3.Connection, message_id: int, attachments: Sequence[Attachment], now: float
) -> None:
    for position, attachment in enumerate(attachments):
        digest = attachment.sha256
        conn.execute(
            "INSERT INTO attachments (sha256, kind, media_type, size, width, height, created_at,"
            " data) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
            (
                digest,
                attachment.kind,
                attachment.media_type,
                attachment.size,
                attachment.width,
                attachment.height,
                now,
                attachment.data,
            ),
        )
        conn.execute(
            "INSERT INTO message_attachments (message_id, position, attachment_id, name)"
            " SELECT ?, ?, id, ? FROM attachments WHERE sha256 = ?",
            (message_id, position, attachment.name, digest),
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"Unknown message role {role!r}; expected one of {sorted(ROLES)}.")


def _check_status(status: str) -> None:
    if status not in MESSAGE_STATUSES:
        raise ValueError(
            f"Unknown message status {status!r}; expected one of {sorted(MESSAGE_STATUSES)}."
        )


def _dump_params(params: dict[str, Any] | None) -> str:
    return _dump_object(params, "Conversation params")


def _dump_object(value: dict[str, Any] | None, what: str) -> str:
    if value is None:
        return "{}"
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a dict, not {type(value).__name__}.")
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _check_owned(conn: sqlite3.Connection, conversation_id: int, message_id: int) -> None:
    row = conn.execute(
        "SELECT conversation_id FROM messages WHERE id = ?", (message_id,)
    ).fetchone()
    if row is None or row[0] != conversation_id:
        raise ValueError(f"Message {message_id} is not part of conversation {conversation_id}.")


def _load_params(text: str | None) -> dict[str, Any]:
    # A hand-edited or damaged value must not stop the conversation from opening.
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _conversation(row: tuple[Any, ...]) -> Conversation:
    return Conversation(
        id=row[0],
        title=row[1],
        created_at=row[2],
        updated_at=row[3],
        provider=row[4],
        model=row[5],
        system_prompt=row[6],
        params=_load_params(row[7]),
        pinned=bool(row[8]),
        archived=bool(row[9]),
        draft=row[10],
        head_id=row[11],
    )


_MESSAGE_NAMES = tuple(name.strip() for name in _MESSAGE_COLUMNS.split(","))


def _message(row: tuple[Any, ...]) -> Message:
    fields = dict(zip(_MESSAGE_NAMES, row, strict=True))
    fields["meta"] = _load_params(fields["meta"])
    return Message(**fields)


def _maybe_conversation(conn: sqlite3.Connection, conversation_id: int) -> Conversation | None:
    row = conn.execute(
        f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)
    ).fetchone()
    return None if row is None else _conversation(row)


def _maybe_message(conn: sqlite3.Connection, message_id: int) -> Message | None:
    row = conn.execute(
        f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
    ).fetchone()
    return None if row is None else _message(row)
