"""Small sources in each format tuichat imports, built the way the programs write them.

ChatGPT: the shape of ``conversations.json`` in the data export (a ``mapping`` of nodes
with ``parent``/``children``, ``message.author.role``, ``content.content_type``/``parts``,
``metadata.model_slug``, ``recipient``, ``current_node``), as the open-source readers of
it read it (Elia's ``import_chatgpt.py``, mitkury/chatgpt-export-parser's format notes).
Claude: ``uuid``, ``name``, ``chat_messages`` with ``sender``, ``text`` and ``content``
blocks. The databases: the tables as llm, Elia and oterm create them (columns they do not
read are left out).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

T0 = 1_700_000_000.0


def gpt_node(
    node_id: str,
    parent: str | None,
    children: list[str],
    role: str | None,
    text: str = "",
    *,
    at: float = T0,
    content_type: str = "text",
    model: str | None = None,
    recipient: str = "all",
    hidden: bool = False,
) -> dict[str, Any]:
    """One node of a ChatGPT ``mapping`` (``role`` None: the root, which has no message)."""
    message = None
    if role is not None:
        metadata: dict[str, Any] = {}
        if model:
            metadata["model_slug"] = model
        if hidden:
            metadata["is_visually_hidden_from_conversation"] = True
        message = {
            "id": node_id,
            "author": {"role": role, "name": None, "metadata": {}},
            "create_time": at,
            "update_time": None,
            "content": {"content_type": content_type, "parts": [text]},
            "status": "finished_successfully",
            "end_turn": True if role == "assistant" else None,
            "weight": 1.0,
            "metadata": metadata,
            "recipient": recipient,
        }
    return {"id": node_id, "message": message, "parent": parent, "children": children}


def chatgpt_with_edits() -> dict[str, Any]:
    """A conversation where a prompt was edited and a reply regenerated.

    root -> system (hidden) -> u1 -> code (to python) -> output (tool) -> a1 -> u2 -> a2
                                                                          \\-> u2b -> a3
                                                                                  \\-> a3b
    ``current_node`` is a3: the person last looked at the first of the two replies.
    """
    nodes = [
        gpt_node("root", None, ["sys"], None),
        gpt_node("sys", "root", ["u1"], "system", "", hidden=True),
        gpt_node("u1", "sys", ["code"], "user", "What is 2+2? Use python.", at=T0 + 1),
        gpt_node(
            "code",
            "u1",
            ["out"],
            "assistant",
            "print(2+2)",
            at=T0 + 2,
            content_type="code",
            recipient="python",
            model="gpt-4o",
        ),
        gpt_node("out", "code", ["a1"], "tool", "4", at=T0 + 3, content_type="execution_output"),
        gpt_node("a1", "out", ["u2", "u2b"], "assistant", "It is 4.", at=T0 + 4, model="gpt-4o"),
        gpt_node("u2", "a1", ["a2"], "user", "And times 3?", at=T0 + 5),
        gpt_node("a2", "u2", [], "assistant", "12.", at=T0 + 6, model="gpt-4o"),
        gpt_node("u2b", "a1", ["a3", "a3b"], "user", "And times 5?", at=T0 + 7),
        gpt_node("a3", "u2b", [], "assistant", "20.", at=T0 + 8, model="gpt-4o"),
        gpt_node("a3b", "u2b", [], "assistant", "Twenty.", at=T0 + 9, model="gpt-4o"),
    ]
    return {
        "title": "Arithmetic",
        "create_time": T0,
        "update_time": T0 + 9,
        "mapping": {node["id"]: node for node in nodes},
        "moderation_results": [],
        "current_node": "a3",
        "conversation_id": "6f1c-edits",
        "id": "6f1c-edits",
    }


def chatgpt_linear(conversation_id: str, title: str, turns: int = 1) -> dict[str, Any]:
    """A conversation of ``turns`` prompts and replies, no branches."""
    nodes = [gpt_node("root", None, ["m0"], None)]
    for index in range(turns * 2):
        role = "user" if index % 2 == 0 else "assistant"
        nodes.append(
            gpt_node(
                f"m{index}",
                "root" if index == 0 else f"m{index - 1}",
                [f"m{index + 1}"] if index + 1 < turns * 2 else [],
                role,
                f"{title} message {index}",
                at=T0 + index,
                model="gpt-4o-mini" if role == "assistant" else None,
            )
        )
    return {
        "title": title,
        "create_time": T0,
        "update_time": T0 + turns * 2,
        "mapping": {node["id"]: node for node in nodes},
        "current_node": nodes[-1]["id"],
        "conversation_id": conversation_id,
    }


def claude_conversation() -> dict[str, Any]:
    """A Claude.ai conversation: a plain exchange, then a reply with a thinking block."""
    return {
        "uuid": "c0ffee-1",
        "name": "Haiku about tea",
        "created_at": "2024-05-01T10:00:00.000000Z",
        "updated_at": "2024-05-01T10:02:00.000000Z",
        "account": {"uuid": "acct"},
        "chat_messages": [
            {
                "uuid": "m1",
                "text": "Write a haiku about tea.",
                "content": [{"type": "text", "text": "Write a haiku about tea."}],
                "sender": "human",
                "created_at": "2024-05-01T10:00:00.000000Z",
                "attachments": [],
                "files": [],
            },
            {
                "uuid": "m2",
                "text": "",
                "content": [
                    {"type": "thinking", "thinking": "Five, seven, five."},
                    {"type": "text", "text": "Steam curls from the cup"},
                ],
                "sender": "assistant",
                "created_at": "2024-05-01T10:00:05.000000Z",
                "attachments": [],
                "files": [],
            },
            {
                "uuid": "m3",
                "text": "Thanks!",
                "sender": "human",
                "created_at": "2024-05-01T10:02:00.000000Z",
            },
        ],
    }


def llm_database(path: Path) -> Path:
    """An llm ``logs.db``: one conversation of two exchanges with a system prompt."""
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE conversations (id TEXT PRIMARY KEY, name TEXT, model TEXT);
            CREATE TABLE responses (
                id TEXT PRIMARY KEY, model TEXT, prompt TEXT, system TEXT, prompt_json TEXT,
                options_json TEXT, response TEXT, response_json TEXT,
                conversation_id TEXT REFERENCES conversations(id), duration_ms INTEGER,
                datetime_utc TEXT, input_tokens INTEGER, output_tokens INTEGER
            );
            INSERT INTO conversations VALUES ('01hconv', 'Capital cities', 'gpt-4o-mini');
            INSERT INTO responses (id, model, prompt, system, response, conversation_id,
                datetime_utc) VALUES
              ('01hr1', 'gpt-4o-mini', 'Capital of France?', 'Answer in one word.', 'Paris',
               '01hconv', '2024-06-01T12:00:00.000000'),
              ('01hr2', 'gpt-4o-mini', 'And of Italy?', NULL, 'Rome',
               '01hconv', '2024-06-01T12:01:00.000000');
            """
        )
    conn.close()
    return path


def elia_database(path: Path) -> Path:
    """An Elia ``elia.sqlite``: one chat with a system message."""
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE chat (id INTEGER PRIMARY KEY, model VARCHAR NOT NULL, title VARCHAR,
                started_at DATETIME, archived BOOLEAN NOT NULL DEFAULT 0);
            CREATE TABLE message (id INTEGER PRIMARY KEY, chat_id INTEGER REFERENCES chat(id),
                role VARCHAR NOT NULL, content VARCHAR NOT NULL, timestamp DATETIME,
                meta JSON, parent_id INTEGER REFERENCES message(id), model VARCHAR);
            INSERT INTO chat VALUES (1, 'gpt-4o', 'Rust lifetimes', '2024-07-01 09:00:00', 0);
            INSERT INTO message VALUES
              (1, 1, 'system', 'You are a Rust expert.', '2024-07-01 09:00:00', '{}', NULL, NULL),
              (2, 1, 'user', 'What is a lifetime?', '2024-07-01 09:00:01', '{}', 1, NULL),
              (3, 1, 'assistant', 'A scope for a borrow.', '2024-07-01 09:00:02', '{}', 2,
               'gpt-4o');
            """
        )
    conn.close()
    return path


def oterm_database(path: Path) -> Path:
    """An oterm ``store.db``: one chat; oterm's author names are ``me`` and ``ollama``."""
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE chat (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT,
                model TEXT NOT NULL, system TEXT, format TEXT, parameters TEXT DEFAULT '{}',
                keep_alive INTEGER DEFAULT 5, tools TEXT DEFAULT '[]');
            CREATE TABLE message (id INTEGER PRIMARY KEY AUTOINCREMENT,
                chat_id INTEGER NOT NULL REFERENCES chat(id) ON DELETE CASCADE,
                author TEXT NOT NULL, text TEXT NOT NULL, images TEXT DEFAULT '[]');
            INSERT INTO chat (id, name, model, system) VALUES (1, 'Llama talk', 'llama3.2', NULL);
            INSERT INTO message (chat_id, author, text) VALUES
              (1, 'me', 'Hello llama'), (1, 'ollama', 'Hello human');
            """
        )
    conn.close()
    return path
