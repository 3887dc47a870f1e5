"""Importing a folder as people's folders really are: links, loops, pipes, unreadable files."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import orjson
import pytest

from tests.unit.test_cli import refdeck

RIS = "TY  - JOUR\nTI  - {title}\nDO  - 10.5555/walk.{n}\nER  - \n"


def paper(folder: Path, name: str, n: int) -> Path:
    path = folder / name
    path.write_text(RIS.format(title=f"Paper {n}", n=n))
    return path


def test_a_hostile_folder_still_imports_every_readable_file(
    tmp_path: Path,
    library: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Symlink loops, a broken link, a FIFO and an unreadable file are reported; the rest import."""
    root = tmp_path / "papers"
    (root / "a" / "b").mkdir(parents=True)
    paper(root, "one.ris", 1)
    paper(root / "a", "two.ris", 2)
    paper(root / "a" / "b", "three.ris", 3)
    (root / "a" / "b" / "loop").symlink_to(root)  # back to the top: a loop
    (root / "a" / "again").symlink_to(root / "a")  # a second way into a folder already seen
    (root / "broken.ris").symlink_to(tmp_path / "gone.ris")
    os.mkfifo(root / "pipe.ris")  # reading it would block forever
    locked = paper(root, "locked.ris", 4)
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        # Simulated: tests may run as root, who can read a chmod 000 file.
        if self == locked:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    capsys.readouterr()
    assert refdeck("import", "--db", str(library), str(root)) == 1
    out, err = capsys.readouterr()
    assert "3 added" in out and "1 failed" in out
    assert f"{locked}: cannot be read: Permission denied" in err
    assert "broken.ris: warning: skipped: a broken symlink" in err
    assert "skipped: a symlink loop" in err
    assert "pipe.ris" not in err + out


def test_a_device_or_a_fifo_named_on_the_command_line_says_what_it_is(
    tmp_path: Path, library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`refdeck import /dev/zero pipe one.ris`: the device and the FIFO are named as such
    (not "Not a directory") and never read, so nothing hangs; the good file imports."""
    fifo = tmp_path / "pipe.ris"
    os.mkfifo(fifo)
    good = paper(tmp_path, "one.ris", 1)
    capsys.readouterr()
    assert refdeck("import", "--db", str(library), "/dev/zero", str(fifo), str(good)) == 1
    out, err = capsys.readouterr()
    assert "1 added" in out and "2 failed" in out
    assert "/dev/zero: is a character device, not a file of records; it was not read" in err
    assert f"{fifo}: is a FIFO (named pipe), not a file of records; it was not read" in err
    assert "Not a directory" not in err


def snapshot_of(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` and its bytes (the index aside: reading may touch it)."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".index" not in path.name
    }


def test_a_folder_holding_the_library_skips_the_librarys_own_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The library, its lock, index (with -wal and -shm) and backups are not imported into it."""
    folder = tmp_path / "papers"
    folder.mkdir()
    library = folder / "library.json"
    paper(folder, "one.ris", 1)
    assert refdeck("import", "--db", str(library), str(folder)) == 0
    paper(folder, "two.ris", 2)
    assert refdeck("import", "--db", str(library), str(folder)) == 0  # takes a backup
    for leftover in ("library.json.index-wal", "library.json.index-shm"):
        (folder / leftover).write_bytes(b"\0" * 32)
    assert list((folder / "library.json.backups").iterdir())
    before = snapshot_of(folder)
    capsys.readouterr()
    assert refdeck("import", "--db", str(library), str(folder)) == 0
    out, err = capsys.readouterr()
    assert "Imported 2 files: 0 added, 0 merged, 2 unchanged, 0 failed." in out
    assert out.count("Skipped the library's own files") == 1
    assert err == ""  # no "is empty" for the lock, no "binary file" for the index
    assert snapshot_of(folder) == before  # no merge into itself, no new backup
    assert refdeck("search", "--db", str(library), "--format", "json") == 0
    records = orjson.loads(capsys.readouterr().out)
    assert [len(record["source"]) for record in records] == [1, 1]  # sources not doubled


def test_the_library_named_as_a_path_is_not_imported_into_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`refdeck import LIBRARY`, one of its backups or its backups folder, also through a link."""
    library = tmp_path / "data" / "library.json"
    library.parent.mkdir()
    paper(tmp_path, "one.ris", 1)
    assert refdeck("import", "--db", str(library), str(tmp_path / "one.ris")) == 0
    paper(tmp_path, "two.ris", 2)
    assert refdeck("import", "--db", str(library), str(tmp_path / "two.ris")) == 0
    (backup,) = (library.parent / "library.json.backups").iterdir()
    link = tmp_path / "linked.json"
    link.symlink_to(library)
    before = snapshot_of(library.parent)
    for named in (library, link, backup, backup.parent, library.parent / "library.json.lock"):
        capsys.readouterr()
        assert refdeck("import", "--db", str(link), str(named)) == 0, named
        out, err = capsys.readouterr()
        assert "Imported 0 files: 0 added, 0 merged, 0 unchanged, 0 failed." in out
        assert "Skipped the library's own files" in out and err == ""
    assert snapshot_of(library.parent) == before
