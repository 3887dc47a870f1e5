"""An import's matching: which incoming records are new, merged into stored ones, or unchanged.

Stored records are found through the index (by DOI, or by title, year and
first author, see `tui.identity`), never loaded all at once; a stored record
is read from the file only when an incoming one matches it. The outcome is a
`ChangeSet` for the one write path, and the `UpsertResult` the summary prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from tui.identity import IdMaker, Matcher, merge
from tui.library.changes import ChangeSet
from tui.library.writer import Current, new_journals
from tui.models import Record, Source


@dataclass(slots=True)
class UpsertResult:
    """What an import did to the library."""

    added: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    """Ids of records that were already in the library exactly as imported."""
    backup: Path | None = None
    """The backup of the library kept before this import changed it."""


class _StoredKeys:
    """The index, as the `Matcher` asks it."""

    def __init__(self, current: Current) -> None:
        self._index = current.index

    def id_of_doi(self, key: str) -> str | None:
        seq = self._index.seq_of_doi(key)
        span = self._index.span(seq) if seq is not None else None
        return span[0] if span else None

    def by_title_key(self, key: str) -> list[tuple[str, bool]]:
        return self._index.by_title_key(key)


class _TakenIds:
    """Ids in use: in the library, or given to a new record of this import."""

    def __init__(self, current: Current, changes: ChangeSet) -> None:
        self._index, self._changes = current.index, changes

    def __contains__(self, record_id: object) -> bool:
        return isinstance(record_id, str) and (
            record_id in self._changes or self._index.id_exists(record_id)
        )


def merge_import(
    current: Current, records: Iterable[Record], journals: Mapping[str, str], now: str
) -> tuple[ChangeSet, UpsertResult]:
    """Match `records` against the library (and each other) and collect what changes."""
    changes = ChangeSet(current.path.parent)
    changes.backup = True
    result = UpsertResult()
    matcher = Matcher(stored=_StoredKeys(current))
    ids = IdMaker(_TakenIds(current, changes))
    added: set[str] = set()
    merged: set[str] = set()
    unchanged: set[str] = set()

    def stored(record_id: str) -> Record:
        if record_id in changes:
            return Record.from_doc(orjson.loads(changes.body(record_id)))
        doc = current.read(record_id)
        assert doc is not None, record_id
        return Record.from_doc(doc)

    for incoming in records:
        source = tuple(s if s.imported else _stamp(s, now) for s in incoming.source)
        found = matcher.find(incoming)
        if found is None:
            record = incoming.with_changes(
                id=ids.make(incoming), added=incoming.added or now, source=source
            )
            changes.put(record.to_doc())
            matcher.add(record)
            added.add(record.id)
            result.added.append(record.id)
            continue
        current_version = stored(found)
        combined = merge(
            current_version, _without_user_fields(incoming).with_changes(source=source)
        )
        if combined == current_version:
            if found not in added and found not in merged and found not in unchanged:
                unchanged.add(found)
                result.unchanged.append(found)
            continue
        changes.put(combined.to_doc())
        matcher.add(combined)
        if found not in added and found not in merged:
            merged.add(found)
            result.merged.append(found)
            if found in unchanged:
                unchanged.discard(found)
                result.unchanged.remove(found)
    changes.journals = new_journals(current.head, journals)
    return changes, result


def _stamp(source: Source, when: str) -> Source:
    return Source(format=source.format, file=source.file, imported=when)


def _without_user_fields(record: Record) -> Record:
    """An imported record never sets what only the user sets."""
    return record.with_changes(tags=(), note=None, marked=False, added=None)
