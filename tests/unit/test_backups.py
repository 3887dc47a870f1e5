"""Rotating backups before imports, and `refdeck restore`."""

from __future__ import annotations

import errno
import itertools
import os
from pathlib import Path

import pytest

from tests.library_checks import assert_index_is_fresh
from tests.unit.test_cli import refdeck
from tests.unit.test_store import make
from tui.library import InvalidLibrary, LibraryError, RecordStore
from tui.library.backups import GENERATIONS, backup_dir, list_backups


def ticking_clock() -> object:
    """A clock that moves one second per call, so every backup has its own time."""
    seconds = itertools.count()

    def now() -> str:
        second = next(seconds)
        return f"2026-01-02T03:{second // 60:02d}:{second % 60:02d}Z"

    return now


def titles(library: Path) -> list[str]:
    return sorted(r.title or "" for r in RecordStore.open(library).all())


def test_each_import_keeps_the_library_it_replaces(library: Path) -> None:
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    first = store.upsert([make("One")])
    assert first.backup is None  # there was no library yet
    second = store.upsert([make("Two")])
    assert second.backup is not None and second.backup.parent == backup_dir(library)
    assert titles(second.backup) == ["One"]
    assert titles(library) == ["One", "Two"]


def test_an_import_that_changes_nothing_rotates_nothing_out(library: Path) -> None:
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    store.upsert([make("One")])
    store.upsert([make("Two")])
    assert store.upsert([make("Two")]).backup is None
    assert len(list_backups(library)) == 1


def test_a_reimport_with_the_same_journal_descriptions_changes_nothing(library: Path) -> None:
    """Aggregator files describe their journals: the same description again is no change."""
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    store.upsert([make("One")], {"Blood": "A journal of hematology."})
    before = library.stat().st_mtime_ns
    assert store.upsert([make("One")], {"Blood": "A journal of hematology."}).backup is None
    assert library.stat().st_mtime_ns == before and list_backups(library) == []
    changed = store.upsert([make("One")], {"Blood": "The journal of hematology."})
    assert changed.backup is not None
    assert store.journal_description("Blood") == "The journal of hematology."


def test_only_the_newest_generations_are_kept(library: Path) -> None:
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    for number in range(GENERATIONS + 3):
        store.upsert([make(f"Paper {number}")])
    backups = list_backups(library)
    assert len(backups) == GENERATIONS
    # Newest first: the newest backup is the library before the last import.
    assert [b.count_records() for b in backups] == list(range(GENERATIONS + 2, 2, -1))


def test_backups_cost_no_copy_where_hard_links_work(library: Path) -> None:
    """The library is never changed in place, so a hard link keeps the old version."""
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    store.upsert([make("One")])
    inode = library.stat().st_ino
    backup = store.upsert([make("Two")]).backup
    assert backup is not None and backup.stat().st_ino == inode


def test_without_hard_links_the_backup_is_a_copy(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    store.upsert([make("One")])

    def no_links(*_: object) -> None:
        raise OSError("hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    backup = store.upsert([make("Two")]).backup
    assert backup is not None and titles(backup) == ["One"]
    assert backup.stat().st_ino != library.stat().st_ino


def test_restore_brings_a_backup_back_and_can_be_undone(library: Path) -> None:
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    store.upsert([make("One")])
    store.upsert([make("Two"), make("Three")])
    (before_second,) = list_backups(library)
    count, written = store.restore(before_second.path)
    assert count == 1
    assert [r.title for r in store.all()] == ["One"]
    newest = list_backups(library)[0]
    assert written.backup == newest.path
    assert titles(newest.path) == ["One", "Three", "Two"]  # the replaced library
    assert_index_is_fresh(library)


def test_a_broken_backup_is_refused_and_the_library_untouched(library: Path) -> None:
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    store.upsert([make("One")])
    store.upsert([make("Two")])
    before = library.read_bytes()
    (backup,) = list_backups(library)
    backup.path.unlink()
    backup.path.write_text('{"not": "a library"')
    with pytest.raises(InvalidLibrary, match="is not a refdeck library"):
        store.restore(backup.path)
    assert library.read_bytes() == before


def test_refdeck_restore_lists_and_restores(
    library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "one.ris"
    first.write_text("TY  - JOUR\nTI  - First paper\nER  - \n")
    second = tmp_path / "two.ris"
    second.write_text("TY  - JOUR\nTI  - Second paper\nER  - \n")
    db = ("--db", str(library))
    assert refdeck("restore", *db) == 0
    assert "No backups" in capsys.readouterr().out
    assert refdeck("import", *db, str(first)) == 0
    assert refdeck("import", *db, str(second)) == 0
    assert "The library as it was before is kept: refdeck restore library-" in (
        capsys.readouterr().out
    )
    assert refdeck("restore", *db) == 0
    listing = capsys.readouterr().out
    assert "  1  " in listing and "1 record " in listing
    assert refdeck("restore", *db, "1") == 1  # no terminal to ask on, no --yes: nothing done
    assert titles(library) == ["First paper", "Second paper"]
    assert refdeck("restore", *db, "1", "--yes") == 0
    assert "Restored 1 record from" in capsys.readouterr().out
    assert titles(library) == ["First paper"]
    assert refdeck("restore", *db, "9") == 1
    assert "no backup '9'" in capsys.readouterr().err


def test_a_write_that_fails_keeps_no_backup(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Five imports failing on a full disk leave the five real generations as they were."""
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    for number in range(GENERATIONS + 1):
        store.upsert([make(f"Paper {number}")])
    kept = [(b.name, b.count_records()) for b in list_backups(library)]
    assert [count for _, count in kept] == [5, 4, 3, 2, 1]
    import tui.atomic

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tui.atomic.os, "replace", full)
    for attempt in range(GENERATIONS):
        with pytest.raises(LibraryError, match="No space left"):
            store.upsert([make(f"Lost {attempt}")])
    monkeypatch.undo()
    assert [(b.name, b.count_records()) for b in list_backups(library)] == kept
    assert not [p for p in backup_dir(library).iterdir() if p.name.startswith(".pending")]


_KILLED_RESTORE = """
import os, sys
from pathlib import Path
import tui.atomic
from tui.library import RecordStore
real = os.replace
def die_at_the_rename(source, target):
    if Path(target).name == "library.json":
        os._exit(9)  # as if killed between keeping the old file aside and renaming the new
    real(source, target)
tui.atomic.os.replace = die_at_the_rename
RecordStore.open(Path(sys.argv[1])).restore(Path(sys.argv[2]))
"""


def test_an_interrupted_restore_pushes_no_generation_out(library: Path) -> None:
    """Restores killed before they finished (eight times) keep every real generation, and
    the next write clears what they left aside."""
    import subprocess
    import sys

    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    for number in range(GENERATIONS + 1):
        store.upsert([make(f"Paper {number}")])
    kept = [(b.name, b.count_records()) for b in list_backups(library)]
    oldest = list_backups(library)[-1].path
    for _ in range(8):
        done = subprocess.run([sys.executable, "-c", _KILLED_RESTORE, str(library), str(oldest)])
        assert done.returncode == 9
    assert [(b.name, b.count_records()) for b in list_backups(library)] == kept
    assert RecordStore.open(library).count() == GENERATIONS + 1
    store.upsert([make("One more")])
    assert not [p for p in backup_dir(library).iterdir() if p.name.startswith(".pending")]


def test_the_newest_generation_is_not_kept_twice(library: Path) -> None:
    """Keeping the same library twice (the same generation) keeps one backup."""
    from tui.library.backups import prepare_backup

    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    store.upsert([make("One")])
    fd = os.open(library, os.O_RDONLY)
    try:
        first = prepare_backup(library, fd)
        assert first is not None
        first.keep("2026-01-02T03:00:00Z")
        assert prepare_backup(library, fd) is None
    finally:
        os.close(fd)
    assert len(list_backups(library)) == 1


def test_restore_works_on_a_broken_library_and_keeps_it(library: Path) -> None:
    """The one time restore is needed most: the library is broken. It is kept aside as the
    newest backup, never deleted, and the chosen backup put back."""
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    store.upsert([make("One")])
    store.upsert([make("Two")])
    broken = library.read_bytes()[:-40]
    library.write_bytes(broken)
    with pytest.raises(InvalidLibrary):
        store.count()
    (backup,) = list_backups(library)
    count, written = store.restore(backup.path)
    assert count == 1 and titles(library) == ["One"]
    assert written.backup is not None and written.backup.read_bytes() == broken
    assert_index_is_fresh(library)


def test_refdeck_restore_onto_a_deleted_library_says_what_happened(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    store.upsert([make("One")])
    store.upsert([make("Two")])
    library.unlink()
    assert refdeck("restore", "--db", str(library), "1", "--yes") == 0
    out = capsys.readouterr().out
    assert "Restored 1 record" in out and "you replaced" not in out
    assert titles(library) == ["One"]


# ---------------------------------------------------------------------------
# A backups folder refdeck cannot use is named as such (not as "the library")


def _immutable(path: Path) -> None:
    """`chattr +i path` (even root may then not change it), or skip where it cannot be set."""
    import shutil
    import subprocess

    if shutil.which("chattr") is None:
        pytest.skip("needs chattr to make a file immutable")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip(f"cannot make {path} immutable here: {done.stderr.strip()}")


def _mutable(path: Path) -> None:
    import subprocess

    subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)


def test_an_immutable_backups_folder_is_named_and_the_library_unchanged(library: Path) -> None:
    """`chattr +i library.json.backups`: the import is refused with a message about the
    backups folder that says the library was not changed; and it was not."""
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    store.upsert([make("One")])
    store.upsert([make("Two")])
    folder = backup_dir(library)
    before = library.read_bytes()
    _immutable(folder)
    try:
        with pytest.raises(LibraryError) as refused:
            store.upsert([make("Three")])
    finally:
        _mutable(folder)
    assert str(refused.value) == (
        f"the backups folder {folder} cannot be written (Operation not permitted), so no "
        "backup of the library can be kept; the library was not changed"
    )
    assert library.read_bytes() == before


def test_an_old_backup_that_cannot_be_deleted_does_not_fail_the_import(library: Path) -> None:
    """The oldest of five generations made immutable: the import still succeeds (one
    generation too many stays); before, it said "cannot write the library ... it is
    unchanged" about a library it had just changed."""
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    for number in range(GENERATIONS + 1):
        store.upsert([make(f"Paper {number}")])
    oldest = list_backups(library)[-1].path
    _immutable(oldest)
    try:
        result = store.upsert([make("Paper new")])
    finally:
        _mutable(oldest)
    assert result.added and result.backup is not None
    assert len(titles(library)) == GENERATIONS + 2
    assert len(list_backups(library)) == GENERATIONS + 1 and oldest.exists()


def test_a_backup_not_kept_after_the_write_says_the_library_changed(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the replaced version cannot take its name among the backups once the new library
    is in place, the message says the library was changed and that version was not kept."""
    store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
    store.upsert([make("One")])
    real = os.replace

    def refused(source: str | Path, target: str | Path) -> None:
        if Path(source).name.startswith(".pending-"):
            raise PermissionError(errno.EACCES, "Permission denied")
        real(source, target)

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(LibraryError) as failed:
        store.upsert([make("Two")])
    monkeypatch.undo()
    assert str(failed.value) == (
        f"the library {library} was changed, but the backups folder {backup_dir(library)} "
        "cannot be written (Permission denied): the version it replaced was not kept"
    )
    assert titles(library) == ["One", "Two"]
    assert list(backup_dir(library).iterdir()) == []


def test_an_unreadable_backups_folder_is_named_not_the_library() -> None:
    """A backups folder an ordinary user may not read (another user's, mode 700): the
    import says so, not "cannot write the library"; the library is unchanged. Run as uid
    65534 in a forked child when the tests run as root."""
    import shutil
    import tempfile

    from tests.unit.test_store import _as_nobody

    # Outside pytest's private temporary folder, so that an ordinary user can reach it.
    top = Path(tempfile.mkdtemp(prefix="refdeck-backups-", dir="/tmp"))
    top.chmod(0o777)
    library = top / "library.json"
    try:
        store = RecordStore.open(library, clock=ticking_clock())  # type: ignore[arg-type]
        store.upsert([make("One")])
        store.upsert([make("Two")])
        for path in top.iterdir():
            path.chmod(0o666 if path.is_file() else 0o777)
        folder = backup_dir(library)
        folder.chmod(0o700 if os.geteuid() == 0 else 0o000)
        before = library.read_bytes()

        def attempt() -> str:
            try:
                RecordStore.open(library).upsert([make("Three")])
            except LibraryError as error:
                return str(error)
            return "written"

        outcome = _as_nobody(attempt) if os.geteuid() == 0 else attempt()
        folder.chmod(0o700)
        assert outcome == (
            f"the backups folder {folder} cannot be read (Permission denied), so no backup "
            "of the library can be kept; the library was not changed"
        )
        assert library.read_bytes() == before
    finally:
        shutil.rmtree(top)
