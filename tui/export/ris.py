"""RIS, as Zotero, EndNote, Mendeley and reference managers import it.

Written with rispy. RIS is one tag per line, so line breaks inside a value
(abstract paragraphs) become spaces: a reader would otherwise take the next
line for a new, untagged field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tui.export.keys import citation_keys
from tui.formats.ris import TYPES as RIS_IMPORT_TYPES
from tui.models import Author, Record

# CSL item types -> RIS reference types: the importer's table read backwards, the
# first (most common) RIS type winning; anything else is GEN.
_RIS_TYPES = {csl: ris for ris, csl in reversed(RIS_IMPORT_TYPES.items())} | {
    "review": "JOUR",
    "manuscript": "UNPB",
    "paper-conference": "CPAPER",
}
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def _line(value: str) -> str:
    return _LINE_BREAKS.sub(" ", value).strip()


def ris_name(author: Author) -> str:
    """`Family, Given[, Suffix]`; a name with no given part (a group) as `Name,`.

    The trailing comma says "all of this is the family name": without it,
    readers split "Human Cell Atlas Meeting Participants" into given and family.
    A group name with commas of its own is written as it is: readers recognize
    "Council on ..., Critical Care, ..." as a group by its words.
    """
    whole = author.literal or (None if author.family else author.given)
    if whole:
        return _line(whole) if "," in whole else _line(whole) + ","
    parts = [author.family or "", author.given or ""]
    if author.suffix:
        parts.append(author.suffix)
    return _line(", ".join(parts))


def ris_date(date: str | None) -> str | None:
    """RIS dates are `YYYY/MM/DD/`, with empty parts allowed."""
    if not date:
        return None
    parts = (date.split("-") + ["", ""])[:3]
    return "/".join(parts) + "/"


def to_ris(record: Record, key: str) -> dict[str, Any]:
    """The record as a rispy entry (rispy's field names), empty fields left out."""
    start, _, end = (record.pages or "").partition("-")
    notes = [
        f"PMID: {record.pmid}" if record.pmid else None,
        f"PMCID: {record.pmcid}" if record.pmcid else None,
        _line(record.note) if record.note else None,
    ]
    entry: dict[str, Any] = {
        "type_of_reference": _RIS_TYPES.get(record.type or "", "JOUR" if record.journal else "GEN"),
        "id": key,
        "authors": [ris_name(a) for a in record.authors],
        "secondary_authors": [ris_name(a) for a in record.editors],
        "title": record.title,
        "secondary_title": record.journal,
        "year": str(record.year) if record.year else None,
        "date": ris_date(record.date),
        "volume": record.volume,
        "number": record.issue,
        "start_page": start or None,
        "end_page": end or None,
        "publisher": record.publisher,
        "issn": record.issn or record.isbn,
        "doi": record.doi,
        "urls": [record.url] if record.url else [],
        "file_attachments1": [record.pdf_url] if record.pdf_url else [],
        "language": record.language,
        "keywords": [_line(k) for k in record.keywords],
        "abstract": record.abstract,
        "notes": [n for n in notes if n],
    }
    return {
        name: _line(value) if isinstance(value, str) else value
        for name, value in entry.items()
        if value
    }


def export(records: Sequence[Record], style: str | None = None) -> str:
    """An .ris file with one reference per record."""
    from rispy.writer import RisWriter

    class _Writer(RisWriter):
        # rispy numbers references ("1.") by default; no other tool writes that.
        def set_header(self, count: int) -> str:
            return ""

    entries = [to_ris(r, k) for r, k in zip(records, citation_keys(records), strict=True)]
    return _Writer(list_tags=["AU", "A2", "KW", "UR", "L1", "N1"]).formats(entries)
