"""Copying over SSH and inside tmux/screen: OSC 52 sequences and the native tools."""

from __future__ import annotations

import base64

from tuichat import clipboard


def test_osc52_is_base64_of_the_utf8_text() -> None:
    sequence = clipboard.osc52("héllo")
    assert sequence == "\x1b]52;c;" + base64.b64encode("héllo".encode()).decode() + "\x07"


def test_tmux_gets_the_bare_sequence_and_a_passthrough_copy() -> None:
    bare = clipboard.osc52("x")
    assert clipboard.osc52_sequences("x", {"TMUX": "/tmp/t,1,0"}) == [
        bare,
        "\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\",
    ]


def test_screen_gets_short_dcs_pieces() -> None:
    text = "y" * 500
    [wrapped] = clipboard.osc52_sequences(text, {"STY": "1.pts"})
    pieces = wrapped.split("\x1b\\")[:-1]
    assert all(p.startswith("\x1bP") and len(p) <= 2 + 76 for p in pieces)
    assert "".join(p[2:] for p in pieces) == clipboard.osc52(text)


def test_a_plain_terminal_gets_the_bare_sequence() -> None:
    assert clipboard.osc52_sequences("x", {}) == [clipboard.osc52("x")]


def test_native_tools_are_used_only_locally() -> None:
    found = {"xclip": "/usr/bin/xclip", "wl-copy": "/usr/bin/wl-copy", "pbcopy": "/bin/pbcopy"}
    which = found.get
    x11 = {"DISPLAY": ":0"}
    assert clipboard.native_command(x11, which=which, platform="linux") == [
        "xclip",
        "-selection",
        "clipboard",
    ]
    wayland = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    assert clipboard.native_command(wayland, which=which, platform="linux") == ["wl-copy"]
    assert clipboard.native_command({}, which=which, platform="darwin") == ["pbcopy"]
    over_ssh = {"DISPLAY": ":0", "SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}
    assert clipboard.native_command(over_ssh, which=which, platform="linux") is None
    assert clipboard.native_command(x11, which=lambda _: None, platform="linux") is None


def test_the_route_says_how_a_copy_travels_and_refuses_huge_texts() -> None:
    none = lambda _: None  # noqa: E731
    assert clipboard.route("x", {"TMUX": "1"}, which=none).describe() == "OSC 52 (tmux)"
    huge = "z" * (clipboard.MAX_OSC52_BYTES + 1)
    route = clipboard.route(huge, {}, which=none)
    assert route.osc52 == "" and route.describe() == "nothing"


def test_run_native_reports_failure_without_raising() -> None:
    assert clipboard.run_native(["/nonexistent/clipboard-tool"], "x") is False
    assert clipboard.run_native(["true"], "x") is True
