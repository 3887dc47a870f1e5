"""Semantic Scholar Graph API papers (`/paper/{id}`, `/paper/batch`, search `data`).

A paper is identified by `paperId`; its DOI and PubMed ids sit in
`externalIds`. Items of `/paper/{id}/references` and `/citations` wrap the
paper in `citedPaper` / `citingPaper` next to the citation's context; they
are accepted here too. A paper fetched with `citations`/`references` holds
full paper objects in those arrays: it is still ONE record, and the nested
papers stay in its extra rather than flooding the library with 1000 records
the user did not ask to import.
"""

from __future__ import annotations

from typing import Any

from tui.formats.base import ParseResult
from tui.formats.csl_json import as_list, drop_empty, is_empty, rest, string_list, text

NAME = "semantic_scholar"

WRAPPERS = ("citedPaper", "citingPaper")
# Highest priority first: a "JournalArticle" that is also a "Conference" paper
# appeared at a conference (ICML), so the more specific type wins.
_TYPE_PRIORITY = (
    ("Conference", "paper-conference"),
    ("BookSection", "chapter"),
    ("Book", "book"),
    ("Dataset", "dataset"),
    ("News", "article-newspaper"),
    ("JournalArticle", "article-journal"),
    ("Review", "article-journal"),
    ("Editorial", "article-journal"),
    ("LettersAndComments", "article-journal"),
    ("CaseReport", "article-journal"),
    ("ClinicalTrial", "article-journal"),
    ("MetaAnalysis", "article-journal"),
    ("Study", "article-journal"),
)

_MAPPED = frozenset(
    {
        "title",
        "abstract",
        "authors",
        "year",
        "publicationDate",
        "citationCount",
        "isOpenAccess",
        "url",
    }
)


def matches(obj: dict[str, Any]) -> bool:
    """Return True for a paper (`paperId`) or a reference/citation item wrapping one."""
    if "paperId" in obj:
        return True
    return any(isinstance(obj.get(key), dict) for key in WRAPPERS)


def csl_type(value: Any) -> str | None:
    """Map `publicationTypes` (a list, or null) to one CSL type."""
    types = set(string_list(value))
    for name, kind in _TYPE_PRIORITY:
        if name in types:
            return kind
    return "article-journal" if types else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _pmcid(value: Any) -> str | None:
    raw = text(value)
    if not raw or not raw.strip():
        return None
    raw = raw.strip()
    return raw if raw.upper().startswith("PMC") else f"PMC{raw}"


def _unwrap(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a reference/citation item into (paper, context); a bare paper has no context."""
    for key in WRAPPERS:
        paper = obj.get(key)
        if isinstance(paper, dict):
            context = {k: v for k, v in obj.items() if k != key}
            return paper, {f"{key}_context": context} if drop_empty(context) else {}
    return obj, {}


def convert(
    obj: dict[str, Any], result: ParseResult, *, line: int | None, entry: str | None
) -> None:
    """Add one Semantic Scholar paper (or the paper inside a reference item) to `result`."""
    paper, context = _unwrap(obj)
    extra = rest(paper, _MAPPED)
    extra.update(drop_empty(context))
    ids = _dict(paper.get("externalIds"))
    journal = _dict(paper.get("journal"))
    venue = _dict(paper.get("publicationVenue"))
    pdf = _dict(paper.get("openAccessPdf"))
    fields = string_list(paper.get("fieldsOfStudy"))
    for field in as_list(paper.get("s2FieldsOfStudy")):
        if isinstance(field, dict):
            fields.extend(string_list(field.get("category")))
    authors = [
        text(author.get("name"))
        for author in as_list(paper.get("authors"))
        if isinstance(author, dict) and not is_empty(author.get("name"))
    ]
    result.add(
        format=NAME,
        line=line,
        entry=entry,
        title=text(paper.get("title")),
        authors=[name for name in authors if name],
        doi=text(ids.get("DOI")),
        date=text(paper.get("publicationDate")),
        year=paper.get("year"),
        # `journal.name` is the journal; `venue` is S2's normalized venue (often "").
        journal=text(journal.get("name")) or text(paper.get("venue")) or text(venue.get("name")),
        volume=text(journal.get("volume")),
        pages=text(journal.get("pages")),
        abstract=text(paper.get("abstract")),
        type=csl_type(paper.get("publicationTypes")),
        citation_count=paper.get("citationCount"),
        open_access=paper.get("isOpenAccess"),
        pdf_url=text(pdf.get("url")),
        url=text(paper.get("url")),
        keywords=fields,
        issn=text(venue.get("issn")),
        pmid=text(ids.get("PubMed")),
        pmcid=_pmcid(ids.get("PubMedCentral")),
        extra=extra,
    )
