"""OpenAlex works: `/works/{id}` responses and the `results` of `/works` lists.

OpenAlex has no structured author names (only `display_name`), gives the DOI
as a URL (`https://doi.org/10.1890/0012-9658(2006)87[2832:tiopma]2.0.co;2`,
sometimes percent-encoded, often null), and ships the abstract as an inverted
index (word -> positions) that has to be put back in order.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from tui.formats.base import ParseResult
from tui.formats.csl_json import as_list, drop_empty, first, is_empty, rest, string_list, text
from tui.models import Author

NAME = "openalex"

TYPES = {
    "article": "article-journal",
    "review": "article-journal",
    "letter": "article-journal",
    "editorial": "article-journal",
    "erratum": "article-journal",
    "retraction": "article-journal",
    "preprint": "article",
    "posted-content": "article",
    "book-chapter": "chapter",
    "book": "book",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "dissertation": "thesis",
    "dataset": "dataset",
    "conference-paper": "paper-conference",
    "proceedings-article": "paper-conference",
    "peer-review": "review",
    "report": "report",
    "standard": "standard",
    "reference-entry": "entry",
    "libguides": "webpage",
    "supplementary-materials": "dataset",
    "paratext": "document",
    "other": "document",
}

_MAPPED = frozenset(
    {
        "doi",
        "title",
        "display_name",
        "publication_year",
        "publication_date",
        "biblio",
        "cited_by_count",
        "language",
        "abstract_inverted_index",
    }
)
_WORK_ID = re.compile(r"^(?:https?://openalex\.org/)?W\d+$", re.IGNORECASE)
_PMCID = re.compile(r"(PMC)?(\d+)/?$", re.IGNORECASE)
_MAX_POSITION = 1_000_000
"""Abstract positions beyond this are junk (or an attempt to make us allocate)."""


def matches(obj: dict[str, Any]) -> bool:
    """Return True for an OpenAlex work: a `W...` id or the work-only keys."""
    work_id = obj.get("id")
    if isinstance(work_id, str) and _WORK_ID.match(work_id):
        return True
    return "authorships" in obj and (
        "display_name" in obj or "publication_year" in obj or "abstract_inverted_index" in obj
    )


def csl_type(value: Any, source_type: Any = None) -> str | None:
    """Map an OpenAlex work type to a CSL type; an "article" at a conference is a paper."""
    raw = text(value)
    if not raw:
        return None
    kind = TYPES.get(raw.strip().lower(), "document")
    if kind == "article-journal" and source_type == "conference":
        return "paper-conference"
    return kind


def rebuild_abstract(index: Any) -> str | None:
    """Put an `abstract_inverted_index` ({"word": [0, 7], ...}) back into running text.

    Sorting (position, word) pairs rather than filling a list sized by the
    largest position keeps a hostile index from allocating gigabytes.
    """
    if not isinstance(index, dict):
        return None
    placed: list[tuple[int, str]] = []
    for word, positions in index.items():
        if not isinstance(positions, list):
            continue
        for position in positions:
            valid = isinstance(position, int) and not isinstance(position, bool)
            if valid and 0 <= position <= _MAX_POSITION:
                placed.append((position, str(word)))
    if not placed:
        return None
    placed.sort(key=lambda pair: pair[0])
    return " ".join(word for _, word in placed)


def _is_cjk(name: str) -> bool:
    return any(
        unicodedata.name(ch, "").startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))
        for ch in name
    )


def author_name(value: Any) -> Author | str | None:
    """An author from a display name ("Peter Wilson", "宮地 元彦").

    Chinese, Japanese and Korean names are written family name first, so
    "宮地 元彦" is family 宮地, given 元彦; splitting it like a Western name would
    swap them. Other names go to `normalize.parse_person` as strings.
    """
    name = text(value)
    if not name or not name.strip():
        return None
    parts = name.split()
    if _is_cjk(name) and len(parts) == 2:
        return Author(family=parts[0], given=parts[1])
    return name


def _authors(authorships: Any) -> list[Author | str]:
    authors: list[Author | str] = []
    if not isinstance(authorships, list):
        return authors
    for authorship in authorships:
        if not isinstance(authorship, dict):
            continue
        author = _dict(authorship.get("author"))
        # A missing display name (it happens) falls back to the name as printed.
        name = author_name(author.get("display_name")) or author_name(
            authorship.get("raw_author_name")
        )
        if name is not None:
            authors.append(name)
    return authors


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _pages(biblio: dict[str, Any]) -> str | None:
    first_page, last_page = text(biblio.get("first_page")), text(biblio.get("last_page"))
    if first_page and last_page and first_page != last_page:
        return f"{first_page}-{last_page}"
    return first_page or last_page


def _pmid(value: Any) -> str | None:
    """ "https://pubmed.ncbi.nlm.nih.gov/17168027" -> "17168027"."""
    raw = text(value)
    if not raw:
        return None
    match = re.search(r"(\d+)/?$", raw)
    return match.group(1) if match else None


def _pmcid(value: Any) -> str | None:
    """ "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5938574" -> "PMC5938574"."""
    raw = text(value)
    if not raw:
        return None
    match = _PMCID.search(raw.strip())
    return f"PMC{match.group(2)}" if match else None


def _pdf(open_access: dict[str, Any]) -> str | None:
    """`oa_url` when it points at a PDF; it is often just the DOI's landing page."""
    url = text(open_access.get("oa_url"))
    return url if url and "pdf" in url.lower() else None


def _keywords(obj: dict[str, Any]) -> list[str]:
    """Keywords and topics by name; concepts only when neither is there.

    Concepts (deprecated by OpenAlex) list dozens of loosely related fields, so
    they would drown the real keywords; they stay in extra either way.
    """
    found: list[str] = []
    for group in ("keywords", "topics"):
        for item in as_list(obj.get(group)):
            if isinstance(item, dict):
                found.extend(string_list(item.get("display_name") or item.get("keyword")))
            else:
                found.extend(string_list(item))
    if not found:
        for item in as_list(obj.get("concepts")):
            if isinstance(item, dict):
                found.extend(string_list(item.get("display_name")))
    return found


def convert(
    obj: dict[str, Any], result: ParseResult, *, line: int | None, entry: str | None
) -> None:
    """Add one OpenAlex work to `result`."""
    extra = rest(obj, _MAPPED)
    primary = _dict(obj.get("primary_location"))
    source = _dict(primary.get("source")) or _dict(obj.get("host_venue"))
    best = _dict(obj.get("best_oa_location"))
    open_access = _dict(obj.get("open_access"))
    biblio = _dict(obj.get("biblio"))
    ids = _dict(obj.get("ids"))
    display_name = obj.get("display_name")
    title = obj.get("title")
    if is_empty(title):
        title = display_name
    elif not is_empty(display_name) and display_name != title:
        extra["display_name"] = display_name
    index = obj.get("abstract_inverted_index")
    abstract = rebuild_abstract(index)
    if abstract is None and not is_empty(index):
        # Unreadable: kept as it came. A readable index is redundant once rebuilt.
        extra["abstract_inverted_index"] = drop_empty(index)
    result.add(
        format=NAME,
        line=line,
        entry=entry,
        title=text(title),
        authors=_authors(obj.get("authorships")),
        doi=text(obj.get("doi")) or text(ids.get("doi")),
        date=text(obj.get("publication_date")),
        year=obj.get("publication_year"),
        journal=text(source.get("display_name")),
        volume=text(biblio.get("volume")),
        issue=text(biblio.get("issue")),
        pages=_pages(biblio),
        abstract=abstract,
        type=csl_type(obj.get("type"), source.get("type")),
        citation_count=obj.get("cited_by_count"),
        open_access=open_access.get("is_oa"),
        pdf_url=text(best.get("pdf_url")) or text(primary.get("pdf_url")) or _pdf(open_access),
        url=text(primary.get("landing_page_url")) or text(obj.get("id")),
        keywords=_keywords(obj),
        publisher=text(source.get("host_organization_name")),
        issn=text(source.get("issn_l")) or text(first(source.get("issn"))),
        pmid=_pmid(ids.get("pmid")),
        pmcid=_pmcid(ids.get("pmcid")),
        language=text(obj.get("language")),
        extra=extra,
    )
