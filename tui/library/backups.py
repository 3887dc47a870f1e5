"""Backups of the library: the file each import (or restore) replaced, five generations deep.

An import can merge thousands of records into existing ones; if the file was
wrong (the wrong colleague's export, a half-broken conversion), the user needs
the library as it was. The file a write replaces is kept in
`library.json.backups/`, and `refdeck restore` puts one back.

A backup counts only once the write it protects has succeeded: the old file
is first kept under a pending name, and takes its place among the
generations only after the new library is in place. A write that fails (a
full disk, a kill) therefore never pushes a real generation out, and a
generation identical to the newest kept one is not kept again.

A backup is a hard link where the file system allows it: the library is never
changed in place (every write renames a new file over it), so the linked inode
keeps the old contents for free, at any size. Elsewhere it is copied.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from tui.atomic import copy_into, write_atomically
from tui.library.errors import LibraryError
from tui.library.layout import RECORDS_OPEN, read_generation

GENERATIONS = 5
"""How many backups are kept; the oldest is deleted when a new one is kept."""

_NAME = re.compile(r"^library-(\d{8}T\d{6}Z)(?:-(\d+))?\.json$")
_PENDING = ".pending-"


@dataclass(frozen=True)
class Backup:
    """One kept copy of the library."""

    path: Path
    taken: str
    """When it was taken, as `2026-11-27 03:15:00 UTC`."""
    size: int

    @property
    def name(self) -> str:
        """The file's name, which `refdeck restore NAME` accepts."""
        return self.path.name

    def count_records(self) -> int:
        """How many records it holds (counted by line, without parsing JSON)."""
        return count_records(self.path)


def backup_dir(library: Path) -> Path:
    """`library.json.backups/`, beside the library (same file system, so links work)."""
    return library.with_name(f"{library.name}.backups")


def _reason(error: OSError) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full (or out of inodes)"
    return error.strerror or str(error)


class PendingBackup:
    """The library a write is about to replace, kept aside until the write has succeeded."""

    def __init__(self, library: Path, path: Path) -> None:
        self.library = library
        self.path = path

    def keep(self, now: str, generations: int = GENERATIONS) -> Path:
        """The write succeeded: make this the newest backup (and prune the oldest).

        Called after the library was replaced, so a failure here must not say the
        library is unchanged: it raises a `LibraryError` that says it was changed.
        """
        folder = self.path.parent
        stamp = re.sub(r"[^0-9TZ]", "", now)[:16]
        target, number = folder / f"library-{stamp}.json", 1
        while os.path.lexists(target):
            number += 1
            target = folder / f"library-{stamp}-{number}.json"
        try:
            os.replace(self.path, target)
        except OSError as error:
            self.drop()
            raise LibraryError(
                f"the library {self.library} was changed, but the backups folder {folder} "
                f"cannot be written ({_reason(error)}): the version it replaced was not kept"
            ) from error
        prune(self.library, generations)
        return target

    def drop(self) -> None:
        """The write failed: the library is unchanged, so there is nothing to keep."""
        with contextlib.suppress(OSError):
            self.path.unlink()


def prepare_backup(library: Path, fd: int) -> PendingBackup | None:
    """Keep the library file open at `fd` (the one at `library`) aside, pending.

    None when the newest backup is already this very generation. Raises
    `LibraryError` when no backup can be kept (the write must then not happen).
    Call with the library's lock held.
    """
    generation = read_generation(fd)
    folder = backup_dir(library)
    try:
        backups = list_backups(library)
    except OSError as error:
        raise LibraryError(
            f"the backups folder {folder} cannot be read ({_reason(error)}), so no backup of "
            "the library can be kept; the library was not changed"
        ) from error
    if generation and backups and _generation_of(backups[0].path) == generation:
        return None
    try:
        folder.mkdir(exist_ok=True)
        if not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "it is not a folder")
        target = folder / f"{_PENDING}{uuid.uuid4().hex}.json"
        try:
            if os.stat(library).st_ino != os.fstat(fd).st_ino:
                raise OSError(errno.ESTALE, "the library changed")
            os.link(library, target)
        except OSError:
            # No hard links here (some network and FAT file systems): copy instead.
            write_atomically(target, lambda out: copy_into(fd, out))
    except FileExistsError:
        raise LibraryError(
            f"cannot keep a backup of the library: {folder} is not a folder; "
            "the library was not changed"
        ) from None
    except OSError as error:
        raise LibraryError(
            f"the backups folder {folder} cannot be written ({_reason(error)}), so no backup "
            "of the library can be kept; the library was not changed"
        ) from error
    return PendingBackup(library, target)


def remove_pending(library: Path) -> None:
    """Delete pending backups left by writes that were killed (call with the lock held)."""
    folder = backup_dir(library)
    with contextlib.suppress(OSError):
        for path in folder.iterdir():
            if path.name.startswith(_PENDING):
                with contextlib.suppress(OSError):
                    path.unlink()


def _generation_of(path: Path) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return read_generation(fd)
    finally:
        os.close(fd)


def list_backups(library: Path) -> list[Backup]:
    """The library's backups, newest first."""
    folder = backup_dir(library)
    found: list[tuple[str, int, Backup]] = []
    if not folder.is_dir():
        return []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if not match:
            continue
        stamp, number = match.group(1), int(match.group(2) or 1)
        taken = f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]} UTC"
        with contextlib.suppress(OSError):
            found.append((stamp, number, Backup(path, taken, path.stat().st_size)))
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [backup for _, _, backup in found]


def prune(library: Path, generations: int = GENERATIONS) -> None:
    """Delete all but the newest `generations` backups.

    A backup that cannot be deleted (immutable, another user's) stays: one
    generation too many loses nothing, so it is no reason to fail a write that
    has already happened.
    """
    with contextlib.suppress(OSError):
        for old in list_backups(library)[generations:]:
            with contextlib.suppress(OSError):
                old.path.unlink(missing_ok=True)


def find_backup(library: Path, choice: str) -> Backup | None:
    """A backup by its number in `list_backups` (1 = newest) or by its file name."""
    backups = list_backups(library)
    if choice.isdigit() and 1 <= int(choice) <= len(backups):
        return backups[int(choice) - 1]
    return next((b for b in backups if b.name == choice or str(b.path) == choice), None)


def count_records(path: Path) -> int:
    """Records in a library file in refdeck's one-record-per-line layout."""
    count = 0
    in_records = False
    with open(path, "rb") as handle:
        for line in handle:
            if in_records:
                if line.startswith(b"}"):
                    break
                count += line.startswith(b'"')
            elif line.rstrip(b"\n").endswith(RECORDS_OPEN):
                in_records = True
    return count
