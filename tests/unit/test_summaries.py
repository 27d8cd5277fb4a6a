"""Long conversations: older turns summarised (or trimmed), on the wire and in the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tuichat import catalog, summaries
from tuichat.catalog import ProviderModels
from tuichat.chat import build_request
from tuichat.protocol import ModelInfo
from tuichat.store import Store
from tuichat.testing import WireServer, openai_chat_stream, sse_response

MODEL = "gpt-small"
LONG = "word " * 400  # about 500 estimated tokens each


def seed(data_dir: Path, window: int = 1500) -> int:
    with Store(data_dir / "tuichat.db") as store:
        conversation = store.create_conversation(provider="openai", model=MODEL)
        for n in range(3):
            store.add_message(conversation.id, "user", f"question {n} {LONG}")
            store.add_message(conversation.id, "assistant", f"answer {n} {LONG}")
        entry = ModelInfo(id=MODEL, provider="openai", context_window=window)
        catalog.save_cache(store, [ProviderModels("openai", (entry,))])
        return conversation.id


def ask(wire_server: WireServer, data_dir: Path, *args: str, **env: str):
    return subprocess.run(
        [sys.executable, "-m", "tuichat", "ask", *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "OPENAI_API_KEY": "sk-t",
            "OPENAI_BASE_URL": f"{wire_server.url}/v1",
            "TUICHAT_DATA_DIR": str(data_dir),
            **env,
        },
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def ask_summarising(wire_server: WireServer, data_dir: Path, *args: str, **env: str):
    """``ask -c [args] "next question"`` set to summarise all but the last two messages."""
    return ask(
        wire_server,
        data_dir,
        "-c",
        *args,
        "next question",
        TUICHAT_CONTEXT__WHEN_FULL="summarise",
        TUICHAT_CONTEXT__KEEP_RECENT="2",
        **env,
    )


def test_a_full_conversation_is_summarised_and_the_summary_sent_in_its_place(
    wire_server: WireServer, tmp_path: Path
) -> None:
    conversation = seed(tmp_path)
    wire_server.enqueue(sse_response(*openai_chat_stream(["They asked 3 questions."])))
    wire_server.enqueue(sse_response(*openai_chat_stream(["Fine."])))
    done = ask_summarising(wire_server, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "4 earlier message(s) were summarised by openai/gpt-small" in done.stderr
    summary_request, chat_request = (r.json() for r in wire_server.requests)
    # The summary request: the instructions, then the older turns as a transcript.
    assert summary_request["messages"][0] == {"role": "system", "content": summaries.INSTRUCTIONS}
    transcript = summary_request["messages"][1]["content"]
    assert (
        "question 0" in transcript and "answer 1" in transcript and "question 2" not in transcript
    )
    # The request after it: the summary after the system prompt, then what it did not cover.
    sent = chat_request["messages"]
    assert sent[0]["role"] == "system" and "They asked 3 questions." in sent[0]["content"]
    assert [m["content"][:10] for m in sent[1:]] == ["question 2", "answer 2 w", "next quest"]
    with Store(tmp_path / "tuichat.db") as store:
        stored = [m for m in store.messages(conversation) if summaries.is_summary(m)]
        assert [(m.content, m.meta["covers"]) for m in stored] == [("They asked 3 questions.", 4)]


def test_by_default_the_oldest_turns_are_left_out_and_ask_says_so(
    wire_server: WireServer, tmp_path: Path
) -> None:
    seed(tmp_path)
    wire_server.enqueue(sse_response(*openai_chat_stream(["Fine."])))
    done = ask(wire_server, tmp_path, "-c", "next question")
    assert done.returncode == 0, done.stderr
    [request] = wire_server.requests
    assert "question 0" not in str(request.json())
    assert "earlier message(s) were left out to fit the context window of gpt-small" in (
        done.stderr
    )


def test_a_summary_stands_in_for_what_it_covers_and_its_edit_is_what_is_sent(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "t.db") as store:
        conversation = store.create_conversation()
        store.add_message(conversation.id, "user", "old question")
        answer = store.add_message(conversation.id, "assistant", "old answer")
        store.add_message(conversation.id, "user", "recent question")
        store.add_message(conversation.id, "assistant", "recent answer")
        summary = store.add_message(
            conversation.id, "system", "gist", meta=summaries.meta(answer.id, 2, "p", "m")
        )
        store.update_message(summary.id, content="the edited gist")
        store.add_message(conversation.id, "user", "new")
        request, _ = build_request(store.messages(conversation.id), model="m", system="Rules.")
        assert request.system == f"Rules.\n\n{summaries.LEAD}\n\nthe edited gist"
        assert [m.content for m in request.messages] == ["recent question", "recent answer", "new"]
