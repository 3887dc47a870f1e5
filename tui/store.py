"""The library: records kept in TinyDB. The only module that imports tinydb.

Durability is this module's job, because TinyDB's own JSONStorage overwrites
the file in place (a kill mid-write corrupts it) and has no locking (two
processes lose each other's changes). Here:

* every write goes to a temporary file that is fsynced and renamed over the
  library (`AtomicJSONStorage`), so a crash leaves the old or the new library;
* every change runs as one transaction under a file lock, re-reading the
  library first, so concurrent refdeck processes never lose each other's work;
* a batch of changes (a whole import) is written once;
* a file that is not a refdeck library is refused and never overwritten.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from filelock import FileLock, Timeout
from tinydb import TinyDB
from tinydb.storages import MemoryStorage, Storage

from tui.backups import take_backup
from tui.identity import Matcher, merge, record_id
from tui.library_file import (
    RECORDS,
    TEMP_PREFIX,
    Body,
    PendingRecords,
    Signature,
    append_records,
    appended_spans,
    atomic_copy,
    doc_id_before,
    file_signature,
    head_bytes,
    load_head,
    load_rows,
    patch_records,
    read_head,
    read_record,
    record_json,
    rows_match,
    save_rows,
    scan_records,
    serialize,
    write_atomically,
)
from tui.models import Author, Record, Source
from tui.normalize import doi_key, fold
from tui.rows import ListRows

SCHEMA_VERSION = 1
"""Version of the library's layout; `meta` records it so later versions can migrate."""
APP_NAME = "refdeck"
LOCK_TIMEOUT = 10.0
"""Seconds a write waits for another refdeck process before saying the library is busy."""

_RECORDS, _JOURNALS, _META = RECORDS, "journals", "meta"
_FEW = 1_000
"""Up to this many records are read one by one at their offsets; more, in one pass."""
_UPSERT_BATCH = 5_000
"""Imported records merged into the tables at a time (see `RecordStore.upsert`)."""

Tables = dict[str, dict[str, Any]]


class LibraryError(Exception):
    """A problem with the library file, worded for the user."""


class InvalidLibrary(LibraryError):
    """The file exists but is not a refdeck library; it is left untouched."""


class LibraryBusy(LibraryError):
    """Another process held the library's lock for too long."""


def default_library_path() -> Path:
    """The library used when neither `--db` nor `REFDECK_DB` names one."""
    from platformdirs import user_data_path  # deferred: only needed for the default

    return user_data_path(APP_NAME, appauthor=False) / "library.json"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _validate(tables: Any, path: Path) -> Tables:
    """Check the shape of a library read from disk; raise `InvalidLibrary` when it is wrong."""
    if not isinstance(tables, dict):
        raise InvalidLibrary(f"{path} is not a refdeck library: its top level is not an object")
    for name, table in tables.items():
        if not isinstance(table, dict) or not all(isinstance(d, dict) for d in table.values()):
            raise InvalidLibrary(f"{path} is not a refdeck library: table {name!r} is malformed")
    meta = tables.get(_META)
    info = next(iter(meta.values()), None) if meta else None
    if not info or info.get("schema") != APP_NAME:
        raise InvalidLibrary(
            f"{path} is not a refdeck library (it has no refdeck meta table); refusing to change it"
        )
    version = info.get("version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise InvalidLibrary(
            f"{path} was written by a newer refdeck (library version {version}); "
            f"this one reads version {SCHEMA_VERSION}. Upgrade refdeck to open it"
        )
    return tables


class AtomicJSONStorage(Storage):
    """A TinyDB storage that never leaves a half-written file.

    Reads are cached until the file changes on disk (so TinyDB's read-per-call
    habit costs nothing), and writes inside `batch()` are collected and written
    once when the batch ends.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: Tables | None = None
        self._signature: tuple[int, int, int] | None = None
        self._batching = False
        self._dirty = False
        self.spans: list[tuple[int, int]] = []
        """(offset, length) of each record in the file last written, in table order."""
        self.spans_signature: Signature | None = None
        """The signature of the file `spans` describe."""
        self.generation = 0
        """Incremented whenever the data changes, so callers can cache derived views."""

    def read(self) -> Tables | None:
        """Return the library's tables, re-reading the file only when it changed."""
        if self._batching and self._cache is not None:
            return self._cache
        signature = file_signature(self.path)
        if self._cache is not None and signature == self._signature:
            return self._cache
        if signature is None or signature[1] == 0:
            tables = None  # no file yet, or an empty one: a new library
        else:
            try:
                data = self.path.read_bytes()
                tables = _validate(orjson.loads(data), self.path)
            except orjson.JSONDecodeError as error:
                raise InvalidLibrary(
                    f"{self.path} is not a refdeck library: invalid JSON "
                    f"(line {error.lineno}, column {error.colno}: {error.msg}); "
                    "refusing to change it"
                ) from error
            except OSError as error:
                raise LibraryError(f"cannot read {self.path}: {error.strerror}") from error
        self._cache, self._signature = tables, signature
        self.generation += 1
        return tables

    def write(self, data: Tables) -> None:
        """Keep the new state; write it now, or when the current batch ends."""
        self._cache = data
        self.generation += 1
        if self._batching:
            self._dirty = True
        else:
            self._flush()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Collect every write inside the block into one atomic file write.

        The batch starts from the newest state on disk: another process may
        have written since we last looked.
        """
        self.read()
        self._batching, self._dirty = True, False
        try:
            yield
            if self._dirty:
                self._flush()
        except BaseException:
            self.invalidate()  # the cached tables may hold half-applied changes
            raise
        finally:
            self._batching, self._dirty = False, False

    def invalidate(self) -> None:
        """Forget the cached tables; the next read comes from disk."""
        self._cache, self._signature = None, None
        self.generation += 1

    def _flush(self) -> None:
        assert self._cache is not None
        tables = self._cache
        spans: list[tuple[int, int]] = []

        def write(out: BinaryIO) -> None:
            spans.extend(serialize(tables, out))

        try:
            self._signature = self.spans_signature = write_atomically(self.path, write)
            self.spans = spans
        except OSError:
            self.invalidate()
            raise

    @property
    def signature(self) -> Signature | None:
        """The signature of the file as last read or written."""
        return self._signature

    def close(self) -> None:
        """Nothing to release: files are opened only while reading or writing."""


class _MemoryStorage(MemoryStorage):
    """TinyDB's memory storage with the batch interface of `AtomicJSONStorage`."""

    generation = 0

    def write(self, data: Tables) -> None:
        super().write(data)
        self.generation += 1

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        yield

    def invalidate(self) -> None:
        """Memory is never stale."""


@dataclass(slots=True)
class UpsertResult:
    """What an import did to the library."""

    added: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    """Ids of records that were already in the library exactly as imported."""
    backup: Path | None = None
    """The backup of the library taken before this import changed it."""


class RecordStore:
    """The record library. Screens and commands get one passed in; nothing else opens TinyDB.

    Safe to call from worker threads: TinyDB is not thread-safe, so every call
    holds a lock.
    """

    def __init__(
        self,
        storage: AtomicJSONStorage | _MemoryStorage,
        path: Path | None,
        *,
        clock: Callable[[], str] = _now,
    ) -> None:
        self._storage = storage
        self.path = path
        """The library file, or None for an in-memory library."""
        self._clock = clock
        self._thread_lock = threading.RLock()
        self._file_lock = FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT) if path else None
        self._seen_on_disk = path is not None and path.exists()
        """The library file existed once: its disappearing later is an error, not a fresh start."""
        self._records: list[Record] | None = None
        self._generation = -1
        # The list view (see `rows()`): columns, and where each record sits in the file.
        self._rows: ListRows | None = None
        self._rows_key: object = None
        self._offsets: list[int] | None = None
        self._lengths: list[int] | None = None
        self._positions: dict[str, int] | None = None

    # -- opening ---------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, clock: Callable[[], str] = _now) -> RecordStore:
        """Open (or prepare to create) the library at `path`.

        Raises `InvalidLibrary` when the file exists but is not a refdeck
        library, and `LibraryError` when it cannot be read.
        """
        path = Path(path).expanduser().absolute()
        if path.is_dir():
            raise LibraryError(f"{path} is a directory, not a library file")
        store = cls(AtomicJSONStorage(path), path, clock=clock)
        signature = file_signature(path)
        if signature is None or not rows_match(path, signature):
            store._storage.read()  # validate now, not at the first command
        # else the list cache names this exact file, which refdeck wrote: it is valid,
        # and the browser can start without parsing the whole library.
        store._remove_stale_temp_files()
        return store

    @classmethod
    def in_memory(
        cls, records: Iterable[Record] = (), *, clock: Callable[[], str] = _now
    ) -> RecordStore:
        """A library that lives only in memory (for browsing files, and for tests)."""
        store = cls(_MemoryStorage(), None, clock=clock)
        records = list(records)
        if records:
            store.upsert(records)
        return store

    def _remove_stale_temp_files(self) -> None:
        """Delete temp files left by a process killed mid-write (only while holding the lock)."""
        assert self.path is not None and self._file_lock is not None
        try:
            with self._file_lock.acquire(timeout=0):
                for leftover in self.path.parent.glob(f"{TEMP_PREFIX}*"):
                    with contextlib.suppress(OSError):
                        leftover.unlink()
        except (Timeout, OSError):
            pass  # another process is writing; it will clean up after itself

    # -- transactions ----------------------------------------------------

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Hold this process's and every process's lock on the library, for one write.

        Re-entrant within the process, so a write may be made of smaller ones.
        """
        with self._thread_lock, self._locked():
            if self._seen_on_disk and self.path is not None and not self.path.exists():
                # Moved or deleted while open: writing now would start an empty library there.
                raise LibraryError(self._vanished())
            yield

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[TinyDB]:
        """Run changes against the newest library, as one locked, atomic write."""
        with self._write_lock():
            # No explicit re-read: the storage re-reads whenever the file's inode,
            # size or mtime changed, and every atomic write makes a new inode.
            db = TinyDB(storage=lambda: self._storage)
            try:
                with self._storage.batch():
                    if not db.table(_META).all():
                        db.table(_META).insert(
                            {
                                "schema": APP_NAME,
                                "version": SCHEMA_VERSION,
                                "created": self._clock(),
                            }
                        )
                    yield db
                self._seen_on_disk = self.path is not None
                self._refresh_rows_after_write()
            except OSError as error:
                raise LibraryError(
                    f"cannot write the library {self.path}: {error.strerror or error}; "
                    "it is unchanged"
                ) from error

    def _vanished(self) -> str:
        return (
            f"the library {self.path} has disappeared (moved or deleted?); nothing was "
            "written. Start refdeck again on the library where it is now"
        )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self._file_lock is None:
            yield
            return
        assert self.path is not None
        if not self._seen_on_disk:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # a new library's folder
        elif not self.path.parent.is_dir():
            raise LibraryError(self._vanished())
        try:
            with self._file_lock:
                yield
        except Timeout as error:
            raise LibraryBusy(
                f"the library {self.path} is busy: another refdeck process has been "
                f"writing it for over {LOCK_TIMEOUT:.0f} s; try again when it has finished"
            ) from error
        except PermissionError as error:
            raise LibraryError(f"cannot write the library {self.path}: {error.strerror}") from error
        except FileNotFoundError as error:
            if not self.path.parent.is_dir():  # the folder went while we took the lock
                raise LibraryError(self._vanished()) from error
            raise

    # -- the list view ---------------------------------------------------

    def _set_rows(
        self,
        rows: ListRows,
        key: object,
        offsets: list[int] | None = None,
        lengths: list[int] | None = None,
    ) -> None:
        self._rows, self._rows_key = rows, key
        self._offsets, self._lengths, self._positions = offsets, lengths, None

    def rows(self, progress: Callable[[float], None] | None = None) -> ListRows:
        """The list columns of every record, in library order; cheap to get again.

        For a library file they come from the cache beside it when it matches
        the file, else from one streaming pass over the file (which refreshes
        the cache, and reports the fraction read to `progress`). Treat the
        result as read-only: it is shared.
        """
        with self._thread_lock:
            if self.path is None:
                key: object = self._storage.generation
                if self._rows is None or self._rows_key != key:
                    docs = (self._storage.read() or {}).get(_RECORDS, {}).values()
                    self._set_rows(ListRows.from_docs(docs), key)
                assert self._rows is not None
                return self._rows
            signature = file_signature(self.path)
            if self._rows is not None and self._rows_key == signature:
                return self._rows
            if signature is None:
                self._set_rows(ListRows(), None)
                return self._rows  # type: ignore[return-value]
            loaded = load_rows(self.path, signature)
            if loaded is not None:
                self._set_rows(loaded[0], signature, loaded[1], loaded[2])
            else:
                rows, offsets, lengths, key = self._scan_rows(progress)
                self._set_rows(rows, key, offsets, lengths)
            assert self._rows is not None
            return self._rows

    def changed_elsewhere(self) -> bool:
        """True when another process has written the library since the list view was read.

        One `stat`, no reading: cheap enough to poll. refdeck's own writes keep
        the list view current, so they never count.
        """
        if self.path is None or self._rows is None:
            return False
        # While this process writes, the file and the list view briefly disagree: not a change.
        if not self._thread_lock.acquire(blocking=False):
            return False
        try:
            return file_signature(self.path) != self._rows_key
        finally:
            self._thread_lock.release()

    def rows_head(self) -> tuple[ListRows, int] | None:
        """The first rows of the list and the number of records, when the cache can tell cheaply.

        Lets the browser draw its first screen before the whole list is loaded.
        """
        if self.path is None or self._rows is not None:
            return None
        signature = file_signature(self.path)
        return load_head(self.path, signature) if signature else None

    def _scan_rows(
        self, progress: Callable[[float], None] | None = None
    ) -> tuple[ListRows, list[int] | None, list[int] | None, object]:
        """Build the rows by streaming the file, and cache them for the next start."""
        assert self.path is not None
        for _attempt in range(3):
            before = file_signature(self.path)
            size = max(before[1] if before else 1, 1)
            rows, offsets, lengths = ListRows(), [], []
            try:
                for count, (doc, offset, length) in enumerate(scan_records(self.path)):
                    rows.append_doc(doc)
                    offsets.append(offset)
                    lengths.append(length)
                    if progress is not None and count % 2000 == 0:
                        progress(offset / size)
            except ValueError:
                # Not in refdeck's layout (edited by hand?): read it whole, validated.
                docs = (self._storage.read() or {}).get(_RECORDS, {}).values()
                return ListRows.from_docs(docs), None, None, file_signature(self.path)
            except orjson.JSONDecodeError:
                self._storage.invalidate()
                self._storage.read()  # raises InvalidLibrary with the position
                raise
            if before is not None and file_signature(self.path) == before:
                save_rows(self.path, before, rows, offsets, lengths)
                return rows, offsets, lengths, before
            # Another process replaced the file while we read it: read the new one.
        return rows, None, None, None

    def _refresh_rows_after_write(self) -> None:
        """After a write, the cache is rebuilt from the tables already in memory."""
        if self.path is None or not isinstance(self._storage, AtomicJSONStorage):
            return
        tables = self._storage.read() or {}
        signature = self._storage.signature
        if signature is None or self._storage.spans_signature != signature:
            return  # nothing written by us since the file was last read
        rows = ListRows.from_docs(tables.get(_RECORDS, {}).values())
        offsets = [offset for offset, _ in self._storage.spans]
        lengths = [length for _, length in self._storage.spans]
        if len(offsets) == len(rows):
            save_rows(self.path, signature, rows, offsets, lengths)
            self._set_rows(rows, signature, offsets, lengths)

    def record(self, record_id: str) -> Record | None:
        """One record by id, read from its place in the file when the list view knows it."""
        with self._thread_lock:
            rows = self.rows()
            if self._positions is None:
                self._positions = {rid: i for i, rid in enumerate(rows.ids)}
            position = self._positions.get(record_id)
            if position is None:
                return None
            if self.path is not None and self._offsets is not None and self._lengths is not None:
                try:
                    doc = read_record(self.path, self._offsets[position], self._lengths[position])
                    if doc.get("id") == record_id:
                        return Record.from_doc(doc)
                except (OSError, ValueError):
                    pass  # the file changed under us: fall back to reading it whole
            records = self.all()
            if self.path is None and position < len(records) and records[position].id == record_id:
                return records[position]  # in memory: rows and records share their order
        return next((r for r in self.all() if r.id == record_id), None)

    def records(self, ids: Sequence[str]) -> list[Record]:
        """The records with these ids, in this order; ids no longer in the library are left out.

        A few are read at their offsets; many are picked from one streaming pass,
        so exporting 100,000 results never holds the library twice in memory.
        """
        if len(ids) <= _FEW:
            found = [self.record(record_id) for record_id in ids]
            return [record for record in found if record is not None]
        wanted = set(ids)
        by_id = {
            doc["id"]: Record.from_doc(doc) for doc in self.iter_docs() if doc.get("id") in wanted
        }
        return [by_id[record_id] for record_id in ids if record_id in by_id]

    def iter_docs(self) -> Iterator[dict[str, Any]]:
        """Every stored document, streamed from the file when possible (bounded memory)."""
        if self.path is not None and file_signature(self.path) is not None:
            streamed = 0
            try:
                for doc, _, _ in scan_records(self.path):
                    streamed += 1
                    yield doc
                return
            except ValueError:
                if streamed:
                    raise
        yield from list((self._tables().get(_RECORDS, {})).values())

    def _tables(self) -> Tables:
        with self._thread_lock:
            return self._storage.read() or {}

    # -- reading ---------------------------------------------------------

    def all(self) -> list[Record]:
        """Every record, in the order they were added. Cached until the library changes."""
        with self._thread_lock:
            tables = self._tables()
            if self._records is None or self._generation != self._storage.generation:
                docs = tables.get(_RECORDS, {})
                self._records = [Record.from_doc(doc) for doc in docs.values()]
                self._generation = self._storage.generation
            return list(self._records)

    def count(self) -> int:
        """How many records the library holds."""
        return len(self._tables().get(_RECORDS, {}))

    def get(self, key: str) -> Record | None:
        """Find a record by its id or its DOI (any spelling `normalize_doi` accepts)."""
        from tui.normalize import InvalidDOI, normalize_doi

        records = self.all()
        for record in records:
            if record.id == key:
                return record
        try:
            doi = normalize_doi(key)
        except InvalidDOI:
            return None
        if doi is None:
            return None
        wanted = doi_key(doi)
        return next((r for r in records if r.doi and doi_key(r.doi) == wanted), None)

    def journal_description(self, name: str | None) -> str | None:
        """The description of a journal, stored once for all its records."""
        if not name:
            return None
        key = fold(name)
        for entry in self._tables().get(_JOURNALS, {}).values():
            if entry.get("key") == key:
                return entry.get("description")
        return None

    def journals(self) -> dict[str, str]:
        """Every stored journal description, by journal name."""
        return {
            entry["name"]: entry["description"]
            for entry in self._tables().get(_JOURNALS, {}).values()
            if "name" in entry and "description" in entry
        }

    def schema_version(self) -> int:
        """The layout version recorded in the library's meta table."""
        meta = self._tables().get(_META, {})
        info = next(iter(meta.values()), {})
        return int(info.get("version", SCHEMA_VERSION))

    # -- writing ---------------------------------------------------------

    def upsert(
        self, records: Iterable[Record], journals: Mapping[str, str] | None = None
    ) -> UpsertResult:
        """Import records: new ones are added, known ones merged. One write for all.

        A record matches a stored one by DOI, or by title, year and first author
        when one of them has no DOI (see `tui.identity`). Records within the
        import are matched against each other too.

        `records` is consumed in batches and let go batch by batch. When the
        list cache describes the library file exactly (refdeck wrote both), the
        import is written as a patch of the file: merged records replaced in
        place, new ones added at the end, the rest copied byte for byte, so a
        library of 100,000 records is neither parsed nor held in memory.
        Otherwise the library goes through TinyDB, which holds all of it.
        """
        with self._write_lock(), _no_cycle_collection():
            if self.path is not None:
                patched = self._upsert_by_patching(records, journals or {})
                if patched is not None:
                    return patched
            return self._upsert_with_tinydb(records, journals or {})

    def _upsert_with_tinydb(
        self, records: Iterable[Record], journals: Mapping[str, str]
    ) -> UpsertResult:
        with self._transaction() as db:
            table = db.table(_RECORDS)
            stored_docs = self._tables().get(_RECORDS, {})
            doc_ids = {doc["id"]: int(doc_id) for doc_id, doc in stored_docs.items()}
            matcher = Matcher(Record.identity_from_doc(doc) for doc in stored_docs.values())
            del stored_docs  # TinyDB replaces the table's dict on every write
            merging = _Merging(
                matcher, set(doc_ids), self._clock(), lambda i: self._stored(doc_ids[i])
            )
            for pending in merging.batches(records):
                self._take_backup_once(merging)
                self._write_batch(table, pending, doc_ids)
            new_journals = self._new_journals(db.table(_JOURNALS).all(), journals)
            if new_journals:
                self._take_backup_once(merging)
                tables = self._tables()
                tables[_JOURNALS] = _with_journals(tables.get(_JOURNALS, {}), new_journals)
                self._storage.write(tables)
        return merging.result

    def _take_backup_once(self, merging: _Merging) -> None:
        """Keep the library as it is before this import's first change (once per import).

        Under the lock, before the write: exactly the file this import replaces.
        An import that changes nothing takes none, so it cannot rotate good ones out.
        """
        if merging.result.backup is None and self.path is not None and self.path.exists():
            merging.result.backup = take_backup(self.path, merging.now)

    def _upsert_by_patching(
        self, records: Iterable[Record], journals: Mapping[str, str]
    ) -> UpsertResult | None:
        """The import as a patch of the library file, or None when the file does not allow it.

        Needs the list cache of this exact file (for every record's id, match
        keys and offset), at least one stored record, and the layout that
        `serialize` writes. Decided before `records` is touched, so the caller
        can still go the TinyDB way. New journal descriptions rewrite the
        file's head, where the journals table sits.
        """
        assert self.path is not None
        signature = file_signature(self.path)
        if signature is None:
            return None
        rows = self.rows()
        offsets, lengths = self._offsets, self._lengths
        if offsets is None or lengths is None or self._rows_key != signature or not len(rows):
            return None
        head = read_head(self.path, offsets[0])
        last_id = doc_id_before(self.path, offsets[-1])
        if head is None or last_id is None:
            return None
        head_tables, head_length = head
        new_journals = self._new_journals(head_tables.get(_JOURNALS, {}).values(), journals)
        path = self.path
        positions = {record_id_: i for i, record_id_ in enumerate(rows.ids)}
        changed: dict[int, bytes] = {}  # position -> the merged record's JSON
        with contextlib.closing(PendingRecords(path.parent)) as added:

            def stored(record_id_: str) -> Record:
                if record_id_ in added:
                    return Record.from_doc(orjson.loads(added.get(record_id_)))
                position = positions[record_id_]
                if position in changed:
                    return Record.from_doc(orjson.loads(changed[position]))
                return Record.from_doc(read_record(path, offsets[position], lengths[position]))

            matcher = Matcher(_identity_of_row(rows, i) for i in range(len(rows)))
            merging = _Merging(matcher, set(positions), self._clock(), stored)
            for pending in merging.batches(records):
                for record_id_, record in pending.items():
                    body = record_json(record.to_doc())
                    if record_id_ in positions:
                        changed[positions[record_id_]] = body
                    else:
                        added.put(record_id_, body)
            if not changed and not len(added) and not new_journals:
                return merging.result
            self._take_backup_once(merging)
            new_head = None
            if new_journals:
                head_tables[_JOURNALS] = _with_journals(
                    head_tables.get(_JOURNALS, {}), new_journals
                )
                new_head = (head_length, head_bytes(head_tables))
            self._write_patches(rows, changed, added, last_id + 1, new_head)
        return merging.result

    def _write_patches(
        self,
        rows: ListRows,
        changed: Mapping[int, bytes],
        added: PendingRecords,
        first_id: int,
        new_head: tuple[int, bytes] | None,
    ) -> None:
        """Write changed and added records (and a new head) into the file, then bring the
        list cache along."""
        assert self.path is not None and self._offsets is not None and self._lengths is not None
        offsets, lengths = list(self._offsets), list(self._lengths)
        end_of_records = offsets[-1] + lengths[-1]
        patches: list[tuple[int, int, Body]] = [
            (offsets[i], lengths[i], body) for i, body in changed.items()
        ]
        shift = 0
        if new_head is not None:
            old_length, head = new_head
            patches.append((0, old_length, head))
            shift = len(head) - old_length  # every record moves by the head's change
        if len(added):
            patches.append(append_records(end_of_records, first_id, added))
        try:
            signature, _ = patch_records(self.path, patches)
        except OSError as error:
            raise LibraryError(
                f"cannot write the library {self.path}: {error.strerror or error}; it is unchanged"
            ) from error
        self._storage.invalidate()  # TinyDB's cached tables are the old library
        rows = rows.copy()  # the old rows may be shown by a browser: never changed in place
        for position in range(len(offsets)):
            offsets[position] += shift
            if position in changed:
                body = changed[position]
                shift += len(body) - lengths[position]
                lengths[position] = len(body)
                rows.set_doc(position, orjson.loads(body))
        for (offset, length), body in zip(
            appended_spans(end_of_records + shift, first_id, added.lengths()),
            added.bodies(),
            strict=True,
        ):
            offsets.append(offset)
            lengths.append(length)
            rows.append_doc(orjson.loads(body))
        save_rows(self.path, signature, rows, offsets, lengths)
        self._set_rows(rows, signature, offsets, lengths)
        self._seen_on_disk = True

    def _stored(self, doc_id: int) -> Record:
        """A record already in the tables (stored before, or added earlier in this import)."""
        return Record.from_doc(self._tables()[_RECORDS][str(doc_id)])

    @staticmethod
    def _write_batch(table: Any, pending: Mapping[str, Record], doc_ids: dict[str, int]) -> None:
        """Put a batch's new and changed records in the tables (written when the import ends)."""
        replacements = {i: record.to_doc() for i, record in pending.items() if i in doc_ids}
        if replacements:
            # One table update for the batch's merged records, not one per record.
            table.update(_replace_by_id(replacements), doc_ids=[doc_ids[i] for i in replacements])
        new_ids = [i for i in pending if i not in doc_ids]
        if new_ids:
            # A generator: TinyDB copies each document, so no list of them is kept.
            inserted = table.insert_multiple(pending[i].to_doc() for i in new_ids)
            doc_ids.update(zip(new_ids, inserted, strict=True))

    def restore(self, backup: Path) -> int:
        """Put a backup back in place of the library; returns its record count.

        The backup is checked first (a broken or foreign file is refused), and
        the current library becomes the newest backup, so a restore can itself
        be undone.
        """
        if self.path is None:
            raise LibraryError("an in-memory library has no backups")
        with self._thread_lock, self._locked():
            try:
                tables = _validate(orjson.loads(backup.read_bytes()), backup)
            except orjson.JSONDecodeError as error:
                raise InvalidLibrary(f"{backup} is not a refdeck library: {error.msg}") from error
            except OSError as error:
                raise LibraryError(f"cannot read {backup}: {error.strerror}") from error
            try:
                take_backup(self.path, self._clock())
                atomic_copy(backup, self.path)
            except OSError as error:
                raise LibraryError(
                    f"cannot restore {self.path}: {error.strerror or error}; it is unchanged"
                ) from error
            # The list view and the records follow by themselves: the file's signature changed.
            self._storage.invalidate()
        return len(tables.get(_RECORDS, {}))

    @staticmethod
    def _new_journals(
        stored_docs: Iterable[Mapping[str, Any]], journals: Mapping[str, str]
    ) -> dict[str, str]:
        """The journal descriptions that are not stored yet, or stored differently.

        A re-import that brings the same descriptions changes nothing, so it
        writes nothing and takes no backup (which would rotate a good one out).
        """
        stored = {(doc.get("key"), doc.get("name"), doc.get("description")) for doc in stored_docs}
        return {
            name: description
            for name, description in journals.items()
            if (fold(name), name, description) not in stored
        }

    def set_marked(self, ids: Iterable[str], marked: bool) -> None:
        """Mark or unmark records, in one write."""
        wanted = set(ids)
        if self._patch_marks(wanted, marked):
            return
        with self._transaction() as db:
            table = db.table(_RECORDS)
            doc_ids = [
                int(doc_id)
                for doc_id, doc in self._tables().get(_RECORDS, {}).items()
                if doc.get("id") in wanted and bool(doc.get("marked")) != marked
            ]
            if not doc_ids:
                return

            def transform(doc: dict[str, Any]) -> None:
                if marked:
                    doc["marked"] = True
                else:
                    doc.pop("marked", None)

            table.update(transform, doc_ids=doc_ids)

    def _patch_marks(self, wanted: set[str], marked: bool) -> bool:
        """Marks at scale: rewrite only the changed records' lines (see `patch_records`).

        Used when the list view knows every record's offset in the current
        file; returns False (use the TinyDB path) otherwise.
        """
        if self.path is None:
            return False
        with self._thread_lock, self._locked():
            rows = self._rows
            signature = file_signature(self.path)
            if (
                rows is None
                or self._offsets is None
                or self._lengths is None
                or signature is None
                or self._rows_key != signature
            ):
                return False
            offsets, lengths = list(self._offsets), list(self._lengths)
            patches, positions = [], []
            for position, record_id in enumerate(rows.ids):
                if record_id not in wanted or rows.marked[position] == marked:
                    continue
                doc = read_record(self.path, offsets[position], lengths[position])
                if doc.get("id") != record_id:
                    return False
                if marked:
                    doc["marked"] = True
                else:
                    doc.pop("marked", None)
                patches.append((offsets[position], lengths[position], record_json(doc)))
                positions.append(position)
            if not patches:
                return True
            try:
                new_signature, _ = patch_records(self.path, patches)
            except OSError as error:
                raise LibraryError(
                    f"cannot write the library {self.path}: {error.strerror or error}; "
                    "it is unchanged"
                ) from error
            # Records after a patched one moved by the size change of the patches before them.
            shift = 0
            by_position = dict(zip(positions, patches, strict=True))
            for position in range(len(offsets)):
                offsets[position] += shift
                if position in by_position:
                    _, length, body = by_position[position]
                    shift += len(body) - length
                    lengths[position] = len(body)
            rows.with_marked(positions, marked)
            save_rows(self.path, new_signature, rows, offsets, lengths)
            self._set_rows(rows, new_signature, offsets, lengths)
            return True

    def update(self, record_id_: str, **changes: Any) -> Record:
        """Change fields of one stored record (tags, note, mark...) and save it."""
        with self._transaction() as db:
            table = db.table(_RECORDS)
            docs = [doc for doc in table.all() if doc.get("id") == record_id_]
            if not docs:
                raise KeyError(record_id_)
            record = Record.from_doc(docs[0]).with_changes(**changes)
            table.update(_replace_by_id({record.id: record.to_doc()}), doc_ids=[docs[0].doc_id])
        return record


class _Merging:
    """The matching of one import: which incoming records are new, merged or unchanged.

    Shared by both ways an import is written (TinyDB, or a patch of the file);
    they differ only in where a stored record is read from (`stored`) and how
    each batch of new and changed records (`batches`) is written.
    """

    def __init__(
        self, matcher: Matcher, taken: set[str], now: str, stored: Callable[[str], Record]
    ) -> None:
        self.result = UpsertResult()
        self.now = now
        self._matcher = matcher
        self._taken = taken
        self._stored = stored
        self._added: set[str] = set()
        self._merged: set[str] = set()
        self._unchanged: set[str] = set()

    def batches(self, records: Iterable[Record]) -> Iterator[dict[str, Record]]:
        """For each batch of incoming records, the records it adds or changes, by id.

        A record changed in a batch is written before the next batch is read,
        so `stored` finds it there.
        """
        incoming_records = iter(records)
        while batch := list(itertools.islice(incoming_records, _UPSERT_BATCH)):
            pending: dict[str, Record] = {}
            for incoming in batch:
                self._take(incoming, pending)
            if pending:
                yield pending

    def _take(self, incoming: Record, pending: dict[str, Record]) -> None:
        result, now = self.result, self.now
        source = tuple(s if s.imported else _stamp(s, now) for s in incoming.source)
        found = self._matcher.find(incoming)
        if found is None:
            new_id = record_id(incoming, self._taken)
            self._taken.add(new_id)
            record = incoming.with_changes(id=new_id, added=incoming.added or now, source=source)
            pending[new_id] = record
            self._matcher.add(record)
            self._added.add(new_id)
            result.added.append(new_id)
            return
        current = pending.get(found) or self._stored(found)
        combined = merge(current, _without_user_fields(incoming).with_changes(source=source))
        if combined == current:
            if (
                found not in self._added
                and found not in self._merged
                and found not in self._unchanged
            ):
                self._unchanged.add(found)
                result.unchanged.append(found)
            return
        pending[found] = combined
        self._matcher.add(combined)
        if found not in self._added and found not in self._merged:
            self._merged.add(found)
            result.merged.append(found)
            if found in self._unchanged:
                self._unchanged.discard(found)
                result.unchanged.remove(found)


def _with_journals(
    table: Mapping[str, Mapping[str, Any]], journals: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """The journals table (TinyDB's layout: document id -> document) with these
    descriptions stored: one document per journal, found by its folded name."""
    updated = {doc_id: dict(doc) for doc_id, doc in table.items()}
    by_key = {doc.get("key"): doc_id for doc_id, doc in updated.items()}
    next_id = max((int(doc_id) for doc_id in updated), default=0) + 1
    for name, description in journals.items():
        key = fold(name)
        doc = {"key": key, "name": name, "description": description}
        if key in by_key:
            updated[by_key[key]].update(doc)
        else:
            updated[str(next_id)] = doc
            by_key[key] = str(next_id)
            next_id += 1
    return updated


def _identity_of_row(rows: ListRows, position: int) -> Record:
    """What `Matcher` needs of a stored record, from the list cache (see `Record.identity_from_doc`)."""
    first = rows.first_authors[position]
    return Record(
        id=rows.ids[position],
        doi=rows.dois[position] or None,
        title=rows.titles[position] or None,
        year=rows.years[position],
        authors=(Author(literal=first),) if first else (),
    )


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while many documents are created at once.

    Records and documents hold no reference cycles, so it would find nothing;
    but each full collection walks every live object, the whole library
    included, and an import of 100,000 records sets off many of them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _stamp(source: Source, when: str) -> Source:
    return Source(format=source.format, file=source.file, imported=when)


def _without_user_fields(record: Record) -> Record:
    """An imported record never sets what only the user sets."""
    return record.with_changes(tags=(), note=None, marked=False, added=None)


def _replace_by_id(
    replacements: Mapping[str, dict[str, Any]],
) -> Callable[[dict[str, Any]], None]:
    """A TinyDB update that replaces each document whole, by its record id."""

    def transform(doc: dict[str, Any]) -> None:
        new_doc = replacements[doc["id"]]
        doc.clear()
        doc.update(new_doc)

    return transform
