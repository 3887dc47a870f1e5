"""A change to the library, described before it is written: records put and deleted.

Everything that changes a library (an import, a mark, and later tags, notes,
edits, deletions) builds a `ChangeSet` and hands it to the one write path
(`tui.library.writer`). Records' new JSON waits in a spool that moves to a
temporary file past a few megabytes, so an import of 120,000 records does not
hold them all in memory until the write.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from tui.library.layout import record_json

SPOOL_IN_MEMORY_BYTES = 16 << 20
"""New records' JSON up to this size stays in memory."""


class ChangeSet:
    """Records to put (new, or replacing the stored one with the same id) and to delete."""

    def __init__(self, directory: Path | None = None) -> None:
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close()
            max_size=SPOOL_IN_MEMORY_BYTES,
            dir=str(directory) if directory is not None and directory.is_dir() else None,
        )
        self._where: dict[str, tuple[int, int]] = {}
        self._end = 0
        self.deleted: set[str] = set()
        self.journals: dict[str, str] = {}
        """Journal descriptions to store (name -> description)."""
        self.backup = False
        """Keep the library this change replaces as a backup (imports and restores do)."""

    def put(self, doc: Mapping[str, Any]) -> None:
        """Store this document (its newest version wins), replacing any with its id."""
        body = record_json(doc)
        self._file.seek(self._end)
        self._file.write(body)
        self._where[doc["id"]] = (self._end, len(body))
        self._end += len(body)
        self.deleted.discard(doc["id"])

    def delete(self, record_id: str) -> None:
        """Remove the record with this id."""
        self._where.pop(record_id, None)
        self.deleted.add(record_id)

    def body(self, record_id: str) -> bytes:
        """The JSON put for this id."""
        start, length = self._where[record_id]
        self._file.seek(start)
        return self._file.read(length)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._where

    def put_ids(self) -> list[str]:
        """The ids put, in the order they were first put."""
        return list(self._where)

    def bodies(self, record_ids: list[str]) -> Iterator[tuple[str, bytes]]:
        """(id, JSON) of these records."""
        for record_id in record_ids:
            yield record_id, self.body(record_id)

    @property
    def empty(self) -> bool:
        """Nothing to write."""
        return not self._where and not self.deleted and not self.journals

    def close(self) -> None:
        """Let the spool go."""
        self._file.close()

    def __enter__(self) -> ChangeSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
