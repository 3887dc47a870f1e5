"""The library: durable, locked, indexed, never overwrites what it does not understand."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import SAMPLES, SEED, fixed_clock
from tests.library_checks import assert_index_is_fresh
from tui.formats import iter_files, read_file
from tui.library import SCHEMA_VERSION, InvalidLibrary, LibraryError, RecordStore
from tui.models import Author, Record, Source


def make(title: str, doi: str | None = None, year: int = 2020, family: str = "Smith") -> Record:
    """A small record as an importer would produce it."""
    return Record(
        title=title,
        doi=doi,
        year=year,
        authors=(Author(family=family, given="Ann"),),
        source=(Source("bibtex", "refs.bib"),),
    )


def titles(store: RecordStore) -> list[str]:
    return sorted(r.title or "" for r in store.all())


def ids(store: RecordStore) -> list[str]:
    return [r.id for r in store.all()]


def test_new_library_records_schema_version(library: Path) -> None:
    """The meta table comes first and holds the schema version and a generation id."""
    store = RecordStore.open(library)
    store.upsert([make("A study")])
    first_line = library.read_bytes().split(b"\n")[0]
    assert first_line.startswith(b'{"meta":')
    meta = next(iter(orjson.loads(library.read_bytes())["meta"].values()))
    assert meta["version"] == SCHEMA_VERSION and len(meta["generation"]) == 32


def test_records_survive_reopening(library: Path) -> None:
    """What was imported is there the next time the library opens."""
    RecordStore.open(library).upsert([make("A study", "10.5555/a"), make("B study")])
    reopened = RecordStore.open(library)
    assert titles(reopened) == ["A study", "B study"]
    assert reopened.get("10.5555/A").title == "A study"  # type: ignore[union-attr]
    assert reopened.get("https://doi.org/10.5555/a") is not None


def test_the_library_is_tinydb_json_that_tinydb_reads() -> None:
    """TinyDB itself opens refdeck's file and finds exactly its records."""
    from tinydb import TinyDB

    from tests.conftest import sample_store

    store = sample_store()
    with TinyDB(store.path, access_mode="r") as database:
        documents = database.table("records").all()
    assert [dict(d) for d in documents] == [r.to_doc() for r in store.all()]


def test_ids_are_readable_and_unique(library: Path) -> None:
    """Ids look like citation keys and never collide."""
    store = RecordStore.open(library)
    result = store.upsert(
        [make("Acute leukemia", "10.5555/1"), make("Acute leukemia again", "10.5555/2")]
    )
    assert result.added == ["smith2020acute", "smith2020acutea"]
    again = store.upsert([make("Acute leukemia once more", "10.5555/3")])
    assert again.added == ["smith2020acuteb"]


def test_an_import_is_one_write(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of records, new and merged, reach the disk in a single atomic write."""
    import tui.atomic

    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i}", f"10.5555/{i}") for i in range(50)])
    renames: list[str] = []
    real = os.replace

    def counting(source: Any, target: Any) -> None:
        if Path(target) == library:
            renames.append(str(source))
        real(source, target)

    monkeypatch.setattr(tui.atomic.os, "replace", counting)
    batch = [make(f"Paper {i}", f"10.5555/{i}").with_changes(volume="3") for i in range(50)]
    batch += [make(f"New {i}", f"10.5555/new{i}") for i in range(300)]
    result = store.upsert(batch, {"Journal": "About it"})
    assert (len(result.added), len(result.merged)) == (300, 50)
    assert len(renames) == 1


def test_reimport_is_idempotent(library: Path) -> None:
    """Importing the same records twice changes nothing the second time."""
    store = RecordStore.open(library)
    store.upsert(read_file(SEED).records)
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
    # Now that it has a DOI, another DOI with the same title is another work.
    assert store.upsert([make("Acute leukemia: a review", doi="10.5555/y")]).added


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


def _valid(library: Path) -> bytes:
    RecordStore.open(library).upsert([make(f"Paper {i}", f"10.5555/v{i}") for i in range(10)])
    return library.read_bytes()


def _cut_at_a_line(data: bytes) -> bytes:
    lines = data.split(b"\n")
    return b"\n".join(lines[:6]) + b"\n"


def _newer_version(data: bytes) -> bytes:
    return data.replace(b'"version":1', b'"version":2', 1)


def _wrong_field(data: bytes) -> bytes:
    return data.replace(b'"year":2020', b'"year":"2020"', 1)


def _two_of_one_id(data: bytes) -> bytes:
    return data.replace(b'"id":"smith2020papera"', b'"id":"smith2020paper"', 1)


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
        _cut_at_a_line,
        _newer_version,
        _wrong_field,
        _two_of_one_id,
    ],
)
def test_a_file_that_is_not_a_refdeck_library_is_never_overwritten(
    library: Path, content: bytes | Callable[[bytes], bytes]
) -> None:
    """Reading and writing refuse with a clear message, and the bytes stay as they were,
    whatever the index beside the file said before."""
    if callable(content):
        content = content(_valid(library))
    library.write_bytes(content)
    store = RecordStore.open(library)
    for attempt in (
        store.count,
        lambda: store.upsert([make("x")]),
        lambda: store.set_marked(["smith2020paper"], True),
    ):
        with pytest.raises(InvalidLibrary) as raised:
            attempt()
        assert str(library) in str(raised.value)
    assert library.read_bytes() == content


def test_a_library_truncated_at_a_line_says_so(library: Path) -> None:
    """A file cut between two records is valid JSON nowhere: the message says it ends early."""
    library.write_bytes(_cut_at_a_line(_valid(library)))
    with pytest.raises(InvalidLibrary, match="ends before its records do"):
        RecordStore.open(library).count()


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
    assert titles(RecordStore.open(library)) == ["Kept"]
    assert_index_is_fresh(library)


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


def test_stale_temp_files_are_cleaned_on_the_next_write(library: Path) -> None:
    """A process killed mid-write leaves a temp file; the next write removes it."""
    RecordStore.open(library).upsert([make("x")])
    leftover = library.parent / ".refdeck-tmp-abc123"
    leftover.write_bytes(b"partial")
    RecordStore.open(library).upsert([make("y")])
    assert not leftover.exists()


def test_file_mode_is_kept(library: Path) -> None:
    """The atomic rename does not reset the library's permissions."""
    store = RecordStore.open(library)
    store.upsert([make("x")])
    library.chmod(0o640)
    store.upsert([make("y")])
    assert library.stat().st_mode & 0o777 == 0o640


def test_in_memory_store_lives_in_a_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Browsing files uses a library in a temporary folder: nothing in the working folder,
    nothing left when it is closed."""
    monkeypatch.chdir(tmp_path)
    store = RecordStore.in_memory([make("x")])
    assert store.count() == 1 and store.temporary
    assert list(tmp_path.iterdir()) == []
    folder = store.path.parent
    store.close()
    assert not folder.exists()


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tui.models import Author, Record
    from tui.library import RecordStore
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
    found = set(titles(RecordStore.open(library)))
    assert len(found) == 301
    assert {f"alpha paper {i}" for i in range(150)} <= found
    assert {f"beta paper {i}" for i in range(150)} <= found
    assert_index_is_fresh(library)


def test_marks_are_saved_and_indexed(library: Path) -> None:
    """Marking rewrites the changed lines; the file stays valid TinyDB JSON and the index follows."""
    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i}", f"10.5555/m{i}") for i in range(50)])
    every = ids(store)
    store.set_marked([every[0], every[3], every[10], every[49]], True)
    store.set_marked([every[10]], False)
    assert store.set_marked([every[3]], True) is None  # already marked: nothing written
    reopened = RecordStore.open(library)
    assert [reopened.record(i).marked for i in (every[3], every[10], every[49], every[1])] == [  # type: ignore[union-attr]
        True, False, True, False,
    ]  # fmt: skip
    data = orjson.loads(library.read_bytes())
    assert sorted(d["id"] for d in data["records"].values() if d.get("marked")) == sorted(
        [every[0], every[3], every[49]]
    )
    with reopened.view() as view:
        assert [row.id for row in view.rows(view.search("is:marked"))] == [
            every[0],
            every[3],
            every[49],
        ]
    assert_index_is_fresh(library)


def test_a_view_keeps_reading_the_file_it_was_taken_of(library: Path) -> None:
    """A view reads records at their offsets in its own file, even after another process
    replaced the library; a new view sees the new one."""
    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i}", f"10.5555/o{i}") for i in range(20)])
    view = store.snapshot()
    seventh = view.search("")[7]
    RecordStore.open(library).upsert([make("New paper", "10.5555/new")])  # another process
    assert view.record(seventh).title == "Paper 7"  # type: ignore[union-attr]
    assert view.count == 20 and store.changed(view)
    with store.view() as fresh:
        assert fresh.count == 21
    assert store.record("no-such-id") is None


def test_a_view_answers_a_query_asked_again_without_the_index(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Backspace or ctrl+u returns to a query the view has answered: it is not asked again,
    and the answer is the same list (a copy: changing it changes nothing kept)."""
    from tui.library import search as engine

    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i}", f"10.5555/c{i}") for i in range(30)])
    view = store.snapshot()
    first, everything = view.search("paper 1"), view.search("")
    first.append(-1)

    def no_index(*args: object, **kwargs: object) -> list[int]:
        raise AssertionError("asked the index again")

    monkeypatch.setattr(engine, "search", no_index)
    assert view.search("paper 1") == first[:-1] and view.search("") == everything
    with pytest.raises(AssertionError):
        view.search("paper 2")


def test_a_library_in_another_layout_is_converted_and_kept(library: Path) -> None:
    """A library rewritten by another tool (one JSON line, tables reordered) is read
    through TinyDB, written back in refdeck's layout, and the original kept as a backup."""
    from tui.library import list_backups

    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i}", f"10.5555/l{i}") for i in range(5)])
    data = orjson.loads(library.read_bytes())
    data = {"records": data["records"], "meta": data["meta"]}  # another order, no line breaks
    foreign = orjson.dumps(data)
    library.write_bytes(foreign)
    other = RecordStore.open(library)
    assert titles(other) == [f"Paper {i}" for i in range(5)]
    assert library.read_bytes().startswith(b'{"meta":')
    assert list_backups(library)[0].path.read_bytes() == foreign
    other.set_marked([ids(other)[2]], True)
    assert [r.id for r in RecordStore.open(library).all() if r.marked] == [ids(other)[2]]
    assert_index_is_fresh(library)


def test_a_write_by_another_process_is_noticed_and_reloaded(library: Path) -> None:
    """The browser polls `changed` (a stat) against its view; a new view shows the change."""
    browser = RecordStore.open(library)
    browser.upsert([make("Mine")])
    view = browser.snapshot()
    assert not browser.changed(view)
    RecordStore.open(library).upsert([make("Theirs")])  # the CLI, say
    assert browser.changed(view)
    view = browser.snapshot()
    assert sorted(row.title for row in view.rows(view.search(""))) == ["Mine", "Theirs"]
    assert not browser.changed(view)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_library_that_vanished_is_not_recreated_empty(tmp_path: Path, what: str) -> None:
    """Moved or deleted while refdeck had it open: a later write says so and writes nothing,
    rather than starting an empty library in its place."""
    folder = tmp_path / "papers"
    library = folder / "library.json"
    store = RecordStore.open(library)
    store.upsert([make("Kept")])
    moved = tmp_path / "moved"
    if what == "file":
        moved.mkdir()
        library.rename(moved / "library.json")
    else:
        folder.rename(moved)
    with pytest.raises(LibraryError, match="has disappeared"):
        store.set_marked(["smith2020kept"], True)
    with pytest.raises(LibraryError, match="has disappeared"):
        store.upsert([make("Lost")])
    assert not library.exists()
    assert what == "file" or not folder.exists()
    assert titles(RecordStore.open(moved / "library.json")) == ["Kept"]


# -- the index ---------------------------------------------------------------


def test_the_index_equals_a_fresh_rebuild_after_every_kind_of_write(library: Path) -> None:
    """Imports of every sample file (each format), merges into stored and new records,
    journals, marks and unmarks: after each, the index is what a rebuild makes of the file."""
    store = RecordStore.open(library, clock=fixed_clock)
    for path in iter_files([SAMPLES], []):
        result = read_file(path)
        store.upsert(result.records, result.journals)
        assert_index_is_fresh(library)
    # Merges: richer versions of stored records, and a record merged twice in one import.
    stored = store.all()
    richer = [r.with_changes(id="", volume="99", keywords=("merged",)) for r in stored[::37]]
    store.upsert([*richer, richer[0].with_changes(citation_count=10_000)])
    assert_index_is_fresh(library)
    some = [r.id for r in stored[::11]]
    store.set_marked(some, True)
    assert_index_is_fresh(library)
    store.set_marked(some[::2], False)
    store.update(some[1], tags=("to-read", "Review"), note="Read the methods.")
    assert_index_is_fresh(library)
    with store.view() as view:
        assert len(view.search("is:marked")) == len(some) - len(some[::2])
        assert [row.id for row in view.rows(view.search("tag:review"))] == [some[1]]


def test_a_copied_folder_is_used_without_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cp -r` (new inodes and times) and `cp -a` / rsync (times kept): the index
    beside the copy is checked by checksum and used as it is."""
    import tui.library.store

    original = tmp_path / "papers" / "library.json"
    RecordStore.open(original).upsert([make(f"Paper {i}", f"10.5555/c{i}") for i in range(30)])
    copies = tmp_path / "copies"
    copies.mkdir()
    shutil.copytree(original.parent, copies / "cp-r", copy_function=shutil.copyfile)
    shutil.copytree(original.parent, copies / "cp-a")

    def no_rebuild(*args: object) -> None:
        raise AssertionError("the index was rebuilt")

    monkeypatch.setattr(tui.library.store, "index_file", no_rebuild)
    for name in ("cp-r", "cp-a"):
        copy = RecordStore.open(copies / name / "library.json")
        assert copy.count() == 30
        assert copy.upsert([make("One more", "10.5555/more")]).added


def test_a_library_edited_by_hand_is_detected_and_rebuilt(library: Path) -> None:
    """An edit that keeps the generation id and even the size (a letter changed) is found
    by the checksum; the index is rebuilt and answers for the new text."""
    store = RecordStore.open(library)
    store.upsert(
        [make("Leukemia in adults", "10.5555/h1"), make("Sepsis in children", "10.5555/h2")]
    )
    data = library.read_bytes()
    library.write_bytes(data.replace(b"Sepsis in children", b"Malaria in kenyans"))
    assert library.stat().st_size == len(data)
    with store.view() as view:
        assert view.search("malaria") and not view.search("sepsis")
    assert_index_is_fresh(library)


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "empty", "another version", "another database", "a folder"],
)
def test_an_index_that_is_not_right_is_rebuilt_never_trusted(library: Path, damage: str) -> None:
    """Whatever lies where the index should be, it is rebuilt: no traceback, right answers."""
    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i}", f"10.5555/d{i}") for i in range(40)])
    index = library.with_name(library.name + ".index")
    if damage == "garbage":
        index.write_bytes(os.urandom(8192))
    elif damage == "truncated":
        index.write_bytes(index.read_bytes()[:5000])
    elif damage == "empty":
        index.write_bytes(b"")
    elif damage == "another version":
        with sqlite3.connect(index) as connection:
            connection.execute("UPDATE meta SET value = '0' WHERE key = 'version'")
    elif damage == "another database":
        index.unlink()
        with sqlite3.connect(index) as connection:
            connection.execute("CREATE TABLE meta(key, value)")
            connection.execute("INSERT INTO meta VALUES ('version', '1')")
    else:
        index.unlink()
        index.mkdir()
    if damage == "a folder":
        with pytest.raises(LibraryError, match="index"):
            store.count()
        return
    assert store.count() == 40
    assert store.upsert([make("One more", "10.5555/more")]).added
    assert_index_is_fresh(library)


def test_a_damaged_index_never_makes_a_write_go_wrong(library: Path) -> None:
    """Offsets swapped, or shifted by a few bytes, in an index whose header still matches:
    every record read at an offset is checked, so the write rebuilds and merges right."""
    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i}", f"10.5555/w{i}") for i in range(10)])
    index = library.with_name(library.name + ".index")
    with sqlite3.connect(index) as connection:
        (a, la), (b, lb) = connection.execute(
            "SELECT offset, length FROM spans WHERE seq IN (2, 5) ORDER BY seq"
        ).fetchall()
        connection.execute("UPDATE spans SET offset = ?, length = ? WHERE seq = 2", (b, lb))
        connection.execute("UPDATE spans SET offset = ?, length = ? WHERE seq = 5", (a, la))
        connection.execute("UPDATE spans SET offset = offset + 5 WHERE seq = 8")
    result = store.upsert([make("Paper 1", "10.5555/w1").with_changes(volume="7")])
    assert result.merged == ["smith2020papera"]
    records = {r.id: r for r in store.all()}
    assert (
        records["smith2020papera"].doi == "10.5555/w1" and records["smith2020papera"].volume == "7"
    )
    assert [r.doi for r in store.all()] == [f"10.5555/w{i}" for i in range(10)]
    assert_index_is_fresh(library)


def test_reordered_lines_never_give_two_records_one_id(library: Path) -> None:
    """The last line's id is not the highest after lines were moved by hand: new documents
    are numbered above every id in use."""
    store = RecordStore.open(library)
    store.upsert([make(f"Paper {i}", f"10.5555/r{i}") for i in range(10)])
    lines = library.read_bytes().split(b"\n")
    records = lines[2:12]
    assert records[-1].startswith(b'"10":')
    reordered = [records[-1] + b",", *records[:-2], records[-2].rstrip(b",")]
    library.write_bytes(b"\n".join([*lines[:2], *reordered, *lines[12:]]))
    store.upsert([make(f"New {i}", f"10.5555/n{i}") for i in range(6)])
    keys = [line.split(b":")[0] for line in library.read_bytes().split(b"\n")[2:-2]]
    assert len(keys) == len(set(keys)) == 16
    assert store.count() == 16 and len(store.all()) == 16


def test_a_library_behind_a_symlink_stays_a_symlink(tmp_path: Path) -> None:
    """A library in a synced folder, linked from home: writes go to (and lock) the real file."""
    synced = tmp_path / "synced" / "library.json"
    RecordStore.open(synced).upsert([make("First")])
    link = tmp_path / "home" / "library.json"
    link.parent.mkdir()
    link.symlink_to(synced)
    RecordStore.open(link).upsert([make("Second")])
    RecordStore.open(link).set_marked(["smith2020first"], True)
    assert link.is_symlink() and link.resolve() == synced
    assert titles(RecordStore.open(synced)) == ["First", "Second"]
    assert not (link.parent / "library.json.lock").exists()
    assert (synced.parent / "library.json.lock").exists()


def _as_nobody(function: Callable[[], object]) -> object:
    """Run `function` in a child process without root's powers (uid 65534); its result or
    its exception's message."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            outcome: object = function()
        except Exception as error:  # noqa: BLE001 - reported to the parent
            outcome = f"{type(error).__name__}: {error}"
        os.write(write, orjson.dumps(outcome, default=str))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return orjson.loads(data)


def test_a_read_only_library_is_never_rewritten(tmp_path: Path) -> None:
    """`chmod 444` on the library: imports and marks are refused with a message, for root
    (who could write anyway) and for an ordinary user."""
    import tempfile

    # Outside pytest's private temporary folder, so that an ordinary user can reach it.
    folder = Path(tempfile.mkdtemp(prefix="refdeck-read-only-", dir="/tmp"))
    folder.chmod(0o777)
    try:
        library = folder / "library.json"
        RecordStore.open(library).upsert([make("Kept")])
        for path in folder.iterdir():
            path.chmod(0o666)
        library.chmod(0o444)
        before = library.read_bytes()
        with pytest.raises(LibraryError, match="read-only"):
            RecordStore.open(library).upsert([make("Lost")])
        with pytest.raises(LibraryError, match="read-only"):
            RecordStore.open(library).set_marked(["smith2020kept"], True)
        if os.geteuid() == 0:
            outcome = _as_nobody(lambda: RecordStore.open(library).upsert([make("Lost")]))
            assert isinstance(outcome, str) and "read-only" in outcome
        assert library.read_bytes() == before
        assert RecordStore.open(library).count() == 1  # still readable
    finally:
        shutil.rmtree(folder)


def test_problems_with_refdecks_own_files_are_messages(tmp_path: Path) -> None:
    """A lock that is a folder, a backups folder that is a file, a library folder that
    cannot be made: each says what is wrong, and the library is unchanged."""
    library = tmp_path / "library.json"
    RecordStore.open(library).upsert([make("Kept")])
    before = library.read_bytes()
    lock = tmp_path / "library.json.lock"
    lock.unlink()
    lock.mkdir()
    with pytest.raises(LibraryError, match="lock"):
        RecordStore.open(library).upsert([make("Lost")])
    lock.rmdir()
    (tmp_path / "library.json.backups").write_text("not a folder")
    with pytest.raises(LibraryError, match="backup"):
        RecordStore.open(library).upsert([make("Lost")])
    assert library.read_bytes() == before
    with pytest.raises(LibraryError, match="cannot create the folder"):
        RecordStore.open(Path("/proc/refdeck-test/library.json")).upsert([make("x")])


def test_ids_are_given_in_linear_time(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many records with one first author, year and title word: each id is found by trying
    the next suffix, not by trying every suffix from "a" again."""
    import tui.identity

    probes = 0
    real = tui.identity._suffix

    def counted(n: int) -> str:
        nonlocal probes
        probes += 1
        return real(n)

    monkeypatch.setattr(tui.identity, "_suffix", counted)
    store = RecordStore.open(library)
    store.upsert([make("Annual report", f"10.5555/a{i}") for i in range(300)])
    store.upsert([make("Annual report", f"10.5555/b{i}") for i in range(300)])
    assert store.count() == 600
    assert probes < 3 * 600  # quadratic would be 180,000
