"""The library file: TinyDB's JSON, written one record per line.

::

    {"meta":{"1":{"schema":"refdeck","version":1,"created":"...","generation":"9f2c..."}},
    "journals":{"1":{"key":"blood","name":"Blood","description":"..."}},
    "records":{
    "1":{"id":"adomako2025acute","doi":"10.1016/...",...},
    "2":{...}
    }}

It is plain JSON that TinyDB (or any JSON reader) opens whole, but refdeck
never needs to: the meta table comes first, on the first line, so a reader
learns the file's generation from one line; every record sits on a line of
its own, so one record is read by its offset, and a change is a copy of the
file with a few lines replaced. `scan` reads a file in this layout a line at
a time and checks all of it; a file that is valid JSON in another layout
(formatted by hand, written by TinyDB itself) raises `NotInLayout`, and the
store converts it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tui.library.errors import InvalidLibrary, StaleIndex
from tui.models import doc_problem

SCHEMA = "refdeck"
SCHEMA_VERSION = 1
"""Version of the records' shape; `meta` records it so later versions can migrate."""
META, JOURNALS, RECORDS = "meta", "journals", "records"
RECORDS_OPEN = b'"records":{'
FIRST_SEPARATOR, SEPARATOR = b"\n", b",\n"
TAIL = b"\n}}\n"
"""What follows the last record (or the head, when there is none)."""

_HEAD_LIMIT = 1 << 30
"""A head (meta and journals) longer than this is not one refdeck wrote."""
_RECORD_LINE = re.compile(rb'"([1-9][0-9]{0,17})":')


class NotInLayout(Exception):
    """The file is not in the one-record-per-line layout (it may still be valid JSON)."""


def record_json(doc: Mapping[str, Any]) -> bytes:
    """A record's JSON as the file holds it, in exactly its size in memory.

    `orjson.dumps` returns bytes that keep a buffer of at least 16 kB: held
    by the thousand (records waiting to be written), that is 8 times their size.
    """
    return bytes(memoryview(orjson.dumps(doc)))


def record_prefix(doc_id: int) -> bytes:
    """What precedes a record's JSON on its line: its TinyDB document id."""
    return b'"%d":' % doc_id


def head_bytes(tables: Mapping[str, Any]) -> bytes:
    """The start of the file: the meta table first, every other table but the records
    on a line each, then the opening of the records."""
    names = [META] + [name for name in tables if name not in (META, RECORDS)]
    parts = [b"{"]
    for name in names:
        parts.append(orjson.dumps(name) + b":" + orjson.dumps(tables.get(name, {})) + b",\n")
    parts.append(RECORDS_OPEN)
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class Head:
    """The tables before the records, and where the records start."""

    tables: dict[str, Any]
    """Every table but the records (meta, journals, and any other kept as found)."""
    length: int
    """Bytes from the file's start to just after `"records":{`."""

    @property
    def meta(self) -> dict[str, Any]:
        """The library's meta document."""
        meta = self.tables.get(META) or {}
        return dict(next(iter(meta.values()), {}))

    @property
    def generation(self) -> str | None:
        """The id of the write that made this file (None for libraries from before ids)."""
        value = self.meta.get("generation")
        return value if isinstance(value, str) else None

    @property
    def journals(self) -> dict[str, Any]:
        """The journals table: document id -> {key, name, description}."""
        return dict(self.tables.get(JOURNALS) or {})


def check_tables(tables: Any, path: Path) -> None:
    """Check the shape of a library's tables; raise `InvalidLibrary` when it is wrong."""
    if not isinstance(tables, dict):
        raise InvalidLibrary(f"{path} is not a refdeck library: its top level is not an object")
    for name, table in tables.items():
        if not isinstance(table, dict) or not all(isinstance(d, dict) for d in table.values()):
            raise InvalidLibrary(f"{path} is not a refdeck library: table {name!r} is malformed")
    meta = tables.get(META)
    info = next(iter(meta.values()), None) if meta else None
    if not info or info.get("schema") != SCHEMA:
        raise InvalidLibrary(
            f"{path} is not a refdeck library (it has no refdeck meta table); refusing to change it"
        )
    version = info.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > SCHEMA_VERSION:
        raise InvalidLibrary(
            f"{path} was written by a newer refdeck (library version {version}); "
            f"this one reads version {SCHEMA_VERSION}. Upgrade refdeck to open it"
        )


def invalid_json(
    path: Path, error: orjson.JSONDecodeError, line: int | None = None
) -> InvalidLibrary:
    """The message for a library that is not valid JSON."""
    where = f"line {line}" if line is not None else f"line {error.lineno}, column {error.colno}"
    return InvalidLibrary(
        f"{path} is not a refdeck library: invalid JSON ({where}: {error.msg}); refusing to change it"
    )


def read_generation(fd: int) -> str | None:
    """The generation named on the file's first line, or None (one small read)."""
    start = os.pread(fd, 4096, 0)
    end = start.find(b"\n")
    if end < 0 or not start.startswith(b'{"meta":'):
        return None
    try:
        tables: Any = orjson.loads(start[:end].rstrip(b",") + b"}")
        meta: Any = next(iter(tables[META].values()), None)
        generation = meta.get("generation") if isinstance(meta, dict) else None
    except (orjson.JSONDecodeError, AttributeError, TypeError, KeyError):
        return None
    return generation if isinstance(generation, str) else None


def read_head(fd: int, path: Path) -> Head:
    """The head of a file in refdeck's layout; `NotInLayout` when it is not one."""
    data = bytearray()
    marker = b"\n" + RECORDS_OPEN + b"\n"
    while True:
        chunk = os.pread(fd, 1 << 20, len(data))
        if not chunk:
            raise NotInLayout("no records table on a line of its own")
        data += chunk
        end = data.find(marker, max(len(data) - len(chunk) - len(marker), 0))
        if end >= 0:
            break
        if len(data) > _HEAD_LIMIT:
            raise NotInLayout("no records table in the first gigabyte")
    length = end + 1 + len(RECORDS_OPEN)
    if not data.startswith(b'{"meta":'):
        raise NotInLayout("the meta table is not first")
    try:
        tables = orjson.loads(bytes(data[:length]) + b"}}")
    except orjson.JSONDecodeError as error:
        raise NotInLayout(str(error)) from error
    check_tables(tables, path)
    tables.pop(RECORDS, None)
    return Head(tables, length)


@dataclass(frozen=True, slots=True)
class Stored:
    """One record as found in the file."""

    doc_id: int
    doc: dict[str, Any]
    offset: int
    """Where the record's JSON starts."""
    length: int


def scan(fd: int, path: Path, head: Head) -> Iterator[Stored]:
    """Every record of a file in refdeck's layout, checked, a line at a time.

    Raises `InvalidLibrary` for a file that is broken (invalid JSON, cut short,
    two records with one id, a field of the wrong type) and `NotInLayout`
    for one whose lines are not refdeck's (it may be valid JSON all the same).
    Memory holds one line, whatever the file's size.
    """
    handle = os.fdopen(os.dup(fd), "rb")
    with handle:
        handle.seek(head.length)
        if handle.read(1) != b"\n":
            raise NotInLayout("the records do not start on a line of their own")
        offset = head.length + 1
        line_number = _line_of(fd, head.length)
        doc_ids: set[int] = set()
        record_ids: set[str] = set()
        more = True  # the previous line ended with a comma: another record follows
        for line in handle:
            line_number += 1
            start, offset = offset, offset + len(line)
            if line in (b"}}\n", b"}}"):
                if more and doc_ids:
                    raise invalid_trailing_comma(path, line_number)
                if handle.read(1):
                    raise NotInLayout("text after the end of the records")
                return
            if not more:
                raise NotInLayout("a record after the last one")
            match = _RECORD_LINE.match(line)
            if match is None:
                raise NotInLayout(f"line {line_number} is not one record")
            more = line.endswith(b",\n")
            end = len(line) - (2 if more else 1 if line.endswith(b"\n") else 0)
            body = line[match.end() : end]
            try:
                doc = orjson.loads(body)
            except orjson.JSONDecodeError as error:
                raise invalid_json(path, error, line_number) from error
            problem = doc_problem(doc)
            if problem:
                raise InvalidLibrary(
                    f"{path} is not a valid refdeck library: line {line_number}: {problem}"
                )
            doc_id = int(match.group(1))
            if doc_id in doc_ids or doc["id"] in record_ids:
                twice = f"document {doc_id}" if doc_id in doc_ids else f"record id {doc['id']!r}"
                raise InvalidLibrary(
                    f"{path} is not a valid refdeck library: {twice} appears twice "
                    f"(line {line_number}); refusing to change it"
                )
            doc_ids.add(doc_id)
            record_ids.add(doc["id"])
            yield Stored(doc_id, doc, start + match.end(), len(body))
        raise InvalidLibrary(
            f"{path} is not a refdeck library: it ends before its records do "
            "(cut short?); refusing to change it"
        )


def invalid_trailing_comma(path: Path, line: int) -> InvalidLibrary:
    """A records table whose last record is followed by a comma."""
    return InvalidLibrary(
        f"{path} is not a refdeck library: invalid JSON (line {line - 1}: a comma after the "
        "last record); refusing to change it"
    )


def _line_of(fd: int, offset: int) -> int:
    """The number of the line that holds byte `offset` (the head is short: count it)."""
    lines, position = 1, 0
    while position < offset:
        chunk = os.pread(fd, min(1 << 20, offset - position), position)
        if not chunk:
            break
        lines += chunk.count(b"\n")
        position += len(chunk)
    return lines


def read_record(fd: int, offset: int, length: int, expect_id: str) -> dict[str, Any]:
    """The record at `offset`, checked to be the one expected; `StaleIndex` when it is not."""
    data = os.pread(fd, length, offset)
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise StaleIndex(f"no record at offset {offset}") from error
    if not isinstance(doc, dict) or doc.get("id") != expect_id:
        raise StaleIndex(f"offset {offset} does not hold {expect_id!r}")
    return doc


def check_line_start(fd: int, offset: int, doc_id: int) -> None:
    """Check that the record JSON at `offset` is preceded by its id on its own line."""
    prefix = b"\n" + record_prefix(doc_id)
    if offset < len(prefix) or os.pread(fd, len(prefix) + 1, offset - len(prefix)) != prefix + b"{":
        raise StaleIndex(f"offset {offset} is not the start of document {doc_id}")


def check_line_end(fd: int, end: int, last: bool) -> None:
    """Check what follows the record JSON that ends at `end`: a comma, or the file's tail."""
    want = TAIL if last else SEPARATOR + b'"'
    # One byte more than the tail: nothing may follow it.
    if os.pread(fd, len(want) + last, end) != want:
        raise StaleIndex(f"offset {end} is not the end of a record line")
