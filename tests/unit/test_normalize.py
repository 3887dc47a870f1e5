"""Normalization of messy source values, in the one place it happens."""

from __future__ import annotations

import pytest

from tui.models import Author
from tui.normalize import (
    InvalidDOI,
    build_record,
    clean_html_block,
    clean_line,
    clean_pages,
    find_doi,
    fold,
    normalize_doi,
    parse_date,
    parse_person,
    to_float,
    to_int,
    to_quartile,
)


@pytest.mark.parametrize(
    ("raw", "doi"),
    [
        ("10.1016/j.molmed.2025.04.005", "10.1016/j.molmed.2025.04.005"),
        ("https://doi.org/10.1016/J.MOLMED.2025.04.005", "10.1016/J.MOLMED.2025.04.005"),
        ("http://dx.doi.org/10.1038/nature12373", "10.1038/nature12373"),
        ("doi:10.1038/nature12373", "10.1038/nature12373"),
        ("DOI: 10.1038/nature12373 ", "10.1038/nature12373"),
        (
            "https://doi.org/10.1890/0012-9658(2006)87%5B2832:tiopma%5D2.0.co;2",
            "10.1890/0012-9658(2006)87[2832:tiopma]2.0.co;2",
        ),
        (
            "10.1002/(SICI)1097-4636(199706)35:4<411::AID-JBM1>3.0.CO;2-X",
            "10.1002/(SICI)1097-4636(199706)35:4<411::AID-JBM1>3.0.CO;2-X",
        ),
        ("   ", None),
        (None, None),
    ],
)
def test_doi_spellings_become_the_bare_doi(raw: str | None, doi: str | None) -> None:
    """DOI URLs, doi: prefixes and whitespace are stripped; blank is None."""
    assert normalize_doi(raw) == doi


@pytest.mark.parametrize("raw", ["not a doi", "11.1000/x", "10.12/x", "https://example.org/paper"])
def test_malformed_doi_is_rejected(raw: str) -> None:
    """A value that is not a DOI raises, so it can be reported instead of stored."""
    with pytest.raises(InvalidDOI):
        normalize_doi(raw)


def test_malformed_doi_is_kept_out_of_the_record_and_reported() -> None:
    """build_record moves a bad DOI to extra and says so."""
    warnings: list[str] = []
    record = build_record(format="x", file="f", warnings=warnings, title="T", doi="doi: nope")
    assert record.doi is None
    assert record.extra == {"x": {"invalid_doi": "doi: nope"}}
    assert warnings and "malformed DOI" in warnings[0]


def test_find_doi_in_free_text() -> None:
    """A DOI mentioned in a note is found without its trailing punctuation."""
    assert find_doi("See doi: 10.1000/xyz123. Thanks") == "10.1000/xyz123"
    assert find_doi("nothing here") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-05-23", (2025, "2025-05-23")),
        ("1990/2/27", (1990, "1990-02-27")),
        ("2019/03/12/T20:12:22Z", (2019, "2019-03-12")),
        ("2019///", (2019, "2019")),
        ("2019 Mar 12", (2019, "2019-03-12")),
        ("1998 Dec-1999 Jan", (1998, "1998-12")),
        ("2018 Spring", (2018, "2018-03")),
        ("May 2019", (2019, "2019-05")),
        ("12 March 2019", (2019, "2019-03-12")),
        ([["2011", "06", "28"]], (2011, "2011-06-28")),
        ([[2011]], (2011, "2011")),
        (2020, (2020, "2020")),
        ("", (None, None)),
        ("in press", (None, None)),
        ([[]], (None, None)),
    ],
)
def test_dates_from_real_sources(raw: object, expected: tuple[int | None, str | None]) -> None:
    """ISO, RIS, MEDLINE, CSL date-parts and plain years all read as year + ISO date."""
    assert parse_date(raw) == expected


def test_numbers_stored_as_strings_become_numbers() -> None:
    """ "0" is 0, "12.8000" is 12.8, junk and NaN are None, never a crash."""
    assert to_int("0") == 0
    assert to_int(" 1,234 ") == 1234
    assert to_int("12.0") == 12
    assert to_int("n/a") is None
    assert to_int(True) is None
    assert to_float("12.8000") == 12.8
    assert to_float(float("nan")) is None
    assert to_float("12,8") == 12.8
    assert to_quartile("q1") == "Q1"
    assert to_quartile("2") == "Q2"
    assert to_quartile("Q5") is None


def test_blank_values_become_none() -> None:
    """The seed's `"volume":" "` is no volume."""
    warnings: list[str] = []
    record = build_record(format="x", file="f", warnings=warnings, title="T", volume=" ", pages="")
    assert record.volume is None and record.pages is None


def test_html_abstract_becomes_clean_text() -> None:
    """Nested <p>, inline tags, subscripts and entities become plain paragraphs."""
    text = clean_html_block(
        "<p><p>CO<sub>2</sub> &amp; <i>E. coli</i> grew&nbsp;fast.</p><p>Second &lt;p&gt;.</p>"
    )
    assert text == "CO2 & E. coli grew fast.\n\nSecond <p>."


def test_jats_abstract_becomes_clean_text() -> None:
    """Crossref's JATS markup is removed too."""
    text = clean_html_block(
        "<jats:title>Abstract</jats:title>"
        "<jats:p>Cells <jats:italic>in vitro</jats:italic>.</jats:p>"
    )
    assert text == "Abstract\n\nCells in vitro."


def test_text_that_only_looks_like_html_is_kept() -> None:
    """Comparisons in abstracts are not tags."""
    assert clean_html_block("p < 0.05 and n > 3") == "p < 0.05 and n > 3"


def test_control_characters_are_removed_tab_and_newline_kept() -> None:
    """ESC, C1, NUL, DEL and bidi overrides cannot reach a terminal from a record."""
    raw = "A\x1b]52;c;aGk=\x07B\x9b2J\x00C\x7fD\u202eE\tF"
    assert clean_line(raw) == "A]52;c;aGk=B2JCDE F"
    block = clean_html_block("line one\x1b[2J\n\nline\ttwo")
    assert block == "line one[2J\n\nline two"
    assert "\x1b" not in (clean_line("\x1b]8;;https://evil.example\x1b\\x") or "")


def test_page_ranges() -> None:
    """--, en dashes and spaced hyphens all become a plain hyphen."""
    assert clean_pages("123--130") == "123-130"
    assert clean_pages("123 – 130") == "123-130"
    assert clean_pages("e1001") == "e1001"


@pytest.mark.parametrize(
    ("raw", "author"),
    [
        ("Karina E Jiménez-Camacho", Author(family="Jiménez-Camacho", given="Karina E")),
        ("Guido van Rossum", Author(family="van Rossum", given="Guido")),
        ("van Rossum, Guido", Author(family="van Rossum", given="Guido")),
        ("von Hicks, III, Michael", Author(family="von Hicks", given="Michael", suffix="III")),
        ("Martin Luther King Jr.", Author(family="King", given="Martin Luther", suffix="Jr.")),
        ("Plato", Author(family="Plato")),
    ],
)
def test_person_names(raw: str, author: Author) -> None:
    """Both name orders, particles and suffixes."""
    assert parse_person(raw) == author


def test_fold_ignores_case_and_accents() -> None:
    """Núñez, NUNEZ and nunez fold alike, and so do letters NFKD cannot split."""
    assert fold("Núñez") == fold("NUNEZ") == "nunez"
    assert fold("Łódź Søren Straße") == "lodz soren strasse"
