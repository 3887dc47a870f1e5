"""Putting text on a clipboard from a terminal, wherever the terminal is.

Researchers copy DOIs over SSH, inside tmux, on machines with no X server,
where `pyperclip` alone fails. The strategies, in order:

1. Inside tmux: `tmux load-buffer -w -`, which sets tmux's buffer and, through
   tmux, the outer terminal's clipboard, even with tmux's default
   `set-clipboard external` (which drops an application's own OSC 52).
2. A local clipboard (a display, not over SSH): `pyperclip`, in a thread with
   a 2 s timeout, because xclip and wl-copy can hang.
3. Otherwise OSC 52 through the terminal (Textual's `copy_to_clipboard`);
   it cannot be confirmed, and the message says so.

Every failure falls through to the next strategy; nothing here raises.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tui.normalize import strip_controls

OSC52_LIMIT = 64 * 1024
"""Terminals drop or truncate larger OSC 52 writes (some far smaller); refuse above this."""
TIMEOUT = 2.0
"""Seconds a clipboard helper (tmux, xclip, wl-copy) may take before it is given up."""
STRATEGIES = ("auto", "tmux", "system", "osc52")
"""Values of the config's `clipboard` setting."""


@dataclass(frozen=True, slots=True)
class CopyResult:
    """What a copy did, in words for the user."""

    ok: bool
    method: str
    """"tmux", "system", "osc52" or "none"."""
    message: str


def _run_with_timeout(function: Callable[[], None], timeout: float) -> bool:
    """Run `function` in a daemon thread; False when it raised or did not finish in time."""
    outcome: list[bool] = []

    def target() -> None:
        try:
            function()
            outcome.append(True)
        except Exception:  # noqa: BLE001 - any clipboard failure falls through to the next strategy
            outcome.append(False)

    thread = threading.Thread(target=target, daemon=True, name="refdeck-clipboard")
    thread.start()
    thread.join(timeout)
    return bool(outcome and outcome[0])


def copy_with_tmux(text: str, env: Mapping[str, str]) -> bool:
    """Load `text` into tmux's buffer and, with `-w`, the outer terminal's clipboard."""
    tmux = shutil.which("tmux", path=env.get("PATH"))
    if not env.get("TMUX") or tmux is None:
        return False
    try:
        done = subprocess.run(
            [tmux, "load-buffer", "-w", "-"],
            input=text.encode("utf-8"),
            env=dict(env),
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def has_local_clipboard(env: Mapping[str, str]) -> bool:
    """A clipboard pyperclip can reach: a local display, not a session over SSH."""
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return False
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def copy_with_pyperclip(text: str) -> bool:
    """Copy with pyperclip, giving up after `TIMEOUT` (xclip can hang) or on any error."""
    import pyperclip  # deferred: only needed on desktops

    # pyperclip.is_available() is no probe (it turns True after a failed call): just try.
    return _run_with_timeout(lambda: pyperclip.copy(text), TIMEOUT)


def describe_size(size: int) -> str:
    """A byte count for a message, rounded up so it never looks within a limit it exceeds."""
    return f"{size:,} bytes" if size < 1024 else f"{math.ceil(size / 1024):,} KB"


def copy_text(
    text: str,
    label: str,
    osc52: Callable[[str], None] | None,
    strategy: str = "auto",
    env: Mapping[str, str] | None = None,
) -> CopyResult:
    """Copy `text`, trying the strategies in order; `label` names it in the message.

    `osc52` writes the OSC 52 sequence (the app's `copy_to_clipboard`).
    """
    env = os.environ if env is None else env
    # What is copied gets pasted into shells and editors: no escape sequence may ride along.
    text = strip_controls(text)
    size = len(text.encode("utf-8"))
    if size > OSC52_LIMIT:
        # Refused whatever the strategy: the same copy must not work in tmux and fail over SSH.
        return CopyResult(
            False,
            "none",
            f"Not copied: {label} would be {describe_size(size)}, more than terminals accept "
            f"({describe_size(OSC52_LIMIT)}); press e to export to a file",
        )
    if strategy in ("auto", "tmux") and copy_with_tmux(text, env):
        return CopyResult(True, "tmux", f"Copied {label} to the tmux clipboard")
    if (
        strategy in ("auto", "system")
        and (strategy == "system" or has_local_clipboard(env))
        and copy_with_pyperclip(text)
    ):
        return CopyResult(True, "system", f"Copied {label} to the system clipboard")
    if osc52 is not None:
        osc52(text)
        return CopyResult(
            True,
            "osc52",
            f"Sent {label} to the terminal clipboard (OSC 52); if pasting does not work, "
            "your terminal may not allow OSC 52",
        )
    return CopyResult(False, "none", f"Could not copy {label}; select it on screen")
