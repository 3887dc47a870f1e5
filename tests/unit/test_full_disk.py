"""A full disk, for real: small tmpfs file systems mounted by the tests.

Every write that runs out of space (the library, its index, the import's
temporary files, a backup, a mark) ends in a message naming the problem; the
library, its index and its backups are exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import fill
from tests.library_checks import assert_index_is_fresh
from tests.unit.test_cli import refdeck
from tests.unit.test_store import make
from tui.export import export_text
from tui.library import LibraryError, RecordStore, list_backups
from tui.models import Author, Record

Disk = Callable[[str], Path]


def papers(count: int, tag: str = "p") -> list[Record]:
    return [
        Record(
            title=f"Paper {tag} {i} on sepsis",
            doi=f"10.5555/{tag}.{i}",
            authors=(Author(family="Writer", given="W"),),
            year=2001,
            abstract="Sepsis in children " * 40,
        )
        for i in range(count)
    ]


def library_on(disk: Path, generations: int = 3) -> Path:
    """A library with a few backups, on the small disk."""
    library = disk / "library.json"
    store = RecordStore.open(library)
    for n in range(generations):
        store.upsert(papers(40, f"g{n}"))
    return library


def state(library: Path) -> tuple[bytes, list[tuple[str, int]]]:
    return library.read_bytes(), [(b.name, b.count_records()) for b in list_backups(library)]


def test_an_import_that_fills_the_disk_changes_nothing(
    small_disk: Disk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`refdeck import` runs out of space writing the library: a message, exit 3, the
    library, its index and its backups as they were, no temporary file left."""
    disk = small_disk("6m")
    library = library_on(disk)
    before = state(library)
    ris = tmp_path / "many.ris"
    ris.write_text(export_text(papers(3000, "new"), "ris"), encoding="utf-8")
    fill(disk, leave=200_000)
    for _ in range(3):
        assert refdeck("import", "--db", str(library), str(ris)) == 3
        err = capsys.readouterr().err
        assert "No space left on device" in err and "Traceback" not in err
    assert state(library) == before
    assert not [p for p in disk.iterdir() if p.name.startswith(".refdeck-tmp-")]
    (disk / "filler").unlink()
    assert_index_is_fresh(library)
    assert RecordStore.open(library).count() == 120


def test_an_import_whose_temporary_file_cannot_grow_says_so(
    small_disk: Disk,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The parsed records of a big import wait in a temporary file beside the library; when
    it cannot grow, the import stops with that reason, not with a JSON error later."""
    import tui.importing

    monkeypatch.setattr(tui.importing, "SPOOL_IN_MEMORY_BYTES", 10_000)
    disk = small_disk("6m")
    library = library_on(disk, generations=1)
    before = state(library)
    ris = tmp_path / "many.ris"
    ris.write_text(export_text(papers(3000, "new"), "ris"), encoding="utf-8")
    fill(disk, leave=300_000)
    assert refdeck("import", "--db", str(library), str(ris)) == 3
    err = capsys.readouterr().err
    assert "the import stopped: its temporary file" in err and "No space left" in err
    assert "JSON" not in err and "Traceback" not in err
    assert state(library) == before


def test_new_records_that_cannot_wait_for_the_write_say_so(
    small_disk: Disk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import's new records wait in a spool until the library is written: a full disk
    there is the same clear message, and nothing changes."""
    import tui.library.changes

    monkeypatch.setattr(tui.library.changes, "SPOOL_IN_MEMORY_BYTES", 10_000)
    disk = small_disk("6m")
    library = library_on(disk, generations=1)
    before = state(library)
    fill(disk, leave=150_000)
    with pytest.raises(LibraryError, match="No space left on device"):
        RecordStore.open(library).upsert(papers(2000, "new"))
    assert state(library) == before


def test_a_mark_on_a_full_disk_is_refused_and_nothing_changes(small_disk: Disk) -> None:
    disk = small_disk("6m")
    library = library_on(disk, generations=1)
    before = state(library)
    fill(disk, leave=0)
    with pytest.raises(LibraryError, match="No space left on device"):
        RecordStore.open(library).set_marked(["writer2001paper"], True)
    assert state(library) == before
    (disk / "filler").unlink()
    assert_index_is_fresh(library)


def test_no_free_inodes_is_a_message(small_disk: Disk) -> None:
    """A file system out of inodes (not of bytes): the write cannot make its temporary
    file, and says so."""
    disk = small_disk("8m,nr_inodes=40")
    library = library_on(disk, generations=1)
    before = state(library)
    extra = disk / "extra"
    extra.mkdir()
    made = 0
    try:
        while True:
            (extra / str(made)).touch()
            made += 1
    except OSError:
        pass
    assert made < 40
    with pytest.raises(LibraryError, match="No space left on device"):
        RecordStore.open(library).upsert([make("Lost")])
    assert state(library) == before


def test_reading_works_on_a_full_disk(small_disk: Disk, capsys: pytest.CaptureFixture[str]) -> None:
    """A full disk takes nothing from reading: search, show and stats answer as before."""
    disk = small_disk("6m")
    library = library_on(disk, generations=1)
    fill(disk, leave=0)
    assert refdeck("search", "--db", str(library), "--format", "doi", "sepsis") == 0
    assert len(capsys.readouterr().out.split()) == 40
    assert refdeck("show", "--db", str(library), "10.5555/g0.3") == 0
    assert refdeck("stats", "--db", str(library)) == 0


def test_an_index_that_cannot_be_rebuilt_on_a_full_disk_is_a_message(
    small_disk: Disk, capsys: pytest.CaptureFixture[str]
) -> None:
    disk = small_disk("6m")
    library = library_on(disk, generations=1)
    (disk / "library.json.index").unlink()
    fill(disk, leave=0)
    assert refdeck("search", "--db", str(library), "sepsis") == 3
    err = capsys.readouterr().err
    assert "cannot build the index" in err and "Traceback" not in err
