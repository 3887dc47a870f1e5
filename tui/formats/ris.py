"""RIS files (`.ris`), as exported by Zotero, EndNote, Reference Manager, Scopus and others.

rispy alone is not safe on real files: it returns nothing for text that starts
with a byte-order mark, silently drops a last record without `ER  -`, finds
nothing without a `TY` line and rejects `TY - JOUR` (one space). So the text is
split into records here, one per `TY` line, with each tag line rewritten to the
canonical `XX  - value` form, wrapped lines joined to their field and an `ER`
added where it is missing. Each record is then parsed by rispy on its own, so
every record has a line number and one bad record does not sink the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tui.formats.base import ParseResult
from tui.models import Author
from tui.normalize import find_doi, is_group_name, parse_person

NAME = "ris"

# `TY  - JOUR`, `TY - JOUR` (one space, as some exporters write), `ER  -`.
_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9])[ \t]{1,2}-(?:[ \t](.*))?$")
_SNIFF = re.compile(r"^TY[ \t]{1,2}-", re.MULTILINE)
_SNIFF_LIMIT = 1_000_000

# RIS reference types -> CSL item types; the original type is kept in extra["TY"].
# fmt: off
TYPES = {
    "JOUR": "article-journal", "JFULL": "article-journal", "EJOUR": "article-journal",
    "INPR": "article-journal", "ABST": "article-journal", "MGZN": "article-magazine",
    "NEWS": "article-newspaper", "BOOK": "book", "EBOOK": "book", "EDBOOK": "book",
    "CHAP": "chapter", "ECHAP": "chapter", "CONF": "paper-conference",
    "CPAPER": "paper-conference", "THES": "thesis", "RPRT": "report", "GOVDOC": "report",
    "PAT": "patent", "DATA": "dataset", "DBASE": "dataset", "AGGR": "dataset",
    "ELEC": "webpage", "WEB": "webpage", "ICOMM": "webpage", "MULTI": "webpage",
    "BLOG": "post-weblog", "GEN": "document", "CTLG": "document", "GRANT": "document",
    "EQUA": "document", "COMP": "software", "MANSCPT": "manuscript", "UNPB": "manuscript",
    "UNPD": "manuscript", "ENCYC": "entry-encyclopedia", "DICT": "entry-dictionary",
    "MAP": "map", "MPCT": "motion_picture", "VIDEO": "motion_picture",
    "ADVS": "motion_picture", "SOUND": "song", "MUSIC": "musical_score", "HEAR": "hearing",
    "BILL": "bill", "CASE": "legal_case", "STAT": "legislation", "LEGAL": "regulation",
    "STAND": "standard", "PAMP": "pamphlet", "PCOMM": "personal_communication",
    "ART": "graphic", "FIGURE": "figure", "CHART": "figure", "SLIDE": "speech",
    "SER": "periodical", "CLSWK": "classic", "ANCIENT": "classic",
}
# fmt: on
_BOOKS = frozenset({"book"})
_IN_BOOK = frozenset({"chapter", "paper-conference", "entry-encyclopedia", "entry-dictionary"})
_SERIALS = frozenset(
    {"article-journal", "article-magazine", "article-newspaper", "periodical", "post-weblog"}
)

# Tags that legitimately repeat: a line without a tag after one of them is a new
# item (EndNote lists attachments one per line), not the wrapped end of the last one.
_LIST_TAGS = frozenset({"AU", "A1", "A2", "A3", "A4", "ED", "KW", "UR", "L1", "L2", "L3", "L4"})

_PMID = re.compile(r"^\s*(?:PMID:?\s*)?(\d{1,9})\s*$", re.IGNORECASE)
_PMID_IN_TEXT = re.compile(r"\bPMID:?\s*(\d{1,9})\b", re.IGNORECASE)
_PMCID = re.compile(r"\b(PMC\d{1,9})\b")
_ISSN = re.compile(r"^\s*(\d{4}-?\d{3}[\dXx])(?![\dXx-])")
_ISBN = re.compile(r"^\s*((?:97[89][- ]?)?\d[\d -]{7,15}[\dXx])(?![\dXx])")
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "v", "2nd", "3rd"})


def sniff(text: str) -> bool:
    """A RIS file has a `TY  - ` line (two spaces, or one as some exporters write)."""
    text = text.removeprefix("\ufeff")
    head = text.lstrip()[:1]
    if head in ("{", "[", "<"):  # JSON or XML that merely quotes RIS
        return False
    return _SNIFF.search(text, 0, _SNIFF_LIMIT) is not None


# ---------------------------------------------------------------------------
# Splitting the text into records


@dataclass
class _Chunk:
    """One record's lines, already in canonical `XX  - value` form."""

    line: int
    """1-based line of the record's first line (its `TY` line)."""
    tags: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def append(self, tag: str, value: str) -> None:
        self.tags.append((tag, value))

    def continue_last(self, text: str) -> None:
        """A line without a tag: a new item of a list tag, or the wrapped end of a field."""
        tag, value = self.tags[-1]
        if tag in _LIST_TAGS:
            self.tags.append((tag, text))
        else:
            self.tags[-1] = (tag, f"{value} {text}" if value else text)

    def canonical(self) -> str:
        lines = [f"{tag}  - {value}" for tag, value in self.tags]
        return "\n".join([*lines, "ER  - "]) + "\n"


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, one at a time (`split` would copy the whole text as a list,
    and `io.StringIO` copies it at four bytes a character)."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


def _split(text: str, result: ParseResult) -> Iterator[_Chunk]:
    """Cut the text into records at `TY` lines; stray text is reported, never dropped silently.

    A generator over the lines: each record is converted and dropped before the
    next is read, so a 200 MB file is not held a second time as lines and tags.
    """
    current: _Chunk | None = None
    stray_start: int | None = None
    stray_end = 0

    def flush_stray() -> None:
        nonlocal stray_start
        if stray_start is not None:
            # The issue is located at the first line; the message says how many there are.
            span = stray_end - stray_start + 1
            count = f" ({span} lines)" if span > 1 else ""
            result.warn(stray_start, None, f"text outside any record{count} ignored")
            stray_start = None

    for index, raw in enumerate(_lines(text), start=1):
        line = raw.rstrip()
        match = _TAG_LINE.match(line)
        if match:
            tag, value = match.group(1), (match.group(2) or "").strip()
            if tag == "TY":
                flush_stray()
                if current is not None:
                    current.warnings.append("has no `ER  -` end line; it ends at the next `TY`")
                    yield current
                current = _Chunk(index, [("TY", value)])
            elif tag == "ER":
                flush_stray()
                if current is None:
                    result.warn(index, None, "`ER  -` line outside any record ignored")
                else:
                    yield current
                current = None
            elif current is None:
                # Tags with no `TY` before them: a record whose type line is missing.
                flush_stray()
                current = _Chunk(index, [("TY", "")])
                current.warnings.append("has no `TY` line; imported as a generic document")
                current.append(tag, value)
            else:
                current.append(tag, value)
        elif not line.strip():
            continue
        elif current is not None:
            current.continue_last(line.strip())
        else:
            if stray_start is None:
                stray_start = index
            stray_end = index
    flush_stray()
    if current is not None:
        # A slice of a big file ends just before the next record's `TY` line.
        current.warnings.append(
            "has no `ER  -` end line; it ends at the next `TY`"
            if result.more_follows
            else "has no `ER  -` end line (file truncated?)"
        )
        yield current


class _Identity(dict[str, str]):
    """rispy's tag -> name mapping: every tag keeps its own name, so none is lost."""

    def __missing__(self, key: str) -> str:
        return key


class _Every:
    """rispy's list-tag set: every tag is read as a list, so repeated tags keep all values."""

    def __contains__(self, item: object) -> bool:
        return True


def _read(chunk: _Chunk) -> dict[str, Any] | None:
    """Parse one canonical record with rispy: {tag: [values]} (`TY` is a string)."""
    import rispy

    records = rispy.loads(
        chunk.canonical(),
        mapping=_Identity(),
        list_tags=_Every(),
        delimiter_tags_mapping={},  # rispy would split `UR` on ";", which SICI DOIs contain
    )
    return records[0] if len(records) == 1 else None


# ---------------------------------------------------------------------------
# Records


def _first(record: dict[str, Any], *tags: str) -> str | None:
    for tag in tags:
        for value in record.get(tag) or ():
            if value and value.strip():
                return value.strip()
    return None


def _all(record: dict[str, Any], *tags: str) -> list[str]:
    return [v.strip() for tag in tags for v in (record.get(tag) or ()) if v and v.strip()]


def _person(name: str) -> Author | str | None:
    """A RIS name: "Family, Given", "Family, Given, Suffix", or an organization's name."""
    text = name.strip()
    if not text:
        return None
    if is_group_name(text):
        return Author(literal=text)
    parts = [part.strip() for part in text.split(",")]
    if len(parts) == 3 and parts[2].lower() in _SUFFIXES:
        return Author(family=parts[0] or None, given=parts[1] or None, suffix=parts[2])
    return parse_person(text)


_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/\S+$", re.IGNORECASE)


def _doi_in(text: str) -> str | None:
    """A DOI mentioned in a note or URL; a whole doi.org URL is taken as is."""
    if _DOI_URL.match(text):
        return text  # build_record strips the resolver and percent-encoding
    return find_doi(text)


def _standard_number(value: str, csl_type: str) -> tuple[str | None, str | None]:
    """Decide whether `SN` holds an ISSN or an ISBN: by its shape first, then by the type.

    Only the first number is returned ("1234-5678 (Print); 8765-4321 (Electronic)");
    the caller keeps the whole value in extra when it holds more.
    """
    if match := _ISSN.match(value):
        return match.group(1), None
    if match := _ISBN.match(value):
        digits = re.sub(r"[^0-9Xx]", "", match.group(1))
        if len(digits) in (10, 13):
            return None, match.group(1)
    return (None, value) if csl_type in _BOOKS | _IN_BOOK else (value, None)


def _convert(chunk: _Chunk, record: dict[str, Any], number: int, result: ParseResult) -> None:
    """Map one rispy record ({tag: values}) onto `ParseResult.add`."""
    warnings = list(chunk.warnings)
    used: set[str] = {"TY"}

    def take(*tags: str) -> str | None:
        for tag in tags:
            value = _first(record, tag)
            if value is not None:
                used.add(tag)
                return value
        return None

    ris_type = str(record.get("TY") or "").strip().upper()
    csl_type = TYPES.get(ris_type)
    if csl_type is None:
        if ris_type:
            warnings.append(f"unknown RIS type `{ris_type}`; imported as a generic document")
        csl_type = "document"

    title = take("TI", "T1", "CT") or (take("BT") if csl_type in _BOOKS else None)
    if csl_type in _BOOKS:
        journal = None  # a book's T2 is its series, kept in extra
    elif csl_type in _IN_BOOK:
        journal = take("T2", "BT", "JF", "JO", "T3")
    else:
        journal = take("T2", "JF", "JO", "JA", "J2", "BT")

    authors = [a for a in map(_person, _all(record, "AU", "A1")) if a is not None]
    used.update({"AU", "A1"})
    editor_tags = ("ED",) if csl_type == "patent" else ("A2", "ED")  # a patent's A2 is no editor
    editors = [a for a in map(_person, _all(record, *editor_tags)) if a is not None]
    used.update(editor_tags)

    if not title and journal and not authors:
        # Scopus exports cited works with only a T2; without a title the record would be lost.
        warnings.append("has no title (TI/T1); its T2 is used as the title")
        title, journal = journal, None

    start, end = take("SP"), _first(record, "EP")
    pages = start
    if start and end and "-" not in start:
        pages = f"{start}-{end}"
        used.add("EP")

    notes = _all(record, "N1")
    doi = take("DO")
    if doi is None:
        for candidate in (*notes, *_all(record, "M3"), *_all(record, "UR")):
            doi = _doi_in(candidate)
            if doi:
                break

    urls = _all(record, "UR")
    url = urls[0] if urls else None
    if len(urls) == 1:
        used.add("UR")
    files = _all(record, "L1")
    pdf_url = next((f for f in files if re.match(r"https?://", f, re.IGNORECASE)), None)

    issn = isbn = None
    serial = _first(record, "SN")
    if serial:
        issn, isbn = _standard_number(serial, csl_type)
        if serial in (issn, isbn):
            used.add("SN")  # otherwise the full value is kept in extra

    pmid = pmcid = None
    accession = _first(record, "AN")
    database = " ".join(_all(record, "DB", "DP")).lower()
    # An accession number is a PubMed id only when the database says so (or it says "PMID").
    from_pubmed = "pubmed" in database or "medline" in database
    if (
        accession
        and (match := _PMID.match(accession))
        and (from_pubmed or "pmid" in accession.lower())
    ):
        pmid = match.group(1)
        used.add("AN")
    for note in notes:
        if pmid is None and (match := _PMID_IN_TEXT.search(note)):
            pmid = match.group(1)
        if pmcid is None and (match := _PMCID.search(note)):
            pmcid = match.group(1)
    for custom in _all(record, "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"):
        if pmcid is None and re.fullmatch(r"PMC\d{1,9}", custom):
            pmcid = custom

    keywords = [word for item in _all(record, "KW") for word in re.split(r"\s*;\s*", item) if word]
    used.add("KW")

    abstract = take("AB", "N2")
    other_abstract = _first(record, "N2")
    if other_abstract == abstract:
        used.add("N2")

    fields: dict[str, Any] = {
        "title": title,
        "authors": authors,
        "editors": editors,
        "doi": doi,
        "year": take("PY") or _year_of(_first(record, "Y1")),
        "date": take("DA") or take("Y1") or _first(record, "PY"),
        "journal": journal,
        # A patent's VL and IS are application and patent numbers, kept in extra.
        "volume": None if csl_type == "patent" else take("VL"),
        "issue": None if csl_type == "patent" else take("IS"),
        "pages": pages,
        "abstract": abstract,
        "type": csl_type,
        "keywords": keywords,
        "publisher": take("PB"),
        "issn": issn,
        "isbn": isbn,
        "pmid": pmid,
        "pmcid": pmcid,
        "language": take("LA"),
        "url": url,
        "pdf_url": pdf_url,
        "key": take("ID"),
    }

    # Everything not mapped above is kept, by tag, so nothing the file had is lost
    # (Y2 access dates, M1 classifications, CY places, N1 notes, ...).
    extra: dict[str, Any] = {"TY": ris_type} if ris_type else {}
    for tag, values in record.items():
        if tag in used or tag == "TY" or not values:
            continue
        kept = [v for v in values if v and v.strip()] if isinstance(values, list) else [values]
        if kept:
            extra[tag] = kept[0] if len(kept) == 1 else kept
    for tag in used - {"TY", "AU", "A1", "A2", "ED", "KW", "UR"}:
        values = _all(record, tag)
        if len(values) > 1:  # a single-valued tag given twice: the first is used, all are kept
            extra[tag] = values
    fields["extra"] = extra

    key = fields["key"]
    label = key or (title[:60] if title else f"record {number}")
    for message in warnings:
        result.warn(chunk.line, label, message)
    result.add(line=chunk.line, entry=label, **fields)


def _year_of(value: str | None) -> str | None:
    """The year part of an RIS date (`1990/2/27`, `2019///`), or None."""
    if not value:
        return None
    match = re.match(r"\s*(\d{4})", value)
    return match.group(1) if match else None


def parse(text: str, result: ParseResult) -> None:
    """Parse a RIS file: every record becomes a record or a located issue."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        result.error("is empty")
        return
    _parse_records(text, result)


def _parse_records(text: str, result: ParseResult) -> None:
    """Split the text into records and convert each; one bad record does not stop the rest."""
    first = result.entries
    for chunk in _split(text, result):
        result.entries += 1
        number = result.entries
        try:
            record = _read(chunk)
            if record is None:
                result.fail(chunk.line, f"record {number}", "could not be read; not imported")
                continue
            _convert(chunk, record, number, result)
        except Exception as error:  # noqa: BLE001 - one bad record must not sink the file
            result.fail(
                chunk.line,
                f"record {number}",
                f"could not be read ({type(error).__name__}: {error}); not imported",
            )
    if result.entries == first:
        result.error("holds no RIS record (no line like `TY  - JOUR`)")
