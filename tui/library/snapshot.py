"""A consistent view of a library: its index in one read transaction, and the file it describes.

Every reader (a command, the browser) reads through a `Snapshot`: the index
answers what to list and where each record sits, the library file (kept
open, so a write by another process replaces it without disturbing us) gives
the records themselves, one at a time, by offset, each checked to be the one
the index named. Nothing here grows with the library but what is asked for.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from array import array
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tui.atomic import Signature
from tui.library import search as engine
from tui.library.index import Index
from tui.library.layout import read_record
from tui.models import Record
from tui.normalize import InvalidDOI, doi_key, normalize_doi
from tui.query import Query, parse_query
from tui.rows import Row

ANSWERS_KEPT = 16
"""Answers a view remembers: Backspace, ctrl+u or a sort toggled back costs no query. Kept
as machine integers, under 1 MB each at 100,000 records."""


class Snapshot:
    """One moment of one library. Safe to share between threads (calls take turns).

    `index` and `fd` are None for a library that does not exist yet: the view
    is then empty.
    """

    def __init__(
        self,
        path: Path,
        index: Index | None,
        fd: int | None,
        generation: str | None,
        signature: Signature | None,
        verified: bool = True,
    ) -> None:
        self.path = path
        self._index = index
        self._fd = fd
        self.generation = generation
        """The generation id of the library file this view shows."""
        self.signature = signature
        """The library file's inode, size and modification time when the view was taken."""
        self.verified = verified
        """False while the file's checksum is still to be compared with the index's
        (a copied library, opened before that check: see `RecordStore.verify`)."""
        self._lock = threading.RLock()
        self._answers: OrderedDict[tuple[object, ...], array[int]] = OrderedDict()
        self.count = index.count() if index is not None else 0
        """How many records the library holds."""
        # A view handed to screens and workers is let go when the last of them drops it.
        self._finalizer = weakref.finalize(self, _release, index, fd)

    # -- what a list shows ---------------------------------------------

    def search(
        self,
        query: Query | str,
        sort: str = "relevance",
        reverse: bool = False,
        rank_limit: int | None = engine.RELEVANCE_LIMIT,
    ) -> list[int]:
        """The seqs of the matching records, in the order asked for.

        The view never changes, so neither do its answers: the last few are kept.
        """
        if isinstance(query, str):
            query = parse_query(query)
        key = (query.clauses, sort, reverse, rank_limit)
        with self._lock:
            if self._index is None:
                return []
            if (kept := self._answers.get(key)) is not None:
                self._answers.move_to_end(key)
                return kept.tolist()
            seqs = engine.search(self._index, query, sort, reverse, rank_limit)
            self._answers[key] = array("q", seqs)
            if len(self._answers) > ANSWERS_KEPT:
                self._answers.popitem(last=False)
            return seqs

    def rows(self, seqs: Sequence[int]) -> list[Row]:
        """The list rows of these records, in this order."""
        with self._lock:
            return self._index.rows(seqs) if self._index is not None else []

    def marked(self) -> list[int]:
        """The seqs of the marked records, in library order."""
        with self._lock:
            return self._index.marked() if self._index is not None else []

    def seqs_of_ids(self, record_ids: Sequence[str]) -> dict[str, int]:
        """The seqs of the records with these ids."""
        with self._lock:
            return self._index.seqs_of_ids(record_ids) if self._index is not None else {}

    # -- records ---------------------------------------------------------

    def record(self, seq: int) -> Record | None:
        """One record, read from its place in the file; None when it is not in this view."""
        with self._lock:
            if self._index is None or self._fd is None:
                return None
            span = self._index.span(seq)
            if span is None:
                return None
            record_id, _doc_id, offset, length = span
            return Record.from_doc(read_record(self._fd, offset, length, record_id))

    def records(self, seqs: Sequence[int]) -> Iterator[Record]:
        """These records, in this order, read one at a time."""
        for start in range(0, len(seqs), 500):
            chunk = list(seqs[start : start + 500])
            with self._lock:
                if self._index is None or self._fd is None:
                    return
                spans = self._index.spans(chunk)
                docs = [
                    read_record(self._fd, spans[seq][2], spans[seq][3], spans[seq][0])
                    for seq in chunk
                    if seq in spans
                ]
            yield from (Record.from_doc(doc) for doc in docs)

    def find(self, key: str) -> Record | None:
        """A record by its id or its DOI (any spelling `normalize_doi` accepts)."""
        with self._lock:
            if self._index is None:
                return None
            seq = self._index.seq_of_id(key.strip())
            if seq is None:
                try:
                    doi = normalize_doi(key)
                except InvalidDOI:
                    return None
                seq = self._index.seq_of_doi(doi_key(doi)) if doi else None
            return self.record(seq) if seq is not None else None

    def journal_description(self, name: str | None) -> str | None:
        """The description of a journal, stored once for all its records."""
        if not name:
            return None
        with self._lock:
            return self._index.journal_description(name) if self._index is not None else None

    def stats(self) -> dict[str, object]:
        """Counts by year, journal, format and type."""
        with self._lock:
            index = self._index
            if index is None:
                return _stats(0, 0, 0, 0, [], [], Counter(), [])
            formats: Counter[str] = Counter()
            for value, count in index.counts("formats"):
                for name in value.split("|") if value else ():
                    formats[name] += count
            return _stats(
                self.count,
                index.total("has_doi"),
                index.total("has_abstract"),
                index.journal_count(),
                [(year, n) for year, n in index.counts("year") if year],
                [(journal, n) for journal, n in index.counts("journal") if journal],
                formats,
                index.counts("type"),
            )

    def close(self) -> None:
        """Let the index and the file go (the view is empty from then on)."""
        with self._lock:
            self._index, self._fd = None, None
            self._finalizer()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _release(index: Index | None, fd: int | None) -> None:
    if index is not None:
        index.end()
        index.close()
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def _stats(
    records: int,
    with_doi: int,
    with_abstract: int,
    journals: int,
    years: list[tuple[Any, int]],
    by_journal: list[tuple[Any, int]],
    formats: Counter[str],
    types: list[tuple[Any, int]],
) -> dict[str, object]:
    return {
        "records": records,
        "with_doi": with_doi,
        "with_abstract": with_abstract,
        "journals_described": journals,
        "by_year": dict(sorted(years)),
        "by_journal": dict(by_journal),
        "by_format": dict(formats.most_common()),
        "by_type": dict(types),
    }
