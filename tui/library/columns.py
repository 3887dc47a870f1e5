"""What the index keeps of each record, derived from its stored document in one place.

Every column is declared once here, with how it is computed from a record's
document; the index's schema, its inserts and its rows all follow from this
list. The names are the ones the rest of refdeck uses for the same things:
the record's fields (`year`, `citation_count`...), the query language's
flags (`has_doi`, see `tui.query.FLAGS`) and the list's `Row` fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tui.identity import title_key_of
from tui.models import Author
from tui.normalize import doi_key, fold, haystack
from tui.query import FLAGS, NUMBER_FIELDS, SEARCH_FIELDS
from tui.rows import ROW_FIELDS, Row


class Facts:
    """One document, with the parts several columns need worked out once."""

    __slots__ = ("authors", "doc")

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.authors = [Author.from_doc(a) for a in doc.get("authors", ())]

    def get(self, name: str) -> Any:
        """A field of the document (None when it has none)."""
        return self.doc.get(name)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the index's `records` table."""

    name: str
    sql: str
    """Its SQL type (and constraints)."""
    value: Callable[[Facts], Any]


def _text(name: str) -> Callable[[Facts], str]:
    return lambda f: f.get(name) or ""


def _flag(test: Callable[[Facts], Any]) -> Callable[[Facts], int]:
    return lambda f: 1 if test(f) else 0


def _quartile(value: str | None) -> int | None:
    return int(value[1:]) if value and value[1:].isdigit() else None


COLUMNS: tuple[Column, ...] = (
    Column("doc_id", "INTEGER NOT NULL UNIQUE", lambda f: 0),  # set by the writer
    Column("id", "TEXT NOT NULL UNIQUE", lambda f: f.doc["id"]),
    Column("title", "TEXT NOT NULL", _text("title")),
    Column("first_author", "TEXT NOT NULL", lambda f: f.authors[0].sort_name if f.authors else ""),
    Column(
        "second_author",
        "TEXT NOT NULL",
        lambda f: f.authors[1].sort_name if len(f.authors) == 2 else "",
    ),
    Column("author_count", "INTEGER NOT NULL", lambda f: len(f.authors)),
    Column("authors", "TEXT NOT NULL", lambda f: "; ".join(a.display for a in f.authors)),
    Column("journal", "TEXT NOT NULL", _text("journal")),
    Column("year", "INTEGER", lambda f: f.get("year")),
    Column("date", "TEXT NOT NULL", _text("date")),
    Column("doi", "TEXT NOT NULL", _text("doi")),
    Column("doi_key", "TEXT", lambda f: doi_key(f.doc["doi"]) if f.get("doi") else None),
    Column("citation_count", "INTEGER", lambda f: f.get("citation_count")),
    Column("impact_factor", "REAL", lambda f: f.get("impact_factor")),
    Column("jcr_quartile", "INTEGER", lambda f: _quartile(f.get("jcr_quartile"))),
    Column("open_access", "INTEGER NOT NULL", _flag(lambda f: f.get("open_access"))),
    Column("marked", "INTEGER NOT NULL", _flag(lambda f: f.get("marked"))),
    Column("added", "TEXT NOT NULL", _text("added")),
    Column("keywords", "TEXT NOT NULL", lambda f: "; ".join(f.get("keywords") or ())),
    Column("has_doi", "INTEGER NOT NULL", _flag(lambda f: f.get("doi"))),
    Column("has_abstract", "INTEGER NOT NULL", _flag(lambda f: f.get("abstract"))),
    Column("has_pdf", "INTEGER NOT NULL", _flag(lambda f: f.get("pdf_url"))),
    Column(
        "has_impact_factor", "INTEGER NOT NULL", _flag(lambda f: f.get("impact_factor") is not None)
    ),
    Column("has_note", "INTEGER NOT NULL", _flag(lambda f: f.get("note"))),
    Column("has_tags", "INTEGER NOT NULL", _flag(lambda f: f.get("tags"))),
    Column(
        "title_key",
        "TEXT",
        lambda f: title_key_of(
            f.get("title"), f.get("year"), f.authors[0].sort_name if f.authors else ""
        ),
    ),
    Column("title_sort", "TEXT NOT NULL", lambda f: fold(f.get("title") or "")),
    Column("type", "TEXT NOT NULL", lambda f: f.get("type") or "unknown"),
    Column(
        "formats",
        "TEXT NOT NULL",
        lambda f: "|".join(sorted({s["format"] for s in f.get("source") or ()})),
    ),
)
"""The `records` table's columns (besides `seq`, the record's place in the file)."""

COLUMN_NAMES = tuple(column.name for column in COLUMNS)


def column_values(doc: Mapping[str, Any], doc_id: int) -> tuple[Any, ...]:
    """The values of every column for one document, in `COLUMNS` order."""
    facts = Facts(doc)
    values = [column.value(facts) for column in COLUMNS]
    values[0] = doc_id
    return tuple(values)


def _search_text(name: str) -> Callable[[Facts], str]:
    if name == "authors":
        return lambda f: haystack(" ; ".join(a.display for a in f.authors))
    if name in ("keywords", "tags"):
        return lambda f: haystack(" ; ".join(f.get(name) or ()))
    return lambda f: haystack(f.get(name))


_SEARCH_TEXTS = tuple(_search_text(name) for name in SEARCH_FIELDS)


def search_texts(doc: Mapping[str, Any]) -> tuple[str, ...]:
    """The folded text of every searchable field (`tui.query.SEARCH_FIELDS`), in order."""
    facts = Facts(doc)
    return tuple(text(facts) for text in _SEARCH_TEXTS)


NUMBER_COLUMNS = {field: field for field in NUMBER_FIELDS.values()}
"""The column each number a query compares is read from (they share their names)."""

ROW_SELECT = ", ".join(f"r.{name}" for name in ROW_FIELDS)
"""The columns of `records r` that make a `Row`, in the row's field order."""
_QUARTILE = ROW_FIELDS.index("jcr_quartile")
_MARKED = ROW_FIELDS.index("marked")


def row_from_sql(values: Sequence[Any]) -> Row:
    """A list row from a `SELECT` of `ROW_SELECT`."""
    fields = list(values)
    fields[_QUARTILE] = f"Q{fields[_QUARTILE]}" if fields[_QUARTILE] else ""
    fields[_MARKED] = bool(fields[_MARKED])
    return Row(*fields)


def _check() -> None:
    """The query language only names columns that exist (checked at import, once)."""
    names = set(COLUMN_NAMES)
    wanted = (*FLAGS.values(), *NUMBER_COLUMNS.values(), *ROW_FIELDS[1:])
    missing = [c for c in wanted if c not in names]
    assert not missing, missing


_check()
