"""CSL-JSON items: the citation format of Zotero, pandoc, citeproc and Manubot.

An item is a flat object::

    {"id": "3qm8sXnB", "type": "article-journal", "title": "...",
     "author": [{"family": "Niu", "given": "Feng"}, {"literal": "The ENCODE Project Consortium"}],
     "issued": {"date-parts": [["2011", "06", "28"]]}, "container-title": "Nature",
     "DOI": "10.1038/...", "PMID": "...", "keyword": "deep learning, genomics"}

`tui.formats.json_records` finds the items in a file and calls `convert()` on
each. The helpers here (`names`, `csl_date`, `drop_empty`, ...) are also used by
the Crossref, OpenAlex and Semantic Scholar converters: Crossref's works are a
superset of CSL, and every JSON source needs the same "keep the rest" logic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from tui.formats.base import ParseResult
from tui.models import Author
from tui.normalize import parse_date

NAME = "csl_json"

# Keys that make an object a CSL item; `type` alone is too common to decide.
_ITEM_KEYS = frozenset(
    {"title", "author", "editor", "issued", "container-title", "DOI", "URL", "id", "ISBN"}
)

# Keys `convert` maps onto the record; everything else goes to `extra`.
_MAPPED = frozenset(
    {
        "id",
        "type",
        "title",
        "author",
        "editor",
        "issued",
        "container-title",
        "volume",
        "issue",
        "page",
        "DOI",
        "URL",
        "abstract",
        "keyword",
        "publisher",
        "language",
        "PMID",
        "PMCID",
        "is-referenced-by-count",
    }
)

_EXTRA_DEPTH = 60
"""Below this depth extra values are dropped (build_record cuts at 50 anyway)."""


# ---------------------------------------------------------------------------
# Helpers shared by the JSON converters


def is_empty(value: Any) -> bool:
    """True for the values that carry nothing: None, "", whitespace, [] and {}."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict | tuple) and not value


def drop_empty(value: Any, depth: int = 0) -> Any:
    """Return `value` without null and empty members, recursively (False and 0 stay).

    APIs like OpenAlex send dozens of nulls per work; keeping them would bloat
    the library without telling the reader anything.
    """
    if depth > _EXTRA_DEPTH:
        return None
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            cleaned = drop_empty(item, depth + 1)
            if not is_empty(cleaned):
                out[key] = cleaned
        return out
    if isinstance(value, list):
        items = (drop_empty(item, depth + 1) for item in value)
        return [item for item in items if not is_empty(item)]
    return value


def rest(obj: Mapping[str, Any], mapped: Iterable[str]) -> dict[str, Any]:
    """The fields of `obj` a converter did not map, without nulls and empties: its `extra`."""
    skip = frozenset(mapped)
    kept: dict[str, Any] = drop_empty({k: v for k, v in obj.items() if k not in skip})
    return kept


def as_list(value: Any) -> list[Any]:
    """A list as itself; anything else (null, a stray number) as an empty list."""
    return value if isinstance(value, list) else []


def first(value: Any) -> Any:
    """The first non-blank element of a list, or the value itself when it is not a list."""
    if isinstance(value, list):
        return next((item for item in value if not is_empty(item)), None)
    return value


def text(value: Any) -> str | None:
    """A scalar as a string (numbers included); containers and blanks give None."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    return str(value)


def string_list(value: Any) -> list[str]:
    """A list of strings from a list or a single scalar; other members are skipped."""
    values = value if isinstance(value, list) else [value]
    return [s for s in (text(v) for v in values) if s is not None]


def split_keywords(value: Any) -> list[str]:
    """Keywords from a list or a "a, b; c" string (Zotero joins tags with commas)."""
    if isinstance(value, list):
        return string_list(value)
    raw = text(value)
    if not raw:
        return []
    return [part for part in re.split(r"[;,\n]", raw) if part.strip()]


def person(value: Any) -> Author | str | None:
    """One CSL/Crossref name object as an `Author` (raw: normalize cleans it).

    Particles join the family name, as the model wants ("van Rossum"); a
    `literal` (or Crossref's `name` for organisations) stays whole.
    """
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        return None
    literal = text(value.get("literal")) or text(value.get("name"))
    family = text(value.get("family"))
    given = text(value.get("given"))
    if literal and not (family or given):
        return Author(literal=literal)
    particle = text(value.get("non-dropping-particle"))
    if particle and family:
        family = f"{particle} {family}"
    dropping = text(value.get("dropping-particle"))
    if dropping and family:
        family = f"{dropping} {family}"
    if not (family or given):
        return None
    return Author(family=family, given=given, suffix=text(value.get("suffix")))


def names(value: Any) -> list[Author | str]:
    """A CSL/Crossref name list; entries that hold no name are skipped, never fatal."""
    if not isinstance(value, list):
        value = [value] if isinstance(value, dict | str) else []
    people = (person(item) for item in value)
    return [p for p in people if p is not None]


def has_more_than_names(value: Any) -> bool:
    """True when a name list carries more than names (ORCIDs, affiliations) worth keeping."""
    if not isinstance(value, list):
        return False
    plain = {
        "family",
        "given",
        "literal",
        "name",
        "suffix",
        "sequence",
        "dropping-particle",
        "non-dropping-particle",
        "parse-names",
    }
    return any(
        isinstance(item, dict) and any(k not in plain and not is_empty(v) for k, v in item.items())
        for item in value
    )


def csl_date(value: Any) -> Any:
    """The raw date of a CSL date object, in a shape `normalize.parse_date` reads.

    `{"date-parts": [["2011", "06", "28"]]}` gives the first date-parts list;
    `{"raw": "2019-03"}` or `{"literal": "Spring 2019"}` give the string. Empty
    (`[[]]`) and null (`[[null]]`) parts give None rather than an error.
    """
    if isinstance(value, dict):
        parts = value.get("date-parts")
        if isinstance(parts, list) and parts:
            head = parts[0]
            if isinstance(head, list):
                return head if head and head[0] is not None else None
            return parts if parts[0] is not None else None
        return value.get("raw") or value.get("literal") or value.get("date-time")
    if isinstance(value, str | int) and not isinstance(value, bool):
        return value
    return None


def pdf_link(links: Any) -> str | None:
    """The first PDF among Crossref-style `link` objects (`content-type: application/pdf`)."""
    if not isinstance(links, list):
        return None
    for link in links:
        if (
            isinstance(link, dict)
            and str(link.get("content-type", "")).lower() == "application/pdf"
            and text(link.get("URL"))
        ):
            return text(link.get("URL"))
    return None


def split_identifier(value: Any, extra: dict[str, Any], key: str) -> str | None:
    """The first of an ISSN/ISBN given as a string or a list; a longer list stays in extra."""
    values = string_list(value)
    if len(values) > 1:
        extra[key] = values
    return values[0] if values else None


# ---------------------------------------------------------------------------
# The CSL-JSON converter


def matches(obj: dict[str, Any]) -> bool:
    """Return True for a CSL item: a `type` string plus the usual bibliographic keys.

    Crossref works share the vocabulary but carry `title` as a list; those are
    left to `tui.formats.crossref`.
    """
    if not isinstance(obj.get("type"), str) or _ITEM_KEYS.isdisjoint(obj):
        return False
    return not isinstance(obj.get("title"), list)


def convert(
    obj: dict[str, Any], result: ParseResult, *, line: int | None, entry: str | None
) -> None:
    """Add one CSL item to `result`."""
    extra = rest(obj, _MAPPED | {"ISSN", "ISBN"})
    issn = split_identifier(obj.get("ISSN"), extra, "ISSN")
    isbn = split_identifier(obj.get("ISBN"), extra, "ISBN")
    authors = obj.get("author")
    if has_more_than_names(authors):
        extra["author"] = drop_empty(authors)
    date = csl_date(obj.get("issued"))
    if date is None:
        # CSL made from Crossref data can carry only Crossref's other dates.
        date = csl_date(obj.get("published-print")) or csl_date(obj.get("published-online"))
    if parse_date(date)[0] is None and drop_empty(obj.get("issued")):
        # An unreadable date ("date-parts": [["spring"]]) is not lost: the user can read it.
        extra["issued"] = drop_empty(obj.get("issued"))
    result.add(
        format=NAME,
        line=line,
        entry=entry,
        title=text(first(obj.get("title"))),
        authors=names(authors),
        editors=names(obj.get("editor")),
        doi=text(obj.get("DOI")),
        date=date,
        journal=text(first(obj.get("container-title"))),
        volume=text(obj.get("volume")),
        issue=text(obj.get("issue")),
        pages=text(obj.get("page")),
        abstract=text(obj.get("abstract")),
        type=text(obj.get("type")),
        citation_count=obj.get("is-referenced-by-count"),
        pdf_url=pdf_link(obj.get("link")),
        url=text(obj.get("URL")),
        keywords=split_keywords(obj.get("keyword")),
        publisher=text(obj.get("publisher")),
        issn=issn,
        isbn=isbn,
        pmid=text(obj.get("PMID")),
        pmcid=text(obj.get("PMCID")),
        language=text(obj.get("language")),
        key=text(obj.get("id")),
        extra=extra,
    )
