"""The query language and index shared by `refdeck search` and the browser."""

from __future__ import annotations

import pytest

from tui.library import RecordStore, Snapshot
from tui.models import Author, Record
from tui.query import NumberClause, TextClause, parse_query

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
_VIEWS: list[Snapshot] = []


def view() -> Snapshot:
    """A library of the four records above (built once)."""
    if not _VIEWS:
        store = RecordStore.in_memory(RECORDS)
        _VIEWS.append(store.snapshot())
        _STORES.append(store)
    return _VIEWS[0]


_STORES: list[RecordStore] = []


def ordered(query: str, sort: str = "relevance", reverse: bool = False) -> list[str]:
    """Ids (as given above) of the records matching a query, in the order asked for."""
    # The library gives records its own ids; seq n is the nth record imported.
    return [RECORDS[seq - 1].id for seq in view().search(query, sort, reverse)]


def ids(query: str) -> list[str]:
    """Ids of the records matching a query, in library order."""
    by_position = {record.id: n for n, record in enumerate(RECORDS)}
    return sorted(ordered(query), key=by_position.__getitem__)


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


def test_hostile_query_text_is_just_text() -> None:
    """Unbalanced quotes, lone dashes, markup and FTS syntax are words, or reported errors:
    never a crash, and never an FTS5 expression of their own."""
    for text in [
        '"unclosed',
        "-",
        "a:",
        "[bold]x[/]",
        "((",
        "\x1b[2J",
        'x" OR "y',
        "NEAR(a b)",
        "*",
        "^a",
    ]:
        assert parse_query(text).errors == ()
        assert set(ordered(text)) <= {r.id for r in RECORDS}, text
    assert ordered('leuk" OR "x') == []  # the quote is no way out of a phrase
    assert ordered("OR") == [] and ordered("AND") == ordered("and") != []


def test_relevance_puts_title_matches_first() -> None:
    """A title hit outranks an abstract-only hit; ties go to the most cited."""
    # Both have it in the title; one has it as a keyword too, and earlier in its title.
    assert ordered("leukemia") == ["adomako2025acute", "smith2019mouse"]
    assert ordered("pediatric malignancy") == ["adomako2025acute"]
    assert ordered("acute") == ["adomako2025acute"]
    assert ordered("leukemia", reverse=True) == ["smith2019mouse", "adomako2025acute"]


def test_an_exact_doi_ranks_first() -> None:
    """Pasting a DOI ranks the record with exactly that DOI above ones that merely contain it."""
    assert ordered("doi:10.1")[0] in {r.id for r in RECORDS}
    assert ordered("doi:10.1038/nature11247") == ["encode2012integrated"]


def test_sort_orders() -> None:
    """Sorting by year, citations, impact and title; missing values last."""
    years = {r.id: r.year for r in RECORDS}
    assert [years[i] for i in ordered("", "year")] == [2025, 2019, 2012, 1993]
    assert [years[i] for i in ordered("", "year", reverse=True)] == [1993, 2012, 2019, 2025]
    by_cites = ordered("", "citations")
    assert by_cites[0] == "hamalainen1993magnetoencephalography"
    assert by_cites[-1] == "encode2012integrated"
    by_title = {r.id: (r.title or "")[:3] for r in RECORDS}
    assert [by_title[i] for i in ordered("", "title")] == ["A m", "Acu", "An ", "Mag"]
    assert ordered("", "impact")[-1] == "encode2012integrated"  # it has no impact factor


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


def test_the_index_answers_like_brute_force() -> None:
    """The index's word table finds exactly what checking every record's text finds."""
    from tests.conftest import sample_store

    store = sample_store()
    records = store.all()
    queries = [
        "l", "le", "leuk", "leukemia", "cell", "brain", "a:smith", "a:h", "t:the", "j:neuro",
        '"magnetic resonance"', '"of the"', "meg eeg", "nunez", "hämäläinen", "10.1016",
        "kw:genom", "-the", "neuro -imaging", "x", "zzzz", "2019", "ab:cohort", "covid-19",
        "-ab:the", '-"of the"', "doi:10.1038", "tag:x", "-doi:10.1",
    ]  # fmt: skip
    with store.view() as snapshot:
        position = {seq: n for n, seq in enumerate(snapshot.search(""))}
        for text in queries:
            found = sorted(position[seq] for seq in snapshot.search(text))
            assert found == _brute_force(records, text), text
