"""The pure parts of `benchmarks/targets.py`, on fixed inputs (no timing asserted)."""

from __future__ import annotations

import re

import pytest

from benchmarks.bare_input import mirror
from benchmarks.targets import (
    Measurement,
    Row,
    count_marker,
    cpu_seconds_from_stat,
    format_ratio,
    markdown_table,
    median_p95,
    parse_control_line,
    peak_mb_from_status,
    visible_text,
)


def test_output_notifications_are_unescaped() -> None:
    """tmux's octal escapes become bytes again; UTF-8 passes through; other lines are not output."""
    line = b"%output %0 \\033[4;1H\\033[1m1,265\\033[0m of 2,000 \xc2\xb7 a\\134b\\015\\012"
    assert parse_control_line(line) == b"\x1b[4;1H\x1b[1m1,265\x1b[0m of 2,000 \xc2\xb7 a\\b\r\n"
    assert parse_control_line(b"%begin 1796222795 304 0") is None
    assert parse_control_line(b"%output %12 ") == b""


def test_visible_text_drops_escape_sequences() -> None:
    """Colours, cursor moves, titles and controls go; the text, joined, stays."""
    data = (
        b"\x1b[4;1H\x1b[48;2;36;47;56m \x1b[0m\x1b[1;38;2;167;171;175m1,265\x1b[0m of 2,000 records"
    )
    assert visible_text(data) == " 1,265 of 2,000 records"
    assert visible_text(b"\x1b]0;title\x07a\x1b=b\x1b[?25lc\r\n") == "abc\n"


def test_count_marker_matches_the_whole_count() -> None:
    """ "265 of" must not match "1,265 of"."""
    marker = count_marker(265, 100_000)
    assert marker.search(" 265 of 100,000 records  ·  sorted")
    assert not marker.search("1,265 of 100,000 records")
    assert count_marker(1265, 100_000).search("1,265 of 100,000 records")


def test_measurement_waits_for_the_marker_then_for_quiet() -> None:
    """First output, expected change and settled are told apart, in milliseconds from the key."""
    m = Measurement(10.0, re.compile(re.escape(mirror("le"))), quiet=0.05)
    m.feed(10.004, b"\x1b[2;1Hle")  # the input's echo
    assert m.hit is None and not m.settled(10.2)
    m.feed(10.030, b"\x1b[4;1H[l")  # the label, split across two notifications
    m.feed(10.031, b"e]")
    assert not m.settled(10.060)
    assert m.wait(10.060, deadline=20.0) == pytest.approx(0.021)
    assert m.settled(10.082)
    timing = m.timing()
    assert (timing.first, timing.changed, timing.settled) == (4.0, 31.0, 31.0)


def test_measurement_without_output_times_out_without_figures() -> None:
    """A key that shows nothing has no change and no settled time."""
    m = Measurement(0.0, re.compile("x"), quiet=0.05)
    m.timed_out = True
    assert m.timing().changed is None and m.timing().settled is None


def test_proc_files_are_read() -> None:
    """utime + stime from /proc/PID/stat (a name with spaces and parentheses); VmHWM in MB."""
    stat = "4242 (python (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 3 0 99"
    assert cpu_seconds_from_stat(stat, 100) == 3.0
    assert peak_mb_from_status("Name:\tpython\nVmHWM:\t  204800 kB\nVmRSS:\t1 kB\n") == 200.0
    assert peak_mb_from_status("Name:\tzombie\n") is None


def test_table_and_ratios_are_formatted() -> None:
    """A Markdown table with escaped pipes, ratios to two figures, missed targets in bold."""
    table = markdown_table(
        [
            Row("`refdeck stats`", "0.210 s, 40 MB", "0.150 s at 1,000", 1.4, "≤3x", True),
            Row("a | b", "12 ms", ratio=14.25, target="≤1.5x", met=False),
            Row("Bare Input", "5 ms"),
        ],
        "100,000 records",
    )
    assert table.splitlines() == [
        "| What | 100,000 records | Compared with | Ratio | Target | Met |",
        "|---|---|---|---|---|---|",
        "| `refdeck stats` | 0.210 s, 40 MB | 0.150 s at 1,000 | 1.40x | ≤3x | yes |",
        "| a \\| b | 12 ms |  | 14.2x | ≤1.5x | **no** |",
        "| Bare Input | 5 ms |  |  |  |  |",
    ]
    assert format_ratio(None) == ""


def test_median_and_p95() -> None:
    """Nearest rank: the 95th percentile of 1..20 is 20, the median 10.5."""
    assert median_p95([float(n) for n in range(1, 21)]) == (10.5, 20.0)
