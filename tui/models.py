"""The record model: one normalized shape for a paper, whatever format it came from.

A `Record` is immutable and does no I/O. Parsers build records through
`tui.normalize.build_record`, the store turns them into TinyDB documents with
`to_doc()` / `from_doc()`, and the CLI prints `to_json()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

JsonDict = dict[str, Any]

_CJK = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class Author:
    """One author: a person with family/given names, or a group with a literal name."""

    family: str | None = None
    """Family name, with particles ("van Rossum") and suffixes kept as written."""
    given: str | None = None
    """Given names or initials."""
    literal: str | None = None
    """A corporate or group name ("The ENCODE Project Consortium"), never split."""
    suffix: str | None = None
    """"Jr.", "III" and the like."""

    @property
    def display(self) -> str:
        """The name as a reader sees it: "Given Family", or the group name."""
        if self.literal:
            return self.literal
        if _CJK.search(f"{self.family or ''}{self.given or ''}"):
            # Chinese, Japanese and Korean names are written family name first.
            return " ".join(part for part in (self.family, self.given) if part)
        return " ".join(part for part in (self.given, self.family, self.suffix) if part)

    @property
    def sort_name(self) -> str:
        """The name used to sort and to build citation keys: the family name first."""
        return self.literal or self.family or self.given or ""

    def to_doc(self) -> JsonDict:
        """Return the compact dictionary stored in the library and in JSON output."""
        if self.literal:
            return {"literal": self.literal}
        doc: JsonDict = {}
        if self.family:
            doc["family"] = self.family
        if self.given:
            doc["given"] = self.given
        if self.suffix:
            doc["suffix"] = self.suffix
        return doc

    @classmethod
    def from_doc(cls, doc: JsonDict) -> Author:
        """Rebuild an author from `to_doc()` output."""
        return cls(
            family=doc.get("family"),
            given=doc.get("given"),
            literal=doc.get("literal"),
            suffix=doc.get("suffix"),
        )


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record was imported from."""

    format: str
    """The importer's name, e.g. "bibtex" or "aggregator"."""
    file: str
    """The file's path as given to the importer."""
    imported: str | None = None
    """When it was imported (ISO 8601, UTC); set by the store, not by parsers."""

    def to_doc(self) -> JsonDict:
        """Return the dictionary stored in the library and in JSON output."""
        doc: JsonDict = {"format": self.format, "file": self.file}
        if self.imported:
            doc["imported"] = self.imported
        return doc

    @classmethod
    def from_doc(cls, doc: JsonDict) -> Source:
        """Rebuild a source from `to_doc()` output."""
        return cls(format=doc["format"], file=doc["file"], imported=doc.get("imported"))


@dataclass(frozen=True, slots=True)
class Record:
    """A normalized literature record.

    Parsers leave `id` empty; the store assigns a stable, readable id on insert.
    Fields the model does not name are kept in `extra`, namespaced by format,
    so nothing the source had is thrown away.
    """

    id: str = ""
    doi: str | None = None
    """Bare DOI ("10.1016/j.molmed.2025.04.005"), as the source spelled it."""
    title: str | None = None
    authors: tuple[Author, ...] = ()
    editors: tuple[Author, ...] = ()
    year: int | None = None
    date: str | None = None
    """ISO 8601 date, as precise as the source: "2025", "2025-05" or "2025-05-23"."""
    journal: str | None = None
    """Journal, proceedings or book title: the container of the work."""
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    abstract: str | None = None
    """Plain text; paragraphs separated by blank lines."""
    type: str | None = None
    """A CSL item type ("article-journal", "book", "chapter", "paper-conference", ...)."""
    citation_count: int | None = None
    impact_factor: float | None = None
    jcr_quartile: str | None = None
    """"Q1" to "Q4"."""
    jcr_category: str | None = None
    open_access: bool | None = None
    pdf_url: str | None = None
    url: str | None = None
    keywords: tuple[str, ...] = ()
    publisher: str | None = None
    issn: str | None = None
    isbn: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    language: str | None = None
    key: str | None = None
    """The citation key the source gave (BibTeX key, RIS ID), if any."""
    source: tuple[Source, ...] = ()
    extra: JsonDict = field(default_factory=dict, hash=False, compare=True)
    """Source fields the model does not name: {format: {field: value}}."""
    # What the user added; imports never erase these.
    tags: tuple[str, ...] = ()
    note: str | None = None
    marked: bool = False
    added: str | None = None
    """When the record first entered the library (ISO 8601, UTC)."""

    @property
    def first_author(self) -> str:
        """The first author's family (or group) name, or "" when there is none."""
        return self.authors[0].sort_name if self.authors else ""

    @property
    def author_names(self) -> list[str]:
        """Authors as display names ("Given Family")."""
        return [author.display for author in self.authors]

    def with_changes(self, **changes: Any) -> Record:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)

    def to_doc(self) -> JsonDict:
        """Return the TinyDB document: empty values are left out to keep the file small."""
        doc: JsonDict = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == () or value == {} or (f.name == "marked" and not value):
                continue
            if f.name in ("authors", "editors"):
                value = [author.to_doc() for author in value]
            elif f.name == "source":
                value = [source.to_doc() for source in value]
            elif isinstance(value, tuple):
                value = list(value)
            doc[f.name] = value
        return doc

    @classmethod
    def identity_from_doc(cls, doc: JsonDict) -> Record:
        """Only what identifies a stored record (id, DOI, title, year, first author).

        Enough for `tui.identity.Matcher`, and several times cheaper than
        `from_doc` when every record of a 100,000-record library is matched.
        """
        authors = doc.get("authors")
        return cls(
            id=doc.get("id", ""),
            doi=doc.get("doi"),
            title=doc.get("title"),
            year=doc.get("year"),
            authors=(Author.from_doc(authors[0]),) if authors else (),
        )

    @classmethod
    def from_doc(cls, doc: JsonDict) -> Record:
        """Rebuild a record from a TinyDB document (unknown keys are ignored)."""
        kwargs: JsonDict = {}
        for name in _FIELD_NAMES:
            if name not in doc:
                continue
            value = doc[name]
            if name in ("authors", "editors"):
                value = tuple(Author.from_doc(a) for a in value)
            elif name == "source":
                value = tuple(Source.from_doc(s) for s in value)
            elif name in ("keywords", "tags"):
                value = tuple(value)
            kwargs[name] = value
        return cls(**kwargs)

    def to_json(self) -> JsonDict:
        """Return the public JSON shape: every field, authors as display names."""
        out: JsonDict = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("authors", "editors"):
                out[f.name] = [author.display for author in value]
                out[f"{f.name}_structured"] = [author.to_doc() for author in value]
            elif f.name == "source":
                out[f.name] = [source.to_doc() for source in value]
            elif isinstance(value, tuple):
                out[f.name] = list(value)
            else:
                out[f.name] = value
        return out


_FIELD_NAMES = tuple(f.name for f in fields(Record))

USER_FIELDS = ("tags", "note", "marked", "added")
"""Fields only the user (or the store) sets; an import never overwrites them."""


def _doc_checks() -> dict[str, Any]:
    """For each record field, a test that a stored value has the field's JSON shape.

    Derived from the annotations of `Record`, so a new field is checked as soon
    as it is declared.
    """
    import typing

    hints = typing.get_type_hints(Record)

    def strings(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)

    def names(value: Any) -> bool:
        return isinstance(value, list) and all(
            isinstance(v, dict) and all(isinstance(part, str) for part in v.values()) for v in value
        )

    def sources(value: Any) -> bool:
        return isinstance(value, list) and all(
            isinstance(v, dict)
            and isinstance(v.get("format"), str)
            and isinstance(v.get("file"), str)
            for v in value
        )

    by_type: dict[Any, Any] = {
        str: lambda v: isinstance(v, str),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        bool: lambda v: isinstance(v, bool),
        tuple[str, ...]: strings,
        tuple[Author, ...]: names,
        tuple[Source, ...]: sources,
        JsonDict: lambda v: isinstance(v, dict),
    }
    checks = {}
    for name, hint in hints.items():
        args = typing.get_args(hint)
        # `X | None` is checked as X (None values are skipped); anything else as itself.
        base = next(arg for arg in args if arg is not type(None)) if type(None) in args else hint
        checks[name] = by_type[base]
    return checks


_DOC_CHECKS = _doc_checks()


def doc_problem(doc: Any) -> str | None:
    """Why a stored document is not a record refdeck can read; None when it is one."""
    if not isinstance(doc, dict):
        return "a record is not a JSON object"
    record_id = doc.get("id")
    if not isinstance(record_id, str) or not record_id:
        return "a record has no id"
    for name, value in doc.items():
        check = _DOC_CHECKS.get(name)
        if check is not None and value is not None and not check(value):
            return f"record {record_id!r}: field {name!r} has the wrong type"
    return None
