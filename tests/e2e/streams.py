"""A slow provider for end-to-end tests: an OpenAI stream whose tokens leave on a clock.

Each token is sent after a fixed pause and the moment it leaves is recorded, so a test
can tell exactly which text tuichat had received before it was killed, and so how much
of it the store lost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tests.e2e.tmux import TmuxError, TmuxSession
from tuichat.testing.server import Delay, Gate, Response, Step, WireServer
from tuichat.testing.sse import sse_response
from tuichat.testing.wire import openai_chat_stream

#: The key the end-to-end tests configure; nothing tuichat writes may contain it.
E2E_KEY = "sk-e2e-canary-5d8e1f0a9b7c"

#: Tokens sent before a held stream stops (see ``PacedReply.hold_after``).
HELD = 40


class Stamp(Gate):
    """A step that notes the time the server reaches it, and never holds anything."""

    def __init__(self, times: list[float]) -> None:
        super().__init__()
        self._times = times

    @property
    def is_open(self) -> bool:
        """Always open; the first look records the time (the next frame leaves now)."""
        self._times.append(time.monotonic())
        return True


@dataclass
class PacedReply:
    """An OpenAI reply of numbered tokens sent at ``rate`` tokens a second.

    With ``hold_after``, the stream stops after that many tokens until :attr:`gate` is
    opened: a test then knows exactly what tuichat received, with no race.

    Attributes:
        tokens: The tokens, in order (``w0000 w0001 ...``).
        sent: When each token left the server (``time.monotonic()``), filled as it goes.
        gate: Holds the stream after ``hold_after`` tokens.
    """

    count: int = 1000
    rate: float = 50.0
    hold_after: int | None = None
    tokens: list[str] = field(init=False)
    sent: list[float] = field(default_factory=list)
    gate: Gate = field(default_factory=Gate)

    def __post_init__(self) -> None:
        self.tokens = [f"w{i:04d} " for i in range(self.count)]

    def response(self) -> Response:
        """The streaming response (use it once)."""
        frames = openai_chat_stream(self.tokens, model="gpt-4o-mini")
        steps: list[bytes | Step] = [frames[0]]
        for number, frame in enumerate(frames[1 : 1 + self.count]):
            if number == self.hold_after:
                steps.append(self.gate)
            steps += [Delay(1.0 / self.rate), Stamp(self.sent), frame]
        return sse_response(*steps, *frames[1 + self.count :])

    def saved_tokens(self, content: str) -> int:
        """How many whole tokens ``content`` holds; it must be a prefix of the reply."""
        full = "".join(self.tokens)
        assert full.startswith(content), f"stored text is not what was sent: {content[-40:]!r}"
        return len(content) // len(self.tokens[0])

    def text(self, n: int) -> str:
        """The first ``n`` tokens, as tuichat stores them."""
        return "".join(self.tokens[:n])

    def last_word(self, n: int) -> str:
        """The ``n``-th token without its space, as a screen shows it."""
        return self.tokens[n - 1].strip()

    def wait_shown(self, session: TmuxSession, n: int, timeout: float = 30.0) -> str:
        """Wait until ``session`` shows the ``n``-th token; the screen. A failure says
        how many tokens had left the server: a stalled stream or a stalled screen."""
        try:
            return session.wait_for(self.last_word(n), timeout=timeout)
        except TmuxError as exc:
            raise TmuxError(f"{exc}\n(the server had sent {len(self.sent)} tokens)") from None

    def wait_sent(self, n: int, timeout: float = 30.0) -> None:
        """Block until ``n`` tokens have left the server."""
        deadline = time.monotonic() + timeout
        while len(self.sent) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.sent)} of {n} tokens were sent")
            time.sleep(0.005)


def serve_paced(server: WireServer, reply: PacedReply) -> None:
    """Answer the OpenAI chat endpoint with ``reply``."""
    server.route("POST", "*/chat/completions", reply.response())


def openai_env(server: WireServer) -> dict[str, str]:
    """The variables pointing a tuichat process's openai provider at ``server``."""
    return {
        "OPENAI_API_KEY": E2E_KEY,
        "OPENAI_BASE_URL": f"{server.url}/v1",
        "TUICHAT_PROVIDER": "openai",
        "TUICHAT_UI__TITLE_FROM_MODEL": "false",
        "TUICHAT_UI__CURSOR_BLINK": "false",
    }
