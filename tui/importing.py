"""Importing files into the library: read every file, then merge its records in one write.

Parsing happens outside the library's lock (it can take a minute for a 200 MB
file, and another refdeck may want to write meanwhile); the records wait in a
`RecordSpool` as JSON lines, not as Python objects, and are merged slice by
slice in one locked write at the end. Memory then follows the library and a
slice of the input, not the input's size several times over.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol

import orjson

from tui.formats import ImportIssue, ParseResult, iter_files, read_file
from tui.library import LibraryError, RecordStore, UpsertResult
from tui.models import Record
from tui.paths import path_text

BIG_FILE_BYTES = 20_000_000
"""Files above this size get a "Reading ..." line until their first records are parsed."""
SPOOL_IN_MEMORY_BYTES = 16 << 20
"""Records of an import up to this size (as JSON) never touch the disk."""


@dataclass(slots=True)
class ImportReport:
    """Everything an import did, for the summary."""

    files: int = 0
    results: list[ParseResult] = field(default_factory=list)
    """One per file: its issues and counts (its records went to the library)."""
    walk_issues: list[ImportIssue] = field(default_factory=list)
    own_files: int = 0
    """Files and folders passed over because they are the library's own (it, its
    lock, index and backups): importing the library into itself would double it."""
    upsert: UpsertResult = field(default_factory=UpsertResult)

    @property
    def failed(self) -> int:
        """Entries and files that could not be imported."""
        return sum(r.failed for r in self.results) + sum(
            1 for issue in self.walk_issues if issue.severity == "error"
        )

    @property
    def issues(self) -> list[ImportIssue]:
        """Every problem met, errors and warnings, in file order."""
        return self.walk_issues + [issue for r in self.results for issue in r.issues]


class ImportProgress(Protocol):
    """What an import reports while it runs (the command line draws it as a bar)."""

    def start(self, total_bytes: int) -> None:
        """The import will read this many bytes in all."""

    def advance(self, done_bytes: int, records: int, name: str) -> None:
        """So many bytes of all the files are parsed, giving so many records so far."""

    def note(self, text: str) -> None:
        """Say what a long step is doing (writing the library)."""

    def close(self) -> None:
        """The import is over: clear whatever was drawn."""


class SilentProgress:
    """Reports nothing (for scripts, tests and in-memory libraries)."""

    def start(self, total_bytes: int) -> None:
        """Nothing to show."""

    def advance(self, done_bytes: int, records: int, name: str) -> None:
        """Nothing to show."""

    def note(self, text: str) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to clear."""


class ImportStopped(LibraryError):
    """The import could not go on (its spool could not be written); nothing was changed."""


class RecordSpool:
    """Parsed records waiting to be merged, as JSON lines in a temporary file.

    A small import stays in memory; past `SPOOL_IN_MEMORY_BYTES` the spool
    moves to a nameless file in `directory` (the library's folder: a disk
    refdeck writes anyway, where /tmp may be memory itself).
    """

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close()
            max_size=SPOOL_IN_MEMORY_BYTES,
            dir=str(directory) if directory is not None and directory.is_dir() else None,
        )
        self.count = 0

    def add(self, records: Sequence[Record]) -> None:
        """Keep records until they are merged.

        A full disk stops the import with `ImportStopped` (not an `OSError`, which the
        importers would report as the file being unreadable); the spool keeps only
        whole records.
        """
        start = self._file.tell()
        try:
            self._file.write(b"".join(orjson.dumps(record.to_doc()) + b"\n" for record in records))
        except OSError as error:
            with contextlib.suppress(OSError):
                self._file.truncate(start)
            raise ImportStopped(
                f"the import stopped: its temporary file in {self.directory or 'the temporary folder'} "
                f"could not grow ({error.strerror or error}); the library is unchanged"
            ) from error
        self.count += len(records)

    def __iter__(self) -> Iterator[Record]:
        """The records, in the order they were added."""
        self._file.seek(0)
        for line in self._file:
            yield Record.from_doc(orjson.loads(line))

    def close(self) -> None:
        """Let the temporary file go."""
        self._file.close()

    def __enter__(self) -> RecordSpool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def import_paths(
    store: RecordStore, paths: Sequence[str], progress: ImportProgress | None = None
) -> ImportReport:
    """Read every file under `paths` and add its records to `store` in one write."""
    progress = progress or SilentProgress()
    report = ImportReport()

    def own(path: Path) -> bool:
        if store.paths.owns(path):
            report.own_files += 1
            return True
        return False

    files = list(iter_files(paths, report.walk_issues, skip=own))
    sizes = []
    for path in files:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            sizes.append(0)
    progress.start(sum(sizes))
    journals: dict[str, str] = {}
    folder = store.path.parent if store.path is not None else None
    with RecordSpool(folder) as spool:
        done = 0
        for path, size in zip(files, sizes, strict=True):
            name = path_text(path.name)
            if size > BIG_FILE_BYTES:
                # Until its first slice is parsed (or all of it, when it cannot be sliced).
                progress.note(f"Reading {name} ({size / 1e6:,.0f} MB)…")

            def parsed(
                file_bytes: int, before: int = done, size: int = size, name: str = name
            ) -> None:
                progress.advance(before + min(file_bytes, size), spool.count, name)

            result = read_file(path, take=spool.add, progress=parsed)
            report.results.append(result)
            journals.update(result.journals)
            done += size
        progress.close()
        report.files = len(files)
        if spool.count or journals:
            if spool.count > 20_000:
                progress.note(f"Writing {spool.count:,} records to the library…")
            report.upsert = store.upsert(spool, journals)
            progress.close()
    return report
