"""Crossref REST API works: the `message` of `/works/{doi}` and the items of `/works`.

Crossref's vocabulary is CSL's, with differences that matter: `title` and
`container-title` are lists (a work can have a German and an English title),
types are Crossref's own (`journal-article`, `posted-content`, ...), abstracts
are JATS XML (`<jats:p>`), and there are several dates (`issued`,
`published-print`, `published-online`). The envelope (`{"status": "ok",
"message-type": "work", "message": {...}}`) is removed by
`tui.formats.json_records` before `convert()` sees a work.
"""

from __future__ import annotations

import re
from typing import Any

from tui.formats.base import ParseResult
from tui.formats.csl_json import (
    csl_date,
    drop_empty,
    first,
    has_more_than_names,
    names,
    pdf_link,
    rest,
    split_identifier,
    string_list,
    text,
)

NAME = "crossref"

# Crossref work types -> CSL types. Unknown types fall back to "document" so the
# record still has a type, and the original is kept in extra.
TYPES = {
    "journal-article": "article-journal",
    "posted-content": "article",
    "proceedings-article": "paper-conference",
    "book-chapter": "chapter",
    "book-section": "chapter",
    "book-part": "chapter",
    "book-track": "chapter",
    "dissertation": "thesis",
    "monograph": "book",
    "book": "book",
    "edited-book": "book",
    "reference-book": "book",
    "book-set": "book",
    "book-series": "book",
    "proceedings": "book",
    "proceedings-series": "book",
    "reference-entry": "entry",
    "dataset": "dataset",
    "database": "dataset",
    "component": "document",
    "peer-review": "review",
    "report": "report",
    "report-component": "report",
    "report-series": "report",
    "standard": "standard",
    "standard-series": "standard",
    "journal": "periodical",
    "journal-issue": "periodical",
    "journal-volume": "periodical",
    "grant": "document",
    "other": "document",
}

_MAPPED = frozenset(
    {
        "DOI",
        "title",
        "author",
        "editor",
        "issued",
        "container-title",
        "volume",
        "issue",
        "page",
        "abstract",
        "is-referenced-by-count",
        "subject",
        "URL",
        "publisher",
        "language",
        "ISSN",
        "ISBN",
    }
)
_IN_BOOK = frozenset(
    {"book-chapter", "book-section", "book-part", "proceedings-article", "reference-entry"}
)
# Dates in the order they describe the publication best. `created`/`deposited`
# are Crossref's own bookkeeping, not publication dates, so they are not used.
_DATES = ("issued", "published", "published-print", "published-online", "posted", "approved")
# JATS abstracts often start with a heading that only repeats the word "Abstract".
_ABSTRACT_HEADING = re.compile(
    r"^\s*<(?:[\w-]+:)?title>\s*(?:abstract|summary)\s*</(?:[\w-]+:)?title>", re.IGNORECASE
)


def matches(obj: dict[str, Any]) -> bool:
    """Return True for a Crossref work: a `DOI` with list-valued titles.

    CSL items made from Crossref data (Manubot, content negotiation) share
    every key name but hold `title` and `container-title` as strings.
    """
    return isinstance(obj.get("DOI"), str) and (
        isinstance(obj.get("title"), list) or isinstance(obj.get("container-title"), list)
    )


def csl_type(value: Any) -> str | None:
    """Map a Crossref work type to a CSL type."""
    raw = text(value)
    if not raw:
        return None
    return TYPES.get(raw.strip().lower(), "document")


def _first_name(value: Any) -> Any:
    """The `name` of the first object in a list like `institution`."""
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict) and text(item.get("name")):
            return item["name"]
    return None


def _abstract(value: Any) -> str | None:
    raw = text(value)
    return _ABSTRACT_HEADING.sub("", raw, count=1) if raw else None


def convert(
    obj: dict[str, Any], result: ParseResult, *, line: int | None, entry: str | None
) -> None:
    """Add one Crossref work to `result`."""
    extra = rest(obj, _MAPPED)
    titles = string_list(obj.get("title"))
    if len(titles) > 1:
        # "Penisverletzung durch eine Moulinette" / "Penile injury caused by a Moulinette":
        # the first is the title, the translations stay with the record.
        extra["other-titles"] = titles[1:]
    containers = string_list(obj.get("container-title"))
    if len(containers) > 1:
        extra["container-title"] = containers
    issn = split_identifier(obj.get("ISSN"), extra, "ISSN")
    isbn = split_identifier(obj.get("ISBN"), extra, "ISBN")
    authors = obj.get("author")
    if has_more_than_names(authors):
        extra["author"] = drop_empty(authors)  # ORCIDs and affiliations
    editors = obj.get("editor")
    if has_more_than_names(editors):
        extra["editor"] = drop_empty(editors)
    journal = None
    if containers:
        # A chapter or proceedings paper in a series lists the series first
        # (["Lecture Notes in Computer Science", "Computer Vision - ECCV 2012"]):
        # the book or proceedings, the real container, comes last.
        journal = containers[-1] if text(obj.get("type")) in _IN_BOOK else containers[0]
    if journal is None and obj.get("type") == "posted-content":
        # Preprints and blog posts have no container-title: the server (bioRxiv) or the
        # blog (group-title "Upstream") is where the reader finds them.
        server = text(_first_name(obj.get("institution")))
        group = text(obj.get("group-title"))
        journal = server if obj.get("subtype") == "preprint" else group or server
    date = next((d for d in (csl_date(obj.get(key)) for key in _DATES) if d is not None), None)
    result.add(
        format=NAME,
        line=line,
        entry=entry,
        title=titles[0] if titles else None,
        authors=names(authors),
        editors=names(editors),
        doi=text(obj.get("DOI")),
        date=date,
        journal=journal,
        volume=text(obj.get("volume")),
        issue=text(obj.get("issue")),
        # eLife and PLOS articles have an article number instead of pages.
        pages=text(obj.get("page")) or text(obj.get("article-number")),
        abstract=_abstract(obj.get("abstract")),
        type=csl_type(obj.get("type")),
        citation_count=obj.get("is-referenced-by-count"),
        pdf_url=pdf_link(obj.get("link")),
        url=text(obj.get("URL")),
        keywords=string_list(obj.get("subject")),
        publisher=text(first(obj.get("publisher"))),
        issn=issn,
        isbn=isbn,
        language=text(obj.get("language")),
        extra=extra,
    )
