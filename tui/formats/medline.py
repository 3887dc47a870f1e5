"""PubMed MEDLINE text (`.nbib`, "PubMed format") and the ERIC flavour of it.

A record is a run of tagged lines::

    PMID- 29424689
    TI  - Sci-Hub provides access to nearly all scholarly literature.
    AB  - The website Sci-Hub enables users to download PDF versions of scholarly
          articles, including many articles that are paywalled ...
    FAU - Himmelstein, Daniel S
    AU  - Himmelstein DS

The tag is up to four characters, padded to four, then `- `; lines indented by
six spaces continue the previous value. Records are separated by blank lines,
and each starts with `PMID-` (PubMed) or `OWN - ERIC` (ERIC exports, which
have no PMID).

The helpers `csl_type`, `expand_pages` and `mesh_keyword` are shared with
`tui.formats.pubmed_xml`, which reads the same data in XML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.formats.base import ParseResult
from tui.models import Author

NAME = "medline"

# A tag line: the tag padded to four characters, then "- " (the value may be empty).
_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]{0,3}) *-(?: (.*))?$")
_SNIFF_TAGS = re.compile(r"^(?:PMID- |OWN - |FAU - |STAT- |TI  - )", re.MULTILINE)
# RIS shares TI/AU/AB with MEDLINE; its mandatory TY line tells them apart.
_RIS_TYPE = re.compile(r"^TY {1,2}- ", re.MULTILINE)
_SNIFF_WINDOW = 200_000


def _tags(names: str) -> frozenset[str]:
    """A set of tags written as one space-separated string (easier to read than a list)."""
    return frozenset(names.split())


# Tags this importer knows; others are still read (and kept in `extra`) when
# they sit at the standard column, but a line like "NOTE - x" only counts as a
# tag when it is known.
_KNOWN_TAGS = _tags(
    """AB AD AID AU AUID BTI CI CIN CN COI COIS CON CP CRDT CRF CRI CTDT CTI DA DCOM DEP DP
    DRDT ED EDAT EFR EIN ERR FAU FED FIR FPS GN GR GS IP IR IRAD IS ISBN ISSN JID JT LA LID
    LR MH MHDA MID NM OAB OABL OCI OID ORI OT OTO OWN PB PG PHST PL PMC PMCR PMID PRIN PS PST
    PT RF RIN RN ROF RPF RPI RRF RRI SB SFM SI SO SPIN STAT TA TI TT UIN UOF VI VTI"""
)
# Tags whose values are kept as lists in `extra` even when a record has one.
_LIST_TAGS = _tags("AID CI CIN CON EIN ERR GR IS ISBN LA LID MH OID OT PHST PT RN SI")
# Tags turned into record fields (or into the structured extras below).
_CONSUMED = _tags(
    "PMID TI AB FAU AU CN FED ED AD AUID DP JT VI IP PG LID AID PMC IS ISSN ISBN LA PT MH OT PB "
    "BTI TA"
)

_ET_AL = re.compile(r"^et\.? ?al\.?$", re.IGNORECASE)
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "2nd", "3rd", "4th"})
_TYPED_ID = re.compile(r"^(.*?)\s*\[([A-Za-z-]+)\]\s*$")
_DOI_URL = re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/", re.IGNORECASE)
_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_ISSN = re.compile(r"\b(\d{4}-?\d{3}[\dXx])\b")
_ISBN_PREFIX = re.compile(r"^(?:E?ISBN)[-:\s]*", re.IGNORECASE)
_URL_TAIL = re.compile(r"(?:https?://|www\.|doi\.org/)\S*$", re.IGNORECASE)
_YYYYMMDD = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_THESIS_SOURCE = re.compile(r"^(.*?(?:Dissertation|Thesis)),\s*(.+)$", re.IGNORECASE)

_MAX_GARBAGE_WARNINGS = 20
_MAX_WRAP_WIDTH = 200


# ---------------------------------------------------------------------------
# Helpers shared with the PubMed XML importer

_PAGE_RANGE = re.compile(r"^([A-Za-z]*)(\d+)([A-Za-z]*)-([A-Za-z]*)(\d+)([A-Za-z]*)$")


def expand_pages(value: str | None) -> str | None:
    """Expand MEDLINE's abbreviated page ranges: `1234-45` -> `1234-1245`, `S4-10` -> `S4-S10`.

    Discontinuous ranges (`123-5, 130-2`) are expanded one by one; anything that
    is not a plain numeric range is returned unchanged.
    """
    if not value or "-" not in value:
        return value
    expanded = []
    for part in value.split(","):
        piece = part.strip()
        match = _PAGE_RANGE.match(piece.replace(" ", ""))
        if match:
            start_prefix, start, start_suffix, end_prefix, end, end_suffix = match.groups()
            if len(end) < len(start):
                full = start[: len(start) - len(end)] + end
                # "1234-12" would give a range that runs backwards: keep what the source said.
                if int(full) >= int(start):
                    end = full
            if start_prefix and not end_prefix:
                end_prefix = start_prefix
            piece = f"{start_prefix}{start}{start_suffix}-{end_prefix}{end}{end_suffix}"
        expanded.append(piece)
    return ", ".join(p for p in expanded if p)


# Publication types, most decisive first: the first rule any of a record's types
# matches wins, so "Journal Articles" + "Reports - Research" is a journal article
# and "Book Chapter" beats everything.
_TYPE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chapter", ("book chapter", "chapter", "book section")),
    ("thesis", ("dissertation", "thesis", "theses")),
    ("book", ("book", "books", "collected works", "monograph")),
    ("article", ("preprint",)),
    (
        "article-journal",
        (
            "journal article",
            "review",
            "systematic review",
            "meta-analysis",
            "case reports",
            "letter",
            "editorial",
            "comment",
            "news",
            "published erratum",
            "retraction of",
            "retracted publication",
            "clinical trial",
            "randomized controlled trial",
            "historical article",
            "biography",
            "introductory journal article",
        ),
    ),
    ("paper-conference", ("congress", "meeting abstract", "conference", "speeches/meeting")),
    ("dataset", ("dataset", "data set")),
    ("report", ("report", "technical report", "government publication", "guide")),
    ("patent", ("patent",)),
    ("legislation", ("legislation",)),
    ("pamphlet", ("patient education handout", "pamphlet")),
)


def csl_type(publication_types: Iterable[str], *, serial: bool) -> str | None:
    """Map MEDLINE/ERIC publication types to a CSL item type.

    `serial` says the record sits in a journal (it has a volume, issue or ISSN):
    an ERIC "Reports - Research" printed in a journal is a journal article, not
    a report.
    """
    types = [t.strip().lower() for t in publication_types if t and t.strip()]
    for csl, pattern in _TYPE_PATTERNS:
        if any(pattern.match(t) for t in types):
            if csl in ("report", "paper-conference") and serial:
                return "article-journal"
            return csl
    if serial:
        return "article-journal"
    return "document" if types else None


# Each rule matches a leading word or phrase, singular or plural: "Reports - Research"
# and "Dissertations/Theses" match, "Guidelines" does not match "guide", and
# "Case Reports" only matches the journal rule listed before the report one.
_TYPE_PATTERNS = tuple(
    (csl, re.compile("(?:" + "|".join(re.escape(n) for n in needles) + ")s?(?![a-z])"))
    for csl, needles in _TYPE_RULES
)


def mesh_keyword(heading: str) -> str:
    """A MeSH heading as a keyword: major-topic stars dropped, qualifiers kept.

    `Aurovertins/*chemistry/*metabolism` -> `Aurovertins/chemistry/metabolism`.
    """
    return "/".join(part.strip().lstrip("*").strip() for part in heading.split("/"))


def split_initials_name(value: str) -> Author | None:
    """Read a MEDLINE `AU` name ("van Raaij MJ", "Smith JA Jr") or an ERIC "Family, Given"."""
    text = " ".join(value.split())
    if not text or _ET_AL.match(text):
        return None
    if "," in text:
        return split_full_name(text)
    words = text.split(" ")
    suffix = None
    if len(words) > 1 and words[-1].lower() in _SUFFIXES:
        suffix = words.pop()
    given = None
    # The last word is the initials when it is a short run of capitals ("MJ").
    if len(words) > 1 and words[-1].isalpha() and words[-1].isupper() and len(words[-1]) <= 4:
        given = words.pop()
    return Author(family=" ".join(words), given=given, suffix=suffix)


def split_full_name(value: str) -> Author | None:
    """Read a MEDLINE `FAU` name: "Family, Given", "Family, Given Jr" or "Family, Jr, Given"."""
    text = " ".join(value.split())
    if not text or _ET_AL.match(text):
        return None
    parts = [part.strip() for part in text.split(",")]
    family = parts[0]
    suffix = None
    given_parts = []
    for part in parts[1:]:
        if part.lower() in _SUFFIXES and suffix is None:
            suffix = part
        elif part:
            given_parts.append(part)
    given = " ".join(given_parts)
    words = given.split(" ")
    if suffix is None and len(words) > 1 and words[-1].lower() in _SUFFIXES:
        suffix = words.pop()
        given = " ".join(words)
    return Author(family=family or None, given=given or None, suffix=suffix)


# ---------------------------------------------------------------------------
# Reading the tagged lines


@dataclass(slots=True)
class _Field:
    tag: str
    line: int
    pieces: list[str]
    """The value's text on each physical line (the first without its tag)."""
    raw_lines: list[str]
    """The physical lines, to tell where a long token was cut."""
    value: str = ""
    """The joined value, set once the file's wrap width is known."""


@dataclass(slots=True)
class _Block:
    line: int
    fields: list[_Field] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)
    """Lines that are neither tags nor continuations, kept so nothing is lost."""

    def has(self, tag: str) -> bool:
        return any(f.tag == tag for f in self.fields)


def sniff(text: str) -> bool:
    """MEDLINE has `PMID- `/`OWN - `/`FAU - `/`TI  - ` tag lines and, unlike RIS, no `TY` line."""
    head = text[:_SNIFF_WINDOW]
    return _SNIFF_TAGS.search(head) is not None and _RIS_TYPE.search(head) is None


def _tag_of(line: str) -> tuple[str, str] | None:
    match = _TAG_LINE.match(line)
    if not match:
        return None
    tag = match.group(1)
    # The standard puts the dash in column 5; elsewhere only a known tag counts.
    if line.find("-") != 4 and tag not in _KNOWN_TAGS:
        return None
    return tag, match.group(2) or ""


def _blocks(text: str, result: ParseResult) -> list[_Block]:
    """Split the text into records and their fields, reporting lines that fit nowhere."""
    blocks: list[_Block] = []
    current: _Block | None = None
    last: _Field | None = None

    def close() -> None:
        nonlocal current, last
        if current is not None and (current.fields or current.stray):
            blocks.append(current)
        current, last = None, None

    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            # An indented but empty line inside a value is a stray continuation,
            # not the blank line that ends a record.
            if last is None or not line.startswith("      "):
                close()
            continue
        if line[0] in " \t" and last is not None:
            last.pieces.append(line.strip())
            last.raw_lines.append(line)
            continue
        tagged = _tag_of(line)
        if tagged is None:
            if result.repeated(
                "not a tag",
                limit=_MAX_GARBAGE_WARNINGS,
                summary="{} more lines that are not MEDLINE tags",
                severity="warning",
            ):
                result.warn(number, None, f"not a MEDLINE tag line; ignored: {line.strip()[:60]!r}")
            if current is not None:
                current.stray.append(line.strip())
            last = None
            continue
        tag, value = tagged
        # A record without a blank line before it still starts a new record.
        if current is not None and (
            (tag == "PMID" and current.fields) or (tag == "OWN" and current.has("OWN"))
        ):
            close()
        if current is None:
            current = _Block(line=number)
        last = _Field(tag=tag, line=number, pieces=[value.strip()], raw_lines=[line])
        current.fields.append(last)
    close()
    return blocks


def _wrap_width(blocks: list[_Block]) -> int:
    """The width the exporter wrapped lines at: the longest line that has a continuation.

    Exporters wrap at under `_MAX_WRAP_WIDTH` characters; a longer line that
    continues is damage, and taking it for the width would stop every cut URL
    in the file from being glued back.
    """
    width = 0
    for block in blocks:
        for f in block.fields:
            for raw in f.raw_lines[:-1]:
                length = len(raw.rstrip())
                if length <= _MAX_WRAP_WIDTH:
                    width = max(width, length)
    return width


def _join(f: _Field, width: int) -> str:
    """Join a value's lines, gluing back a long token (a URL) the exporter cut mid-way.

    The exporter breaks lines at spaces, so a line that ends without one at the
    full wrap width, on a single unbroken token or inside a URL, was cut inside
    a word: the next line continues that word without a space.
    """
    text = f.pieces[0]
    for index in range(1, len(f.pieces)):
        raw_previous = f.raw_lines[index - 1]
        previous = f.pieces[index - 1]
        cut = (
            width > 0
            and len(raw_previous) >= width
            and raw_previous == raw_previous.rstrip()
            and bool(previous)
            and (" " not in previous or _URL_TAIL.search(previous) is not None)
        )
        text = text + ("" if cut else " ") + f.pieces[index]
    return text.strip()


# ---------------------------------------------------------------------------
# Building records


def parse(text: str, result: ParseResult) -> None:
    """Parse MEDLINE/.nbib text: one record per blank-line-separated block."""
    if not text.strip():
        result.error("is empty")
        return
    # Old Mac files end lines with CR alone: split on LF only, a file was one long line.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = _blocks(text.removeprefix("\ufeff"), result)
    width = _wrap_width(blocks)
    for block in blocks:
        for f in block.fields:
            f.value = _join(f, width)
        label = _label(block)
        try:
            _add_block(block, label, result)
        except Exception as error:  # noqa: BLE001 - one odd record must not lose the others
            result.fail(block.line, label, f"could not be read ({type(error).__name__}: {error})")


def _label(block: _Block) -> str | None:
    """How issues name a record: its PMID, its ERIC id or the start of its title."""
    for tag, prefix in (("PMID", "PMID "), ("OID", "")):
        for f in block.fields:
            if f.tag == tag and f.value:
                return prefix + f.value
    for f in block.fields:
        if f.tag in ("TI", "BTI") and f.value:
            return f.value[:60]
    return None


def _add_block(block: _Block, label: str | None, result: ParseResult) -> None:
    values: dict[str, list[str]] = {}
    for f in block.fields:
        values.setdefault(f.tag, []).append(f.value)

    def first(tag: str) -> str | None:
        return next((v for v in values.get(tag, ()) if v), None)

    extra: dict[str, Any] = {}
    authors, editors = _people(block, extra)
    # AID first: in ERIC exports it is the publisher's full text, LID the ERIC page.
    ids = _typed_ids(values.get("AID", []) + values.get("LID", []))
    doi = next(iter(ids.pop("doi", [])), None)
    links = ids.pop("url", [])
    if doi is None:
        doi = next((link for link in links if _DOI_URL.match(link)), None)
    if doi is None:
        # Old records name the DOI only in the citation line ("... doi: 10.1016/...").
        doi = _doi_in(first("SO"))
    if ids:
        extra["ids"] = ids
    if links:
        extra["links"] = links
    url = next((link for link in links if not _DOI_URL.match(link)), None)

    publication_types = values.get("PT", [])
    issns = values.get("IS", []) + values.get("ISSN", [])
    serial = bool(first("VI") or first("IP") or first("PG") or _first_issn(issns))
    csl = csl_type(publication_types, serial=serial)
    title, journal, publisher = first("TI"), first("JT"), first("PB")
    book_title = first("BTI")
    if csl == "chapter":
        journal = book_title or journal
    elif csl in ("book", "report", "thesis", "document"):
        title = title or book_title
        if book_title and book_title != title:
            extra["book_title"] = book_title
        # ERIC puts the issuing body of a report or book in JT ("ACT, Inc.").
        if journal and csl != "thesis":
            publisher = publisher or journal
            extra["JT"] = journal
            journal = None
    if csl == "thesis":
        source = _THESIS_SOURCE.match(first("SO") or "")
        if source:
            extra["genre"] = source.group(1)
            publisher = publisher or source.group(2)
        if journal:
            extra["JT"] = journal
            journal = None

    date = first("DP")
    if not date:
        # Some records only carry the electronic date, as YYYYMMDD.
        date = _compact_date(first("DEP")) or _compact_date(first("DA"))
    keywords = values.get("OT", []) + [mesh_keyword(h) for h in values.get("MH", [])]
    if values.get("MH"):
        extra["mesh"] = values["MH"]
    if publication_types:
        extra["publication_types"] = publication_types
    if issns:
        extra["issns"] = issns
    if len(values.get("LA", [])) > 1:
        extra["languages"] = values["LA"]
    if first("TA"):
        extra["journal_abbreviation"] = first("TA")
    isbns = [_ISBN_PREFIX.sub("", v) for v in values.get("ISBN", [])]
    if len(isbns) > 1:
        extra["isbns"] = isbns
    for tag, tag_values in values.items():
        if tag in _CONSUMED:
            continue
        kept = [v for v in tag_values if v]
        if kept:
            extra[tag] = kept if tag in _LIST_TAGS or len(kept) > 1 else kept[0]
    if block.stray:
        extra["unparsed_lines"] = block.stray

    result.add(
        line=block.line,
        entry=label,
        title=title,
        authors=authors,
        editors=editors,
        doi=doi,
        date=date,
        journal=journal,
        volume=first("VI"),
        issue=first("IP"),
        pages=expand_pages(first("PG")),
        abstract=first("AB"),
        type=csl,
        keywords=keywords,
        publisher=publisher,
        issn=_first_issn(issns),
        isbn=next((i for i in isbns if i), None),
        pmid=first("PMID"),
        pmcid=first("PMC"),
        language=first("LA"),
        url=url,
        extra=extra,
    )


def _people(block: _Block, extra: dict[str, Any]) -> tuple[list[Author], list[Author]]:
    """Authors and editors in source order, with affiliations and ORCIDs kept in `extra`.

    `FAU` (full name) is followed by `AU` (initials) for the same person, and
    `FED` by `ED`; an `AU`/`ED` with no full name before it is a person of its
    own (ERIC writes only `AU`). `CN` is a group author. `AD`/`AUID` lines
    belong to the person named just before them.
    """
    people: dict[str, list[Author]] = {"author": [], "editor": []}
    details: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    # The short-name tag that would repeat the person just read from a full-name line.
    awaiting: str | None = None
    for f in block.fields:
        value = f.value
        if f.tag in ("AD", "AUID"):
            key = "affiliations" if f.tag == "AD" else "identifiers"
            if current is None:
                extra.setdefault(f.tag, []).append(value)
            else:
                current.setdefault(key, []).append(value)
            continue
        if f.tag not in ("FAU", "FED", "AU", "ED", "CN"):
            continue
        if _ET_AL.match(value):
            extra["author_list_incomplete"] = True
            awaiting, current = None, None
            continue
        if f.tag == awaiting:
            if current is not None:
                current["abbreviated"] = value
            awaiting = None
            continue
        role = "editor" if f.tag in ("FED", "ED") else "author"
        if f.tag == "CN":
            person: Author | None = Author(literal=value) if value else None
        elif f.tag in ("FAU", "FED"):
            person = split_full_name(value)
        else:
            person = split_initials_name(value)
        if person is None:
            awaiting, current = None, None
            continue
        people[role].append(person)
        awaiting = {"FAU": "AU", "FED": "ED"}.get(f.tag)
        current = {"role": role, "name": value}
        details.append(current)
    kept = [d for d in details if "affiliations" in d or "identifiers" in d]
    if kept:
        extra["author_details"] = kept
    return people["author"], people["editor"]


def _typed_ids(values: Sequence[str]) -> dict[str, list[str]]:
    """Sort LID/AID values ("10.7554/eLife.32822 [doi]", "e32822 [pii]", URLs) by kind."""
    ids: dict[str, list[str]] = {}
    for value in values:
        match = _TYPED_ID.match(value)
        if match:
            kind, ident = match.group(2).lower(), match.group(1).strip()
        elif _URL.match(value):
            kind, ident = "url", value
        else:
            kind, ident = "other", value
        if ident and ident not in ids.setdefault(kind, []):
            ids[kind].append(ident)
    return {kind: idents for kind, idents in ids.items() if idents}


def _doi_in(text: str | None) -> str | None:
    match = re.search(r"\bdoi:\s*(10\.\d{4,9}/\S+)", text or "", re.IGNORECASE)
    return match.group(1).rstrip(".,;") if match else None


def _first_issn(values: Sequence[str]) -> str | None:
    """The first ISSN named ("0027-8424 (Print)" or ERIC's "EISSN-2375-5636"), bare."""
    for value in values:
        match = _ISSN.search(value)
        if match:
            issn = match.group(1).upper()
            return issn if "-" in issn else f"{issn[:4]}-{issn[4:]}"
    return None


def _compact_date(value: str | None) -> str | None:
    match = _YYYYMMDD.match(value or "")
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else None
