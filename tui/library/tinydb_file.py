"""Reading a library that is valid TinyDB JSON but not in refdeck's one-record-per-line layout.

The library file is a TinyDB database: anything that writes TinyDB's JSON (TinyDB
itself, `jq`, an editor that reformats) leaves a file refdeck can still use.
Such a file is read whole, through TinyDB, checked, and written back in
refdeck's layout (`RecordStore` keeps the original as a backup). This is the
only module that imports tinydb.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage

from tui.library.errors import InvalidLibrary, LibraryError
from tui.library.layout import RECORDS, check_tables, invalid_json
from tui.models import doc_problem


class _ReadOnlyJSON(Storage):
    """TinyDB storage that reads a library file once, strictly, and never writes it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            data = orjson.loads(self.path.read_bytes())
        except orjson.JSONDecodeError as error:
            raise invalid_json(self.path, error) from error
        except OSError as error:
            raise LibraryError(f"cannot read {self.path}: {error.strerror}") from error
        check_tables(data, self.path)
        return data  # type: ignore[no-any-return]

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        raise LibraryError(f"{self.path} is opened read-only")


def read_whole(path: Path) -> tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    """Every table but the records, and the records as (document id, document), checked."""
    storage = _ReadOnlyJSON(path)
    tables = storage.read() or {}
    database = TinyDB(storage=lambda: storage)
    records: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()
    for document in database.table(RECORDS).all():
        doc = dict(document)
        problem = doc_problem(doc)
        if problem:
            raise InvalidLibrary(f"{path} is not a valid refdeck library: {problem}")
        if doc["id"] in seen:
            raise InvalidLibrary(
                f"{path} is not a valid refdeck library: record id {doc['id']!r} appears twice"
            )
        seen.add(doc["id"])
        records.append((int(document.doc_id), doc))
    tables.pop(RECORDS, None)
    return tables, records
