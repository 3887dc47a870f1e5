"""Where a library's files are: the library itself and everything refdeck keeps beside it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class LibraryPaths:
    """The files of one library.

    `given` is the path as the user named it (messages name it); `real` is
    that path with symlinks resolved. Everything is read, written and locked
    at `real`: a library kept in a synced folder and linked from home stays
    one file with one lock, and a write never replaces the link by a copy.
    """

    given: Path
    real: Path

    @classmethod
    def of(cls, path: Path) -> LibraryPaths:
        """The files of the library at `path` (`~` expanded, made absolute)."""
        given = Path(os.path.abspath(os.path.expanduser(path)))
        return cls(given, Path(os.path.realpath(given)))

    def _beside(self, suffix: str) -> Path:
        return self.real.with_name(self.real.name + suffix)

    @property
    def lock(self) -> Path:
        """The lock every write holds."""
        return self._beside(".lock")

    @property
    def index(self) -> Path:
        """The index (SQLite), beside the library so that a copied folder carries it."""
        return self._beside(".index")

    @property
    def backups(self) -> Path:
        """The folder of backups (on the library's file system, so they can be hard links)."""
        return self._beside(".backups")

    def owns(self, path: Path) -> bool:
        """Whether `path` is the library or one of refdeck's files beside it.

        An import of a folder that holds the library passes over these: they are
        not sources of records, and importing the library into itself doubles it.
        """
        real = Path(os.path.realpath(path))
        if real == self.real or real.parent == self.backups:
            return True
        if real.parent != self.real.parent:
            return False
        return real.name.startswith(self.real.name + ".") or real.name.startswith(".refdeck-tmp-")

    def describe(self) -> str:
        """The library as messages name it: the user's path, and where it leads when a link."""
        if self.given == self.real:
            return str(self.given)
        return f"{self.given} (a link to {self.real})"
