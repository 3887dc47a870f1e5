"""How fast the browser is at 10,000 and 100,000 records. Reports figures; asserts nothing.

    .venv/bin/python -m benchmarks.browser [--sizes 10000,100000] [--workdir /tmp/refdeck-bench]

For each size: the time from process start to the first screen with rows (in a
real terminal, tmux), keystroke-to-updated-list latency over a series of typed
queries (headless through Pilot, and for a check in tmux), peak RSS, and the
time until a mark is durable on disk. Beside them, the floor: the time of
`python -c "import textual.app"` on the same machine in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.synthetic import build_library
from tests.terminal.tmux import TmuxTerminal
from tui.atomic import file_signature

QUERIES = [
    "leukemia relapse",
    "smith cohort",
    "a:nunez sepsis",
    "microbiota immune",
    "year:2020 vaccine",
]
"""Typed one character at a time, as a person types."""


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the values lie."""
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def floor_seconds(runs: int = 5) -> float:
    """Median time to start Python and import Textual: no browser can start faster."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import textual.app"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def first_screen_seconds(library: Path, count: int, runs: int = 3) -> tuple[float, float | None]:
    """Median seconds from starting `refdeck` in tmux to its first screen with rows; peak RSS (MB)."""
    times, rss = [], None
    label = f"{count:,} records"  # the first rows show "N records"; the full list "M of N records"
    for run in range(runs):
        terminal = TmuxTerminal(Path(f"/tmp/refdeck-bench-{os.getpid()}-{run}"), (100, 30))
        start = time.perf_counter()
        terminal.start([sys.executable, "-m", "tui", "--db", str(library)])
        try:
            terminal.wait(label, timeout=120)
            times.append(time.perf_counter() - start)
            if run == runs - 1:
                rss = _peak_rss_after_indexing(terminal)
        finally:
            terminal.stop()
    return statistics.median(times), rss


def _peak_rss_after_indexing(terminal: TmuxTerminal) -> float | None:
    """Peak RSS of the refdeck process once it has indexed the abstracts too."""
    done = terminal._tmux("display-message", "-p", "-t", terminal.name, "#{pane_pid}", check=False)
    pid = done.stdout.strip()
    time.sleep(1)
    deadline = time.monotonic() + 120
    previous = -1.0
    while time.monotonic() < deadline:  # wait until memory stops growing (indexing done)
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        peak = next(
            float(line.split()[1]) / 1024
            for line in status.splitlines()
            if line.startswith("VmHWM")
        )
        if peak == previous:
            return peak
        previous = peak
        time.sleep(3)
    return previous


async def _pilot_latencies(library: Path) -> dict[str, Any]:
    """Keystroke latency through Pilot, after the word index is built; mark durability."""
    from tui.app import BibApp
    from tui.library import RecordStore
    from tui.screens import RecordListScreen

    app = BibApp(RecordStore.open(library))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RecordListScreen)
        deadline = time.monotonic() + 300
        while screen.index.words is None and time.monotonic() < deadline:
            await asyncio.sleep(0.2)  # rows, then the metadata index, then the word index
        await screen.workers.wait_for_complete()
        await pilot.pause()
        handler: list[float] = []
        original = screen.refresh_results

        def timed(*args: Any, **kwargs: Any) -> None:
            start = time.perf_counter()
            original(*args, **kwargs)
            handler.append((time.perf_counter() - start) * 1000)

        screen.refresh_results = timed  # type: ignore[method-assign]
        presses: list[float] = []
        await pilot.press("slash")
        for query in QUERIES:
            for char in query:
                start = time.perf_counter()
                await pilot.press("space" if char == " " else char)
                presses.append((time.perf_counter() - start) * 1000)
            for _ in query:
                await pilot.press("backspace")
        await pilot.press("escape")
        signature = file_signature(library)
        start = time.perf_counter()
        await pilot.press("space")
        returned = (time.perf_counter() - start) * 1000
        durable = None
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:
            if file_signature(library) != signature:
                durable = time.perf_counter() - start
                break
            await asyncio.sleep(0.05)
        await screen.workers.wait_for_complete()
    return {
        "presses": presses,
        "handler": handler,
        "mark_returned_ms": returned,
        "mark_durable_s": durable,
    }


def tmux_latencies(library: Path, count: int) -> list[float]:
    """Keystroke-to-updated-count latency in a real terminal (polling: a coarse check)."""
    terminal = TmuxTerminal(Path(f"/tmp/refdeck-bench-keys-{os.getpid()}"), (100, 30))
    terminal.start([sys.executable, "-m", "tui", "--db", str(library)])
    latencies = []
    try:
        terminal.wait(f"of {count:,} records", timeout=120)
        time.sleep(35 if count >= 100_000 else 5)  # let the words and abstracts be indexed
        terminal.keys("/")
        for query in QUERIES[:2]:
            for n in range(1, len(query) + 1):
                before = terminal.screen().splitlines()[3]
                start = time.perf_counter()
                terminal.type(query[n - 1])
                deadline = start + 5
                while time.perf_counter() < deadline:
                    lines = terminal.screen().splitlines()
                    if len(lines) > 3 and lines[3] != before or query[:n] in lines[1]:
                        break
                latencies.append((time.perf_counter() - start) * 1000)
            terminal.keys("C-u")
            time.sleep(0.3)
    finally:
        terminal.stop()
    return latencies


def main() -> None:
    """Build the libraries if needed, measure, and print a report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--workdir", default="/tmp/refdeck-bench")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    floor = floor_seconds()
    print(f"floor: python -c 'import textual.app' = {floor:.3f} s (median of 5)")
    for count in (int(size) for size in args.sizes.split(",")):
        library = workdir / f"library-{count}.json"
        start = time.perf_counter()
        build_library(library, count)
        print(
            f"\n{count:,} records ({library.stat().st_size / 1e6:.0f} MB library, built or reused in {time.perf_counter() - start:.0f} s)"
        )
        first, rss = first_screen_seconds(library, count)
        print(f"  first screen with rows (tmux): {first:.3f} s = {first / floor:.1f}x the floor")
        if rss is not None:
            print(f"  peak RSS after indexing abstracts: {rss:.0f} MB")
        pilot = asyncio.run(_pilot_latencies(library))
        for name in ("presses", "handler"):
            values = pilot[name]
            what = "keystroke to idle (Pilot)" if name == "presses" else "search+sort+show handler"
            print(
                f"  {what}: median {statistics.median(values):.1f} ms, "
                f"p95 {percentile(values, 0.95):.1f} ms, max {max(values):.1f} ms ({len(values)} keys)"
            )
        durable = pilot["mark_durable_s"]
        print(
            f"  mark: returned in {pilot['mark_returned_ms']:.1f} ms, on disk after "
            + (f"{durable:.2f} s" if durable is not None else "more than 120 s")
        )
        keys = tmux_latencies(library, count)
        print(
            f"  keystroke to updated screen (tmux, polled): median {statistics.median(keys):.0f} ms, "
            f"p95 {percentile(keys, 0.95):.0f} ms"
        )


if __name__ == "__main__":
    main()
