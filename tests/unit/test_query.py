"""The query language and index shared by `refdeck search` and the browser."""

from __future__ import annotations

import pytest

from tui.models import Author, Record
from tui.query import NumberClause, SearchIndex, TextClause, parse_query, sort_positions

RECORDS = [
    Record(
        id="adomako2025acute",
        title="Acute lymphoblastic leukemia relapse: biomarkers, hopes, and challenges.",
        authors=(
            Author(family="Adomako", given="Joseph"),
            Author(family="Núñez-Enriquez", given="Juan C"),
        ),
        journal="Trends in molecular medicine",
        year=2025,
        date="2025-05-23",
        doi="10.1016/j.molmed.2025.04.005",
        abstract="Acute lymphoblastic leukemia (ALL) is the most common pediatric malignancy.",
        citation_count=0,
        impact_factor=12.8,
        jcr_quartile="Q1",
        open_access=False,
        keywords=("leukemia", "relapse"),
    ),
    Record(
        id="hamalainen1993magnetoencephalography",
        title="Magnetoencephalography—theory, instrumentation, and applications",
        authors=(Author(family="Hämäläinen", given="Matti"), Author(family="Hari", given="Riitta")),
        journal="Reviews of Modern Physics",
        year=1993,
        date="1993-04",
        doi="10.1103/RevModPhys.65.413",
        citation_count=4000,
        impact_factor=45.0,
        jcr_quartile="Q1",
    ),
    Record(
        id="smith2019mouse",
        title="A mouse model of leukemia",
        authors=(Author(family="Smith", given="Ann"),),
        journal="Blood",
        year=2019,
        date="2019",
        citation_count=120,
        jcr_quartile="Q2",
        impact_factor=8.1,
        open_access=True,
        pdf_url="https://example.org/x.pdf",
    ),
    Record(
        id="encode2012integrated",
        title="An integrated encyclopedia of DNA elements in the human genome",
        authors=(Author(literal="The ENCODE Project Consortium"),),
        journal="Nature",
        year=2012,
        doi="10.1038/nature11247",
        keywords=("genomics",),
    ),
]
INDEX = SearchIndex.from_records(RECORDS)


def ids(query: str) -> list[str]:
    """Ids of the records matching a query, in library order."""
    return [RECORDS[i].id for i in INDEX.search(query)]


def test_no_query_matches_everything() -> None:
    """An empty query selects every record."""
    assert len(ids("")) == 4


def test_words_are_anded_and_match_word_starts() -> None:
    """`leuk` finds leukemia; every word must match; `emia` is not a word start."""
    assert ids("leuk") == ["adomako2025acute", "smith2019mouse"]
    assert ids("leukemia mouse") == ["smith2019mouse"]
    assert ids("emia") == []


def test_case_and_accent_insensitive() -> None:
    """hamalainen finds Hämäläinen, NUNEZ finds Núñez."""
    assert ids("hamalainen") == ["hamalainen1993magnetoencephalography"]
    assert ids("NUNEZ") == ["adomako2025acute"]
    assert ids("Hämäläinen") == ["hamalainen1993magnetoencephalography"]


def test_fielded_prefixes() -> None:
    """author:/a:, title:/t:, journal:/j:, doi:, kw: search one field each."""
    assert ids("a:smith") == ["smith2019mouse"]
    assert ids("author:consortium") == ["encode2012integrated"]
    assert ids("t:mouse") == ["smith2019mouse"]
    assert ids("title:medicine") == []
    assert ids("j:blood") == ["smith2019mouse"]
    assert ids("journal:nature") == ["encode2012integrated"]
    assert ids("doi:10.1038") == ["encode2012integrated"]
    assert ids("kw:genomics") == ["encode2012integrated"]


def test_pasted_doi_and_doi_url_find_the_record() -> None:
    """A DOI or DOI URL typed as plain text matches the DOI, case-insensitively."""
    assert ids("10.1016/J.MOLMED.2025.04.005") == ["adomako2025acute"]
    assert ids("https://doi.org/10.1103/revmodphys.65.413") == [
        "hamalainen1993magnetoencephalography"
    ]


def test_abstract_words_match() -> None:
    """Words only in the abstract still find the record."""
    assert ids("pediatric") == ["adomako2025acute"]


def test_phrases() -> None:
    """Quoted words must appear together, in order."""
    assert ids('"acute lymphoblastic"') == ["adomako2025acute"]
    assert ids('"lymphoblastic acute"') == []
    assert ids('t:"mouse model"') == ["smith2019mouse"]


def test_exclusion() -> None:
    """-word drops records that contain it."""
    assert ids("leukemia -mouse") == ["adomako2025acute"]
    assert ids("-a:smith -a:adomako") == [
        "hamalainen1993magnetoencephalography",
        "encode2012integrated",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("year:2019", ["smith2019mouse"]),
        ("year:2012..2019", ["smith2019mouse", "encode2012integrated"]),
        ("year:>=2019", ["adomako2025acute", "smith2019mouse"]),
        ("year:>2019", ["adomako2025acute"]),
        ("year:<2000", ["hamalainen1993magnetoencephalography"]),
        ("year:2020..", ["adomako2025acute"]),
        ("year:1990-1995", ["hamalainen1993magnetoencephalography"]),
    ],
)
def test_year_filters(query: str, expected: list[str]) -> None:
    """Exact years, ranges and comparisons."""
    assert ids(query) == expected


def test_metric_filters() -> None:
    """Quartile, impact factor, citations, open access and presence filters."""
    assert ids("q:Q1") == ["adomako2025acute", "hamalainen1993magnetoencephalography"]
    assert ids("q:<=Q2 leukemia") == ["adomako2025acute", "smith2019mouse"]
    assert ids("if:>10") == ["adomako2025acute", "hamalainen1993magnetoencephalography"]
    assert ids("cites:>=100") == ["hamalainen1993magnetoencephalography", "smith2019mouse"]
    assert ids("is:oa") == ["smith2019mouse"]
    assert ids("-has:doi") == ["smith2019mouse"]
    assert ids("has:pdf") == ["smith2019mouse"]


def test_bad_filters_are_reported_not_guessed() -> None:
    """year:abc and is:nonsense are errors the user sees."""
    assert parse_query("year:abc").errors
    assert parse_query("is:nonsense").errors
    assert not parse_query("covid:19 leukemia").errors


def test_unknown_prefix_is_plain_text() -> None:
    """`covid:19` is not a field: it is searched as words."""
    assert parse_query("covid:19").clauses == (TextClause(" covid 19"),)


def test_parse_shapes() -> None:
    """Clauses carry field, negation and ranges."""
    query = parse_query('-a:smith "x y" year:2018..2022')
    assert query.clauses == (
        TextClause(" smith", "authors", True),
        TextClause(" x y"),
        NumberClause("year", 2018, 2022),
    )


def test_hostile_query_text_does_not_crash() -> None:
    """Unbalanced quotes, lone dashes and markup are just text."""
    for text in ['"unclosed', "-", "a:", "[bold]x[/]", "year:", "((", "\x1b[2J"]:
        INDEX.search(text)


def test_search_within_previous_results() -> None:
    """Narrowing earlier results gives the same answer as searching everything."""
    first = INDEX.search("leu")
    assert INDEX.search("leukemia", within=first) == INDEX.search("leukemia")


def test_relevance_puts_title_matches_first() -> None:
    """A title hit outranks an abstract-only hit."""
    query = parse_query("leukemia")
    order = sort_positions(INDEX, INDEX.search(query), "relevance", query)
    assert RECORDS[order[0]].id in ("adomako2025acute", "smith2019mouse")
    query = parse_query("pediatric malignancy")
    assert sort_positions(INDEX, INDEX.search(query), "relevance", query) == [0]


def test_sort_orders() -> None:
    """Sorting by year, citations, impact and title; missing values last."""
    everything = INDEX.search("")
    by_year = [RECORDS[i].year for i in sort_positions(INDEX, everything, "year")]
    assert by_year == [2025, 2019, 2012, 1993]
    by_year_reversed = [
        RECORDS[i].year for i in sort_positions(INDEX, everything, "year", reverse=True)
    ]
    assert by_year_reversed == [1993, 2012, 2019, 2025]
    by_cites = [RECORDS[i].id for i in sort_positions(INDEX, everything, "citations")]
    assert (
        by_cites[0] == "hamalainen1993magnetoencephalography"
        and by_cites[-1] == "encode2012integrated"
    )
    by_title = [RECORDS[i].title[:3] for i in sort_positions(INDEX, everything, "title")]  # type: ignore[index]
    assert by_title == ["A m", "Acu", "An ", "Mag"]


def _brute_force(records: list[Record], text: str) -> list[int]:
    """The obvious reading of a text-only query, record by record: the oracle."""
    from tui.normalize import haystack

    query = parse_query(text)
    found = []
    for position, record in enumerate(records):
        fields = {
            "title": haystack(record.title),
            "authors": haystack(" ; ".join(record.author_names)),
            "journal": haystack(record.journal),
            "keywords": haystack(" ; ".join(record.keywords)),
            "tags": haystack(" ; ".join(record.tags)),
            "abstract": haystack(record.abstract),
        }
        anywhere = [*fields.values(), haystack(record.doi)]
        ok = True
        for clause in query.clauses:
            assert isinstance(clause, TextClause)
            if clause.field == "doi":
                hit = clause.needle in (record.doi or "").lower()
            elif clause.field:
                hit = clause.needle in fields[clause.field]
            else:
                hit = any(clause.needle in hay for hay in anywhere)
            ok = ok and hit != clause.negate
        if ok:
            found.append(position)
    return found


def test_word_index_answers_like_brute_force(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inverted word index (used at scale) finds exactly what checking every record finds."""
    import tui.query
    from tests.conftest import sample_store

    records = sample_store().all()
    index = SearchIndex.from_records(records)
    assert index.words is not None
    queries = [
        "l", "le", "leuk", "leukemia", "cell", "brain", "a:smith", "a:h", "t:the", "j:neuro",
        '"magnetic resonance"', '"of the"', "meg eeg", "nunez", "hämäläinen", "10.1016",
        "kw:genom", "-the", "neuro -imaging", "x", "zzzz", "2019", "ab:cohort", "covid-19",
        "-ab:the", '-"of the"', "doi:10.1038",
    ]  # fmt: skip
    for limit in (0, 3000):  # fielded clauses: through the index, and by scanning
        monkeypatch.setattr(tui.query, "SCAN_LIMIT", limit)
        for text in queries:
            assert index.search(text) == _brute_force(records, text), (limit, text)
            first = index.search(text.split()[0][:2])
            narrowed = [i for i in _brute_force(records, text) if i in set(first)]
            assert index.search(text, within=first) == narrowed, (limit, text)
