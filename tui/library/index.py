"""The library's index: an SQLite database beside the library file.

The library file (TinyDB's JSON) is the library of record; the index holds
what listing, searching and merging need, so that no command reads the whole
library: a row of list columns, identity keys and filter fields per record
(`tui.library.columns`), each record's place in the file, the journals, and
an FTS5 word table over every searchable field, abstracts included. It can
always be deleted: the store rebuilds it from the file.

Why SQLite (the README's Design section has the figures): it answers a prefix
query without loading anything, updates in place a record at a time, and
commits atomically; a home-made word file would have to be loaded at every
start and rewritten, or journaled, on every change.

The index is tied to one exact library file by its meta table: the file's
generation id (written in the file's own meta table by every write), its
size and CRC-32, and the inode, size and modification time it had when it was
last checked. See `tui.library.store` for how those are used.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from tui.atomic import Signature
from tui.library.columns import (
    COLUMN_NAMES,
    COLUMNS,
    ROW_SELECT,
    column_values,
    row_from_sql,
    search_texts,
)
from tui.library.errors import LibraryError
from tui.normalize import fold
from tui.query import SEARCH_FIELDS
from tui.rows import Row

INDEX_VERSION = "1"
"""Layout of the index; an index of another version is rebuilt."""
_WORD_TABLE = (
    f"CREATE VIRTUAL TABLE words USING fts5({', '.join(SEARCH_FIELDS)}, content='', "
    # Texts arrive folded by `haystack` (case, accents, punctuation): the tokenizer only
    # splits them. One- and two-letter prefixes are indexed: the first keystrokes of a
    # search match thousands of words, which a prefix index answers as one lookup.
    "prefix='1 2', tokenize='unicode61 remove_diacritics 0')"
)
_SCHEMA = [
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE records(seq INTEGER PRIMARY KEY, "
    + ", ".join(f"{c.name} {c.sql}" for c in COLUMNS)
    + ")",
    "CREATE INDEX records_doi_key ON records(doi_key) WHERE doi_key IS NOT NULL",
    "CREATE INDEX records_title_key ON records(title_key) WHERE title_key IS NOT NULL",
    "CREATE INDEX records_year ON records(year)",
    "CREATE TABLE spans(seq INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL, offset INTEGER NOT NULL, "
    "length INTEGER NOT NULL)",
    "CREATE TABLE journals(key TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL) "
    "WITHOUT ROWID",
    _WORD_TABLE,
]
_TABLES = ("meta", "records", "spans", "journals", "words")
_INSERT_RECORD = (
    f"INSERT INTO records(seq, {', '.join(COLUMN_NAMES)}) "
    f"VALUES (?, {', '.join('?' for _ in COLUMN_NAMES)})"
)
_UPDATE_RECORD = (
    f"UPDATE records SET {', '.join(f'{name} = ?' for name in COLUMN_NAMES)} WHERE seq = ?"
)
_INSERT_WORDS = (
    f"INSERT INTO words(rowid, {', '.join(SEARCH_FIELDS)}) "
    f"VALUES (?, {', '.join('?' for _ in SEARCH_FIELDS)})"
)
_DELETE_WORDS = (
    f"INSERT INTO words(words, rowid, {', '.join(SEARCH_FIELDS)}) "
    f"VALUES ('delete', ?, {', '.join('?' for _ in SEARCH_FIELDS)})"
)
_CHUNK = 900
"""Values bound in one statement (below SQLite's smallest limit)."""
BUSY_SECONDS = 10.0


class _Connection(sqlite3.Connection):
    """A connection whose "disk is full" and I/O failures are `OSError`s, like every other
    failure to write the library, so they become the same message."""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.OperationalError as error:
            raise _as_os_error(error) from error

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.OperationalError as error:
            raise _as_os_error(error) from error


def _as_os_error(error: sqlite3.OperationalError) -> Exception:
    message = str(error)
    if "full" in message:
        return OSError(errno.ENOSPC, f"No space left on device (writing the index: {message})")
    if "I/O" in message or "readonly" in message or "unable to open" in message:
        return OSError(errno.EIO, f"the index cannot be written ({message})")
    return error


class Span(NamedTuple):
    """Where one record sits in the library file."""

    seq: int
    doc_id: int
    offset: int
    """Where its JSON starts."""
    length: int


def index_path(library: Path) -> Path:
    """Where a library's index lives: beside it, so a copied folder carries it along."""
    return library.with_name(library.name + ".index")


def index_files(path: Path) -> list[Path]:
    """An index file and the files SQLite keeps beside it."""
    return [path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]


def signature_text(signature: Signature) -> str:
    """How a file signature is kept in the index's meta table."""
    return ":".join(str(part) for part in signature)


class Index:
    """One connection to a library's index.

    Transactions are explicit (`begin_read`, `begin_write`, `commit`,
    `rollback`): a reader keeps one snapshot of the index for as long as it
    shows the records it read, and the writer commits the index only once the
    library file it describes is in place.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path

    @classmethod
    def open(cls, path: Path, *, writable: bool) -> Index | None:
        """Open the index at `path`; None when it is missing (or unusable) and cannot be made.

        A file that is not an SQLite database, or not one this version
        reads, is treated as missing: removed when writable, so it is rebuilt.
        """
        if os.path.lexists(path) and not path.is_file():
            raise LibraryError(
                f"{path} is where the library's index belongs, but it is not a file; "
                "move it away and refdeck rebuilds the index"
            )
        if not writable and not path.is_file():
            return None
        try:
            index = cls._connect(path, writable)
            index.connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return index
        except sqlite3.DatabaseError:
            if not writable:
                return None
        for leftover in index_files(path):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        try:
            return cls._connect(path, writable)
        except sqlite3.DatabaseError as error:
            raise LibraryError(f"cannot create the index {path}: {error}") from error

    @classmethod
    def _connect(cls, path: Path, writable: bool) -> Index:
        if writable:
            connection = sqlite3.connect(
                path,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_SECONDS,
                factory=_Connection,
            )
            # WAL: readers (an open browser) keep their snapshot while another process
            # writes, and never block it. synchronous=NORMAL: a power cut may lose the
            # last commit, which leaves an index that names an older generation than the
            # library: detected, and rebuilt. The library itself is always fsynced.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        else:
            # A folder refdeck may not write: read the index as it is, never changed.
            uri = f"{path.absolute().as_uri()}?mode=ro&immutable=1"
            connection = sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False, factory=_Connection
            )
        connection.execute("PRAGMA cache_size=-16000")  # 16 MB, whatever the library's size
        return cls(connection, path)

    def close(self) -> None:
        """Close the connection (rolling back what was not committed)."""
        with contextlib.suppress(sqlite3.Error):
            self.connection.close()

    # -- transactions ----------------------------------------------------

    def begin_read(self) -> None:
        """Start a read transaction: every read until `end` sees the same index."""
        self.connection.execute("BEGIN")
        self.connection.execute("SELECT count(*) FROM sqlite_master").fetchone()

    def begin_write(self) -> None:
        """Start the write transaction (one writer at a time, across processes)."""
        self.connection.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit what was written."""
        self.connection.execute("COMMIT")

    def end(self) -> None:
        """End the current transaction without keeping its changes."""
        if self.connection.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.connection.execute("ROLLBACK")

    # -- meta ------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        """The meta table: {} when the index has none, or is of another version."""
        try:
            pairs = dict(self.connection.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError:
            return {}
        return pairs if pairs.get("version") == INDEX_VERSION else {}

    def set_meta(self, **values: object) -> None:
        """Set meta entries (inside a write transaction)."""
        self.connection.executemany(
            "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
            [(key, str(value)) for key, value in values.items()],
        )

    def recreate(self) -> None:
        """Drop every table and create the current schema (inside a write transaction)."""
        names = [
            row[0]
            for row in self.connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for name in names:
            if name in _TABLES or not name.startswith("words_"):
                self.connection.execute(f'DROP TABLE IF EXISTS "{name}"')
        try:
            for statement in _SCHEMA:
                self.connection.execute(statement)
        except sqlite3.OperationalError as error:
            if "fts5" in str(error):
                raise LibraryError(
                    "this Python's SQLite has no full-text search (FTS5), which refdeck's "
                    "index needs; use a Python built with a standard SQLite"
                ) from error
            raise
        self.set_meta(version=INDEX_VERSION)

    # -- writing ---------------------------------------------------------

    def insert(self, items: Iterable[tuple[int, int, Mapping[str, Any], int, int]]) -> None:
        """Add records: (seq, doc_id, document, offset, length) each."""
        records, spans, words = [], [], []
        execute = self.connection.executemany
        for seq, doc_id, doc, offset, length in items:
            records.append((seq, *column_values(doc, doc_id)))
            spans.append((seq, doc_id, offset, length))
            words.append((seq, *search_texts(doc)))
            if len(records) >= 2000:
                execute(_INSERT_RECORD, records)
                execute("INSERT INTO spans VALUES (?, ?, ?, ?)", spans)
                execute(_INSERT_WORDS, words)
                records, spans, words = [], [], []
        if records:
            execute(_INSERT_RECORD, records)
            execute("INSERT INTO spans VALUES (?, ?, ?, ?)", spans)
            execute(_INSERT_WORDS, words)

    def replace(
        self, seq: int, doc_id: int, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> None:
        """Change a record's columns and words from its old document to its new one."""
        self.connection.execute(_UPDATE_RECORD, (*column_values(new, doc_id), seq))
        old_words, new_words = search_texts(old), search_texts(new)
        if old_words != new_words:  # a mark changes no word: the word table is left alone
            self.connection.execute(_DELETE_WORDS, (seq, *old_words))
            self.connection.execute(_INSERT_WORDS, (seq, *new_words))

    def delete(self, seq: int, old: Mapping[str, Any]) -> None:
        """Remove a record."""
        self.connection.execute("DELETE FROM records WHERE seq = ?", (seq,))
        self.connection.execute("DELETE FROM spans WHERE seq = ?", (seq,))
        self.connection.execute(_DELETE_WORDS, (seq, *search_texts(old)))

    def set_span(self, seq: int, offset: int, length: int) -> None:
        """Where one record's JSON now sits."""
        self.connection.execute(
            "UPDATE spans SET offset = ?, length = ? WHERE seq = ?", (offset, length, seq)
        )

    def shift(self, first: int, last: int, delta: int) -> None:
        """Move the records from `first` to `last` (seqs, inclusive) by `delta` bytes."""
        if delta:
            self.connection.execute(
                "UPDATE spans SET offset = offset + ? WHERE seq BETWEEN ? AND ?",
                (delta, first, last),
            )

    def set_journals(self, journals: Mapping[str, Any]) -> None:
        """Keep the library's journals table (document id -> {key, name, description})."""
        self.connection.execute("DELETE FROM journals")
        self.connection.executemany(
            "INSERT OR REPLACE INTO journals VALUES (?, ?, ?)",
            [
                (
                    str(doc.get("key") or fold(str(doc.get("name", "")))),
                    doc.get("name", ""),
                    doc.get("description", ""),
                )
                for doc in journals.values()
                if isinstance(doc, Mapping) and doc.get("description")
            ],
        )

    # -- reading ---------------------------------------------------------

    def count(self) -> int:
        """How many records the library holds."""
        return int(self.connection.execute("SELECT count(*) FROM records").fetchone()[0])

    def last(self) -> tuple[int, int]:
        """The highest seq and document id in use (0, 0 for an empty library)."""
        seq, doc_id = self.connection.execute(
            "SELECT coalesce(max(seq), 0), coalesce(max(doc_id), 0) FROM records"
        ).fetchone()
        return int(seq), int(doc_id)

    def span(self, seq: int) -> tuple[str, int, int, int] | None:
        """(record id, document id, offset, length) of the record at `seq`."""
        found = self.connection.execute(
            "SELECT r.id, r.doc_id, s.offset, s.length FROM records r JOIN spans s USING (seq) "
            "WHERE r.seq = ?",
            (seq,),
        ).fetchone()
        return None if found is None else (found[0], found[1], found[2], found[3])

    def run(self, after: int, before: int) -> tuple[Span, Span] | None:
        """The first and last record with `after < seq < before`; None when there is none."""
        query = (
            "SELECT seq, doc_id, offset, length FROM spans WHERE seq > ? AND seq < ? "
            "ORDER BY seq {} LIMIT 1"
        )
        first = self.connection.execute(query.format("ASC"), (after, before)).fetchone()
        if first is None:
            return None
        last = self.connection.execute(query.format("DESC"), (after, before)).fetchone()
        return Span(*first), Span(*last)

    def seq_of_id(self, record_id: str) -> int | None:
        """The seq of the record with this id."""
        found = self.connection.execute(
            "SELECT seq FROM records WHERE id = ?", (record_id,)
        ).fetchone()
        return None if found is None else int(found[0])

    def seqs_of_ids(self, record_ids: Sequence[str]) -> dict[str, int]:
        """The seqs of the records with these ids (ids no longer there are left out)."""
        found: dict[str, int] = {}
        for start in range(0, len(record_ids), _CHUNK):
            chunk = list(record_ids[start : start + _CHUNK])
            marks = ", ".join("?" for _ in chunk)
            found.update(
                self.connection.execute(f"SELECT id, seq FROM records WHERE id IN ({marks})", chunk)
            )
        return found

    def seq_of_doi(self, key: str) -> int | None:
        """The first record (in library order) with this DOI (`doi_key` form)."""
        found = self.connection.execute(
            "SELECT min(seq) FROM records WHERE doi_key = ?", (key,)
        ).fetchone()[0]
        return None if found is None else int(found)

    def by_title_key(self, key: str) -> list[tuple[str, bool]]:
        """(id, has a DOI) of the records with this title key, in library order."""
        return [
            (row[0], bool(row[1]))
            for row in self.connection.execute(
                "SELECT id, has_doi FROM records WHERE title_key = ? ORDER BY seq", (key,)
            )
        ]

    def id_exists(self, record_id: str) -> bool:
        """Whether a record has this id."""
        return self.seq_of_id(record_id) is not None

    def rows(self, seqs: Sequence[int]) -> list[Row]:
        """The list rows of these records, in this order (seqs no longer there are left out)."""
        by_seq: dict[int, Row] = {}
        for start in range(0, len(seqs), _CHUNK):
            chunk = list(seqs[start : start + _CHUNK])
            marks = ", ".join("?" for _ in chunk)
            for values in self.connection.execute(
                f"SELECT {ROW_SELECT} FROM records r WHERE r.seq IN ({marks})", chunk
            ):
                row = row_from_sql(values)
                by_seq[row.seq] = row
        return [by_seq[seq] for seq in seqs if seq in by_seq]

    def spans(self, seqs: Sequence[int]) -> dict[int, tuple[str, int, int, int]]:
        """(id, document id, offset, length) by seq, for these records."""
        found: dict[int, tuple[str, int, int, int]] = {}
        for start in range(0, len(seqs), _CHUNK):
            chunk = list(seqs[start : start + _CHUNK])
            marks = ", ".join("?" for _ in chunk)
            for seq, record_id, doc_id, offset, length in self.connection.execute(
                "SELECT r.seq, r.id, r.doc_id, s.offset, s.length FROM records r "
                f"JOIN spans s USING (seq) WHERE r.seq IN ({marks})",
                chunk,
            ):
                found[seq] = (record_id, doc_id, offset, length)
        return found

    def journal_description(self, name: str) -> str | None:
        """The stored description of a journal."""
        found = self.connection.execute(
            "SELECT description FROM journals WHERE key = ?", (fold(name),)
        ).fetchone()
        return None if found is None else str(found[0])

    def journal_count(self) -> int:
        """How many journals have a description."""
        return int(self.connection.execute("SELECT count(*) FROM journals").fetchone()[0])

    def marked(self) -> list[int]:
        """The seqs of the marked records, in library order."""
        return [
            row[0]
            for row in self.connection.execute("SELECT seq FROM records WHERE marked ORDER BY seq")
        ]

    def counts(self, column: str) -> list[tuple[Any, int]]:
        """(value, records) for every value of a column, most records first."""
        assert column in COLUMN_NAMES
        return [
            (value, count)
            for value, count in self.connection.execute(
                f"SELECT {column}, count(*) AS n FROM records GROUP BY {column} ORDER BY n DESC, {column}"
            )
        ]

    def total(self, column: str) -> int:
        """The sum of a yes/no column."""
        assert column in COLUMN_NAMES
        return int(
            self.connection.execute(f"SELECT coalesce(sum({column}), 0) FROM records").fetchone()[0]
        )

    def in_order(self) -> Iterator[Span]:
        """Where every record is, in library order."""
        for values in self.connection.execute(
            "SELECT seq, doc_id, offset, length FROM spans ORDER BY seq"
        ):
            yield Span(*values)


def can_write_beside(library: Path) -> bool:
    """Whether the library's folder takes new files (the index, its journal)."""
    return os.access(library.parent, os.W_OK | os.X_OK)
