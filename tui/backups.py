"""Rotating backups of the library, taken before every import.

An import can merge thousands of records into existing ones; if the file was
wrong (the wrong colleague's export, a half-broken conversion), the user needs
the library as it was. Before each import the store keeps the current file in
`library.json.backups/` beside it, `GENERATIONS` deep, and `refdeck restore`
puts one back.

A backup is a hard link when the file system allows it: the library is never
modified in place (every write renames a new file over it), so the linked
inode keeps the old contents for free, at any size. Elsewhere the file is
copied, atomically.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tui.library_file import RECORDS_OPEN, atomic_copy

GENERATIONS = 5
"""How many backups are kept; the oldest is deleted when a new one is taken."""

_NAME = re.compile(r"^library-(\d{8}T\d{6}Z)(?:-(\d+))?\.json$")


@dataclass(frozen=True)
class Backup:
    """One kept copy of the library."""

    path: Path
    taken: str
    """When it was taken, as `2026-11-27 03:15:00 UTC`."""
    size: int

    @property
    def name(self) -> str:
        return self.path.name

    def count_records(self) -> int:
        """How many records it holds (counted by line, without parsing JSON)."""
        return count_records(self.path)


def backup_dir(library: Path) -> Path:
    """`library.json.backups/`, beside the library (same file system, so links work)."""
    return library.with_name(f"{library.name}.backups")


def take_backup(library: Path, now: str, generations: int = GENERATIONS) -> Path | None:
    """Keep the current library file as the newest backup; None when there is nothing to keep.

    `now` is an ISO 8601 UTC time (`2026-11-27T03:15:00Z`). Must be called with
    the library's lock held, so the backup is exactly the file the next write replaces.
    """
    try:
        if library.stat().st_size == 0:
            return None
    except FileNotFoundError:
        return None
    folder = backup_dir(library)
    folder.mkdir(exist_ok=True)
    stamp = re.sub(r"[^0-9TZ]", "", now)[:16]
    target = folder / f"library-{stamp}.json"
    number = 1
    while os.path.lexists(target):
        number += 1
        target = folder / f"library-{stamp}-{number}.json"
    try:
        os.link(library, target)
    except OSError:
        # No hard links here (some network and FAT file systems): copy instead.
        atomic_copy(library, target)
    prune(library, generations)
    return target


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
        found.append((stamp, number, Backup(path, taken, path.stat().st_size)))
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [backup for _, _, backup in found]


def prune(library: Path, generations: int = GENERATIONS) -> None:
    """Delete all but the newest `generations` backups."""
    for old in list_backups(library)[generations:]:
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
