"""The list's view of the library: a few columns per record, stored column by column.

The browser needs, for every record, only what a row shows and what a
metadata search matches: title, authors, journal, year, metrics, marks. At
100,000 records, building full `Record` objects takes seconds and hundreds of
megabytes; these columns load from a cache file in a fraction of a second, and
the search haystacks in them are folded once, when the library is written,
not at every start. The full record is read only when it is opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from tui.models import Author, Record
from tui.normalize import haystack

ROWS_VERSION = 3
"""Layout version of the cached columns; a cache of another version is rebuilt."""


@dataclass(slots=True)
class ListRows:
    """Column-oriented rows: `titles[i]`, `years[i]`... describe record i."""

    ids: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    """All authors' display names, joined by "; "."""
    first_authors: list[str] = field(default_factory=list)
    """The first author's family (or group) name."""
    second_authors: list[str] = field(default_factory=list)
    """The second author's family name ("" unless there are exactly two)."""
    author_counts: list[int] = field(default_factory=list)
    journals: list[str] = field(default_factory=list)
    years: list[int | None] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    dois: list[str] = field(default_factory=list)
    citations: list[int | None] = field(default_factory=list)
    impacts: list[float | None] = field(default_factory=list)
    quartiles: list[str] = field(default_factory=list)
    open_access: list[bool] = field(default_factory=list)
    marked: list[bool] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    """Letters for `has:` filters: a(bstract), p(df), n(ote), t(ags)."""
    keywords: list[str] = field(default_factory=list)
    """Keywords joined by "; "."""
    tags: list[str] = field(default_factory=list)
    """The user's tags joined by "; "."""
    # Search haystacks: derived from the columns above by `ensure_haystacks`, in the
    # background, so neither the cache file nor the first screen pays for them.
    title_hay: list[str] = field(default_factory=list)
    authors_hay: list[str] = field(default_factory=list)
    journal_hay: list[str] = field(default_factory=list)
    keywords_hay: list[str] = field(default_factory=list)
    tags_hay: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def append_doc(self, doc: Mapping[str, Any]) -> None:
        """Add the row of one stored document (the dict `Record.to_doc()` makes)."""
        authors = [Author.from_doc(a) for a in doc.get("authors", ())]
        names = "; ".join(author.display for author in authors)
        keywords = doc.get("keywords", ())
        tags = doc.get("tags", ())
        self.ids.append(doc["id"])
        self.titles.append(doc.get("title") or "")
        self.authors.append(names)
        self.first_authors.append(authors[0].sort_name if authors else "")
        self.second_authors.append(authors[1].sort_name if len(authors) == 2 else "")
        self.author_counts.append(len(authors))
        self.journals.append(doc.get("journal") or "")
        self.years.append(doc.get("year"))
        self.dates.append(doc.get("date") or "")
        self.dois.append(doc.get("doi") or "")
        self.citations.append(doc.get("citation_count"))
        self.impacts.append(doc.get("impact_factor"))
        self.quartiles.append(doc.get("jcr_quartile") or "")
        self.open_access.append(bool(doc.get("open_access")))
        self.marked.append(bool(doc.get("marked")))
        self.added.append(doc.get("added") or "")
        self.flags.append(
            ("a" if doc.get("abstract") else "")
            + ("p" if doc.get("pdf_url") else "")
            + ("n" if doc.get("note") else "")
            + ("t" if tags else "")
        )
        self.keywords.append("; ".join(keywords))
        self.tags.append("; ".join(tags))

    @classmethod
    def from_docs(cls, docs: Iterable[Mapping[str, Any]]) -> ListRows:
        """Rows for stored documents, in order."""
        rows = cls()
        for doc in docs:
            rows.append_doc(doc)
        return rows

    @classmethod
    def from_records(cls, records: Iterable[Record]) -> ListRows:
        """Rows for records (tests and in-memory libraries)."""
        return cls.from_docs(record.to_doc() for record in records)

    def ensure_haystacks(self) -> None:
        """Fold the searchable columns for matching, once (about half a second at 100,000)."""
        if len(self.title_hay) == len(self.ids):
            return
        self.title_hay = [haystack(text) for text in self.titles]
        self.authors_hay = [haystack(text) for text in self.authors]
        self.journal_hay = [haystack(text) for text in self.journals]
        self.keywords_hay = [haystack(text) for text in self.keywords]
        self.tags_hay = [haystack(text) for text in self.tags]

    def to_columns(self) -> dict[str, list[Any]]:
        """The stored columns by name (haystacks are derived, not stored), for the cache file."""
        return {name: getattr(self, name) for name in _STORED}

    @classmethod
    def from_columns(cls, columns: Mapping[str, list[Any]]) -> ListRows:
        """Rebuild from `to_columns()`; raises ValueError when a column is missing or short."""
        names = _STORED
        if set(names) - set(columns):
            raise ValueError("missing columns")
        count = len(columns["ids"])
        if any(len(columns[name]) != count for name in names):
            raise ValueError("columns of different lengths")
        return cls(**{name: columns[name] for name in names})  # fresh lists from the parser

    def head(self, count: int) -> ListRows:
        """The first `count` rows (stored columns only)."""
        return ListRows.from_columns({name: getattr(self, name)[:count] for name in _STORED})

    def copy(self) -> ListRows:
        """A copy to change (the stored columns; haystacks are derived again when needed)."""
        return ListRows(**{name: list(getattr(self, name)) for name in _STORED})

    def set_doc(self, position: int, doc: Mapping[str, Any]) -> None:
        """Replace one row by the row of a changed document (in place)."""
        one = ListRows()
        one.append_doc(doc)
        for name in _STORED:
            getattr(self, name)[position] = getattr(one, name)[0]
        for name in _HAYSTACKS:
            setattr(self, name, [])  # derived from the old text: fold again when needed

    def with_marked(self, positions: Iterable[int], value: bool) -> None:
        """Set the mark of some rows (in place)."""
        for position in positions:
            self.marked[position] = value


_STORED = tuple(f.name for f in fields(ListRows) if not f.name.endswith("_hay"))
"""The columns the cache file keeps."""
_HAYSTACKS = tuple(f.name for f in fields(ListRows) if f.name.endswith("_hay"))
