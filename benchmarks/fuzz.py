"""Fuzzing every importer for minutes: the checks of the fuzz tests, run long. Reports figures.

    .venv/bin/python -m benchmarks.fuzz [--minutes 5] [--seed 1] [--formats bibtex,ris]
    .venv/bin/python -m benchmarks.fuzz --replay 1:4711

The importers take turns. Example N of a run with seed S is drawn from
`random.Random("S:N")`, so `--replay S:N` runs that one example again and shows
its mutations and what each entry point returned. The mutations and the
contract are those of `tests/unit/test_fuzz_importers.py` (`tests/fuzzing.py`).

Reported per format: examples run, failing examples (each distinct problem
once, with the id that replays it), the slowest parse, the slowest parse per MB
of input, and parses slower than the budget (2 s + 5 s per MB). The exit status
is 1 when any example failed.
"""

from __future__ import annotations

import argparse
import faulthandler
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.fuzzing import (
    FORMAT_NAMES,
    RandomPicker,
    Verdict,
    examine,
    hang_limit,
    mutate,
    seeds_of,
    time_budget,
)

STUCK_SECONDS = 3 * hang_limit(5_000_000)
"""No example's input reaches 5 MB; an example running this long is stuck where a timer cannot reach."""
PER_MB_FROM = 100_000
"""Seconds per MB are reported for inputs of at least this many bytes; below, start-up noise dominates."""


@dataclass
class Tally:
    """Figures for one format."""

    examples: int = 0
    failed: int = 0
    parses: int = 0
    slow: int = 0
    seconds: float = 0.0
    slowest: tuple[float, int, str] = (0.0, 0, "")
    """Seconds, bytes and replay id of the slowest parse."""
    worst_per_mb: tuple[float, int, str] = (0.0, 0, "")
    """Seconds per MB, bytes and replay id of the slowest parse of a large input."""
    problems: Counter[str] = field(default_factory=Counter)
    first_seen: dict[str, str] = field(default_factory=dict)
    """Problem kind -> the replay id and full text of its first example."""


def example(seed: int, number: int, formats: tuple[str, ...]) -> Verdict:
    """Draw and run example `number` of the run with `seed`."""
    pick = RandomPicker(random.Random(f"{seed}:{number}"))
    fmt = formats[number % len(formats)]
    return examine(pick, mutate(pick, pick.choice(seeds_of(fmt))))


def _kind(problem: str) -> str:
    """A problem without its numbers and quoted text: examples of one bug share it."""
    problem = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", problem)
    return re.sub(r"\d+", "N", problem)[:140]


def record(tally: Tally, verdict: Verdict, replay: str) -> None:
    """Add one example's figures to its format's tally."""
    tally.examples += 1
    size = len(verdict.mutated.data)
    for run in verdict.runs:
        tally.parses += 1
        tally.seconds += run.seconds
        if run.seconds > tally.slowest[0]:
            tally.slowest = (run.seconds, size, replay)
        if size >= PER_MB_FROM and run.seconds / (size / 1e6) > tally.worst_per_mb[0]:
            tally.worst_per_mb = (run.seconds / (size / 1e6), size, replay)
        if run.seconds > time_budget(size):
            tally.slow += 1
    if verdict.problems:
        tally.failed += 1
        new = False
        for problem in verdict.problems:
            kind = _kind(problem)
            tally.problems[kind] += 1
            if kind not in tally.first_seen:
                tally.first_seen[kind] = f"--replay {replay}\n{verdict.describe()}"
                new = True
        if new:
            print(f"\nFAILED {replay}:\n{verdict.describe()}\n", flush=True)


def report(tallies: dict[str, Tally], elapsed: float) -> None:
    """Print the figures of a run."""
    total = sum(t.examples for t in tallies.values())
    failed = sum(t.failed for t in tallies.values())
    print(
        f"\n{total:,} examples in {elapsed / 60:.1f} min ({total / elapsed:.1f}/s), {failed} failed"
    )
    header = f"{'format':<13}{'examples':>9}{'failed':>8}{'parses':>8}{'slow':>6}  {'slowest parse':<34}slowest per MB (inputs >= 100 KB)"
    print(header)
    for name, t in tallies.items():
        seconds, size, replay = t.slowest
        slowest = f"{seconds:.2f} s, {size / 1e3:,.0f} KB ({replay})"
        per_mb, big, big_replay = t.worst_per_mb
        worst = f"{per_mb:.2f} s/MB, {big / 1e6:.2f} MB ({big_replay})" if big else "-"
        print(
            f"{name:<13}{t.examples:>9,}{t.failed:>8}{t.parses:>8,}{t.slow:>6}  {slowest:<34}{worst}"
        )
    for name, t in tallies.items():
        for kind, count in t.problems.most_common():
            print(f"\n{name}: {count} x {kind}\n  first: {t.first_seen[kind]}")


def replay(ident: str, formats: tuple[str, ...]) -> int:
    """Run one example again and show what each entry point did."""
    seed, number = (int(part) for part in ident.split(":"))
    verdict = example(seed, number, formats)
    print(verdict.describe())
    for run in verdict.runs:
        outcome = (
            f"{len(run.result.records)} records, {len(run.result.issues)} issues"
            if run.result is not None
            else f"raised {type(run.error).__name__}: {run.error}"
        )
        print(f"\n{run.entry}: {outcome} in {run.seconds:.3f} s")
        for issue in run.result.issues[:20] if run.result is not None else ():
            print(f"  {issue}")
    return 1 if verdict.problems else 0


def main() -> None:
    """Fuzz for the given minutes and print a report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", default=",".join(FORMAT_NAMES))
    parser.add_argument("--replay", metavar="SEED:N", help="run one example again")
    args = parser.parse_args()
    formats = tuple(args.formats.split(","))
    if args.replay:
        sys.exit(replay(args.replay, formats))
    tallies = {name: Tally() for name in formats}
    start = time.perf_counter()
    deadline = start + args.minutes * 60
    next_progress = start + 60
    number = 0
    while time.perf_counter() < deadline:
        # The Hang timer cannot interrupt a C call that never returns; this at least
        # prints where it is stuck (far beyond three parses' hang limits).
        faulthandler.dump_traceback_later(STUCK_SECONDS)
        verdict = example(args.seed, number, formats)
        faulthandler.cancel_dump_traceback_later()
        record(tallies[formats[number % len(formats)]], verdict, f"{args.seed}:{number}")
        number += 1
        if time.perf_counter() > next_progress:
            next_progress += 60
            failed = sum(t.failed for t in tallies.values())
            minutes = (time.perf_counter() - start) / 60
            print(f"... {number:,} examples, {failed} failed, {minutes:.0f} min", flush=True)
    report(tallies, time.perf_counter() - start)
    sys.exit(1 if any(t.failed for t in tallies.values()) else 0)


if __name__ == "__main__":
    main()
