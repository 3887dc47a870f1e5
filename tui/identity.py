"""How records are recognized across imports, combined, and named.

Two records are the same paper when their DOIs match (case-insensitively), or,
when one of them has no DOI, when their normalized title, year and first
author's family name match. Merging fills what is missing and never erases
what is there, least of all what the user added.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from typing import Protocol

from tui.models import USER_FIELDS, Record, Source
from tui.normalize import doi_key, fold

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "on",
        "in",
        "for",
        "and",
        "to",
        "with",
        "from",
        "by",
        "at",
        "as",
        "is",
        "are",
        "its",
        "der",
        "die",
        "das",
        "le",
        "la",
        "les",
        "el",
        "un",
        "une",
    ]
)


def title_key(record: Record) -> str | None:
    """The DOI-less identity of a record: normalized title, year and first author."""
    return title_key_of(record.title, record.year, record.first_author)


def title_key_of(title: str | None, year: int | None, first_author: str) -> str | None:
    """`title_key` from its parts (the library's index keeps it for every record)."""
    if not title:
        return None
    words = _NON_ALNUM.sub(" ", fold(title)).strip()
    author = _NON_ALNUM.sub("", fold(first_author))
    return f"{words}|{year or ''}|{author}"


def id_base(record: Record) -> str:
    """The readable part of a record's id, in citation-key style: `adomako2025acute`.

    Family name, year and first significant title word, ASCII-folded.
    """
    author = _NON_ALNUM.sub("", fold(record.first_author.split(" ")[-1] if record.authors else ""))
    words = [w for w in _NON_ALNUM.sub(" ", fold(record.title or "")).split() if w]
    word = next((w for w in words if w not in _STOP_WORDS and not w.isdigit()), "")
    base = f"{author[:20]}{record.year or ''}{word[:20]}"
    if not base:
        base = "record"
    if not base[0].isalpha():
        base = f"r{base}"
    return base


def record_id(record: Record, taken: Container[str]) -> str:
    """A readable id unique among `taken`: `id_base`, then a letter suffix
    (`adomako2025acutea`) when the base is taken."""
    return IdMaker(taken).make(record)


class IdMaker:
    """Gives records unique ids, remembering for each base the next suffix to try.

    Records with the same first author, year and title word are common (a
    consortium's yearly reports, a series): trying every suffix from "a" again
    for each one would make an import of n of them take n² steps.
    """

    def __init__(self, taken: Container[str]) -> None:
        self._taken = taken
        self._made: set[str] = set()
        self._next: dict[str, int] = {}

    def make(self, record: Record) -> str:
        """A new id for `record`, unique among the taken ones and those made before."""
        base = id_base(record)
        n = self._next.get(base, 0)
        candidate = base + _suffix(n)
        while candidate in self._made or candidate in self._taken:
            n += 1
            candidate = base + _suffix(n)
        self._next[base] = n + 1
        self._made.add(candidate)
        return candidate


def _suffix(n: int) -> str:
    """a, b, ..., z, aa, ab, ..."""
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


class StoredKeys(Protocol):
    """Where a `Matcher` looks up the records already stored (the library's index)."""

    def id_of_doi(self, key: str) -> str | None:
        """The id of the first stored record with this DOI (`doi_key` form)."""

    def by_title_key(self, key: str) -> list[tuple[str, bool]]:
        """(id, has a DOI) of the stored records with this `title_key`, in library order."""


class Matcher:
    """Finds the record an incoming one duplicates, among a changing set of records.

    With `stored`, records already in the library are looked up there (not
    held in memory); records added or changed since are held here, and what
    is held here about a record overrides what `stored` says of it.
    """

    def __init__(self, records: Iterable[Record] = (), stored: StoredKeys | None = None) -> None:
        self._stored = stored
        self._by_doi: dict[str, str] = {}
        self._by_title: dict[str, list[str]] = {}
        self._has_doi: dict[str, bool] = {}
        for record in records:
            self.add(record)

    def add(self, record: Record) -> None:
        """Index a record (by its id) so later records can match it."""
        if record.doi:
            self._by_doi.setdefault(doi_key(record.doi), record.id)
        key = title_key(record)
        if key:
            ids = self._by_title.setdefault(key, [])
            if record.id not in ids:
                ids.append(record.id)
        self._has_doi[record.id] = bool(record.doi)

    def find(self, record: Record) -> str | None:
        """The id of the stored record that `record` duplicates, if any."""
        stored = self._stored
        if record.doi:
            doi = doi_key(record.doi)
            found = (stored.id_of_doi(doi) if stored else None) or self._by_doi.get(doi)
            if found:
                return found
        key = title_key(record)
        if not key:
            return None
        candidates = list(stored.by_title_key(key)) if stored else []
        seen = {candidate for candidate, _ in candidates}
        candidates += [(c, False) for c in self._by_title.get(key, ()) if c not in seen]
        for candidate, has_doi in candidates:
            # Two different DOIs are two different works (a preprint and its paper),
            # even with the same title; without a DOI on one side, the title decides.
            if not (record.doi and self._has_doi.get(candidate, has_doi)):
                return candidate
        return None


def merge(existing: Record, incoming: Record) -> Record:
    """Combine a stored record with a newly imported version of it.

    Missing fields are filled from `incoming`; present ones are kept, except the
    citation count, which only grows. Keywords and sources are united, `extra`
    gains new keys, and the user's fields (tags, note, mark, date added) are
    never touched.
    """
    changes: dict[str, object] = {}
    for name in Record.__dataclass_fields__:
        if name in USER_FIELDS or name in ("id", "source", "keywords", "extra"):
            continue
        old, new = getattr(existing, name), getattr(incoming, name)
        if new in (None, ()) or old == new:
            continue
        if name == "citation_count":
            if old is None or new > old:
                changes[name] = new
        elif old in (None, ()):
            changes[name] = new
    keywords = _union(existing.keywords, incoming.keywords)
    if keywords != existing.keywords:
        changes["keywords"] = keywords
    sources = _merge_sources(existing.source, incoming.source)
    if sources != existing.source:
        changes["source"] = sources
    extra = _merge_extra(existing.extra, incoming.extra)
    if extra != existing.extra:
        changes["extra"] = extra
    return existing.with_changes(**changes) if changes else existing


def _union(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    seen = {fold(value) for value in old}
    added = []
    for value in new:
        if fold(value) not in seen:
            seen.add(fold(value))
            added.append(value)
    return old + tuple(added)


def _merge_sources(old: tuple[Source, ...], new: tuple[Source, ...]) -> tuple[Source, ...]:
    known = {(source.format, source.file) for source in old}
    return old + tuple(s for s in new if (s.format, s.file) not in known)


def _merge_extra(old: dict[str, object], new: dict[str, object]) -> dict[str, object]:
    if not new:
        return old
    merged = dict(old)
    for namespace, values in new.items():
        current = merged.get(namespace)
        if isinstance(current, dict) and isinstance(values, dict):
            combined = {**values, **current}
            if combined != current:
                merged[namespace] = combined
        elif current is None:
            merged[namespace] = values
    return merged
