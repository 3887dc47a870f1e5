"""Copy strategies, each with the others unavailable, and the messages that say what happened."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pyperclip
import pytest

from tui.clipboard import OSC52_LIMIT, copy_text

SICI = "10.1002/(SICI)1097-4636(199706)35:4<411::AID-JBM1>3.0.CO;2-X"


class Terminal:
    """Stands in for the app's OSC 52 writer."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, text: str) -> None:
        self.sent.append(text)


def fake_tmux(folder: Path, body: str) -> dict[str, str]:
    """A `tmux` on PATH that runs `body`; returns an environment that looks like inside tmux."""
    folder.mkdir(exist_ok=True)
    script = folder / "tmux"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{folder}:{os.environ['PATH']}", "TMUX": "/tmp/fake,1,0"}


def test_no_tmux_no_display_sends_osc52() -> None:
    """Over SSH with nothing else: OSC 52, and the message says it cannot be confirmed."""
    terminal = Terminal()
    result = copy_text(SICI, SICI, terminal, env={"PATH": "/nonexistent", "SSH_TTY": "/dev/pts/1"})
    assert terminal.sent == [SICI]
    assert result.method == "osc52"
    assert result.message.startswith(f"Sent {SICI} to the terminal clipboard (OSC 52)")


def test_inside_tmux_loads_the_buffer_exactly(tmp_path: Path) -> None:
    """In tmux: `tmux load-buffer -w -` gets the exact text, <, >, ; and ( included."""
    out = tmp_path / "buffer"
    env = fake_tmux(tmp_path / "bin", f'[ "$1 $2 $3" = "load-buffer -w -" ] && cat > {out}')
    terminal = Terminal()
    result = copy_text(SICI, SICI, terminal, env=env)
    assert result.method == "tmux" and result.ok
    assert out.read_text() == SICI
    assert terminal.sent == []
    assert result.message == f"Copied {SICI} to the tmux clipboard"


def test_a_hanging_tmux_is_given_up_and_osc52_used(tmp_path: Path) -> None:
    """A helper that never returns costs at most the timeout, then OSC 52 takes over."""
    env = fake_tmux(tmp_path / "bin", "sleep 30")
    terminal = Terminal()
    start = time.monotonic()
    result = copy_text("10.1000/x", "10.1000/x", terminal, env=env)
    assert time.monotonic() - start < 5
    assert result.method == "osc52" and terminal.sent == ["10.1000/x"]


def test_a_failing_tmux_falls_through(tmp_path: Path) -> None:
    """tmux exiting non-zero (no server) is not a success."""
    env = fake_tmux(tmp_path / "bin", "exit 1")
    result = copy_text("10.1000/x", "10.1000/x", Terminal(), env=env)
    assert result.method == "osc52"


def test_local_display_uses_pyperclip(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a display and no SSH, the system clipboard is used and confirmed."""
    copied: list[str] = []
    monkeypatch.setattr(pyperclip, "copy", copied.append)
    result = copy_text(
        "10.1000/x", "10.1000/x", Terminal(), env={"DISPLAY": ":0", "PATH": "/nonexistent"}
    )
    assert copied == ["10.1000/x"]
    assert result.method == "system"
    assert result.message == "Copied 10.1000/x to the system clipboard"


def test_pyperclip_raising_is_never_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyperclipException (no xclip) falls through to OSC 52."""

    def broken(text: str) -> None:
        raise pyperclip.PyperclipException("could not find a copy/paste mechanism")

    monkeypatch.setattr(pyperclip, "copy", broken)
    terminal = Terminal()
    result = copy_text(
        "10.1000/x", "10.1000/x", terminal, env={"DISPLAY": ":0", "PATH": "/nonexistent"}
    )
    assert result.method == "osc52" and terminal.sent == ["10.1000/x"]


def test_a_hanging_xclip_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyperclip stuck in xclip: at most the timeout, then OSC 52."""
    monkeypatch.setattr(pyperclip, "copy", lambda text: time.sleep(30))
    terminal = Terminal()
    start = time.monotonic()
    result = copy_text(
        "10.1000/x", "10.1000/x", terminal, env={"DISPLAY": ":0", "PATH": "/nonexistent"}
    )
    assert time.monotonic() - start < 3
    assert result.method == "osc52"


def test_over_ssh_a_forwarded_display_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """DISPLAY over SSH may point at the user's own screen: OSC 52 instead."""
    monkeypatch.setattr(pyperclip, "copy", lambda text: pytest.fail("pyperclip used over SSH"))
    env = {"DISPLAY": "localhost:10.0", "SSH_CONNECTION": "1 2 3 4", "PATH": "/nonexistent"}
    assert copy_text("10.1000/x", "10.1000/x", Terminal(), env=env).method == "osc52"


def test_too_large_for_a_terminal_is_refused() -> None:
    """Copies beyond what OSC 52 carries are refused with an offer to export."""
    terminal = Terminal()
    result = copy_text(
        "x" * (OSC52_LIMIT + 1), "everything", terminal, env={"PATH": "/nonexistent"}
    )
    assert not result.ok and terminal.sent == []
    assert "everything would be 65 KB, more than terminals accept (64 KB)" in result.message
    assert "press e to export to a file" in result.message


def test_configured_osc52_skips_tmux(tmp_path: Path) -> None:
    """clipboard = "osc52" in the config goes straight to the terminal."""
    out = tmp_path / "buffer"
    env = fake_tmux(tmp_path / "bin", f"cat > {out}")
    terminal = Terminal()
    assert copy_text("10.1000/x", "10.1000/x", terminal, "osc52", env).method == "osc52"
    assert not out.exists()
