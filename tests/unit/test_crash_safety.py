"""SIGKILL while writing a large library: it always opens, with every committed record."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.library_checks import assert_index_is_fresh
from tui.library import RecordStore
from tui.models import Author, Record

KILLS = 20
BASE_RECORDS = 4000

_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from tui.models import Author, Record
    from tui.library import RecordStore

    # A slow disk: the window between writing the temp file and renaming it is
    # where a kill hurts most, so make it wide enough for kills to land in it.
    _fsync = os.fsync
    def slow_fsync(fd):
        time.sleep(0.15)
        _fsync(fd)
    os.fsync = slow_fsync

    store = RecordStore.open(Path(sys.argv[1]))
    run = sys.argv[2]
    for batch in range(10_000):
        records = [
            Record(title=f"Run {run} batch {batch} paper {i}", doi=f"10.5555/{run}.{batch}.{i}",
                   authors=(Author(family="Writer"),), year=2001, abstract="x" * 800)
            for i in range(25)
        ]
        store.upsert(records)
        # Only after upsert returns is the batch committed: report it.
        print(batch, flush=True)
    """
)


def _base_records() -> list[Record]:
    return [
        Record(
            title=f"Base paper {i}",
            doi=f"10.5555/base.{i}",
            authors=(Author(family="Base", given="B"),),
            year=1990 + i % 30,
            abstract="Abstract text " * 60,
        )
        for i in range(BASE_RECORDS)
    ]


@pytest.mark.slow
def test_sigkill_during_writes_never_loses_committed_records(tmp_path: Path) -> None:
    """Kill a writer at random moments, many times; every acknowledged batch is there."""
    library = tmp_path / "library.json"
    RecordStore.open(library).upsert(_base_records())
    assert library.stat().st_size > 4_000_000
    rng = random.Random(20261126)
    committed: dict[str, int] = {}
    interrupted_writes = 0
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    for run in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(library), str(run)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        time.sleep(rng.uniform(0.8, 2.4))
        proc.send_signal(signal.SIGKILL)
        output, _ = proc.communicate(timeout=30)
        batches = [int(line) for line in output.split()]
        committed[str(run)] = len(batches)
        # A temp file left behind means the kill landed in the middle of a write.
        interrupted_writes += any(p.name.startswith(".refdeck-tmp-") for p in tmp_path.iterdir())

        store = RecordStore.open(library)  # must not raise: the file is whole
        titles = {record.title for record in store.all()}
        assert all(f"Base paper {i}" in titles for i in range(0, BASE_RECORDS, 97))
        for done_run, count in committed.items():
            for batch in range(count):
                assert f"Run {done_run} batch {batch} paper 24" in titles
    RecordStore.open(library).upsert([])  # the next write clears what the kills left
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".refdeck-tmp-")] == []
    # The test means something only if writes were really interrupted and really done.
    assert sum(committed.values()) >= KILLS
    assert interrupted_writes >= 3, interrupted_writes


@pytest.mark.slow
def test_sigkill_during_refdeck_import_leaves_before_or_after(tmp_path: Path) -> None:
    """`refdeck import` killed at random moments: the library is the one before or the one
    after the import, never in between, and it always opens. The import is one write."""
    from tui.atomic import atomic_write
    from tui.export import export_text

    library = tmp_path / "library.json"
    RecordStore.open(library).upsert(_base_records()[:3000])
    base = library.read_bytes()
    incoming = [
        Record(
            title=f"Incoming paper {i}",
            doi=f"10.5555/incoming.{i}",
            authors=(Author(family="Importer", given="I"),),
            year=2020,
            abstract="Incoming abstract " * 40,
        )
        for i in range(2000)
    ]
    ris = tmp_path / "incoming.ris"
    ris.write_text(export_text(incoming, "ris"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    rng = random.Random(20261127)
    outcomes: list[int] = []
    for _ in range(12):
        before = RecordStore.open(library).count()
        proc = subprocess.Popen(
            [sys.executable, "-m", "tui", "import", "--db", str(library), str(ris)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        time.sleep(rng.uniform(0.3, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        after = RecordStore.open(library).count()  # must not raise: the file is whole
        assert after in (before, 5000), (before, after)
        assert_index_is_fresh(library)
        outcomes.append(after)
        if after == 5000:
            # Start again from the old library, so later kills land in real imports too.
            atomic_write(library, base)
    RecordStore.open(library).upsert([])  # the next write clears what the kills left
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".refdeck-tmp-")] == []
    assert 3000 in outcomes, outcomes  # some kills did interrupt an import
