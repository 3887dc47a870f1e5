"""Checks that a library's index is exactly what a fresh rebuild makes of its file."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from tui.library import RecordStore


def index_dump(library: Path) -> dict[str, Any]:
    """Everything the index says about the library, in a comparable form.

    The word table is read back through fts5vocab (every term, record, field and
    position), since a contentless FTS5 table keeps no text to compare.
    """
    connection = sqlite3.connect(library.with_name(library.name + ".index"))
    try:
        meta = dict(connection.execute("SELECT key, value FROM meta"))
        meta.pop("signature", None)  # the inode and time of the file: not its content
        connection.execute(
            "CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, 'words', 'instance')"
        )
        # Seqs only order the records: compare by place in the library, not by number.
        rank = {
            seq: n
            for n, (seq,) in enumerate(connection.execute("SELECT seq FROM records ORDER BY seq"))
        }
        records = [(rank[row[0]], *row[1:]) for row in connection.execute("SELECT * FROM records")]
        spans = [(rank[row[0]], *row[1:]) for row in connection.execute("SELECT * FROM spans")]
        words = [
            (term, rank[doc], column, offset)
            for term, doc, column, offset in connection.execute("SELECT * FROM temp.terms")
        ]
        return {
            "meta": meta,
            "records": sorted(records),
            "spans": sorted(spans),
            "journals": connection.execute("SELECT * FROM journals ORDER BY key").fetchall(),
            "words": sorted(words),
        }
    finally:
        connection.close()


def rebuilt_dump(library: Path) -> dict[str, Any]:
    """`index_dump` of an index built from scratch from the same library file."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / library.name
        shutil.copyfile(library, copy)
        RecordStore.open(copy).rebuild_index()
        return index_dump(copy)


def assert_index_is_fresh(library: Path) -> None:
    """The index after refdeck's writes equals a fresh rebuild of the same file."""
    current, fresh = index_dump(library), rebuilt_dump(library)
    for part in ("meta", "records", "spans", "journals", "words"):
        assert current[part] == fresh[part], part
