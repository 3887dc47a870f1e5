"""CSL-JSON: the bibliography format of pandoc, Zotero and every citeproc.

`to_csl` is also what `tui.export.citations` hands to citeproc-py, so the
formatted citations and the CSL-JSON file say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from tui.export.keys import citation_keys
from tui.models import Author, Record


def csl_name(author: Author) -> dict[str, str]:
    """A CSL name object; groups stay whole as a `literal`."""
    if author.literal:
        return {"literal": author.literal}
    name = {"family": author.family or "", "given": author.given or ""}
    if author.suffix:
        name["suffix"] = author.suffix
    return {key: value for key, value in name.items() if value}


def csl_date_parts(date: str | None, year: int | None) -> dict[str, Any] | None:
    """`"2025-05-23"` as `{"date-parts": [[2025, 5, 23]]}`, as precise as the record."""
    if date:
        parts = [int(part) for part in date.split("-")[:3] if part.isdigit()]
        if parts:
            return {"date-parts": [parts]}
    return {"date-parts": [[year]]} if year else None


def _is_doi_url(url: str | None, doi: str | None) -> bool:
    """True when `url` only resolves the DOI: styles would print the DOI twice."""
    if not url or not doi:
        return False
    return url.lower().split("doi.org/", 1)[-1] == doi.lower() and "doi.org/" in url.lower()


def to_csl(record: Record, key: str) -> dict[str, Any]:
    """The record as one CSL item with id `key`; empty fields are left out."""
    item: dict[str, Any] = {
        "id": key,
        "type": record.type or ("article-journal" if record.journal else "document"),
        "title": record.title,
        "author": [csl_name(a) for a in record.authors] or None,
        "editor": [csl_name(a) for a in record.editors] or None,
        "issued": csl_date_parts(record.date, record.year),
        "container-title": record.journal,
        "volume": record.volume,
        "issue": record.issue,
        "page": record.pages,
        "publisher": record.publisher,
        "DOI": record.doi,
        "URL": None if _is_doi_url(record.url, record.doi) else record.url,
        "ISSN": record.issn,
        "ISBN": record.isbn,
        "PMID": record.pmid,
        "PMCID": record.pmcid,
        "language": record.language,
        "abstract": record.abstract,
        "keyword": ", ".join(record.keywords) or None,
    }
    return {name: value for name, value in item.items() if value is not None}


def export(records: Sequence[Record], style: str | None = None) -> str:
    """A CSL-JSON array, one item per record, keys shared with the BibTeX export."""
    items = [to_csl(r, k) for r, k in zip(records, citation_keys(records), strict=True)]
    return orjson.dumps(items, option=orjson.OPT_INDENT_2).decode() + "\n"
