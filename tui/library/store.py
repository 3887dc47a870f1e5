"""The library: what commands and screens open, read and change.

A `RecordStore` names one library file and does three things with it:

* **Opening a view** (`snapshot`). The index beside the library is used only
  once it is proven to describe this exact file: the generation id on the
  file's first line and its size must be the index's, and either the file's
  inode, size and modification time are the ones the index last checked, or
  (a copied or restored folder) the file's CRC-32 is the one the index
  recorded. Otherwise the index is rebuilt, streaming, with progress, which
  also checks every line of the file; a file that is not a valid library is
  refused and never written.
* **Changing it** (`upsert`, `set_marked`, `update`, `restore`): one locked
  write through `tui.library.writer`, which proves the same again under the
  lock before it touches anything.
* **Noticing changes by others** (`changed`): one `stat`.

Durability: every write is a new file, fsynced and renamed over the library,
under a file lock, starting from the newest state on disk (see the writer).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from tui.atomic import TEMP_PREFIX, Signature, fd_signature, file_crc, file_signature
from tui.library import tinydb_file
from tui.library.backups import remove_pending
from tui.library.changes import ChangeSet
from tui.library.errors import InvalidLibrary, LibraryBusy, LibraryError, StaleIndex
from tui.library.index import Index, can_write_beside, signature_text
from tui.library.layout import Head, NotInLayout, read_generation, read_head, scan
from tui.library.merging import UpsertResult, merge_import
from tui.library.paths import LibraryPaths
from tui.library.snapshot import Snapshot
from tui.library.writer import Current, Written, apply, index_file, write_whole
from tui.models import Record

APP_NAME = "refdeck"
LOCK_TIMEOUT = 10.0
"""Seconds a write waits for another refdeck process before saying the library is busy."""
_SETTLE_TRIES = 50
"""Times a reader looks again when a writer is between renaming the library and committing
its index (a few milliseconds), before it rebuilds the index itself."""

Progress = Callable[[float], None]
"""Told the fraction done of a long step (rebuilding the index)."""


def default_library_path() -> Path:
    """The library used when neither `--db` nor `REFDECK_DB` names one."""
    from platformdirs import user_data_path  # deferred: only needed for the default

    return user_data_path(APP_NAME, appauthor=False) / "library.json"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _open_file(path: Path) -> int | None:
    """The library file, open for reading; None when there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as error:
        raise LibraryError(f"cannot read the library {path}: {error.strerror}") from error
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LibraryError(f"{path} is not a library file (it is a folder or a device)")
    return fd


def _nearly_full(folder: Path) -> bool:
    try:
        usage = shutil.disk_usage(folder)
        inodes = os.statvfs(folder).f_favail
    except OSError:
        return False
    return usage.free < 1 << 20 or inodes < 4


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


class _Status:
    CURRENT, COPIED, STALE = "current", "copied", "stale"


def _status(index: Index, fd: int) -> str:
    """How the index relates to the open library file: it describes it (as last checked,
    or as a copy still to checksum), or it does not."""
    meta = index.meta()
    if not meta:
        return _Status.STALE
    signature = fd_signature(fd)
    if meta.get("generation") != (read_generation(fd) or "") or meta.get("size") != str(
        signature[1]
    ):
        return _Status.STALE
    if meta.get("signature") == signature_text(signature):
        return _Status.CURRENT
    return _Status.COPIED


def _checksum_matches(index: Index, fd: int) -> bool:
    return str(file_crc(fd)[1]) == index.meta().get("crc")


class RecordStore:
    """One library. Screens and commands get one passed in; nothing else opens it.

    Safe to call from worker threads: writes take a thread lock as well as
    the file lock, and every snapshot has its own connection to the index.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], str] = _now,
        temporary: tempfile.TemporaryDirectory[str] | None = None,
    ) -> None:
        self.paths = LibraryPaths.of(path)
        self._clock = clock
        self._temporary = temporary
        """The folder of an in-memory library, removed with the store."""
        self._thread_lock = threading.RLock()
        self._seen_on_disk = _exists(self.paths.real)
        """The library file existed once: its disappearing later is an error, not a fresh start."""

    @property
    def path(self) -> Path:
        """The library file, as the user named it."""
        return self.paths.given

    @property
    def temporary(self) -> bool:
        """Whether this library lives only as long as the program (browsed files)."""
        return self._temporary is not None

    # -- opening ---------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, clock: Callable[[], str] = _now) -> RecordStore:
        """The library at `path` (which need not exist yet). Nothing is read or created."""
        store = cls(Path(path), clock=clock)
        if store.paths.real.is_dir():
            raise LibraryError(f"{store.paths.given} is a directory, not a library file")
        return store

    @classmethod
    def in_memory(
        cls,
        records: Iterable[Record] = (),
        journals: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], str] = _now,
    ) -> RecordStore:
        """A library that lives as long as the program: files browsed without a library,
        and tests. It is an ordinary library in a temporary folder, so it behaves exactly
        like one on disk."""
        folder = tempfile.TemporaryDirectory(prefix="refdeck-")
        store = cls(Path(folder.name) / "library.json", clock=clock, temporary=folder)
        records = list(records)
        if records or journals:
            store.upsert(records, journals)
        return store

    def exists(self) -> bool:
        """Whether there is a library file yet."""
        try:
            return self.paths.real.is_file()
        except OSError:
            return False

    # -- reading ---------------------------------------------------------

    def snapshot(self, progress: Progress | None = None, verify: bool = True) -> Snapshot:
        """A consistent view of the library as it is now (an empty one when there is none).

        With `verify=False` a copied library whose checksum is still to be
        compared with its index is shown at once, marked `verified=False`;
        `verify()` then does the comparison (the browser does it after its
        first screen).
        """
        for _attempt in range(_SETTLE_TRIES):
            fd = _open_file(self.paths.real)
            if fd is None:
                if self._seen_on_disk:
                    raise LibraryError(self._vanished())
                return Snapshot(self.paths.real, None, None, None, None)
            index = self._reading_index()
            try:
                status = _status(index, fd) if index is not None else _Status.STALE
                if status == _Status.COPIED and verify:
                    status = _Status.CURRENT if _checksum_matches(index, fd) else _Status.STALE  # type: ignore[arg-type]
                    if status == _Status.CURRENT:
                        self._remember_signature(index, fd)  # type: ignore[arg-type]
                if status != _Status.STALE:
                    assert index is not None
                    index.begin_read()
                    if _status(index, fd) in (_Status.CURRENT, _Status.COPIED):
                        self._seen_on_disk = True
                        return Snapshot(
                            self.paths.real,
                            index,
                            fd,
                            read_generation(fd),
                            fd_signature(fd),
                            verified=status == _Status.CURRENT,
                        )
                    index.end()
                    # A writer committed between our look and our read transaction: look again.
                    time.sleep(0.01)
                    continue
            except BaseException:
                if index is not None:
                    index.close()
                os.close(fd)
                raise
            if index is not None:
                index.close()
            os.close(fd)
            if self._writer_is_settling():
                time.sleep(0.02)
                continue
            self.rebuild_index(progress)
        raise LibraryError(f"the library {self.paths.describe()} keeps changing; try again")

    def verify(self, snapshot: Snapshot) -> bool:
        """Compare a provisional view's library file with its index, by checksum.

        True when they match (the view was right); False when the file was
        changed by hand: the index is then rebuilt, and a new view must be taken.
        """
        if snapshot.verified:
            return True
        fd = _open_file(self.paths.real)
        index = self._reading_index()
        if fd is None or index is None:
            return False
        try:
            if fd_signature(fd) == snapshot.signature and _checksum_matches(index, fd):
                self._remember_signature(index, fd)
                return True
        finally:
            index.close()
            os.close(fd)
        self.rebuild_index()
        return False

    def changed(self, snapshot: Snapshot) -> bool:
        """Whether the library file is no longer the one `snapshot` shows (one `stat`)."""
        try:
            return file_signature(self.paths.real) != snapshot.signature
        except OSError:
            return True

    def _writer_is_settling(self) -> bool:
        """Whether a write holds the lock (it may be about to commit the index we need)."""
        lock = FileLock(str(self.paths.lock), timeout=0)
        try:
            with lock:
                return False
        except Timeout:
            return True
        except OSError:
            return False

    def _index_paths(self) -> list[tuple[Path, bool]]:
        """Where this library's index may be, and whether it may be written there."""
        beside = self.paths.index
        if can_write_beside(self.paths.real):
            return [(beside, True)]
        # A folder refdeck may not write (a shared, read-only copy): use an index found
        # beside the library as it is, else keep one in the user's cache.
        return [(beside, False), (self._cached_index(), True)]

    def _cached_index(self) -> Path:
        from platformdirs import user_cache_path

        name = hashlib.sha256(str(self.paths.real).encode()).hexdigest()[:24]
        folder = user_cache_path(APP_NAME, appauthor=False) / "indexes"
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            folder = Path(tempfile.gettempdir())
        return folder / f"{name}.index"

    def _reading_index(self) -> Index | None:
        """The index a reader uses: the first place that has a usable one."""
        candidates = self._index_paths()
        for path, writable in candidates:
            if not writable and not path.is_file():
                continue
            try:
                index = Index.open(path, writable=writable)
            except OSError:
                # A disk too full for SQLite's shared memory: an existing index can still
                # be read as it is (and a stale one is rebuilt elsewhere, below).
                index = Index.open(path, writable=False)
            if index is not None and (index.meta() or path == candidates[-1][0]):
                return index
            if index is not None:
                index.close()
        return None

    def _writing_index(self) -> Index:
        path, writable = self._index_paths()[-1]
        index = Index.open(path, writable=writable)
        assert index is not None
        return index

    def _remember_signature(self, index: Index, fd: int) -> None:
        """After a checksum matched: the file as it is now needs no checksum next time."""
        if index.path != self._index_paths()[-1][0]:
            return  # a read-only index
        with contextlib.suppress(Exception):
            index.begin_write()
            if index.meta().get("generation") == (read_generation(fd) or ""):
                index.set_meta(signature=signature_text(fd_signature(fd)))
            index.commit()
        index.end()

    def rebuild_index(self, progress: Progress | None = None, force: bool = False) -> None:
        """Build the index again from the library file, checking every line of it.

        A file that is valid TinyDB JSON in another layout is converted to
        refdeck's layout (the original is kept as a backup); a file that is
        not a valid library raises `InvalidLibrary` and is left as it was.
        """
        try:
            self._rebuild_index(progress, force)
        except OSError as error:
            raise LibraryError(
                f"cannot build the index of {self.paths.describe()}: "
                f"{error.strerror or error}; the library itself is unchanged"
            ) from error

    def _rebuild_index(self, progress: Progress | None, force: bool) -> None:
        with self._write_lock(create=False):
            fd = _open_file(self.paths.real)
            if fd is None:
                return
            index = self._writing_index()
            try:
                index.begin_write()
                if not force and _status(index, fd) == _Status.CURRENT:
                    return  # another process rebuilt it meanwhile
                try:
                    head = read_head(fd, self.paths.real)
                    records = self._with_progress(scan(fd, self.paths.real, head), fd, progress)
                    index_file(index, fd, head, records, fd_signature(fd))
                except NotInLayout:
                    index.end()
                    self._convert(fd, index)
                    return
                index.commit()
                with contextlib.suppress(Exception):
                    index.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                index.end()
                index.close()
                os.close(fd)

    def _convert(self, fd: int, index: Index) -> None:
        """Write a library found in another layout (but valid) in refdeck's own."""
        if not can_write_beside(self.paths.real):
            raise InvalidLibrary(
                f"{self.paths.describe()} is a library in a layout refdeck cannot read in place, "
                "and its folder is read-only; copy it somewhere refdeck may write"
            )
        tables, docs = tinydb_file.read_whole(self.paths.real)
        index.begin_write()
        current = Current(self.paths.real, fd, None, index)
        try:
            write_whole(current, tables, docs, self._clock(), backup=True)
        except OSError as error:
            raise self._write_error(error) from error

    @staticmethod
    def _with_progress(records: Iterator[Any], fd: int, progress: Progress | None) -> Iterator[Any]:
        if progress is None:
            yield from records
            return
        size = max(os.fstat(fd).st_size, 1)
        for count, stored in enumerate(records):
            if count % 2000 == 0:
                progress(stored.offset / size)
            yield stored
        progress(1.0)

    # -- conveniences for one-off reads ----------------------------------

    @contextlib.contextmanager
    def view(self) -> Iterator[Snapshot]:
        """A snapshot for the length of a `with` block."""
        snapshot = self.snapshot()
        try:
            yield snapshot
        finally:
            snapshot.close()

    def count(self) -> int:
        """How many records the library holds."""
        with self.view() as snapshot:
            return snapshot.count

    def get(self, key: str) -> Record | None:
        """A record by id or DOI."""
        with self.view() as snapshot:
            return snapshot.find(key)

    def record(self, record_id: str) -> Record | None:
        """A record by id."""
        with self.view() as snapshot:
            seq = snapshot.seqs_of_ids([record_id]).get(record_id)
            return snapshot.record(seq) if seq is not None else None

    def records(self, record_ids: Sequence[str]) -> list[Record]:
        """The records with these ids, in this order (ids no longer there are left out)."""
        with self.view() as snapshot:
            seqs = snapshot.seqs_of_ids(record_ids)
            return list(snapshot.records([seqs[i] for i in record_ids if i in seqs]))

    def all(self) -> list[Record]:
        """Every record, in library order. Reads the whole library: for tests and small ones."""
        with self.view() as snapshot:
            return list(snapshot.records(snapshot.search("")))

    def journal_description(self, name: str | None) -> str | None:
        """The description of a journal."""
        with self.view() as snapshot:
            return snapshot.journal_description(name)

    # -- writing ---------------------------------------------------------

    def upsert(
        self, records: Iterable[Record], journals: Mapping[str, str] | None = None
    ) -> UpsertResult:
        """Import records: new ones are added, known ones merged, in one write.

        A record matches a stored one by DOI, or by title, year and first author
        when one of them has no DOI (see `tui.identity`). Records within the
        import are matched against each other too. `records` may be read twice
        (when the index had to be rebuilt under the write): pass a collection
        or a spool, not a one-shot iterator.
        """
        outcome: list[UpsertResult] = []

        def build(current: Current) -> ChangeSet:
            changes, result = merge_import(current, records, journals or {}, self._clock())
            outcome[:] = [result]
            return changes

        written = self.write(build)
        result = outcome[0]
        result.backup = written.backup if written else None
        return result

    def set_marked(self, record_ids: Iterable[str], marked: bool) -> Written | None:
        """Mark or unmark records, in one write; None when nothing changed."""
        wanted = list(dict.fromkeys(record_ids))

        def build(current: Current) -> ChangeSet:
            changes = ChangeSet(current.path.parent)
            for record_id in wanted:
                doc = current.read(record_id)
                if doc is not None and bool(doc.get("marked")) != marked:
                    doc = dict(doc)
                    if marked:
                        doc["marked"] = True
                    else:
                        doc.pop("marked", None)
                    changes.put(doc)
            return changes

        return self.write(build)

    def update(self, record_id: str, **changes: Any) -> Record:
        """Change fields of one stored record (tags, note, mark...) and save it."""
        updated: list[Record] = []

        def build(current: Current) -> ChangeSet:
            doc = current.read(record_id)
            if doc is None:
                raise KeyError(record_id)
            record = Record.from_doc(doc).with_changes(**changes)
            updated[:] = [record]
            change = ChangeSet(current.path.parent)
            change.put(record.to_doc())
            return change

        self.write(build)
        return updated[0]

    def restore(self, backup: Path) -> tuple[int, Written]:
        """Put a backup back in place of the library; returns its record count and the write.

        The backup is checked line by line as it is copied (a broken or foreign
        file is refused, and nothing changes). The library it replaces, even a
        broken one, becomes the newest backup, so a restore can itself be undone.
        """
        with self._write_lock(create=True):
            source = _open_file(backup)
            if source is None:
                raise LibraryError(f"the backup {backup} has disappeared")
            fd = _open_file(self.paths.real)
            index = self._writing_index()
            try:
                try:
                    head = read_head(source, backup)
                except NotInLayout as error:
                    raise InvalidLibrary(f"{backup} is not a refdeck library: {error}") from error
                index.begin_write()
                current = Current(self.paths.real, fd, None, index)
                count = 0

                def counted() -> Iterator[Any]:
                    nonlocal count
                    for stored in scan(source, backup, head):
                        count += 1
                        yield stored

                try:
                    written = write_whole(
                        current, head.tables, counted(), self._clock(), backup=True
                    )
                except OSError as error:
                    raise self._write_error(error) from error
                self._seen_on_disk = True
                return count, written
            finally:
                index.end()
                index.close()
                os.close(source)
                if fd is not None:
                    os.close(fd)

    def write(self, build: Callable[[Current], ChangeSet]) -> Written | None:
        """Make one change: `build` is shown the library as it is (checked, under the lock)
        and returns what changes; it is written with the index, atomically. None when
        nothing changed.

        Every change to a library goes through here, so whatever changes a library
        later (tags, notes, edits, deletions) is written, locked, checked and
        indexed the same way.
        """
        for attempt in range(2):
            with self._write_lock(create=True):
                try:
                    return self._write_once(build)
                except StaleIndex:
                    if attempt:
                        raise LibraryError(
                            f"the index of {self.paths.describe()} does not match the library, "
                            "even after rebuilding it; nothing was written"
                        ) from None
            # A record was not where the index said: it does not describe the file, even
            # though its header matches (damaged). Build it again from the file.
            self.rebuild_index(force=True)
        return None  # not reached

    def _write_once(self, build: Callable[[Current], ChangeSet]) -> Written | None:
        real = self.paths.real
        fd = _open_file(real)
        if fd is None and self._seen_on_disk:
            raise LibraryError(self._vanished())
        index: Index | None = None
        try:
            if fd is not None:
                self._check_writable(fd)
            index = self._writing_index()
            index.begin_write()
            head: Head | None = None
            if fd is not None:
                status = _status(index, fd)
                if status == _Status.COPIED and _checksum_matches(index, fd):
                    status = _Status.CURRENT
                if status != _Status.CURRENT:
                    raise StaleIndex("the index does not describe the library")
                head = read_head(fd, real)
            else:
                index.recreate()
            current = Current(real, fd, head, index)
            with build(current) as changes:
                if changes.empty:
                    return None
                written = apply(current, changes, self._clock())
            self._seen_on_disk = True
            return written
        except NotInLayout as error:
            raise StaleIndex(str(error)) from error
        except OSError as error:
            raise self._write_error(error) from error
        finally:
            if index is not None:
                index.end()
                index.close()
            if fd is not None:
                os.close(fd)

    def _check_writable(self, fd: int) -> None:
        mode = os.fstat(fd).st_mode
        if not mode & 0o222 or not os.access(self.paths.real, os.W_OK):
            raise LibraryError(
                f"the library {self.paths.describe()} is read-only (its permissions say so); "
                f"nothing was written. Allow changes with: chmod u+w {self.paths.real}"
            )

    def _write_error(self, error: OSError) -> LibraryError:
        reason = error.strerror or str(error)
        if error.errno == errno.EIO and _nearly_full(self.paths.real.parent):
            # SQLite reports a full disk in its WAL's shared memory as an I/O error.
            reason = f"No space left on device ({reason})"
        return LibraryError(
            f"cannot write the library {self.paths.describe()}: {reason}; it is unchanged"
        )

    def _vanished(self) -> str:
        return (
            f"the library {self.paths.describe()} has disappeared (moved or deleted?); nothing "
            "was written. Start refdeck again on the library where it is now"
        )

    @contextlib.contextmanager
    def _write_lock(self, create: bool) -> Iterator[None]:
        """Hold this process's and every process's lock on the library, for one write."""
        real = self.paths.real
        with self._thread_lock:
            if create and not self._seen_on_disk:
                try:
                    real.parent.mkdir(parents=True, exist_ok=True)  # a new library's folder
                except OSError as error:
                    raise LibraryError(
                        f"cannot create the folder {real.parent} for the library: "
                        f"{error.strerror or error}"
                    ) from error
            elif not real.parent.is_dir():
                raise LibraryError(self._vanished())
            if not can_write_beside(real):
                if create:
                    raise LibraryError(
                        f"cannot write the library {self.paths.describe()}: its folder "
                        f"{real.parent} is read-only; it is unchanged"
                    )
                yield  # rebuilding a cached index of a read-only library: nothing to lock
                return
            lock = FileLock(str(self.paths.lock), timeout=LOCK_TIMEOUT)
            try:
                lock.acquire()
            except Timeout as error:
                raise LibraryBusy(
                    f"the library {self.paths.describe()} is busy: another refdeck process has "
                    f"been writing it for over {LOCK_TIMEOUT:.0f} s; try again when it has finished"
                ) from error
            except OSError as error:
                raise LibraryError(
                    f"cannot lock the library {self.paths.describe()}: {self.paths.lock} "
                    f"cannot be used as a lock file ({error.strerror or error})"
                ) from error
            try:
                self._remove_leftovers()
                yield
            finally:
                lock.release()

    def _remove_leftovers(self) -> None:
        """Temporary files and pending backups of writes that were killed (lock held)."""
        folder = self.paths.real.parent
        with contextlib.suppress(OSError):
            for leftover in folder.glob(f"{TEMP_PREFIX}*"):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        remove_pending(self.paths.real)

    def close(self) -> None:
        """Remove an in-memory library's folder."""
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None


def signature_of(path: Path) -> Signature | None:
    """The library file's signature (for comparing with a snapshot's)."""
    return file_signature(path)
