"""refdeck in a real terminal (tmux): start it, search, open a record, read the screen."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from tests.conftest import ROOT
from tests.terminal.tmux import TmuxTerminal


def refdeck_command(*args: str) -> list[str]:
    """The command a user runs, with this test's Python."""
    return [sys.executable, "-m", "tui", *args]


def start_on_samples(terminal: TmuxTerminal, home: Path) -> None:
    """Start refdeck on the sample aggregator records, with a throwaway home, and wait for it."""
    env = {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    terminal.start(refdeck_command("sample_records/aggregator"), env=env, cwd=ROOT)
    terminal.wait(r"8 of 8 records")


def test_search_open_and_return_at_80x24(terminal: TmuxTerminal, tmp_path: Path) -> None:
    """Type a search, open the record, see its details, go back, quit."""
    start_on_samples(terminal, tmp_path)
    terminal.keys("/")
    terminal.type("leukemia relapse")
    screen = terminal.wait(r"1 of 8 records")
    assert "Adomako et al." in screen
    terminal.keys("Enter", "Enter")
    screen = terminal.wait(r"10\.1016/j\.molmed\.2025\.04\.005")
    assert "Acute lymphoblastic leukemia relapse" in screen
    assert "JCR Q1" in screen
    terminal.keys("Escape")
    screen = terminal.wait(r"1 of 8 records")
    assert "leukemia relapse" in screen  # the search is kept
    terminal.keys("q")
    assert terminal.wait_exit()
    # Browsing files never creates the user's library.
    assert not (tmp_path / "data" / "refdeck" / "library.json").exists()


def test_copy_doi_lands_in_the_tmux_buffer(terminal: TmuxTerminal, tmp_path: Path) -> None:
    """Open a record, press y: tmux's buffer holds exactly the DOI; Y gives the DOI URL."""
    start_on_samples(terminal, tmp_path)
    terminal.keys("/")
    terminal.type("a:adomako")
    terminal.wait(r"1 of 8 records")
    terminal.keys("Enter")
    terminal.keys("Enter")
    terminal.wait(r"10\.1016/j\.molmed\.2025\.04\.005")
    terminal.keys("y")
    terminal.wait(r"Copied 10\.1016/j\.molmed\.2025\.04\.005")  # the toast says what it did
    assert terminal.clipboard() == "10.1016/j.molmed.2025.04.005"
    terminal.keys("Y")
    assert _clipboard_becomes(terminal, "https://doi.org/10.1016/j.molmed.2025.04.005")


def test_copy_bibtex_lands_in_the_tmux_buffer(terminal: TmuxTerminal, tmp_path: Path) -> None:
    """Open a record, press b: tmux's buffer holds its BibTeX entry, DOI included."""
    start_on_samples(terminal, tmp_path)
    terminal.keys("/")
    terminal.type("a:adomako")
    terminal.wait(r"1 of 8 records")
    terminal.keys("Enter")
    terminal.keys("Enter")
    terminal.wait(r"10\.1016/j\.molmed\.2025\.04\.005")
    terminal.keys("b")
    # The toast wraps "Copied the BibTeX entry of / adomako2025acute to the tmux clipboard".
    terminal.wait(r"Copied the BibTeX entry of\s*$")
    terminal.wait(r"adomako2025acute to the tmux")
    buffer = terminal.clipboard() or ""
    assert buffer.startswith("@article{adomako2025acute,\n")
    assert "doi = {10.1016/j.molmed.2025.04.005}" in buffer


def _clipboard_becomes(terminal: TmuxTerminal, expected: str, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if terminal.clipboard() == expected:
            return True
        time.sleep(0.05)
    raise AssertionError(f"the tmux buffer holds {terminal.clipboard()!r}, not {expected!r}")


def test_record_escapes_never_reach_the_terminal(terminal: TmuxTerminal, tmp_path: Path) -> None:
    """Records holding OSC 52, OSC 8, OSC 0, CSI and bidi overrides, put in the library without
    the importer's cleaning: the bytes refdeck writes to a real pane carry none of them."""
    from tui.library import RecordStore
    from tui.models import Author, Record, Source

    library = tmp_path / "library.json"
    RecordStore.open(library).upsert(
        [
            Record(
                title="Copy me \x1b]52;c;aGk=\x07 now \u202eevil\u202c and \x9b31m red",
                authors=(Author(family="Clear\x1b[2JScreen", given="\x1b]0;pwned\x07Ann"),),
                journal="Journal \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ of tests",
                abstract="Abstract \x1b]52;c;aGk=\x1b\\ with \u2066isolate\u2069 text.",
                doi="10.5555/hostile.1",
                year=2026,
                source=(Source("test", "hostile"),),
            )
        ]
    )
    output = tmp_path / "pane-output"
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    # A short pause before refdeck starts, so that recording is on before its first byte.
    command = " ".join(refdeck_command("--db", str(library)))
    terminal.start(["sh", "-c", f"sleep 0.5; exec {command}"], env=env, cwd=ROOT)
    terminal.record_output(output)
    terminal.wait(r"1 of 1 records")
    terminal.keys("Enter")
    terminal.wait(r"10\.5555/hostile\.1")
    terminal.keys("y")
    terminal.wait(r"Copied 10\.5555/hostile\.1")
    terminal.keys("Escape")  # apart from the next key: Esc then q in one burst reads as Alt+q
    terminal.wait(r"1 of 1 records")
    terminal.keys("q")
    assert terminal.wait_exit()
    written = output.read_bytes()
    assert b"Copy me" in written and b"Journal" in written  # the recording worked
    for payload in (
        b"\x1b]52;c;aGk=",  # the record's clipboard write
        b"\x1b]0;pwned",  # the record's window title
        b"\x9b",  # a one-byte CSI
        "\u202e".encode(),  # a bidi override
        "\u2066".encode(),  # a bidi isolate
    ):
        assert payload not in written, payload
    assert b"\x1b[2JScreen" not in written
    assert not re.search(rb"\x1b\]8;[^\x07\x1b]*evil", written)  # no link to the record's URL
    assert terminal.clipboard() == "10.5555/hostile.1"
