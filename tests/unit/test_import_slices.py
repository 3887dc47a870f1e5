"""Big files are parsed a slice at a time, and an import holds its records compactly.

The promise: a file read in slices gives exactly what it gives read whole (the
same records, the same issues at the same lines), while only a slice of it is
parsed at a time; parsed records wait on disk, not as objects; and the store
merges them in batches, with the same outcome as all at once.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tui.formats
import tui.importing
from tests.conftest import DATA, SAMPLES, fixed_clock
from tests.fuzzing import HypothesisPicker, mutate, seeds_of, sliced_view
from tui.export import export_text
from tui.formats import ParseResult, read_file, slices
from tui.importing import ImportReport, RecordSpool, import_paths
from tui.library import RecordStore
from tui.models import Author, Record, Source

SLICEABLE_FILES = sorted(
    [
        *DATA.glob("ris/*.ris"),
        *DATA.glob("medline/*.nbib"),
        *DATA.glob("*/*.jsonl"),
        *SAMPLES.glob("ris/*.ris"),
        *SAMPLES.glob("medline/*.nbib"),
    ]
)


def _read(path: Path, *, sliced: bool, size: int, format: str = "") -> Any:
    """What `read_file` hands on for a file: records as documents, issues, counts, batches.

    With `format`, records are compared as the fuzz contract compares them
    (`tests.fuzzing.sliced_view`: MEDLINE without spaces).
    """
    batches: list[list[Record]] = []
    # Read whole: slices larger than any file. A file is sliced when it is over two slices.
    result = read_file(path, take=batches.append, slice_bytes=size if sliced else 1 << 40)
    docs = sliced_view([record for batch in batches for record in batch], format)
    outcome = (docs, [str(issue) for issue in result.issues], result.failed, result.count)
    return outcome, batches, result


def _same_sliced_and_whole(path: Path, size: int, about: object = None, format: str = "") -> int:
    whole, _, _ = _read(path, sliced=False, size=size, format=format)
    sliced, batches, _ = _read(path, sliced=True, size=size, format=format)
    assert sliced == whole, about
    return len(batches)


@pytest.mark.parametrize("path", SLICEABLE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("size", [200, 2_000])
def test_real_files_read_the_same_in_slices(path: Path, size: int) -> None:
    """RIS, MEDLINE (PubMed and ERIC) and JSON Lines from real exporters, cut small or not."""
    batches = _same_sliced_and_whole(path, size)
    if size == 200 and path.stat().st_size > 2_000:
        assert batches > 1  # it really was cut


def _concatenated(tmp_path: Path, pattern: str, suffix: str, damage: bytes) -> Path:
    """Every real file of a kind in one file, with a damaged record in the middle."""
    parts = [path.read_bytes().removeprefix(codecs.BOM_UTF8) for path in sorted(DATA.glob(pattern))]
    middle = len(parts) // 2 or 1
    data = b"\n".join([*parts[:middle], damage, *parts[middle:]] * 3)
    out = tmp_path / f"all{suffix}"
    out.write_bytes(data)
    return out


@pytest.mark.parametrize(
    ("pattern", "suffix", "damage"),
    [
        ("ris/*.ris", ".ris", b"TY  - JOUR\nN1  - no title, author or DOI\nER  - \n"),
        # One exporter: a file mixing wrap widths is read best in slices, so it would differ.
        (
            "medline/zotero-medline-pubmed.nbib",
            ".nbib",
            b"\nPMID- 1\nXX  - nothing a record needs\n",
        ),
        ("*/*.jsonl", ".jsonl", b'{"title": "broken\n{"not": "a record"}\n'),
    ],
)
@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_issues_keep_their_line_numbers_across_slices(
    tmp_path: Path,
    pattern: str,
    suffix: str,
    damage: bytes,
    line_end: bytes,
) -> None:
    """A damaged record deep in a big file is reported at the same line, sliced or whole."""
    path = _concatenated(tmp_path, pattern, suffix, damage)
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes().replace(b"\n", line_end))
    (_, issues, failed, count), _, _ = _read(path, sliced=True, size=3_000)
    assert failed >= 3 and count >= 18  # three copies of each record and each damage
    assert any(issue.split(":")[1].isdigit() and int(issue.split(":")[1]) > 100 for issue in issues)
    assert _same_sliced_and_whole(path, 3_000) > 5


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), size=st.integers(64, 4_096))
def test_mutated_files_read_the_same_in_slices(
    tmp_path: Path, data: st.DataObject, size: int
) -> None:
    """Random damage (the fuzzer's mutations) never makes slicing change what is imported."""
    pick = HypothesisPicker(data.draw)
    format_name = pick.choice(("ris", "medline", "json_records"))
    seed = pick.choice(seeds_of(format_name))
    mutated = mutate(pick, seed)
    path = tmp_path / f"mutated{seed.suffix}"
    path.write_bytes(mutated.data * 4)  # several copies: more cuts
    _same_sliced_and_whole(path, size, (seed.name, mutated.steps), format_name)


def _synthetic_ris(count: int) -> str:
    records = [
        Record(
            title=f"Paper {i} on ß-cells, 引用 and café",
            doi=f"10.5555/slice.{i}",
            authors=(Author(family="Ørsted", given="Hans"),),
            year=2000 + i % 25,
            abstract="Abstract text " * 30,
        )
        for i in range(count)
    ]
    return export_text(records, "ris")


def test_slices_are_whole_records_and_cover_the_file(tmp_path: Path) -> None:
    """Cuts fall only before `TY` lines; the slices put together are the file, line for line."""
    text = _synthetic_ris(300)
    path = tmp_path / "big.ris"
    path.write_text(text, encoding="utf-8")
    pieces = list(slices.slices(path, "ris", size=10_000))
    assert len(pieces) > 5
    assert "".join(piece.text for piece in pieces) == text
    line = 1
    for piece in pieces:
        assert piece.text.startswith("TY  - ")
        assert piece.first_line == line
        line += piece.text.count("\n")
    assert pieces[-1].end == path.stat().st_size


def test_a_big_file_is_handed_on_a_slice_at_a_time(tmp_path: Path) -> None:
    """Memory follows the slice: no batch handed on holds more than a slice's records."""
    path = tmp_path / "big.ris"
    path.write_text(_synthetic_ris(2_000), encoding="utf-8")
    per_record = path.stat().st_size / 2_000
    _, batches, result = _read(path, sliced=True, size=64_000)
    assert result.count == 2_000 and not result.records
    assert len(batches) > 10
    assert max(len(batch) for batch in batches) <= 64_000 / per_record + 2


def test_a_big_file_not_in_utf8_is_read_whole(tmp_path: Path) -> None:
    """Only UTF-8 is cut: a Latin-1 file is decoded whole (its encoding is guessed from all of it)."""
    path = tmp_path / "latin1.ris"
    path.write_bytes(_synthetic_ris(200).replace("引用", "").encode("latin-1"))
    (docs, issues, _, count), batches, _ = _read(path, sliced=True, size=2_000)
    assert count == len(docs) == 200 and len(batches) == 1
    assert "café" in docs[0]["title"]
    assert any("not UTF-8" in issue for issue in issues)


def test_a_pretty_printed_json_file_is_never_cut() -> None:
    """Only JSON Lines is cut at lines; one JSON document spread over lines is read whole."""
    path = DATA / "csl-json" / "deep-review-references.json"
    (docs, _, _, count), batches, _ = _read(path, sliced=True, size=2_000)
    assert len(batches) == 1 and count == len(docs) > 100


def test_the_spool_gives_back_every_record_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every sample record survives the spool, in order, also once it has moved to disk."""
    monkeypatch.setattr(tui.importing, "SPOOL_IN_MEMORY_BYTES", 10_000)
    records: list[Record] = []
    for path in sorted(SAMPLES.rglob("*")):
        if path.is_file() and path.suffix not in (".md",):
            records.extend(read_file(path).records)
    assert len(records) > 500
    with RecordSpool() as spool:
        spool.add(records[:100])
        spool.add(records[100:])
        assert spool.count == len(records)
        assert list(spool) == records
        assert list(spool) == records  # it can be read again


def _record(title: str, doi: str | None, volume: str | None = None) -> Record:
    return Record(
        title=title,
        doi=doi,
        year=2021,
        volume=volume,
        authors=(Author(family="Batch", given="B"),),
        source=(Source("ris", "x.ris"),),
    )


def test_one_import_is_the_same_as_its_records_imported_one_by_one(tmp_path: Path) -> None:
    """Duplicates within an import merge into records it added earlier, or stored before,
    exactly as if each record had been imported on its own."""
    stored = [_record("Stored paper", "10.5555/stored"), _record("Stored, no DOI", None)]
    incoming = [_record(f"New paper {i}", f"10.5555/new.{i}") for i in range(10)]
    incoming += [
        _record("New paper 1", "10.5555/new.1", volume="7"),  # merges into batch 1's record
        _record("Stored paper", "10.5555/stored", volume="3"),  # merges into the library's
        _record("Stored, no DOI", None),  # unchanged
        _record("New paper 2", None),  # same title, no DOI: the same work
        _record("New paper 3", "10.5555/new.3"),  # unchanged after its first import
    ]

    def run(together: bool) -> tuple[Any, ...]:
        path = tmp_path / f"library-{together}.json"
        store = RecordStore.open(path, clock=fixed_clock)
        store.upsert(stored)
        added, merged, unchanged = [], [], []
        for part in [incoming] if together else [[record] for record in incoming]:
            result = store.upsert(part)
            added += [i for i in result.added if i not in added]
            merged += [i for i in result.merged if i not in merged and i not in added]
            unchanged += [i for i in result.unchanged if i not in unchanged + added + merged]
        docs = [record.to_doc() for record in RecordStore.open(path).all()]
        return added, merged, docs

    together = run(True)
    assert run(False) == together
    added, merged, docs = together
    assert len(added) == 10 and len(docs) == 12
    assert sorted(merged) == ["batch2021stored"]
    assert {doc["title"]: doc.get("volume") for doc in docs}["New paper 1"] == "7"


class _Recorder:
    """An `ImportProgress` that remembers what it was told."""

    def __init__(self) -> None:
        self.total = 0
        self.done: list[int] = []

    def start(self, total_bytes: int) -> None:
        self.total = total_bytes

    def advance(self, done_bytes: int, records: int, name: str) -> None:
        self.done.append(done_bytes)

    def note(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def test_progress_moves_within_a_big_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A single big file advances the bar slice by slice, up to its size, then it is imported."""
    monkeypatch.setattr(slices, "SLICE_BYTES", 50_000)
    small = tmp_path / "small.ris"
    small.write_text(_synthetic_ris(3), encoding="utf-8")
    big = tmp_path / "big.ris"
    big.write_text(_synthetic_ris(1_500), encoding="utf-8")
    progress = _Recorder()
    store = RecordStore.open(tmp_path / "library.json")
    report = import_paths(store, [str(small), str(big)], progress)
    assert isinstance(report, ImportReport)
    assert len(report.upsert.added) == 1_500  # the small file's three are among the big one's
    assert progress.total == small.stat().st_size + big.stat().st_size
    assert len(progress.done) > 10
    assert progress.done == sorted(progress.done) and progress.done[-1] == progress.total
    assert store.count() == 1_500
    assert all(isinstance(r, ParseResult) and not r.records for r in report.results)
