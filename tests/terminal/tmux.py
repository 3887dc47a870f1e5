"""Drive a program in a real terminal: a detached tmux pane we type into and read.

The same idea as a person at a keyboard: start the program, press keys, wait
for text to appear, read the screen, and read what it copied (OSC 52 lands in
tmux's paste buffer when `set-clipboard` is on).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


class TerminalTimeout(AssertionError):
    """The screen did not show what was expected in time."""


class TmuxTerminal:
    """One tmux server (its own socket) running one program in a pane of a fixed size."""

    def __init__(self, socket: Path, size: tuple[int, int] = (80, 24)) -> None:
        self.socket = socket
        self.size = size
        self.name = "refdeck-test"

    @staticmethod
    def available() -> bool:
        """Whether tmux is installed."""
        return shutil.which("tmux") is not None

    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=20,
        )

    def start(
        self, command: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        """Start `command` in a detached pane."""
        cols, rows = self.size
        env_args = [arg for key, value in (env or {}).items() for arg in ("-e", f"{key}={value}")]
        self._tmux(
            "-f", "/dev/null", "new-session", "-d", "-s", self.name,
            "-x", str(cols), "-y", str(rows),
            "-e", "TERM=xterm-256color", "-e", "COLORTERM=truecolor", *env_args,
            *(["-c", str(cwd)] if cwd else []),
            *command,
        )  # fmt: skip
        self._tmux("set-option", "-g", "set-clipboard", "on")
        self._tmux("set-option", "-s", "escape-time", "0")
        self._tmux("set-option", "-t", self.name, "remain-on-exit", "on")

    def record_output(self, path: Path) -> None:
        """Append every byte the program writes to the pane to `path` (tmux `pipe-pane`)."""
        self._tmux("pipe-pane", "-t", self.name, "-o", f"cat >> '{path}'")

    def keys(self, *keys: str) -> None:
        """Press keys by tmux name (Enter, Escape, C-p, Down) or single characters."""
        self._tmux("send-keys", "-t", self.name, *keys)

    def type(self, text: str) -> None:
        """Type text literally."""
        self._tmux("send-keys", "-t", self.name, "-l", "--", text)

    def screen(self, history: bool = False) -> str:
        """The visible screen as text; with `history`, the scrollback above it too.

        A program that prints and exits needs `history`: when the pane dies, tmux
        moves to the bottom row and feeds a line to write "Pane is dead", which
        scrolls the top row off the screen.
        """
        scrollback = ["-S", "-"] if history else []
        return self._tmux("capture-pane", "-p", *scrollback, "-t", self.name, check=False).stdout

    def wait(self, pattern: str, timeout: float = 15.0, history: bool = False) -> str:
        """Wait until the screen (with `history`, its scrollback too) matches `pattern`."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen(history)
            if regex.search(screen):
                return screen
            time.sleep(0.02)
        raise TerminalTimeout(f"{pattern!r} did not appear in {timeout} s; screen:\n{screen}")

    def wait_gone(self, pattern: str, timeout: float = 15.0) -> str:
        """Wait until the screen no longer matches `pattern`."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if not regex.search(screen):
                return screen
            time.sleep(0.02)
        raise TerminalTimeout(f"{pattern!r} still shown after {timeout} s; screen:\n{screen}")

    def clipboard(self) -> str | None:
        """What the program copied through OSC 52 (tmux's newest buffer), if anything."""
        done = self._tmux("show-buffer", check=False)
        return done.stdout if done.returncode == 0 else None

    def alive(self) -> bool:
        """Whether the program is still running."""
        done = self._tmux("display-message", "-p", "-t", self.name, "#{pane_dead}", check=False)
        return done.stdout.strip() == "0"

    def wait_exit(self, timeout: float = 10.0) -> bool:
        """Wait for the program to end; True when it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        """End the pane, its program and the tmux server."""
        self._tmux("kill-server", check=False)
