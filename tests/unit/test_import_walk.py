"""Importing a folder as people's folders really are: links, loops, pipes, unreadable files."""

from __future__ import annotations

import errno
import os
from pathlib import Path

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
