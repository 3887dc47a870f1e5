"""The query language and the in-memory index that answers it.

One engine serves `refdeck search`, `refdeck doi` and the browser's search
line. Queries are parsed once; records are folded into lowercase, accent-free
"haystacks" once, when the index is built, so answering a keystroke is only
substring tests on prepared strings (TinyDB is where the library lives, not
what answers a query).

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
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from tui.models import Record
from tui.normalize import fold, haystack
from tui.rows import ListRows

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

FLAGS: dict[str, Callable[[ListRows, int], bool]] = {
    "is:oa": lambda rows, i: rows.open_access[i],
    "is:marked": lambda rows, i: rows.marked[i],
    "has:doi": lambda rows, i: rows.dois[i] != "",
    "has:abstract": lambda rows, i: "a" in rows.flags[i],
    "has:pdf": lambda rows, i: "p" in rows.flags[i],
    "has:if": lambda rows, i: rows.impacts[i] is not None,
    "has:note": lambda rows, i: "n" in rows.flags[i],
    "has:tags": lambda rows, i: "t" in rows.flags[i],
}
"""Yes/no filters."""

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

    def narrows(self, previous: Query) -> bool:
        """True when every record this query matches also matches `previous`.

        Then the search can start from the previous results, which keeps typing
        fast: `leuk` -> `leuke` only narrows. Conservative: a clause of
        `previous` is implied when `self` has it too, or, for a plain positive
        word, a longer form of it.
        """
        for old in previous.clauses:
            if old in self.clauses:
                continue  # the same filter, still there
            if not isinstance(old, TextClause) or old.negate:
                return False
            if not any(
                isinstance(new, TextClause)
                and not new.negate
                and new.field == old.field
                and new.needle.startswith(old.needle)
                for new in self.clauses
            ):
                return False
        return True

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


class WordIndex:
    """Every word of every record (metadata and abstract) -> the positions of the records holding it.

    Words are kept sorted, so the words starting with a prefix are one
    contiguous slice: a prefix search is two bisections and a union of
    posting lists, instead of a scan of every record's text.
    """

    def __init__(
        self,
        words: list[str],
        postings: list[array[int]],
        size: int,
        short_prefixes: dict[str, array[int]] | None = None,
    ) -> None:
        self.words = words
        self.postings = postings
        self.size = size
        """How many records were indexed."""
        self.short_prefixes = short_prefixes or {}
        """For every one- and two-character prefix, the records with a word starting with it.

        One or two typed letters match thousands of words; unioning their
        postings on the keystroke would take tens of milliseconds at 100,000
        records, so these are collected while the index is built.
        """

    @classmethod
    def build(cls, texts: Iterable[str]) -> WordIndex:
        """Index texts in haystack form; text i belongs to record position i."""
        builder = WordIndexBuilder()
        for text in texts:
            builder.add(text)
        return builder.finish()

    def starting_with(self, prefix: str) -> set[int] | array[int]:
        """Positions of records with a word that starts with `prefix` (sorted when an array)."""
        if len(prefix) <= 2:
            return self.short_prefixes.get(prefix, array("I"))
        low = bisect_left(self.words, prefix)
        high = bisect_left(self.words, prefix + "\U0010ffff", low)
        if high - low == 1:
            return self.postings[low]
        found: set[int] = set()
        for k in range(low, high):
            found.update(self.postings[k])
        return found

    def exactly(self, word: str) -> array[int]:
        """Positions of records holding exactly this word."""
        k = bisect_left(self.words, word)
        return self.postings[k] if k < len(self.words) and self.words[k] == word else array("I")


class WordIndexBuilder:
    """Builds a `WordIndex` one record at a time, so texts need not be kept in memory."""

    def __init__(self) -> None:
        self._table: dict[str, array[int]] = {}
        self._short: dict[str, array[int]] = {}
        self._count = 0

    def add(self, text: str) -> None:
        """Index the next record's text (haystack form)."""
        position, table, short = self._count, self._table, self._short
        words = set(text.split())
        for word in words:
            entry = table.get(word)
            if entry is None:
                table[word] = array("I", (position,))
            else:
                entry.append(position)
        for prefix in {word[:1] for word in words} | {word[:2] for word in words}:
            entry = short.get(prefix)
            if entry is None:
                short[prefix] = array("I", (position,))
            else:
                entry.append(position)
        self._count += 1

    def finish(self) -> WordIndex:
        """The index of every text added."""
        words = sorted(self._table)
        return WordIndex(words, [self._table[word] for word in words], self._count, self._short)


SCAN_LIMIT = 3000
"""Below this many candidates, checking each one's text beats asking the word index."""

_NUMBER_COLUMNS = {
    "year": "years",
    "citation_count": "citations",
    "impact_factor": "impacts",
    "jcr_quartile": "quartiles",
}


class SearchIndex:
    """The list rows prepared for matching. Build once per library change; query per keystroke.

    Metadata haystacks come ready-folded with the rows. Abstracts are long and
    live only in the word index (`add_word_index`), built after the first
    screen from the full records; until then free words match the metadata
    only. Where a phrase must be checked against an abstract's exact text,
    `abstract_text(position)` reads it (from the library file).
    """

    def __init__(self, rows: ListRows) -> None:
        rows.ensure_haystacks()
        self.rows = rows
        self._fields: dict[str, list[str]] = {
            "title": rows.title_hay,
            "authors": rows.authors_hay,
            "journal": rows.journal_hay,
            "keywords": rows.keywords_hay,
            "tags": rows.tags_hay,
        }
        self._doi = [doi.lower() for doi in rows.dois]
        self._meta = [
            f"{t} |{a} |{j} |{k} |{g} |{haystack(d)}"
            for t, a, j, k, g, d in zip(
                rows.title_hay,
                rows.authors_hay,
                rows.journal_hay,
                rows.keywords_hay,
                rows.tags_hay,
                rows.dois,
                strict=True,
            )
        ]
        """Everything but the abstract in one string: one test per record for a free word."""
        self.words: WordIndex | None = None
        """The word index, once built (with the abstracts); until then words are scanned."""
        self.abstract_text: Callable[[int], str] = lambda position: ""
        """The haystack of a record's abstract, read on demand."""

    @classmethod
    def from_records(cls, records: Sequence[Record]) -> SearchIndex:
        """An index over records held in memory, abstracts included."""
        index = cls(ListRows.from_records(records))
        abstracts = [haystack(record.abstract) for record in records]
        index.add_word_index(
            WordIndex.build(index.word_text(i, abstract) for i, abstract in enumerate(abstracts))
        )
        index.abstract_text = abstracts.__getitem__
        return index

    def word_text(self, position: int, abstract: str) -> str:
        """Everything a free word may match in record `position`, for the word index."""
        return f"{self._meta[position].replace(' |', ' ')} {abstract}"

    def add_word_index(self, words: WordIndex) -> None:
        """Use an index of every record's words (see `word_text`), built in the background."""
        self.words = words

    def __len__(self) -> int:
        return len(self.rows)

    def search(self, query: Query | str, within: Sequence[int] | None = None) -> list[int]:
        """Positions (in library order) of the records matching `query`.

        `within` narrows the search to earlier results, which is how typing one
        more letter stays cheap.
        """
        if isinstance(query, str):
            query = parse_query(query)
        candidates: Sequence[int] = range(len(self.rows)) if within is None else within
        # Cheap, selective clauses first: numbers and flags, then the longest words.
        ordered = sorted(
            query.clauses,
            key=lambda c: (
                (0, 0) if not isinstance(c, TextClause) else (1 + c.negate, -len(c.needle))
            ),
        )
        for clause in ordered:
            candidates = self._filter(clause, candidates)
            if not candidates:
                break
        return list(candidates)

    def _filter(self, clause: Clause, candidates: Sequence[int]) -> list[int]:
        rows = self.rows
        if isinstance(clause, FlagClause):
            test = FLAGS[clause.name]
            return [i for i in candidates if test(rows, i) != clause.negate]
        if isinstance(clause, NumberClause):
            column = getattr(rows, _NUMBER_COLUMNS[clause.field])
            low, high, quartile = clause.low, clause.high, clause.field == "jcr_quartile"
            keep = []
            for i in candidates:
                value = column[i]
                if quartile:
                    value = int(value[1:]) if value else None
                inside = (
                    value is not None
                    and (low is None or value >= low)
                    and (high is None or value <= high)
                )
                if inside != clause.negate:
                    keep.append(i)
            return keep
        needle, negate, field_name = clause.needle, clause.negate, clause.field
        if field_name == "doi":
            doi = self._doi
            return [i for i in candidates if (needle in doi[i]) != negate]
        single_word = " " not in needle.strip()
        if self.words is not None and (
            field_name in (None, "abstract") or len(candidates) > SCAN_LIMIT
        ):
            if negate:
                return self._exclude(clause, candidates)
            candidates = self._from_word_index(clause, candidates)
            if field_name is None and single_word:
                return candidates  # the index answers a single free word exactly
        elif field_name == "abstract":
            return [] if not negate else list(candidates)  # abstracts are not read yet
        if field_name == "abstract":
            return [i for i in candidates if needle in self.abstract_text(i)]
        if field_name is not None:
            hay = self._fields[field_name]
            return [i for i in candidates if (needle in hay[i]) != negate]
        meta, abstract = self._meta, self.abstract_text
        if self.words is None:  # metadata only, until the abstracts are indexed
            return [i for i in candidates if (needle in meta[i]) != negate]
        return [i for i in candidates if needle in meta[i] or needle in abstract(i)]

    def _exclude(self, clause: TextClause, candidates: Sequence[int]) -> list[int]:
        """Drop the records a negated clause matches (found through the word index)."""
        matching = set(self._filter(TextClause(clause.needle, clause.field), candidates))
        return [i for i in candidates if i not in matching]

    def _from_word_index(self, clause: TextClause, candidates: Sequence[int]) -> list[int]:
        """Candidates holding every word of the clause (a superset of the matches)."""
        assert self.words is not None
        words = clause.needle.split()
        # All but the last word of a phrase are whole words; the last may be a prefix.
        lookups: list[set[int] | array[int]] = [self.words.exactly(w) for w in words[:-1]]
        lookups.append(self.words.starting_with(words[-1]))
        lookups.sort(key=len)
        hits = lookups[0]
        everything = isinstance(candidates, range) and candidates == range(len(self.rows))
        if len(lookups) == 1 and everything:
            return list(hits) if isinstance(hits, array) else sorted(hits)
        members = hits if isinstance(hits, set) else set(hits)
        for other in lookups[1:]:
            members = members.intersection(other)
        if everything:
            return sorted(members)
        return [i for i in candidates if i in members]

    def score(self, position: int, query: Query) -> float:
        """Relevance of a matching record: title hits weigh most, then authors, then the rest."""
        total = 0.0
        fields = self._fields
        for clause in query.positive_text:
            needle = clause.needle
            if clause.field == "doi":
                total += 10 if self._doi[position] == needle else 3
                continue
            title = fields["title"][position]
            found = title.find(needle)
            if found >= 0:
                # A word early in the title says more about the paper than one at its end.
                total += 4 + (2 if found == 0 else 0) + 1 - found / len(title)
            if needle in fields["authors"][position]:
                total += 3
            if needle in fields["journal"][position] or needle in fields["keywords"][position]:
                total += 1
        return total


SORT_KEYS = ("relevance", "year", "citations", "impact", "title", "added")
"""Orders the results can be shown in."""


def sort_positions(
    index: SearchIndex,
    positions: Sequence[int],
    by: str = "relevance",
    query: Query | None = None,
    reverse: bool = False,
) -> list[int]:
    """Order result positions. Records without the sort value go last either way."""
    rows = index.rows
    if by == "relevance":
        if query is None or not query.positive_text:
            ordered = list(positions)
        else:
            citations, years = rows.citations, rows.years
            ordered = sorted(
                positions,
                key=lambda i: (-index.score(i, query), -(citations[i] or 0), -(years[i] or 0)),
            )
        return ordered[::-1] if reverse else ordered
    if by == "title":
        titles = rows.title_hay
        present = [i for i in positions if titles[i]]
        missing = [i for i in positions if not titles[i]]
        present.sort(key=titles.__getitem__, reverse=reverse)
        return present + missing
    column: list[object] = {
        "year": rows.years,
        "citations": rows.citations,
        "impact": rows.impacts,
        "added": rows.added,
    }[by]  # type: ignore[assignment]
    present = [i for i in positions if column[i] not in (None, "")]
    missing = [i for i in positions if column[i] in (None, "")]
    if by == "year":
        # Within a year, the full date orders the months and days.
        years, dates = rows.years, rows.dates
        present.sort(key=lambda i: (years[i], dates[i]), reverse=not reverse)
    else:
        present.sort(key=column.__getitem__, reverse=not reverse)  # type: ignore[arg-type]
    # Newest, most cited and highest impact first is what people look for; reverse flips it.
    return present + missing


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
