"""The query language: what a user may type, parsed into clauses.

One language serves `refdeck search`, `refdeck doi`, `refdeck export` and the
browser's search line; the library's index answers it (`tui.library.search`
turns a parsed `Query` into SQL). Words are folded the way the index folds
them (`tui.normalize.haystack`), so case and accents never matter.

Syntax (words are ANDed; matching ignores case and accents; a word matches
the start of a word in the record, so `leuk` finds "leukemia")::

    leukemia relapse            every word somewhere in title, authors, journal,
                                keywords, DOI or abstract
    "acute lymphoblastic"       a phrase
    -mouse                      exclude
    author:smith  a:smith       title: t:  journal: j:  doi:  kw: (keywords)
    abstract: ab:  tag:
    year:2021  year:2018..2022  year:>=2020  year:<2000
    cites:>=100  if:>10         citation count, impact factor (same comparisons)
    q:Q1  q:<=Q2                JCR quartile
    is:oa  is:marked            open access, marked
    has:doi  has:abstract  has:pdf  has:if  has:note
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from tui.normalize import fold, haystack

QUERY_SYNTAX = (
    ("leukemia relapse", "every word, anywhere: title, authors, journal, keywords, DOI, abstract"),
    ("leuk", "words match from their start, ignoring case and accents (nunez finds Núñez)"),
    ('"acute lymphoblastic"', "a phrase"),
    ("-mouse", "leave out records with this word (works with fields too: -a:smith)"),
    ("author:smith  a:smith", "in the authors"),
    ("title:relapse  t:relapse", "in the title"),
    ("journal:blood  j:blood", "in the journal"),
    ("doi:10.1016", "in the DOI (a pasted DOI or DOI URL works too)"),
    ("kw:genomics", "in the keywords"),
    ("abstract:cohort  ab:cohort", "in the abstract"),
    ("tag:to-read", "in your tags"),
    ("year:2021  year:2018..2022  year:>=2020", "publication year: exact, range, comparison"),
    ("q:Q1  q:<=Q2", "JCR quartile"),
    ("if:>10", "journal impact factor"),
    ("cites:>=100", "citation count"),
    ("is:oa  is:marked", "open access; marked"),
    ("has:doi  has:abstract  has:pdf  has:if", "has a DOI, abstract, PDF link, impact factor"),
)
"""The query language, as shown on the help screen and in the README."""

TEXT_FIELDS = {
    "author": "authors",
    "authors": "authors",
    "au": "authors",
    "a": "authors",
    "title": "title",
    "ti": "title",
    "t": "title",
    "journal": "journal",
    "j": "journal",
    "venue": "journal",
    "doi": "doi",
    "kw": "keywords",
    "keyword": "keywords",
    "keywords": "keywords",
    "abstract": "abstract",
    "ab": "abstract",
    "tag": "tags",
}
"""Field prefixes that match text, and the haystack each one searches."""

NUMBER_FIELDS = {
    "year": "year",
    "y": "year",
    "cites": "citation_count",
    "citations": "citation_count",
    "if": "impact_factor",
    "q": "jcr_quartile",
}
"""Field prefixes that compare numbers."""

FLAGS = {
    "is:oa": "open_access",
    "is:marked": "marked",
    "has:doi": "has_doi",
    "has:abstract": "has_abstract",
    "has:pdf": "has_pdf",
    "has:if": "has_impact_factor",
    "has:note": "has_note",
    "has:tags": "has_tags",
}
"""Yes/no filters, and the yes/no column of the index each one reads."""

SEARCH_FIELDS = tuple(dict.fromkeys(TEXT_FIELDS.values()))
"""Every field a free word searches (each a column of the index's word table)."""

_TOKEN = re.compile(r'\s*(-?)(?:([A-Za-z]+):)?(?:"([^"]*)"?|(\S+))')
_DOI_LIKE = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?10\.\d{4,9}/", re.IGNORECASE)
_COMPARISON = re.compile(r"^(>=|<=|>|<|=)?\s*([qQ]?[0-9.]+)$")
_RANGE = re.compile(r"^([qQ]?[0-9.]*)\s*(?:\.\.|-)\s*([qQ]?[0-9.]*)$")


@dataclass(frozen=True, slots=True)
class TextClause:
    """Match folded text (`needle`) in one haystack field, or in all of them."""

    needle: str
    field: str | None = None
    negate: bool = False


@dataclass(frozen=True, slots=True)
class NumberClause:
    """Compare a numeric field with a range: `low <= value <= high` (None = open)."""

    field: str
    low: float | None
    high: float | None
    negate: bool = False


@dataclass(frozen=True, slots=True)
class FlagClause:
    """A yes/no test such as `is:oa` or `has:doi`."""

    name: str
    negate: bool = False


Clause = TextClause | NumberClause | FlagClause


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: clauses ANDed together, and the parts that could not be understood."""

    text: str
    clauses: tuple[Clause, ...] = ()
    errors: tuple[str, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        """True when the query selects every record."""
        return not self.clauses

    @property
    def positive_text(self) -> tuple[TextClause, ...]:
        """The text clauses that must match (used for ranking and highlighting)."""
        return tuple(c for c in self.clauses if isinstance(c, TextClause) and not c.negate)


def _number(text: str, field_name: str) -> float | None:
    text = text.strip()
    if field_name == "jcr_quartile":
        text = text.lstrip("qQ")
    try:
        return float(text)
    except ValueError:
        return None


def _number_clause(field_name: str, value: str, negate: bool) -> NumberClause | str:
    """Read `2021`, `2018..2022`, `>=2020`, `q:<=Q2`; return an error message when unreadable."""
    value = value.strip()
    if match := _COMPARISON.match(value):
        op, raw = match.groups()
        number = _number(raw, field_name)
        if number is not None:
            if op in (None, "="):
                return NumberClause(field_name, number, number, negate)
            step = 1.0 if field_name in ("year", "citation_count", "jcr_quartile") else 1e-9
            bounds = {
                ">=": (number, None),
                "<=": (None, number),
                ">": (number + step, None),
                "<": (None, number - step),
            }[op]
            return NumberClause(field_name, *bounds, negate)
    if (match := _RANGE.match(value)) and any(match.groups()):
        low_text, high_text = match.groups()
        low = _number(low_text, field_name) if low_text else None
        high = _number(high_text, field_name) if high_text else None
        if (low_text and low is None) or (high_text and high is None):
            pass
        else:
            return NumberClause(field_name, low, high, negate)
    return f"cannot read {value!r} as a number or range"


def parse_query(text: str) -> Query:
    """Parse a query string; parts that cannot be understood are listed in `errors`."""
    clauses: list[Clause] = []
    errors: list[str] = []
    for match in _TOKEN.finditer(text):
        minus, prefix, quoted, bare = match.groups()
        negate = minus == "-"
        value = quoted if quoted is not None else (bare or "")
        if prefix is None and not value:
            continue
        name = prefix.lower() if prefix else None
        if name in ("is", "has"):
            flag = f"{name}:{value.lower()}"
            if flag in FLAGS:
                clauses.append(FlagClause(flag, negate))
            else:
                known = ", ".join(sorted(FLAGS))
                errors.append(f"unknown filter {flag!r} (known: {known})")
            continue
        if name in NUMBER_FIELDS:
            clause = _number_clause(NUMBER_FIELDS[name], value, negate)
            if isinstance(clause, str):
                errors.append(f"{prefix}:{value}: {clause}")
            else:
                clauses.append(clause)
            continue
        field_name = TEXT_FIELDS.get(name) if name else None
        if name and field_name is None:
            # Not a field we know ("covid:19"): the whole token is plain text.
            value = f"{prefix}:{value}"
        if field_name == "doi" or (field_name is None and _DOI_LIKE.match(value)):
            doi = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", value, flags=re.I)
            if doi:
                clauses.append(TextClause(doi.lower(), "doi", negate))
            continue
        needle = haystack(value)
        if needle:
            clauses.append(TextClause(needle, field_name, negate))
    return Query(text, tuple(clauses), tuple(errors))


SORT_KEYS = ("relevance", "year", "citations", "impact", "title", "added")
"""Orders the results can be shown in."""


def highlight_spans(text: str, needles: Sequence[str]) -> list[tuple[int, int]]:
    """Character spans of `text` where a needle's words start a word, for highlighting.

    Needles are in haystack form (`" leuk"`, `" acute lymph"`); each of their
    words is highlighted wherever it starts a word of `text`, ignoring case and
    accents.
    """
    words = {word for needle in needles for word in needle.split()}
    if not words or not text:
        return []
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = fold(char) if not char.isascii() else char.lower()
        piece = piece if piece.isalnum() or not piece else " "
        for folded_char in piece:
            folded.append(folded_char)
            origin.append(index)
    haystack_text = "".join(folded)
    spans: list[tuple[int, int]] = []
    for word in words:
        start = haystack_text.find(word)
        while start != -1:
            if start == 0 or not haystack_text[start - 1].isalnum():
                end = start + len(word) - 1
                spans.append((origin[start], origin[end] + 1))
            start = haystack_text.find(word, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def markdown_query_table() -> str:
    """The README's query table, made from `QUERY_SYNTAX`."""
    lines = ["| Type | Finds |", "|---|---|"]
    lines += [f"| `{example}` | {meaning} |" for example, meaning in QUERY_SYNTAX]
    return "\n".join(lines)
