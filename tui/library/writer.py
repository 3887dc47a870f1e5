"""The one write path: a change becomes a new library file and its index, together.

Every change to a library (an import, marks, a restore, and whatever later
features change) is written here, under the library's lock:

1. the new file is written beside the library: the head with a new
   generation id, the unchanged records copied byte for byte in runs, the
   changed ones replaced, the deleted ones left out, the new ones appended;
2. in the same pass, inside one SQLite transaction, the index follows: moved
   records' offsets, changed and new records' columns and words;
3. the new file is fsynced, the replaced one kept aside as a pending backup
   (for imports and restores), the new file renamed over the library, and
   only then the index transaction committed and the backup kept.

A crash before the rename leaves the old library and the old index; after
it, the new library with an index that names the old generation, which the
store detects and rebuilds. No reader ever trusts an index whose generation,
size and checksum do not match the file it reads.

Every run copied from the old file is checked at both ends (the record's id
before it, a comma or the file's end after it) and every replaced or deleted
record is read and checked to be the one expected, so an index that does not
describe the file stops the write (`StaleIndex`) before anything is renamed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tui.atomic import AtomicFile, HashingWriter, Signature, copy_into, file_crc
from tui.library.backups import PendingBackup, prepare_backup
from tui.library.changes import ChangeSet
from tui.library.errors import StaleIndex
from tui.library.index import Index, signature_text
from tui.library.layout import (
    FIRST_SEPARATOR,
    JOURNALS,
    META,
    SCHEMA,
    SCHEMA_VERSION,
    SEPARATOR,
    TAIL,
    Head,
    Stored,
    check_line_end,
    check_line_start,
    head_bytes,
    read_record,
    record_json,
    record_prefix,
)
from tui.normalize import fold

_INDEX_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class Current:
    """The library as it is on disk, checked against its index, while a write holds the lock."""

    path: Path
    """The library file (symlinks resolved)."""
    fd: int | None
    """The open library file, or None when there is none yet."""
    head: Head | None
    index: Index
    """The index, in its write transaction."""

    def read(self, record_id: str) -> dict[str, Any] | None:
        """The stored document with this id (read at its offset, checked), or None."""
        seq = self.index.seq_of_id(record_id)
        if seq is None or self.fd is None:
            return None
        span = self.index.span(seq)
        assert span is not None
        return read_record(self.fd, span[2], span[3], record_id)


@dataclass(frozen=True, slots=True)
class Written:
    """What a write did."""

    generation_before: str | None
    generation: str
    signature: Signature
    backup: Path | None
    index_committed: bool
    """False when the index could not be committed after the library was replaced (it is
    then stale, and rebuilt on the next use)."""


def new_meta(now: str) -> dict[str, Any]:
    """The meta document of a new library."""
    return {"schema": SCHEMA, "version": SCHEMA_VERSION, "created": now}


def with_journals(table: Mapping[str, Any], journals: Mapping[str, str]) -> dict[str, Any]:
    """The journals table (TinyDB's layout: document id -> document) with these
    descriptions stored: one document per journal, found by its folded name."""
    updated = {doc_id: dict(doc) for doc_id, doc in table.items()}
    by_key = {doc.get("key"): doc_id for doc_id, doc in updated.items()}
    next_id = max((int(doc_id) for doc_id in updated if doc_id.isdigit()), default=0) + 1
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


def new_journals(head: Head | None, journals: Mapping[str, str]) -> dict[str, str]:
    """The journal descriptions that are not stored yet, or stored differently.

    A re-import that brings the same descriptions changes nothing, so it
    writes nothing and takes no backup (which would rotate a good one out).
    """
    stored = {
        (doc.get("key"), doc.get("name"), doc.get("description"))
        for doc in (head.journals.values() if head else ())
        if isinstance(doc, Mapping)
    }
    return {
        name: description
        for name, description in journals.items()
        if (fold(name), name, description) not in stored
    }


class _Units:
    """Writes record lines into the new file: a separator before each, as the layout wants."""

    def __init__(self, out: HashingWriter) -> None:
        self.out = out
        self.count = 0

    def line(self, doc_id: int, body: bytes) -> int:
        """Write one record line; returns the offset of its JSON."""
        out = self.out
        out.write(FIRST_SEPARATOR if not self.count else SEPARATOR)
        out.write(record_prefix(doc_id))
        self.count += 1
        offset = out.size
        out.write(body)
        return offset

    def run(self, fd: int, start: int, end: int) -> int:
        """Copy the lines of a run of unchanged records (`start`: its first id; `end`: the end
        of its last JSON); returns how far the run moved."""
        self.out.write(FIRST_SEPARATOR if not self.count else SEPARATOR)
        self.count += 1
        moved = self.out.size - start
        if copy_into(fd, self.out, start, end - start) != end - start:
            raise StaleIndex("the library file is shorter than its index says")
        return moved


def apply(current: Current, changes: ChangeSet, now: str) -> Written:
    """Write `changes` into the library and its index (see the module's description)."""
    index, fd, head = current.index, current.fd, current.head
    tables: dict[str, Any] = dict(head.tables) if head else {}
    meta = head.meta if head else new_meta(now)
    generation = uuid.uuid4().hex
    tables[META] = {"1": {**meta, "generation": generation, "written": now}}
    if changes.journals:
        tables[JOURNALS] = with_journals(tables.get(JOURNALS, {}), changes.journals)
    put_ids = changes.put_ids()
    seq_of = index.seqs_of_ids([*put_ids, *changes.deleted])
    replaced = {seq_of[i]: i for i in put_ids if i in seq_of}
    deleted = {seq_of[i] for i in changes.deleted if i in seq_of}
    added = [i for i in put_ids if i not in seq_of]
    old_docs: dict[int, dict[str, Any]] = {}
    doc_ids: dict[int, int] = {}
    if fd is not None:
        for seq, (record_id, doc_id, offset, length) in index.spans([*replaced, *deleted]).items():
            old_docs[seq] = read_record(fd, offset, length, record_id)
            doc_ids[seq] = doc_id
    last_seq, last_doc_id = index.last()

    with AtomicFile(current.path) as new:
        out = new.out
        out.write(head_bytes(tables))
        head_length = out.size
        units = _Units(out)
        # Between (and around) the changed records lie runs of unchanged ones, copied whole.
        changed = sorted({*replaced, *deleted})
        for after, before in zip([0, *changed], [*changed, last_seq + 1], strict=True):
            run = index.run(after, before) if fd is not None else None
            if run is not None:
                assert fd is not None
                first, last = run
                start = first.offset - len(record_prefix(first.doc_id))
                check_line_start(fd, first.offset, first.doc_id)
                check_line_end(fd, last.offset + last.length, last.seq == last_seq)
                index.shift(first.seq, last.seq, units.run(fd, start, last.offset + last.length))
            if before in deleted:
                index.delete(before, old_docs[before])
            elif before in replaced:
                doc_id = doc_ids[before]
                body = changes.body(replaced[before])
                index.set_span(before, units.line(doc_id, body), len(body))
                index.replace(before, doc_id, old_docs[before], orjson.loads(body))

        batch: list[tuple[int, int, dict[str, Any], int, int]] = []
        for number, (_record_id, body) in enumerate(changes.bodies(added), start=1):
            seq, doc_id = last_seq + number, last_doc_id + number
            batch.append((seq, doc_id, orjson.loads(body), units.line(doc_id, body), len(body)))
            if len(batch) >= _INDEX_BATCH:
                index.insert(batch)
                batch = []
        index.insert(batch)
        out.write(TAIL)
        if changes.journals:
            index.set_journals(tables[JOURNALS])
        return _finish(current, new, changes.backup, generation, head_length, now)


def write_whole(
    current: Current,
    tables: Mapping[str, Any],
    docs: Iterable[Stored | tuple[int, Mapping[str, Any]]],
    now: str,
    backup: bool,
) -> Written:
    """Write a whole library from `docs` (a restore, or a conversion to refdeck's layout),
    with a new index built in the same pass."""
    index = current.index
    generation = uuid.uuid4().hex
    tables = dict(tables)
    meta = next(iter((tables.get(META) or {"1": new_meta(now)}).values()))
    tables[META] = {"1": {**meta, "generation": generation, "written": now}}
    index.recreate()
    with AtomicFile(current.path) as new:
        out = new.out
        out.write(head_bytes(tables))
        head_length = out.size
        units = _Units(out)
        batch: list[tuple[int, int, dict[str, Any], int, int]] = []
        for seq, item in enumerate(docs, start=1):
            doc_id, doc = (item.doc_id, item.doc) if isinstance(item, Stored) else item
            body = record_json(doc)
            batch.append((seq, doc_id, dict(doc), units.line(doc_id, body), len(body)))
            if len(batch) >= _INDEX_BATCH:
                index.insert(batch)
                batch = []
        index.insert(batch)
        out.write(TAIL)
        index.set_journals(tables.get(JOURNALS) or {})
        return _finish(current, new, backup, generation, head_length, now)


def _finish(
    current: Current, new: AtomicFile, backup: bool, generation: str, head_length: int, now: str
) -> Written:
    """Steps 3 of the module's description: fsync, keep the old file aside, rename, commit."""
    index, out = current.index, new.out
    signature = new.prepare()
    index.set_meta(
        generation=generation,
        size=out.size,
        crc=out.crc,
        signature=signature_text(signature),
        head_length=head_length,
    )
    pending: PendingBackup | None = None
    if backup and current.fd is not None:
        pending = prepare_backup(current.path, current.fd)
    try:
        new.commit()
    except BaseException:
        if pending is not None:
            pending.drop()
        raise
    before = current.head.generation if current.head else None
    committed = True
    try:
        index.commit()
    except Exception:  # noqa: BLE001 - the library is written; the index is only stale
        index.end()
        committed = False
    kept = pending.keep(now) if pending is not None else None
    return Written(before, generation, signature, kept, committed)


def index_file(
    index: Index, fd: int, head: Head, records: Iterable[Stored], signature: Signature
) -> int:
    """Build the index of an existing file (in the index's write transaction); returns the
    number of records. The file is not changed."""
    index.recreate()
    count, batch = 0, []
    for count, stored in enumerate(records, start=1):
        batch.append((count, stored.doc_id, stored.doc, stored.offset, stored.length))
        if len(batch) >= _INDEX_BATCH:
            index.insert(batch)
            batch = []
    index.insert(batch)
    index.set_journals(head.journals)
    size, crc = file_crc(fd)
    index.set_meta(
        generation=head.generation or "",
        size=size,
        crc=crc,
        signature=signature_text(signature),
        head_length=head.length,
    )
    return count
