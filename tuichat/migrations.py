"""Numbered schema migrations of the conversation store, tracked by ``PRAGMA user_version``.

``MIGRATIONS[i]`` upgrades the schema from version ``i`` to version ``i + 1``. Each entry is
either an SQL script or a callable taking the connection. :func:`migrate` applies the pending
ones, each in its own ``BEGIN IMMEDIATE`` transaction, so a crash leaves the database at a
whole version and two processes opening a fresh file never both apply a step.

Never edit a released migration: append a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from tuichat.errors import StoreError

Migration = str | Callable[[sqlite3.Connection], None]

_V1 = """
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    created_at REAL,
    updated_at REAL,
    provider TEXT,
    model TEXT,
    system_prompt TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    pinned INTEGER NOT NULL DEFAULT 0,
    archived INTEGER NOT NULL DEFAULT 0,
    draft TEXT NOT NULL DEFAULT ''
);

-- Column order matches the sidebar's ORDER BY so a page is an index range scan, no sort.
CREATE INDEX conversations_list
    ON conversations (archived, pinned DESC, updated_at DESC, id DESC);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content TEXT NOT NULL DEFAULT '',
    reasoning TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'complete',
    provider TEXT,
    model TEXT,
    finish_reason TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    ttft_ms REAL,
    duration_ms REAL,
    error TEXT,
    created_at REAL,
    updated_at REAL,
    UNIQUE (conversation_id, position)
);

-- Tiny partial index: startup recovery finds streaming rows without scanning every message.
CREATE INDEX messages_streaming ON messages (updated_at) WHERE status = 'streaming';

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;

-- Streaming checkpoints rewrite status/timestamps every second: only a real content change
-- should pay for re-indexing.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
WHEN old.content IS NOT new.content BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
"""

# Version 2: branches, per-message metadata and a small settings table.
#
# A conversation becomes a tree: each message points at the one it answers or follows
# (``parent_id``) and the conversation remembers the last message of the branch on show
# (``head_id``). Editing a prompt or regenerating a reply adds a sibling instead of
# overwriting, so the turns after it survive as an alternative branch. ``position`` keeps
# its meaning (creation order, unique per conversation), so a branch read by position is
# still in conversation order: a child is always created after its parent.
#
# The backfill links the existing messages of each conversation in position order and
# points the head at the last one: a v1 conversation is a single branch.
_V2 = """
ALTER TABLE messages ADD COLUMN parent_id INTEGER;

-- Per-message facts that need no column of their own (how many turns a request left out).
ALTER TABLE messages ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';

ALTER TABLE conversations ADD COLUMN head_id INTEGER;

UPDATE messages SET parent_id = (
    SELECT previous.id FROM messages AS previous
    WHERE previous.conversation_id = messages.conversation_id
        AND previous.position < messages.position
    ORDER BY previous.position DESC LIMIT 1
);

UPDATE conversations SET head_id = (
    SELECT id FROM messages WHERE messages.conversation_id = conversations.id
    ORDER BY position DESC LIMIT 1
);

-- Children of a message (alternatives, following a branch down) without a scan.
CREATE INDEX messages_parent ON messages (parent_id);

-- Small app state kept with the conversations: the theme picked in the app, the model
-- lists fetched from each provider, the draft of a conversation not saved yet.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at REAL
) WITHOUT ROWID;
"""

# Version 3: files in the conversation.
#
# An attachment's bytes are stored once, under their SHA-256, however many messages
# carry them (the same screenshot sent in three conversations is one row), and in a
# table of their own: listing conversations and drawing the log never read a blob. A
# message refers to its attachments through ``message_attachments``, in the order they
# were given and under the name each was given (one file may be attached under two
# names). Deleting a message (or its conversation, by the cascade) deletes its links;
# the trigger then deletes the bytes no message refers to any more.
_V3 = """
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('image', 'document', 'text')),
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    created_at REAL,
    -- Last: reading the columns before it never loads the blob's overflow pages.
    data BLOB NOT NULL
);

CREATE TABLE message_attachments (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    attachment_id INTEGER NOT NULL REFERENCES attachments (id),
    name TEXT NOT NULL,
    PRIMARY KEY (message_id, position)
) WITHOUT ROWID;

CREATE INDEX message_attachments_attachment ON message_attachments (attachment_id);

CREATE TRIGGER attachments_unreferenced AFTER DELETE ON message_attachments
WHEN NOT EXISTS (SELECT 1 FROM message_attachments WHERE attachment_id = old.attachment_id)
BEGIN
    DELETE FROM attachments WHERE id = old.attachment_id;
END;
"""

# Version 4: what the requests beyond the replies cost.
#
# A conversation's title asked of the model and a summary of its older turns are paid for
# like replies but are not replies: each such request is a row here, with the tokens the
# provider reported and its cost (NULL when nobody can say: no price, or no counts), so
# the totals (sidebar, status bar, exports) add them. A row stays when the summary message
# it wrote is deleted (it was paid for) and goes with its conversation.
_V4 = """
CREATE TABLE side_costs (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('title', 'summary')),
    provider TEXT,
    model TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cached_input_tokens INTEGER,
    cost REAL,
    created_at REAL
);

CREATE INDEX side_costs_conversation ON side_costs (conversation_id);
"""

#: Every migration, oldest first; the schema version after ``MIGRATIONS[i]`` is ``i + 1``.
MIGRATIONS: list[Migration] = [_V1, _V2, _V3, _V4]

#: The schema version this tuichat writes.
LATEST_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    """Return the schema version recorded in the database.

    Args:
        conn: An open connection.

    Returns:
        The value of ``PRAGMA user_version`` (0 for a new or foreign database).
    """
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def newer_schema_error(version: int, *, path: str | None = None) -> StoreError:
    """Build the error for a database written by a newer tuichat.

    Args:
        version: The schema version found in the database.
        path: The database file, named in the message when given.

    Returns:
        A :class:`StoreError` whose message tells the person to upgrade.
    """
    where = f"The conversation store {path}" if path else "The conversation store"
    return StoreError(
        f"{where} was written by a newer tuichat (schema version {version}, this one knows up "
        f"to {LATEST_VERSION}); upgrade tuichat."
    )


def split_script(script: str) -> list[str]:
    """Split an SQL script into complete statements.

    ``executescript`` would commit first, which breaks the one-transaction-per-migration
    guarantee, so statements are run one by one; trigger bodies hold inner semicolons, hence
    :func:`sqlite3.complete_statement` rather than a plain split.

    Args:
        script: Semicolon-separated SQL.

    Returns:
        The statements, each ending with a semicolon; blank and comment-only pieces dropped.
    """
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if _has_code(pending):
                statements.append(pending.strip())
            pending = ""
    if _has_code(pending.rstrip(";")):
        raise ValueError(f"Incomplete SQL statement at the end of a migration: {pending!r}")
    return statements


def _has_code(sql: str) -> bool:
    for line in sql.splitlines():
        stripped = line.split("--", 1)[0].strip().strip(";")
        if stripped:
            return True
    return False


def migrate(conn: sqlite3.Connection, *, path: str | None = None) -> int:
    """Apply every pending migration, each in its own ``BEGIN IMMEDIATE`` transaction.

    Args:
        conn: A connection in autocommit mode (``isolation_level=None``), outside a transaction.
        path: The database file, named in error messages when given.

    Returns:
        The schema version after migrating (always :data:`LATEST_VERSION`).

    Raises:
        StoreError: The database was written by a newer tuichat.
    """
    current = user_version(conn)
    if current > LATEST_VERSION:
        raise newer_schema_error(current, path=path)
    for version in range(current + 1, LATEST_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied this step while we waited for the write lock.
            found = user_version(conn)
            if found > LATEST_VERSION:
                raise newer_schema_error(found, path=path)
            if found < version:
                step = MIGRATIONS[version - 1]
                if isinstance(step, str):
                    for statement in split_script(step):
                        conn.execute(statement)
                else:
                    step(conn)
                conn.execute(f"PRAGMA user_version = {version:d}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return user_version(conn)
