"""Normalization of messy source values: the one place where text, DOIs, dates,
numbers and names are cleaned.

Every importer hands its raw values to `build_record`, so all formats agree on
what a clean record looks like: no control characters, no HTML, no blank
strings, numbers as numbers, DOIs bare and validated, dates in ISO 8601.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

from tui.models import Author, Record, Source

# C0 controls except tab and newline, DEL, C1 controls, and the bidi overrides and
# isolates that can make text display in a different order than it is stored.
# Removing them at import means no record can carry a terminal escape sequence.
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_FILES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ANY_WHITESPACE = re.compile(r"\s+")


def strip_controls(text: str) -> str:
    """Remove control, C1 and bidi-override characters, keeping tabs and newlines."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE_CHARS.sub("", text)


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\udc80-\udcff]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with control, C1 and bidi characters written as escapes (`\\x1b`, `\\n`).

    For names the user must recognise in a message (a path), where removing
    characters would name another file. Bytes of a file name that are not
    UTF-8 (decoded as lone surrogates) are shown as `\\xNN` too, so the message
    can always be written.
    """

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        code = ord(char)
        if char in _NAMED_ESCAPES:
            return _NAMED_ESCAPES[char]
        if 0xDC80 <= code <= 0xDCFF:
            return f"\\x{code - 0xDC00:02x}"
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, text)


def strip_escapes(text: str) -> str:
    """Remove control, C1 and bidi-override characters, leaving tabs and line endings as they are.

    For whole files (a CSV's CRLF line ends must stay) rather than single values.
    """
    return _UNSAFE_IN_FILES.sub("", text)


def clean_line(value: Any) -> str | None:
    """Clean a one-line value: safe characters, NFC, whitespace collapsed; blank becomes None."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = unicodedata.normalize("NFC", strip_controls(text))
    text = _ANY_WHITESPACE.sub(" ", text).strip()
    return text or None


def clean_block(value: Any) -> str | None:
    """Clean multi-line text: paragraphs (blank-line separated) kept, lines inside joined."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = unicodedata.normalize("NFC", strip_controls(text))
    paragraphs = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = (_SPACES.sub(" ", line).strip() for line in paragraph.split("\n"))
        joined = " ".join(line for line in lines if line)
        if joined:
            paragraphs.append(joined)
    return "\n\n".join(paragraphs) or None


# ---------------------------------------------------------------------------
# HTML (and JATS/MathML) to plain text

_TAG_LIKE = re.compile(r"</?[A-Za-z][\w:.-]*(\s[^<>]*)?/?>|&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+\d*);")
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "title", "sec"}
)


def _local_name(tag: str) -> str:
    """Return a tag's name without its namespace prefix (`jats:p` -> `p`)."""
    return tag.rsplit(":", 1)[-1].lower()


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, turning block elements into paragraph breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if _local_name(tag) in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if _local_name(tag) in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(value: str) -> str:
    """Turn an HTML/JATS fragment into plain text; text without markup is returned as is."""
    if not _TAG_LIKE.search(value):
        return value
    extractor = _TextExtractor()
    extractor.feed(value)
    extractor.close()
    return html.unescape("".join(extractor.parts))


def clean_html_line(value: Any) -> str | None:
    """Clean a one-line value that may contain HTML (titles often carry `<i>` or `<sub>`)."""
    text = clean_line(value)
    return clean_line(html_to_text(text)) if text else None


def clean_html_block(value: Any) -> str | None:
    """Clean multi-line text that may contain HTML (abstracts)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return clean_block(html_to_text(strip_controls(text)))


# ---------------------------------------------------------------------------
# DOIs

DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")
_DOI_PREFIX = re.compile(
    r"^(?:(?:https?://)?(?:dx\.|www\.)?doi\.org/|doi\s*:\s*|doi\s+|urn:doi:|info:doi/)",
    re.IGNORECASE,
)
_DOI_IN_TEXT = re.compile(r"\b(10\.\d{4,9}/[^\s\"]+)")


class InvalidDOI(ValueError):
    """A value that was given as a DOI but is not one."""


def normalize_doi(value: Any) -> str | None:
    """Return the bare DOI (`10.xxxx/...`) from a DOI, `doi:` string or DOI URL.

    Blank values give None. A value that is not a DOI raises `InvalidDOI`, so the
    caller can report it rather than store it.
    """
    text = clean_line(value)
    if text is None:
        return None
    stripped = _DOI_PREFIX.sub("", text)
    if stripped != text and "%" in stripped and text.lower().startswith(("http", "dx.", "www.")):
        # A DOI URL is percent-encoded; the DOI itself is not.
        stripped = unquote(stripped)
    if len(stripped) > 1000 or not DOI_PATTERN.match(stripped):
        raise InvalidDOI(f"malformed DOI {text[:80]!r}")
    return stripped


def find_doi(text: str | None) -> str | None:
    """Find the first DOI mentioned in free text (RIS notes, MEDLINE LID lines)."""
    if not text:
        return None
    match = _DOI_IN_TEXT.search(text)
    return match.group(1).rstrip(".,;)") if match else None


def doi_key(doi: str) -> str:
    """The form used to compare DOIs: they are case-insensitive."""
    return doi.lower()


# ---------------------------------------------------------------------------
# Numbers


_INT_LIMIT = 2**63
"""Numbers beyond 64 bits cannot be stored (orjson refuses them): they are junk anyway."""


def to_int(value: Any) -> int | None:
    """Read an integer from an int, float or string ("0", " 1,234 "); junk gives None."""
    number = _to_int(value)
    return number if number is not None and -_INT_LIMIT < number < _INT_LIMIT else None


def _to_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    text = clean_line(value)
    if text is None:
        return None
    text = text.replace(",", "").replace("\u202f", "").replace(" ", "")
    try:
        number = float(text) if "." in text else int(text)
    except ValueError:
        return None
    if isinstance(number, float):
        return int(number) if math.isfinite(number) and number.is_integer() else None
    return number


def to_float(value: Any) -> float | None:
    """Read a float ("12.8000", 12.8, "12,8"); junk, NaN and infinities give None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = clean_line(value)
        if text is None:
            return None
        text = text.replace(" ", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def to_bool(value: Any) -> bool | None:
    """Read a yes/no value ("true", 1, "Y"); anything else gives None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "yes", "y", "1", "t"):
        return True
    if text in ("false", "no", "n", "0", "f"):
        return False
    return None


_QUARTILE = re.compile(r"^\s*Q?\s*([1-4])\s*$", re.IGNORECASE)


def to_quartile(value: Any) -> str | None:
    """Normalize a JCR quartile ("q1", "1", "Q1") to "Q1"; anything else gives None."""
    text = clean_line(value)
    match = _QUARTILE.match(text) if text else None
    return f"Q{match.group(1)}" if match else None


_DASHES = re.compile(r"\s*(?:--|[\u2010-\u2015\u2212]|-)\s*")


def clean_pages(value: Any) -> str | None:
    """Normalize page ranges: `123--130`, `123–130` and `123 - 130` all become `123-130`."""
    text = clean_line(value)
    return _DASHES.sub("-", text) if text else None


# ---------------------------------------------------------------------------
# Dates

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january", "janvier", "januar"),
            ("feb", "february", "fevrier", "februar"),
            ("mar", "march", "mars", "marz"),
            ("apr", "april", "avril"),
            ("may", "mai"),
            ("jun", "june", "juin", "juni"),
            ("jul", "july", "juillet", "juli"),
            ("aug", "august", "aout"),
            ("sep", "sept", "september", "septembre"),
            ("oct", "october", "octobre", "oktober"),
            ("nov", "november", "novembre"),
            ("dec", "december", "decembre", "dezember"),
        ),
        start=1,
    )
    for name in names
}
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")
_ISO_DATE = re.compile(r"^(\d{4})(?:[-/. ](\d{1,2})(?:[-/. ](\d{1,2}))?)?(?:[-/T ].*)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")


def month_number(value: Any) -> int | None:
    """Read a month from a number (1-12) or an English, French or German name."""
    number = to_int(value)
    if number is not None:
        return number if 1 <= number <= 12 else None
    text = clean_line(value)
    if not text:
        return None
    name = fold(text).rstrip(".")
    return _MONTHS.get(name) or _MONTHS.get(name[:3]) or _SEASONS.get(name)


def _iso(year: int, month: int | None = None, day: int | None = None) -> str:
    if month is None or not 1 <= month <= 12:
        return f"{year:04d}"
    if day is None or not 1 <= day <= 31:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def parse_date(value: Any) -> tuple[int | None, str | None]:
    """Read a publication date in any of the shapes real sources use.

    Returns `(year, iso_date)` where the ISO date is as precise as the source
    ("2019", "2019-03", "2019-03-12"). Handles ISO dates, `2019/03/12/`, RIS
    `1990/2/27`, MEDLINE `2019 Mar 12` and `1998 Dec-1999 Jan`, CSL date-parts
    (`[[2011, "06", 28]]`), plain years and timestamps.
    """
    if value is None or isinstance(value, bool):
        return None, None
    if isinstance(value, int):
        return (value, _iso(value)) if 1000 <= value <= 2999 else (None, None)
    if isinstance(value, Sequence) and not isinstance(value, str):
        parts = (
            value[0]
            if value and isinstance(value[0], Sequence) and not isinstance(value[0], str)
            else value
        )
        numbers = [to_int(part) for part in list(parts)[:3]]
        if not numbers or numbers[0] is None or not 1000 <= numbers[0] <= 2999:
            return None, None
        year = numbers[0]
        month = numbers[1] if len(numbers) > 1 else None
        day = numbers[2] if len(numbers) > 2 else None
        return year, _iso(year, month, day if month else None)
    text = clean_line(value)
    if not text:
        return None, None
    match = _COMPACT_DATE.match(text) or _ISO_DATE.match(text)
    # Only numeric dates (with an optional time) are ISO-like; "2019 Mar 12" is not.
    if match and not re.search(r"[A-SU-Ya-su-y]", text):
        year = int(match.group(1))
        month = int(match.group(2)) if match.group(2) else None
        day = int(match.group(3)) if match.group(3) else None
        if 1000 <= year <= 2999:
            return year, _iso(year, month, day)
    year_match = _YEAR.search(text)
    if not year_match:
        return None, None
    year = int(year_match.group(1))
    # Words after the year ("2019 Mar 12", "2019 Mar-Apr") or before it ("12 March 2019").
    words = re.findall(r"[A-Za-z\u00c0-\u024f]+\.?|(?<!\d)\d{1,2}(?!\d)", text)
    month = day = None
    for word in words:
        if word[0].isdigit():
            if month is not None and day is None or month is None and day is None:
                day = int(word)
            continue
        number = month_number(word)
        if number is not None and month is None:
            month = number
    if month is None:
        day = None
    return year, _iso(year, month, day)


# ---------------------------------------------------------------------------
# Names

_PARTICLES = frozenset(
    [
        "von",
        "van",
        "der",
        "den",
        "de",
        "del",
        "della",
        "dei",
        "degli",
        "di",
        "da",
        "das",
        "dos",
        "du",
        "la",
        "le",
        "ten",
        "ter",
        "zu",
        "vom",
        "zum",
        "ó",
        "ní",
        "uí",
        "mac",
        "ben",
        "d'",
        "l'",
        "al",
        "el",
        "bin",
        "ibn",
    ]
)
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "v", "2nd", "3rd"})


_GROUP_CONNECTIVES = frozenset({"at", "of", "for", "on", "the", "in", "to", "und", "für", "&"})
"""Lower-case words that join an organization's name but not a person's ("American Rights at Work")."""
_GROUP_WORDS = frozenset({
    "academy", "agency", "alliance", "association", "board", "bureau", "center", "centre",
    "collaboration", "collaborative", "commission", "committee", "company", "consortium",
    "contributors", "corporation", "council", "department", "federation", "forum", "foundation",
    "group", "inc", "inc.", "initiative", "institute", "institution", "investigators", "league",
    "ltd", "ltd.", "ministry", "network", "office", "organisation", "organization", "panel",
    "program", "programme", "project", "society", "team", "university", "working",
})  # fmt: skip
"""Words that mark a name as a group's ("ALICE Collaboration", "BIDS contributors")."""


def is_group_name(name: str) -> bool:
    """True when an unbraced, comma-free name reads as an organization, not a person.

    Split as a person, "The ENCODE Project Consortium" would become given
    "The ENCODE Project", family "Consortium"; a group's name must stay whole.
    """
    words = name.split()
    if len(words) < 2 or "," in name:
        return False
    lowered = [fold(word).strip(".,;:()") for word in words]
    if any(word in _GROUP_WORDS for word in lowered):
        return True
    return len(words) >= 3 and any(word in _GROUP_CONNECTIVES for word in lowered[1:-1])


def parse_person(value: str) -> Author | None:
    """Split a person's name written as "Family, Given", "Family, Suffix, Given" or "Given Family".

    Lower-case particles ("van", "de la") stay with the family name.
    """
    text = clean_line(value)
    if not text:
        return None
    if "," in text:
        parts = [part.strip() for part in text.split(",")]
        family = parts[0]
        if len(parts) >= 3 and parts[1].lower() in _SUFFIXES:
            return Author(
                family=family or None, given=", ".join(parts[2:]) or None, suffix=parts[1]
            )
        if len(parts) == 2 and parts[1].lower() in _SUFFIXES:
            return Author(family=family or None, suffix=parts[1])
        given = ", ".join(part for part in parts[1:] if part)
        return Author(family=family or None, given=given or None)
    words = text.split(" ")
    if is_group_name(text):
        return Author(literal=text)
    suffix = None
    if len(words) > 1 and words[-1].lower() in _SUFFIXES:
        suffix = words.pop()
    if len(words) == 1:
        return Author(family=words[0], suffix=suffix)
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1
    # "Ludwig van Beethoven": particles directly before the last word join the family name.
    if start == len(words) - 1:
        index = start
        while index > 0 and words[index - 1].lower() in _PARTICLES:
            index -= 1
        start = max(index, 1)
    return Author(family=" ".join(words[start:]), given=" ".join(words[:start]), suffix=suffix)


def clean_author(author: Author | str | Mapping[str, Any]) -> Author | None:
    """Clean one author given as an `Author`, a name string or a CSL-style mapping."""
    if isinstance(author, str):
        return parse_person(author)
    if isinstance(author, Mapping):
        author = Author(
            family=author.get("family"),
            given=author.get("given"),
            literal=author.get("literal") or author.get("name"),
            suffix=author.get("suffix"),
        )
    literal = clean_line(author.literal)
    if literal:
        return Author(literal=literal)
    family, given = clean_line(author.family), clean_line(author.given)
    suffix = clean_line(author.suffix)
    if not family and not given:
        return None
    if not family:
        family, given = given, None
    return Author(family=family, given=given, suffix=suffix)


# ---------------------------------------------------------------------------
# Search folding

_FOLD_EXTRA = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ı": "i",
        "ß": "ss",
    }
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of text for matching ("Núñez" -> "nunez")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


_NON_WORD = re.compile(r"[\W_]+")
# ASCII text (most of it) takes a C-speed path: translate punctuation to spaces.
_ASCII_PUNCTUATION = str.maketrans(
    {chr(c): " " for c in range(128) if not chr(c).isalnum()}
    | {chr(c): chr(c + 32) for c in range(65, 91)}
)


def haystack(text: str | None) -> str:
    """Fold text for matching: lowercase, no accents, punctuation as spaces, a leading space.

    A needle `" " + word` then matches exactly the words that start with `word`.
    """
    if not text:
        return ""
    if text.isascii():
        words = text.translate(_ASCII_PUNCTUATION).split()
    else:
        words = _NON_WORD.sub(" ", fold(text)).split()
    return " " + " ".join(words) if words else ""


# ---------------------------------------------------------------------------
# Building records


def _clean_strings(values: Iterable[Any]) -> tuple[str, ...]:
    """Clean a list of strings, dropping blanks and case/accent-insensitive repeats."""
    kept: list[str] = []
    seen: set[str] = set()
    for value in values:
        text = clean_line(value)
        if text and (key := fold(text)) not in seen:
            seen.add(key)
            kept.append(text)
    return tuple(kept)


def _clean_extra(value: Any, depth: int = 0) -> Any:
    """Make an extra value safe to store: strict JSON types, safe text, bounded depth."""
    if depth > 50:
        return None
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return strip_controls(value)
    if isinstance(value, Mapping):
        return {strip_controls(str(k)): _clean_extra(v, depth + 1) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [_clean_extra(v, depth + 1) for v in value]
    return strip_controls(str(value))


def build_record(
    *,
    format: str,
    file: str,
    warnings: list[str],
    title: Any = None,
    authors: Iterable[Author | str | Mapping[str, Any]] = (),
    editors: Iterable[Author | str | Mapping[str, Any]] = (),
    doi: Any = None,
    year: Any = None,
    date: Any = None,
    journal: Any = None,
    volume: Any = None,
    issue: Any = None,
    pages: Any = None,
    abstract: Any = None,
    type: Any = None,
    citation_count: Any = None,
    impact_factor: Any = None,
    jcr_quartile: Any = None,
    jcr_category: Any = None,
    open_access: Any = None,
    pdf_url: Any = None,
    url: Any = None,
    keywords: Iterable[Any] = (),
    publisher: Any = None,
    issn: Any = None,
    isbn: Any = None,
    pmid: Any = None,
    pmcid: Any = None,
    language: Any = None,
    key: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> Record:
    """Build a clean `Record` from raw source values; problems are appended to `warnings`.

    `date` may be anything `parse_date` reads; `year` is used when the date has none.
    A malformed DOI is left out of `doi`, kept in `extra[format]["invalid_doi"]`,
    and reported.
    """
    extra_fields: dict[str, Any] = dict(_clean_extra(extra) or {}) if extra else {}
    clean_doi = None
    try:
        clean_doi = normalize_doi(doi)
    except InvalidDOI as error:
        warnings.append(f"{error}; not stored as the DOI")
        extra_fields["invalid_doi"] = clean_line(doi)
    parsed_year, iso_date = parse_date(date)
    if parsed_year is None:
        parsed_year, iso_date = parse_date(year)
    elif year is not None and to_int(year) not in (None, parsed_year) and iso_date:
        # The explicit year wins over a date that disagrees with it (e.g. an online-first date).
        year_value = to_int(year)
        if year_value is not None and 1000 <= year_value <= 2999:
            parsed_year = year_value
    if year is not None and parsed_year is None and clean_line(year):
        warnings.append(f"unreadable year {clean_line(year)!r}")
    clean_type = clean_line(type)
    if clean_type:
        clean_type = clean_type.lower()
    return Record(
        doi=clean_doi,
        title=clean_html_line(title),
        authors=tuple(a for a in (clean_author(a) for a in authors) if a is not None),
        editors=tuple(a for a in (clean_author(a) for a in editors) if a is not None),
        year=parsed_year,
        date=iso_date,
        journal=clean_html_line(journal),
        volume=clean_line(volume),
        issue=clean_line(issue),
        pages=clean_pages(pages),
        abstract=clean_html_block(abstract),
        type=clean_type,
        citation_count=to_int(citation_count),
        impact_factor=to_float(impact_factor),
        jcr_quartile=to_quartile(jcr_quartile),
        jcr_category=clean_line(jcr_category),
        open_access=to_bool(open_access),
        pdf_url=clean_line(pdf_url),
        url=clean_line(url),
        keywords=_clean_strings(keywords),
        publisher=clean_line(publisher),
        issn=clean_line(issn),
        isbn=clean_line(isbn),
        pmid=clean_line(pmid),
        pmcid=clean_line(pmcid),
        language=clean_line(language),
        key=clean_line(key),
        source=(Source(format=format, file=file),),
        extra={format: extra_fields} if extra_fields else {},
    )
