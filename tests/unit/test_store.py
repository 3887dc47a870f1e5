"""The library: durable, locked, never overwrites what it does not understand."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import pytest

from tests.conftest import SEED, fixed_clock
from tui.formats import read_file
from tui.library_file import file_signature, load_rows, scan_records
from tui.models import Author, Record, Source
from tui.rows import ListRows
from tui.store import SCHEMA_VERSION, InvalidLibrary, LibraryError, RecordStore, UpsertResult


def make(title: str, doi: str | None = None, year: int = 2020, family: str = "Smith") -> Record:
    """A small record as an importer would produce it."""
    return Record(
        title=title,
        doi=doi,
        year=year,
        authors=(Author(family=family, given="Ann"),),
        source=(Source("bibtex", "refs.bib"),),
    )


def test_new_library_records_schema_version(library: Path) -> None:
    """The meta table holds the schema version from the first write."""
    store = RecordStore.open(library)
    store.upsert([make("A study")])
    data = orjson.loads(library.read_bytes())
    assert list(data["meta"].values())[0]["version"] == SCHEMA_VERSION
    assert RecordStore.open(library).schema_version() == SCHEMA_VERSION


def test_records_survive_reopening(library: Path) -> None:
    """What was imported is there the next time the library opens."""
    RecordStore.open(library).upsert([make("A study", "10.5555/a"), make("B study")])
    reopened = RecordStore.open(library)
    assert sorted(r.title or "" for r in reopened.all()) == ["A study", "B study"]
    assert reopened.get("10.5555/A").title == "A study"  # type: ignore[union-attr]
    assert reopened.get("https://doi.org/10.5555/a") is not None


def test_ids_are_readable_and_unique(library: Path) -> None:
    """Ids look like citation keys and never collide."""
    store = RecordStore.open(library)
    result = store.upsert(
        [make("Acute leukemia", "10.5555/1"), make("Acute leukemia again", "10.5555/2")]
    )
    assert result.added == ["smith2020acute", "smith2020acutea"]


@pytest.mark.parametrize("patching", [True, False], ids=["patching the file", "through TinyDB"])
def test_an_import_is_one_write(
    library: Path, monkeypatch: pytest.MonkeyPatch, patching: bool
) -> None:
    """Hundreds of records, new and merged, reach the disk in a single atomic write."""
    import tui.library_file
    import tui.store

    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i}", f"10.5555/{i}") for i in range(50)])
    if not patching:
        monkeypatch.setattr(RecordStore, "_upsert_by_patching", lambda *args: None)
    writes: list[Path] = []
    real = tui.library_file.write_atomically

    def counting(path: Path, write: Callable[[BinaryIO], object], *args: Any, **kw: Any) -> Any:
        if path == library:  # not the list cache beside it
            writes.append(path)
        return real(path, write, *args, **kw)

    # The TinyDB way writes through the store's name for it, a patch through library_file's.
    monkeypatch.setattr(tui.store, "write_atomically", counting)
    monkeypatch.setattr(tui.library_file, "write_atomically", counting)
    batch = [make(f"Paper {i}", f"10.5555/{i}").with_changes(volume="3") for i in range(50)]
    batch += [make(f"New {i}", f"10.5555/new{i}") for i in range(300)]
    result = store.upsert(batch, {"Journal": "About it"})
    assert (len(result.added), len(result.merged)) == (300, 50)
    assert len(writes) == 1


def test_reimport_is_idempotent(library: Path) -> None:
    """Importing the same records twice changes nothing the second time."""
    store = RecordStore.open(library)
    records = read_file(SEED).records
    store.upsert(records)
    before = library.read_bytes()
    result = store.upsert(read_file(SEED).records)
    assert result.unchanged == ["adomako2025acute"] and not result.added and not result.merged
    assert store.count() == 1
    assert library.read_bytes() == before


def test_merge_fills_missing_fields_and_keeps_user_fields(library: Path) -> None:
    """A richer import fills gaps; tags, notes and marks the user added survive."""
    store = RecordStore.open(library)
    (record_id,) = store.upsert([make("A study", "10.5555/a")]).added
    assert record_id == "smith2020study"
    store.update(record_id, tags=("to-read",), note="Check figure 2", marked=True)
    richer = make("A study", "10.5555/A").with_changes(
        volume="12", abstract="Text.", citation_count=5, tags=("other",), note="no"
    )
    result = store.upsert([richer])
    assert result.merged == [record_id]
    record = store.get(record_id)
    assert record is not None
    assert (record.volume, record.abstract, record.citation_count) == ("12", "Text.", 5)
    assert (record.tags, record.note, record.marked) == (("to-read",), "Check figure 2", True)


def test_no_doi_record_merges_by_title_year_author(library: Path) -> None:
    """Without a DOI, the normalized title, year and first author identify a paper."""
    store = RecordStore.open(library)
    store.upsert([make("Acute Leukemia: a review")])
    result = store.upsert([make("acute leukemia - A REVIEW", doi="10.5555/x")])
    assert result.merged and store.count() == 1
    assert store.all()[0].doi == "10.5555/x"


def test_different_dois_are_different_papers(library: Path) -> None:
    """A preprint and its paper share a title but not a DOI: both are kept."""
    store = RecordStore.open(library)
    store.upsert([make("Same title", "10.5555/preprint"), make("Same title", "10.5555/paper")])
    assert store.count() == 2


def test_journal_description_is_stored_once(library: Path) -> None:
    """The aggregator repeats a journal's description per record; the library keeps one."""
    store = RecordStore.open(library, clock=fixed_clock)
    result = read_file(SEED)
    store.upsert(result.records, result.journals)
    store.upsert(result.records, result.journals)
    data = orjson.loads(library.read_bytes())
    assert len(data["journals"]) == 1
    assert "Trends in Molecular Medicine (TMM) aims" in (
        store.journal_description("Trends in molecular medicine") or ""
    )
    assert "TMM" not in orjson.dumps(data["records"]).decode()


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"records": {"1": {"id": "x"}}',  # truncated
        b"null",
        b"[]",
        b'{"_default": {}}',  # a TinyDB file of another program
        b'{"_default": []}',
        b"\xef\xbb\xbf{}",
        b"   ",
        b'{"meta": {"1": {"schema": "refdeck", "version": 999}}}',
        b"\x00\x00\x00",
        "caf\xe9".encode("latin-1"),
    ],
)
def test_a_file_that_is_not_a_refdeck_library_is_never_overwritten(
    library: Path, content: bytes
) -> None:
    """Opening refuses with a clear message, and the bytes stay exactly as they were."""
    library.write_bytes(content)
    with pytest.raises(InvalidLibrary) as raised:
        store = RecordStore.open(library)
        store.upsert([make("x")])
    assert str(library) in str(raised.value)
    assert library.read_bytes() == content


def test_full_disk_leaves_the_library_untouched(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC during a write: a clear error, the old library intact, no temp file left."""
    store = RecordStore.open(library)
    store.upsert([make("Kept")])
    before = library.read_bytes()

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(LibraryError, match="No space left on device"):
        store.upsert([make("Lost")])
    monkeypatch.undo()
    assert library.read_bytes() == before
    assert [p.name for p in library.parent.iterdir() if "tmp" in p.name] == []
    assert [r.title for r in RecordStore.open(library).all()] == ["Kept"]
    assert [r.title for r in store.all()] == ["Kept"]


def test_read_only_folder_gives_a_clear_message(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library in a folder we cannot write: LibraryError naming it, the old file intact."""
    store = RecordStore.open(library)
    store.upsert([make("Kept")])
    before = library.read_bytes()
    import tempfile

    def denied(*args: object, **kwargs: object) -> None:
        # Simulated, because root (as in CI) may write to read-only folders.
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(LibraryError, match="Permission denied") as raised:
        store.upsert([make("Lost")])
    assert str(library) in str(raised.value)
    assert library.read_bytes() == before


def test_stale_temp_files_are_cleaned_on_open(library: Path) -> None:
    """A process killed mid-write leaves a temp file; the next open removes it."""
    RecordStore.open(library).upsert([make("x")])
    leftover = library.parent / ".refdeck-tmp-abc123"
    leftover.write_bytes(b"partial")
    RecordStore.open(library)
    assert not leftover.exists()


def test_file_mode_is_kept(library: Path) -> None:
    """The atomic rename does not reset the library's permissions."""
    store = RecordStore.open(library)
    store.upsert([make("x")])
    library.chmod(0o600)
    store.upsert([make("y")])
    assert library.stat().st_mode & 0o777 == 0o600


def test_in_memory_store_never_touches_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Browsing files uses a memory library."""
    monkeypatch.chdir(tmp_path)
    store = RecordStore.in_memory([make("x")])
    assert store.count() == 1 and store.path is None
    assert list(tmp_path.iterdir()) == []


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tui.models import Author, Record
    from tui.store import RecordStore
    store = RecordStore.open(Path(sys.argv[1]))
    tag = sys.argv[2]
    for i in range(int(sys.argv[3])):
        store.upsert([Record(title=f"{tag} paper {i}", doi=f"10.5555/{tag}.{i}",
                             authors=(Author(family=tag),), year=2000)])
    """
)


def test_two_processes_never_lose_each_others_records(library: Path) -> None:
    """Two writers, 150 single-record imports each: all 300 records end up in the library."""
    RecordStore.open(library).upsert([make("seed record")])
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(library), tag, "150"])
        for tag in ("alpha", "beta")
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    titles = {r.title for r in RecordStore.open(library).all()}
    assert len(titles) == 301
    assert {f"alpha paper {i}" for i in range(150)} <= titles
    assert {f"beta paper {i}" for i in range(150)} <= titles


def test_marks_patch_the_file_and_stay_consistent(library: Path) -> None:
    """Marking rewrites only the changed lines; the file stays valid TinyDB JSON, offsets right."""
    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i}", f"10.5555/m{i}") for i in range(50)])
    ids = store.rows().ids
    store.set_marked([ids[3], ids[10], ids[49]], True)
    store.set_marked([ids[10]], False)
    reopened = RecordStore.open(library)  # from the cache beside the file
    assert [reopened.record(i).marked for i in (ids[3], ids[10], ids[49], ids[0])] == [  # type: ignore[union-attr]
        True, False, True, False,
    ]  # fmt: skip
    assert [r.id for r in reopened.all() if r.marked] == [ids[3], ids[49]]  # a full parse agrees
    assert reopened.rows().marked.count(True) == 2
    (library.parent / (library.name + ".rows")).unlink()
    assert RecordStore.open(library).rows().marked.count(True) == 2  # rebuilt by scanning
    # A later import through TinyDB keeps the marks.
    reopened.upsert([make("Paper 3", "10.5555/m3").with_changes(volume="9")])
    assert RecordStore.open(library).record(ids[3]).marked  # type: ignore[union-attr]


def test_record_reads_one_record_by_offset(library: Path) -> None:
    """The browser reads an opened record at its offset, and falls back when the file changed."""
    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i}", f"10.5555/o{i}") for i in range(20)])
    ids = store.rows().ids
    assert store.record(ids[7]).title == "Paper 7"  # type: ignore[union-attr]
    other = RecordStore.open(library)
    other.upsert([make("New paper", "10.5555/new")])  # another process writes
    assert store.record(ids[7]).title == "Paper 7"  # type: ignore[union-attr]
    assert store.record("no-such-id") is None


def test_a_library_in_another_layout_still_works(library: Path) -> None:
    """A library rewritten by another tool (one JSON line, keys reordered) opens, lists and marks."""
    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i}", f"10.5555/l{i}") for i in range(5)])
    data = orjson.loads(library.read_bytes())
    data = {"records": data["records"], "meta": data["meta"]}  # another order, no line breaks
    library.write_bytes(orjson.dumps(data))
    other = RecordStore.open(library)
    rows = other.rows()
    assert sorted(rows.titles) == [f"Paper {i}" for i in range(5)]
    assert other.record(rows.ids[2]).title == rows.titles[2]  # type: ignore[union-attr]
    other.set_marked([rows.ids[2]], True)  # through TinyDB, which rewrites it in refdeck's layout
    again = RecordStore.open(library)
    assert [r.id for r in again.all() if r.marked] == [rows.ids[2]]
    assert again.rows().marked.count(True) == 1


def test_the_cache_header_holds_the_first_rows_and_the_count(library: Path) -> None:
    """The browser's first screen comes from the cache's header line, before the full list."""
    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i:03}", f"10.5555/h{i}") for i in range(400)])
    reopened = RecordStore.open(library)
    head = reopened.rows_head()
    assert head is not None
    rows, count = head
    assert count == 400
    assert rows.titles[:3] == ["Paper 000", "Paper 001", "Paper 002"]
    assert len(rows) == 150
    assert rows.ids == reopened.rows().ids[:150]
    library.write_bytes(library.read_bytes())  # the library changes: the header no longer fits
    assert RecordStore.open(library).rows_head() is None


def test_a_write_by_another_process_is_noticed_and_reloaded(library: Path) -> None:
    """The browser polls `changed_elsewhere` (a stat) and reloads; its own writes do not count."""
    browser = RecordStore.open(library)
    browser.upsert([make("Mine")])
    assert [*browser.rows().ids] and not browser.changed_elsewhere()
    browser.set_marked(browser.rows().ids, True)
    assert not browser.changed_elsewhere()
    RecordStore.open(library).upsert([make("Theirs")])  # the CLI, say
    assert browser.changed_elsewhere()
    assert sorted(browser.rows().titles) == ["Mine", "Theirs"]
    assert not browser.changed_elsewhere()


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_library_that_vanished_is_not_recreated_empty(tmp_path: Path, what: str) -> None:
    """Moved or deleted while refdeck had it open: a later write says so and writes nothing,
    rather than starting an empty library in its place."""
    folder = tmp_path / "papers"
    library = folder / "library.json"
    store = RecordStore.open(library)
    store.upsert([make("Kept")])
    store.rows()
    moved = tmp_path / "moved"
    if what == "file":
        moved.mkdir()
        library.rename(moved / "library.json")
    else:
        folder.rename(moved)
    with pytest.raises(LibraryError, match="has disappeared"):
        store.set_marked(store.rows().ids or ["x"], True)
    with pytest.raises(LibraryError, match="has disappeared"):
        store.upsert([make("Lost")])
    assert not library.exists()
    assert what == "file" or not folder.exists()
    assert [r.title for r in RecordStore.open(moved / "library.json").all()] == ["Kept"]


def test_stored_records_are_matched_by_their_identity_alone() -> None:
    """The store matches imports against cheap identity records: they give the same keys."""
    from tests.conftest import sample_store
    from tui.identity import title_key

    for record in sample_store().all():
        identity = Record.identity_from_doc(record.to_doc())
        assert (identity.id, identity.doi, identity.first_author) == (
            record.id,
            record.doi,
            record.first_author,
        )
        assert title_key(identity) == title_key(record)


@pytest.mark.parametrize("batch_size", [7, 5_000])
def test_an_import_patched_into_the_file_is_the_same_as_one_through_tinydb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    """Small imports into a big library patch the file; the library must be exactly what
    TinyDB would have written, and the list cache must describe the new file exactly."""
    import tui.store
    from tests.conftest import sample_store

    monkeypatch.setattr(tui.store, "_UPSERT_BATCH", batch_size)
    samples = sample_store().all()
    base = [r.with_changes(id="", added=None) for r in samples[:400]]
    incoming = [r.with_changes(id="", added=None) for r in samples[380:460]]  # 20 known, 60 new
    incoming += [base[3].with_changes(citation_count=99_999, volume=None)]  # merges a stored one
    incoming += [incoming[30].with_changes(keywords=("added later",))]  # merges a new one
    incoming += [base[5], base[5]]  # unchanged, twice
    journals = {"Blood": "Hematology.", "Nature": "Science."}
    # A changed description, a new journal and one as it was: the file's head is rewritten.
    new_journals = {"Blood": "Hematology, and more.", "Cell": "Biology.", "Nature": "Science."}

    def library(name: str, patching: bool) -> tuple[Path, UpsertResult]:
        path = tmp_path / name / "library.json"
        store = RecordStore.open(path, clock=fixed_clock)
        store.upsert(base, journals)
        used: list[bool] = []
        real = RecordStore._upsert_by_patching

        def spy(self: RecordStore, *args: Any) -> UpsertResult | None:
            outcome = real(self, *args) if patching else None
            used.append(outcome is not None)
            return outcome

        monkeypatch.setattr(RecordStore, "_upsert_by_patching", spy)
        result = store.upsert(iter(incoming), new_journals)
        monkeypatch.undo()
        monkeypatch.setattr(tui.store, "_UPSERT_BATCH", batch_size)
        assert used == [patching]
        return path, result

    tinydb_path, tinydb_result = library("tinydb", patching=False)
    patched_path, patched_result = library("patched", patching=True)
    assert patched_result.added == tinydb_result.added and len(patched_result.added) == 60
    assert patched_result.merged == tinydb_result.merged and len(patched_result.merged) == 1
    assert patched_result.unchanged == tinydb_result.unchanged
    assert patched_result.backup is not None
    assert orjson.loads(patched_path.read_bytes()) == orjson.loads(tinydb_path.read_bytes())

    # The list cache written with the patch is the one a fresh scan of the file builds,
    # offsets included (a wrong one would only show as a slow fallback in the browser).
    cached = load_rows(patched_path, file_signature(patched_path))  # type: ignore[arg-type]
    assert cached is not None
    scanned = list(scan_records(patched_path))
    docs = [doc for doc, _, _ in scanned]
    assert cached[0].to_columns() == ListRows.from_docs(docs).to_columns()
    assert cached[1] == [offset for _, offset, _ in scanned]
    assert cached[2] == [length for _, _, length in scanned]
    reopened = RecordStore.open(patched_path)
    for doc in docs[::7] + docs[-70:]:
        assert reopened.record(doc["id"]) == Record.from_doc(doc)
    assert reopened.journals() == {
        "Blood": "Hematology, and more.",
        "Cell": "Biology.",
        "Nature": "Science.",
    }
    # And the next import patches the patched file as well.
    again = reopened.upsert([make("One more", "10.5555/one.more")])
    assert again.added and RecordStore.open(patched_path).count() == len(docs) + 1
