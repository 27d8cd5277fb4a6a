"""``tuichat ask -a``: files attached to the prompt, for each provider, end to end.

Each test runs the real command against the test kit's loopback server and reads the
request body the provider sent.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tuichat.testing import (
    PDF_MINIMAL,
    PNG_1X1,
    WireServer,
    anthropic_stream,
    gemini_stream,
    openai_chat_stream,
    sse_response,
)

PNG_B64 = base64.b64encode(PNG_1X1).decode()
PDF_B64 = base64.b64encode(PDF_MINIMAL).decode()


def ask(
    wire_server: WireServer,
    *args: str,
    stdin: bytes | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    environment = {
        **os.environ,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": f"{wire_server.url}/v1",
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": wire_server.url,
        "GEMINI_API_KEY": "gm-test",
        "GEMINI_BASE_URL": wire_server.url,
        "TUICHAT_LOAD_PLUGINS": "openai,anthropic,gemini",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "tuichat", "ask", *args],
        capture_output=True,
        input=stdin if stdin is not None else b"",
        env=environment,
        cwd=cwd,
        timeout=60,
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "dot.png").write_bytes(PNG_1X1)
    (tmp_path / "paper.pdf").write_bytes(PDF_MINIMAL)
    (tmp_path / "notes.md").write_text("# Notes\nuse ``` fences\n")
    return tmp_path


def test_openai_gets_the_image_the_pdf_and_the_text_in_order(
    wire_server: WireServer, files: Path
) -> None:
    wire_server.enqueue(sse_response(*openai_chat_stream(["Seen."])))
    done = ask(
        wire_server,
        "--no-save",
        "-m",
        "openai/gpt-4o-mini",
        "-a",
        "dot.png",
        "-a",
        "paper.pdf",
        "-a",
        "notes.md",
        "What are these?",
        cwd=files,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, b"Seen.", b"")
    (message,) = wire_server.last_request.json()["messages"]
    assert message == {
        "role": "user",
        "content": [
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
            {
                "type": "file",
                "file": {
                    "filename": "paper.pdf",
                    "file_data": f"data:application/pdf;base64,{PDF_B64}",
                },
            },
            {
                "type": "text",
                "text": "notes.md\n````markdown\n# Notes\nuse ``` fences\n````\n\nWhat are these?",
            },
        ],
    }


def test_anthropic_gets_blocks_before_the_text(wire_server: WireServer, files: Path) -> None:
    wire_server.enqueue(sse_response(*anthropic_stream(["Seen."])))
    done = ask(
        wire_server,
        "--no-save",
        "-m",
        "anthropic/claude-sonnet-4-5",
        "-a",
        "paper.pdf",
        "-a",
        "dot.png",
        "Compare",
        cwd=files,
    )
    assert (done.returncode, done.stdout) == (0, b"Seen.")
    (message,) = wire_server.last_request.json()["messages"]
    assert message["content"] == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64},
        },
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
        {"type": "text", "text": "Compare"},
    ]


def test_gemini_gets_inline_data_from_stdin(wire_server: WireServer) -> None:
    wire_server.enqueue(sse_response(*gemini_stream(["Seen."])))
    done = ask(
        wire_server, "--no-save", "-m", "gemini/gemini-2.5-flash", "-a", "-", "What?", stdin=PNG_1X1
    )
    assert (done.returncode, done.stdout) == (0, b"Seen.")
    assert wire_server.last_request.json()["contents"] == [
        {
            "role": "user",
            "parts": [
                {"inline_data": {"mime_type": "image/png", "data": PNG_B64}},
                {"text": "What?"},
            ],
        }
    ]


def test_text_from_stdin_is_named_stdin(wire_server: WireServer) -> None:
    wire_server.enqueue(sse_response(*openai_chat_stream(["ok"])))
    done = ask(
        wire_server,
        "--no-save",
        "-m",
        "openai/gpt-4o-mini",
        "-a",
        "-",
        "Why?",
        stdin=b"Traceback: boom\n",
    )
    assert done.returncode == 0
    (message,) = wire_server.last_request.json()["messages"]
    assert message["content"] == "stdin\n```\nTraceback: boom\n```\n\nWhy?"


def test_stdin_attachment_needs_the_prompt_as_an_argument(wire_server: WireServer) -> None:
    done = ask(wire_server, "--no-save", "-a", "-", stdin=PNG_1X1)
    assert done.returncode == 2
    assert done.stderr.decode().endswith(
        "With '-a -' stdin holds the attachment; give the prompt as an argument.\n"
    )
    assert wire_server.requests == []


def test_a_binary_file_of_another_kind_exits_2_naming_the_kinds_that_work(
    wire_server: WireServer, tmp_path: Path
) -> None:
    (tmp_path / "app.zip").write_bytes(b"PK\x03\x04\x00\x00\x00\xff")
    done = ask(wire_server, "--no-save", "-a", "app.zip", "What?", cwd=tmp_path)
    assert done.returncode == 2
    stderr = done.stderr.decode()
    assert stderr.count("\n") == 1
    assert "app.zip is not a file tuichat can attach" in stderr
    assert "PNG, JPEG, GIF and WebP images, PDF documents and UTF-8 text files" in stderr
    assert wire_server.requests == []


def test_a_missing_file_exits_2_in_one_line(wire_server: WireServer, tmp_path: Path) -> None:
    done = ask(wire_server, "--no-save", "-a", "gone.png", "What?", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        b"tuichat: gone.png does not exist; check the path.\n",
    )


def test_a_model_declared_without_vision_is_refused_before_sending(
    wire_server: WireServer, files: Path
) -> None:
    config = files / "config.toml"
    config.write_text(
        f'[providers.local]\nplugin = "openai"\nbase_url = "{wire_server.url}/v1"\nvision = false\n'
    )
    done = ask(
        wire_server,
        "-p",
        "local",
        "-m",
        "llava",
        "-a",
        "dot.png",
        "What?",
        cwd=files,
        env={"TUICHAT_CONFIG": str(config), "TUICHAT_DATA_DIR": str(files / "data")},
    )
    assert done.returncode == 2
    assert done.stderr.decode() == (
        "tuichat: local does not take images with model llava, so dot.png cannot be sent; "
        "leave it out or choose another model.\n"
    )
    assert wire_server.requests == []
    # Refused before anything was sent: no conversation, prompt or file is kept.
    with sqlite3.connect(files / "data" / "tuichat.db") as db:
        counts = [
            db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("conversations", "messages", "attachments")
        ]
    assert counts == [0, 0, 0]


def test_a_saved_turn_keeps_its_file_and_resends_it_with_the_next_prompt(
    wire_server: WireServer, files: Path
) -> None:
    env = {"TUICHAT_DATA_DIR": str(files / "data")}
    wire_server.enqueue(sse_response(*anthropic_stream(["A dot."])))
    first = ask(
        wire_server,
        "-m",
        "anthropic/claude-sonnet-4-5",
        "-a",
        "dot.png",
        "Look",
        cwd=files,
        env=env,
    )
    assert first.returncode == 0
    wire_server.enqueue(sse_response(*anthropic_stream(["Black."])))
    second = ask(wire_server, "-c", "What colour?", cwd=files, env=env)
    assert (second.returncode, second.stdout) == (0, b"Black.")
    messages = wire_server.last_request.json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"][0]["source"]["data"] == PNG_B64
    assert messages[2]["content"] == "What colour?"


def test_export_as_json_carries_the_saved_file(wire_server: WireServer, files: Path) -> None:
    env = {
        **os.environ,
        "TUICHAT_DATA_DIR": str(files / "data"),
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": f"{wire_server.url}/v1",
        "TUICHAT_LOAD_PLUGINS": "openai",
    }
    wire_server.enqueue(sse_response(*openai_chat_stream(["ok"])))
    subprocess.run(
        [sys.executable, "-m", "tuichat", "ask", "-a", "paper.pdf", "Read"],
        cwd=files,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
        input=b"",
    )
    exported = subprocess.run(
        [sys.executable, "-m", "tuichat", "export", "--format", "json"],
        cwd=files,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    (pdf,) = json.loads(exported.stdout)["messages"][0]["attachments"]
    assert (pdf["name"], pdf["media_type"], pdf["data"]) == (
        "paper.pdf",
        "application/pdf",
        PDF_B64,
    )
