"""Real-terminal tests need tmux; CI installs it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.terminal.tmux import TmuxTerminal


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[TmuxTerminal]:
    """A tmux terminal of 80x24 (resize with `terminal.size` before `start`)."""
    if not TmuxTerminal.available():
        pytest.skip("tmux is not installed (apt-get install tmux)")
    # A short socket path: Unix sockets have a ~100 byte limit.
    socket = Path("/tmp") / f"refdeck-tmux-{os.getpid()}-{tmp_path.name[-12:]}"
    term = TmuxTerminal(socket)
    yield term
    term.stop()
    socket.unlink(missing_ok=True)
