"""Records exported by literature aggregators (the format of the seed record).

A record is a block of lines::

    Joseph Adomako, Karina E Jiménez-Camacho, ...        <- authors
    {"title": "...", "doi": "...", "PeriodicalIF": 12.8, "JCR": "Q1", ...}
    引用次数: 0                                           <- citation count
    Abstract
    Acute lymphoblastic leukemia (ALL) is ...
    期刊介绍:                                              <- journal description
    Trends in Molecular Medicine (TMM) aims to ...

Files hold one such block or many in a row. The same JSON objects also come as
a JSON array or JSON Lines; `tui.formats.json_records` hands those to
`matches()` / `convert()` here.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from tui.formats.base import ParseResult

NAME = "aggregator"

# Keys no other format uses: they identify the aggregator's JSON objects.
_SIGNATURE_KEYS = frozenset(
    {"PeriodicalIF", "PeriodicalName", "JCRName", "ListUrlMain", "TitleCN", "RegionCategory"}
)
_CITATIONS = re.compile(r"^\s*(?:引用次数|被引次数|Citations?)\s*[:：]\s*(\S*)\s*$")
_ABSTRACT = re.compile(r"^\s*(?:Abstract|摘要)\s*[:：]?\s*$", re.IGNORECASE)
_JOURNAL_INFO = re.compile(r"^\s*(?:期刊介绍|Journal introduction)\s*[:：]\s*(.*)$", re.IGNORECASE)
# `[ \t]*`, not `\s*`: with MULTILINE, `^\s*` would run over every following blank line
# from each line start, and a file of 100k blank lines would take minutes to sniff.
_SIGNATURE_LINE = re.compile(
    r'^\{.*"(?:PeriodicalIF|PeriodicalName|JCRName|ListUrlMain)"|^[ \t]*(?:引用次数|期刊介绍)[ \t]*[:：]',
    re.MULTILINE,
)

# Keys `convert` maps onto the record; everything else is kept in `extra`.
_MAPPED_KEYS = frozenset(
    {
        "title",
        "authors",
        "doi",
        "DOIUrl",
        "url",
        "ListUrlMain",
        "abstract",
        "journal",
        "PeriodicalName",
        "PeriodicalIF",
        "publicationDate",
        "EPubDate",
        "publicationTypes",
        "isOpenAccess",
        "openAccessPdf",
        "citationCount",
        "JCR",
        "JCRName",
        "PMCID",
    }
)
_TYPES = {
    "journal article": "article-journal",
    "review": "article-journal",
    "article": "article-journal",
    "conference": "paper-conference",
    "book": "book",
    "book chapter": "chapter",
    "preprint": "article",
}


def sniff(text: str) -> bool:
    """An aggregator export is text (not a JSON document) with the format's signature lines."""
    head = text.lstrip()[:1]
    return head not in ("{", "[", "<") and _SIGNATURE_LINE.search(text[:1_000_000]) is not None


def matches(obj: dict[str, Any]) -> bool:
    """Return True for one of the aggregator's JSON objects."""
    return not _SIGNATURE_KEYS.isdisjoint(obj)


def _split_authors(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(name) for name in value if name]
    if not isinstance(value, str):
        return []
    separator = ";" if ";" in value else ","
    return [name.strip() for name in value.split(separator) if name.strip()]


def _type(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str) or not value.strip():
        return None
    return _TYPES.get(value.strip().lower(), "article-journal")


def convert(
    obj: dict[str, Any],
    result: ParseResult,
    *,
    line: int | None = None,
    entry: str | None = None,
    authors_line: str | None = None,
    citations_line: str | None = None,
    abstract_text: str | None = None,
    journal_description: str | None = None,
) -> None:
    """Add one aggregator record (its JSON object and, from text files, its other lines)."""
    journal = obj.get("journal") if isinstance(obj.get("journal"), dict) else {}
    journal_name = journal.get("name") or obj.get("PeriodicalName")
    authors = _split_authors(obj.get("authors")) or _split_authors(authors_line)
    extra = {
        key: value
        for key, value in obj.items()
        if key not in _MAPPED_KEYS and value not in (None, "", [], {})
    }
    extra.update(
        {
            f"journal.{key}": value
            for key, value in journal.items()
            if key not in ("name", "volume", "issue", "pages") and value not in (None, "")
        }
    )
    citation_count = obj.get("citationCount")
    if citation_count in (None, "") and citations_line:
        citation_count = citations_line
    result.add(
        line=line,
        entry=entry,
        format=NAME,
        title=obj.get("title"),
        authors=authors,
        doi=obj.get("doi") or obj.get("DOIUrl"),
        date=obj.get("publicationDate") or obj.get("EPubDate"),
        journal=journal_name,
        volume=journal.get("volume"),
        issue=journal.get("issue"),
        pages=journal.get("pages"),
        abstract=obj.get("abstract") or abstract_text,
        type=_type(obj.get("publicationTypes")),
        citation_count=citation_count,
        impact_factor=obj.get("PeriodicalIF"),
        jcr_quartile=obj.get("JCR"),
        jcr_category=obj.get("JCRName"),
        open_access=obj.get("isOpenAccess"),
        pdf_url=obj.get("openAccessPdf"),
        url=obj.get("url") or obj.get("ListUrlMain"),
        pmcid=obj.get("PMCID"),
        extra=extra,
    )
    if journal_description:
        result.add_journal(journal_name, journal_description)


def _json_object(line: str) -> dict[str, Any] | None:
    stripped = line.strip()
    if not stripped.startswith("{"):
        return None
    try:
        value = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def parse(text: str, result: ParseResult) -> None:
    """Parse a text file of one or more aggregator records."""
    lines = text.split("\n")
    starts: list[tuple[int, dict[str, Any]]] = []
    for index, line in enumerate(lines):
        if not line.lstrip().startswith("{"):
            # A record's JSON line with text glued before it is no record line, but
            # dropping it without a word would lose the record silently.
            if '{"' in line and ('"title"' in line or '"doi"' in line):
                message = "text before a record's JSON line; record not imported"
                result.fail(index + 1, None, message)
            continue
        obj = _json_object(line)
        if obj is not None:
            starts.append((index, obj))
        elif '"title"' in line or '"doi"' in line:
            result.fail(index + 1, None, "record's JSON line is not valid JSON (truncated?)")
    # The line before the first JSON line is its authors line; text above it is part of
    # no record (the front of another file pasted in, say). Unless a broken record there
    # was reported already, say that it was ignored.
    head_end = max(starts[0][0] - 1, 0) if starts else 0
    if not any(issue.line is not None and issue.line <= head_end for issue in result.issues):
        head = [(number, text.strip()) for number, text in enumerate(lines[:head_end], 1)]
        head = [(number, text) for number, text in head if text]
        if head:
            (first, snippet), last = head[0], head[-1][0]
            span = f"lines {first}-{last}" if last > first else f"line {first}"
            result.warn(
                first, None, f"text before the first record ({span}) ignored: {snippet[:60]!r}"
            )
    for number, (index, obj) in enumerate(starts):
        end = starts[number + 1][0] - 1 if number + 1 < len(starts) else len(lines)
        previous_end = starts[number - 1][0] if number else -1
        authors_line = lines[index - 1].strip() if index - 1 > previous_end else None
        _parse_block(obj, lines[index + 1 : end], index + 1, authors_line, result, number + 1)


def _parse_block(
    obj: dict[str, Any],
    body: list[str],
    line: int,
    authors_line: str | None,
    result: ParseResult,
    number: int,
) -> None:
    """Read the lines after a record's JSON line: citation count, abstract, journal description."""
    citations = None
    section: str | None = None
    sections: dict[str, list[str]] = {"abstract": [], "journal": []}
    for text in body:
        if match := _CITATIONS.match(text):
            citations = match.group(1)
            section = None
        elif _ABSTRACT.match(text):
            section = "abstract"
        elif match := _JOURNAL_INFO.match(text):
            section = "journal"
            sections["journal"].append(match.group(1))
        elif section:
            sections[section].append(text)
    title = obj.get("title")
    entry = f"record {number}" + (f" ({str(title)[:50]})" if title else "")
    convert(
        obj,
        result,
        line=line,
        entry=entry,
        authors_line=authors_line,
        citations_line=citations,
        abstract_text="\n".join(sections["abstract"]) or None,
        journal_description="\n".join(sections["journal"]) or None,
    )
