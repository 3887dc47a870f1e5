"""The library file's layout, and the list cache beside it.

The library is TinyDB's JSON (one object of tables), written with one record
per line::

    {"meta":{"1":{"schema":"refdeck","version":1,...}},
    "journals":{...},
    "records":{
    "1":{"id":"adomako2025acute","doi":"10.1016/...",...},
    "2":{...}
    }}

It is still plain JSON that TinyDB reads whole, but refdeck can also read a
single record by its byte offset, and stream records without holding the
whole library in memory. Beside it, `library.json.rows` caches the list
columns (`tui.rows.ListRows`) and the record offsets, tagged with the
library file's signature (inode, size, mtime): when the library changes, the
cache no longer matches and is rebuilt.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from tui.rows import ROWS_VERSION, ListRows

Signature = tuple[int, int, int]
RECORDS = "records"
RECORDS_OPEN = b'"records":{'
TEMP_PREFIX = ".refdeck-tmp-"
"""Temporary files of interrupted writes start with this; the store removes them."""


def atomic_write(
    path: Path, payload: bytes | bytearray, durable: bool = True, new_file_mode: int | None = None
) -> Signature:
    """Replace `path` with `payload` so that a crash leaves either the old or the new file.

    With `durable=False` (caches) the fsyncs are skipped: after a power cut the
    file may be stale or empty, never half-written by refdeck. A replaced file
    keeps its permissions; a new one gets `new_file_mode`, or stays private (0600).
    """
    return write_atomically(path, lambda target: target.write(payload), durable, new_file_mode)


def atomic_copy(source: Path, target: Path) -> Signature:
    """Replace `target` with a copy of `source`, durably, so it is whole or absent."""

    def write(out: BinaryIO) -> None:
        with open(source, "rb") as handle:
            while chunk := handle.read(1 << 20):
                out.write(chunk)

    return write_atomically(target, write, durable=True)


Body = bytes | Callable[[BinaryIO], int]
"""A patch's new bytes, or a function that writes them and returns how many it wrote."""


def patch_records(
    path: Path, patches: list[tuple[int, int, Body]]
) -> tuple[Signature, list[tuple[int, int]]]:
    """Write a copy of the library with some records' JSON replaced, atomically.

    `patches` are (offset, length, new JSON) of records. The rest is copied
    byte for byte, so a change to a few records of a 200 MB library costs a
    file copy, not a parse and a serialization of everything. Returns the new
    signature and, per patch, the size change it made at its offset.
    """
    patches = sorted(patches, key=lambda patch: (patch[0], patch[1]))
    shifts: list[tuple[int, int]] = []

    def write(target: BinaryIO) -> None:
        with open(path, "rb") as source:
            position = 0
            for offset, length, body in patches:
                _copy(source, target, position, offset - position)
                if isinstance(body, bytes):
                    target.write(body)
                    written = len(body)
                else:
                    written = body(target)
                shifts.append((offset, written - length))
                position = offset + length
            source.seek(position)
            while chunk := source.read(1 << 20):
                target.write(chunk)

    return write_atomically(path, write, durable=True), shifts


def write_atomically(
    path: Path,
    write: Callable[[BinaryIO], object],
    durable: bool = True,
    new_file_mode: int | None = None,
) -> Signature:
    """Replace `path` with what `write` writes, so that a crash leaves the old or the new file.

    `write` fills a temporary file in the same folder, which is fsynced and
    renamed over `path`; then the folder is fsynced.
    """
    directory = path.parent
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        try:
            os.chmod(temp_name, os.stat(path).st_mode & 0o7777)
        except FileNotFoundError:
            if new_file_mode is not None:
                os.chmod(temp_name, new_file_mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    if durable:
        _fsync_directory(directory)
    signature = file_signature(path)
    assert signature is not None
    return signature


def _copy(source: Any, target: Any, start: int, size: int) -> None:
    source.seek(start)
    while size > 0:
        chunk = source.read(min(size, 1 << 20))
        if not chunk:
            raise ValueError("the library file is shorter than expected")
        target.write(chunk)
        size -= len(chunk)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the rename is still atomic
    finally:
        os.close(fd)


def file_signature(path: Path) -> Signature | None:
    """Inode, size and modification time: they all change when the file is replaced."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def serialize(tables: Mapping[str, Mapping[str, Any]], out: BinaryIO) -> list[tuple[int, int]]:
    """Write the library's JSON to `out`; returns (offset, length) of each record's JSON.

    Written a record at a time into the file: a 250 MB library is never held
    as bytes in memory next to its tables (that copy was an import's peak).
    """
    position = 0

    def put(data: bytes) -> None:
        nonlocal position
        out.write(data)
        position += len(data)

    put(head_bytes(tables))
    spans: list[tuple[int, int]] = []
    separator = b"\n"
    for doc_id, doc in tables.get(RECORDS, {}).items():
        put(separator + orjson.dumps(str(doc_id)) + b":")
        body = orjson.dumps(doc)
        spans.append((position, len(body)))
        put(body)
        separator = b",\n"
    put(b"\n}}\n")
    return spans


def record_json(doc: Mapping[str, Any]) -> bytes:
    """A record's JSON, as the file holds it, in exactly its size in memory.

    `orjson.dumps` returns bytes that keep a buffer of at least 16 kB: held
    by the thousand (records waiting to be written), that is 8 times their size.
    """
    return bytes(memoryview(orjson.dumps(doc)))


def head_bytes(tables: Mapping[str, Mapping[str, Any]]) -> bytes:
    """The start of the file: every table but the records, a line each, then the records' opening."""
    parts = [b"{"]
    for name, table in tables.items():
        if name != RECORDS:
            parts.append(orjson.dumps(name) + b":" + orjson.dumps(table) + b",\n")
    parts.append(RECORDS_OPEN)
    return b"".join(parts)


def read_head(path: Path, first_record: int) -> tuple[dict[str, Any], int] | None:
    """The tables before the records (journals, meta) and the length of the file's head.

    `first_record` is the offset of the first record's JSON. None when the head
    is not what `head_bytes` writes.
    """
    with open(path, "rb") as handle:
        head = handle.read(first_record)
    end = head.find(RECORDS_OPEN)
    if end < 0 or not head.startswith(b"{"):
        return None
    try:
        tables = orjson.loads(head[:end] + b'"records":{}}')
    except orjson.JSONDecodeError:
        return None
    if not isinstance(tables, dict):
        return None
    tables.pop(RECORDS, None)
    return tables, end + len(RECORDS_OPEN)


_DOC_ID_BEFORE = re.compile(rb'(?:^|\n)"(\d+)":$')


def doc_id_before(path: Path, offset: int) -> int | None:
    """The TinyDB document id written just before the record JSON at `offset`, or None."""
    with open(path, "rb") as handle:
        start = max(offset - 32, 0)
        handle.seek(start)
        before = handle.read(offset - start)
    match = _DOC_ID_BEFORE.search(before)
    return int(match.group(1)) if match else None


class PendingRecords:
    """Records' JSON waiting to be appended to the library, in a nameless temporary file.

    An import of 120,000 records into a big library would otherwise hold all
    their JSON in memory until the write, and twice while it is joined. A
    record stored again (merged by a later batch) replaces its first version;
    records keep the order they first came in.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - closed by close()
        self._where: dict[str, tuple[int, int]] = {}
        self._end = 0

    def __contains__(self, key: object) -> bool:
        return key in self._where

    def __len__(self) -> int:
        return len(self._where)

    def put(self, key: str, body: bytes) -> None:
        """Keep a record's JSON (its newest version)."""
        self._file.seek(self._end)
        self._file.write(body)
        self._where[key] = (self._end, len(body))
        self._end += len(body)

    def get(self, key: str) -> bytes:
        """A record's JSON, as last kept."""
        start, length = self._where[key]
        self._file.seek(start)
        return self._file.read(length)

    def bodies(self) -> Iterator[bytes]:
        """Every record's JSON, in the order they first came."""
        for key in self._where:
            yield self.get(key)

    def lengths(self) -> list[int]:
        """The length of each record's JSON, in the same order."""
        return [length for _, length in self._where.values()]

    def close(self) -> None:
        """Let the temporary file go."""
        self._file.close()


def append_records(after: int, first_id: int, pending: PendingRecords) -> tuple[int, int, Body]:
    """A patch (for `patch_records`) that adds records after the record ending at `after`.

    Ids count up from `first_id`, one record per line, as `serialize` writes
    them; the JSON is copied from `pending` as the file is written, never
    gathered in memory. `appended_spans` says where each lands.
    """

    def write(target: BinaryIO) -> int:
        written = 0
        for index, body in enumerate(pending.bodies()):
            part = b',\n"%d":' % (first_id + index)
            target.write(part)
            target.write(body)
            written += len(part) + len(body)
        return written

    return after, 0, write


def appended_spans(after: int, first_id: int, lengths: Sequence[int]) -> list[tuple[int, int]]:
    """(offset, length) of each record added by `append_records`, in the patched file
    before any shift from earlier patches."""
    spans, position = [], after
    for index, length in enumerate(lengths):
        position += len(b',\n"%d":' % (first_id + index))
        spans.append((position, length))
        position += length
    return spans


def read_record(path: Path, offset: int, length: int) -> dict[str, Any]:
    """One record's document, read at its offset."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        doc = orjson.loads(handle.read(length))
    if not isinstance(doc, dict):
        raise ValueError("not a record")
    return doc


def scan_records(path: Path) -> Iterator[tuple[dict[str, Any], int, int]]:
    """Stream (document, offset, length) for every record, one line at a time.

    Raises ValueError when the file is not in the one-record-per-line layout
    (e.g. written by hand or by another tool); the caller then reads it whole.
    """
    with open(path, "rb") as handle:
        offset = 0
        in_records = False
        for line in handle:
            start = offset
            offset += len(line)
            if not in_records:
                if line.rstrip(b"\n").endswith(RECORDS_OPEN) or line.startswith(RECORDS_OPEN):
                    in_records = True
                    if not line.rstrip(b"\n").endswith(RECORDS_OPEN):
                        raise ValueError("records are not one per line")
                continue
            body = line.rstrip(b"\n")
            if body.startswith(b"}"):
                return
            colon = body.find(b'":')
            if colon < 0 or not body.startswith(b'"'):
                raise ValueError("records are not one per line")
            begin = colon + 2
            end = len(body) - 1 if body.endswith(b",") else len(body)
            doc = orjson.loads(body[begin:end])
            yield doc, start + begin, end - begin
    if not in_records:
        raise ValueError("no records table")


def rows_path(path: Path) -> Path:
    """Where the list cache of a library lives."""
    return path.with_name(path.name + ".rows")


def rows_match(path: Path, signature: Signature) -> bool:
    """Whether the list cache belongs to this exact library file (reads only its first line)."""
    try:
        with open(rows_path(path), "rb") as handle:
            header = orjson.loads(handle.readline())
        return (
            header.get("version") == ROWS_VERSION
            and tuple(header.get("signature", ())) == signature
        )
    except (OSError, ValueError, AttributeError, TypeError):
        return False


HEAD_ROWS = 150
"""Rows kept in the cache's header: more than any terminal shows at once."""


def load_head(path: Path, signature: Signature) -> tuple[ListRows, int] | None:
    """The first rows and the total count, from the cache's header line alone."""
    try:
        with open(rows_path(path), "rb") as handle:
            header = orjson.loads(handle.readline())
        if header.get("version") != ROWS_VERSION or tuple(header.get("signature", ())) != signature:
            return None
        return ListRows.from_columns(header["head"]), int(header["count"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def load_rows(path: Path, signature: Signature) -> tuple[ListRows, list[int], list[int]] | None:
    """The cached rows and record offsets, if they belong to this exact library file."""
    try:
        with open(rows_path(path), "rb") as handle:
            header = orjson.loads(handle.readline())
            if (
                header.get("version") != ROWS_VERSION
                or tuple(header.get("signature", ())) != signature
            ):
                return None
            data = orjson.loads(handle.read())
        rows = ListRows.from_columns(data["columns"])
        offsets, lengths = data["offsets"], data["lengths"]
        if len(offsets) != len(rows) or len(lengths) != len(rows):
            return None
        return rows, offsets, lengths
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # a missing, stale or damaged cache is simply rebuilt


def save_rows(
    path: Path, signature: Signature, rows: ListRows, offsets: list[int], lengths: list[int]
) -> None:
    """Write the list cache; failing to (a full disk) only costs a rebuild later."""
    # A one-line header first, so checking the cache does not mean reading all of it;
    # it also carries the first rows, so the browser can draw a screen before the rest.
    header = orjson.dumps(
        {
            "version": ROWS_VERSION,
            "signature": list(signature),
            "count": len(rows),
            "head": rows.head(HEAD_ROWS).to_columns(),
        }
    )
    body = orjson.dumps({"columns": rows.to_columns(), "offsets": offsets, "lengths": lengths})
    payload = header + b"\n" + body
    with contextlib.suppress(OSError):
        # A cache: no fsync. A stale or damaged cache fails its checks and is rebuilt.
        atomic_write(rows_path(path), payload, durable=False)
