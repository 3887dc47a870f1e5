"""The CSL-JSON converter, on real Manubot/deep-review bibliographies and small edge cases."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tui.formats import ParseResult, csl_json, parse_text, read_file
from tui.models import Author, Record

DATA = Path(__file__).parent.parent / "data" / "csl-json"
DEEP_REVIEW = DATA / "deep-review-references.json"
MANUAL = DATA / "deep-review-manual-references.json"
MANUBOT = DATA / "manubot-test-csl-items.json"


def parse(items: list[dict] | dict) -> ParseResult:
    return parse_text(orjson.dumps(items).decode(), "x.json", format="json_records")


def by_key(result: ParseResult, key: str) -> Record:
    return next(record for record in result.records if record.key == key)


@pytest.fixture(scope="module")
def deep_review() -> ParseResult:
    return read_file(DEEP_REVIEW)


def test_deep_review_counts_match_the_file(deep_review: ParseResult) -> None:
    # 615 items: one (SqhJCztH) has only a URL, so it is reported, not imported.
    assert len(orjson.loads(DEEP_REVIEW.read_bytes())) == 615
    assert len(deep_review.records) == 614
    assert deep_review.failed == 1
    (issue,) = deep_review.issues
    assert issue.entry == "entry 594 (SqhJCztH)"
    assert issue.line == 26434  # where the item's "{" is in the file
    assert "no title, DOI or author" in issue.message
    assert {r.source[0].format for r in deep_review.records} == {"csl_json"}
    assert sum(1 for r in deep_review.records if r.doi) == 435


def test_manual_references_and_manubot_items_counts() -> None:
    manual = read_file(MANUAL)
    assert len(orjson.loads(MANUAL.read_bytes())) == 36
    assert (len(manual.records), manual.failed, manual.issues) == (36, 0, [])
    manubot = read_file(MANUBOT)
    assert len(orjson.loads(MANUBOT.read_bytes())) == 13
    # The excess-date-parts test item has no title, DOI or author: reported, not imported.
    assert (len(manubot.records), manubot.failed) == (12, 1)
    assert manubot.issues[0].entry == "entry 10 (excess-date-parts-csl)"


def test_consortium_literal_authors_stay_whole(deep_review: ParseResult) -> None:
    encode = by_key(deep_review, "15J98V2qM")
    assert encode.title == "An integrated encyclopedia of DNA elements in the human genome"
    assert encode.doi == "10.1038/nature11247"
    assert encode.authors == (Author(literal="The ENCODE Project Consortium"),)
    assert encode.first_author == "The ENCODE Project Consortium"
    page = by_key(deep_review, "dKwyEWWF")
    assert Author(literal="for the PAGE Consortium") in page.authors
    assert page.authors[0] == Author(family="Carlson", given="Christopher S.")


def test_family_only_names_and_particles(deep_review: ParseResult) -> None:
    nih = by_key(deep_review, "ru0hjGeQ")
    assert nih.authors == (Author(family="NIH"),)
    assert nih.type == "webpage" and nih.doi is None
    tsne = by_key(deep_review, "TGyu2Woj")
    assert tsne.title == "Visualizing Data using t-SNE"
    # "dropping-particle": "van der" joins the family name, as the model wants.
    assert tsne.authors[0] == Author(family="van der Maaten", given="Laurens")


def test_string_date_parts_and_newlines_in_titles(deep_review: ParseResult) -> None:
    # "issued": {"date-parts": [["2016", 11, 22]]}
    validation = by_key(deep_review, "ir7ElHha")
    assert (validation.year, validation.date) == (2016, "2016-11-22")
    assert validation.journal == "Briefings in Bioinformatics"
    fooled = by_key(deep_review, "1AkF8Wsv7")
    assert fooled.title == (
        "Deep Neural Networks are Easily Fooled: High Confidence Predictions for "
        "Unrecognizable Images"
    )


def test_identifiers_and_extra(deep_review: ParseResult) -> None:
    scihub = by_key(read_file(MANUBOT), "vkig9eAb")
    assert scihub.pmid == "29424689" and scihub.pmcid == "PMC5832410"
    assert scihub.editors == (Author(family="Rodgers", given="Peter A"),)
    deep = by_key(read_file(MANUBOT), "PZMP42Ak")
    assert deep.issn == "1742-5689"
    assert deep.extra["csl_json"]["ISSN"] == ["1742-5689", "1742-5662"]
    # Manubot's Crossref-derived items keep Crossref's counts and references in extra.
    assert len(deep.extra["csl_json"]["reference"]) > 100
    assert deep.citation_count is not None
    hogwild = by_key(deep_review, "3qm8sXnB")
    assert hogwild.type == "report"
    assert hogwild.extra["csl_json"]["number"] == "1106.5730"
    assert "Manubot" in hogwild.extra["csl_json"]["note"]
    assert hogwild.abstract and hogwild.abstract.startswith("Stochastic Gradient Descent")


def test_malformed_date_parts_do_not_break_items() -> None:
    manubot = read_file(MANUBOT)
    empty, null = [r for r in manubot.records if r.key == "WDvu1SAV"]
    assert empty.title == "The arXiv of the future will not look like the arXiv"
    assert (empty.year, empty.date) == (None, None)  # "date-parts": [[]]
    assert (null.year, null.date, null.type) == (None, None, "entry")  # [[null]]
    excess = parse(
        {"type": "book", "title": "X", "issued": {"date-parts": [[2018, 10, 21, 13]]}}
    ).records[0]
    assert excess.date == "2018-10-21"


def test_small_csl_items_cover_the_other_shapes() -> None:
    result = parse(
        [
            {
                "id": "k1",
                "type": "chapter",
                "title": "A <i>chapter</i>",
                "author": [
                    {"family": "Rossum", "non-dropping-particle": "van", "given": "Guido"},
                    {"family": "King", "given": "Martin Luther", "suffix": "Jr."},
                    {"given": ""},
                ],
                "issued": {"raw": "2019-03"},
                "keyword": "deep learning, genomics; biology",
                "ISBN": ["978-1-57735-770-4"],
                "abstract": "<jats:p>First.</jats:p><jats:p>Second.</jats:p>",
                "DOI": "https://doi.org/10.1000/ABC%5B1%5D",
                "empty": "",
                "nothing": None,
            }
        ]
    )
    (record,) = result.records
    assert record.title == "A chapter"
    assert record.authors == (
        Author(family="van Rossum", given="Guido"),
        Author(family="King", given="Martin Luther", suffix="Jr."),
    )
    assert record.date == "2019-03"
    assert record.keywords == ("deep learning", "genomics", "biology")
    assert record.isbn == "978-1-57735-770-4"
    assert record.abstract == "First.\n\nSecond."
    assert record.doi == "10.1000/ABC[1]"
    assert record.key == "k1"
    assert record.extra == {}  # nulls and blanks are not kept


def test_matches_leaves_crossref_works_to_crossref() -> None:
    assert csl_json.matches({"type": "book", "title": "T"})
    assert not csl_json.matches({"type": "journal-article", "title": ["T"], "DOI": "10.1/x"})
    assert not csl_json.matches({"type": "x"})
    assert not csl_json.matches({"title": "no type"})


def test_csl_date_shapes() -> None:
    assert csl_json.csl_date({"date-parts": [["2011", "06", "28"]]}) == ["2011", "06", "28"]
    assert csl_json.csl_date({"date-parts": [[]]}) is None
    assert csl_json.csl_date({"date-parts": [[None]]}) is None
    assert csl_json.csl_date({"date-parts": []}) is None
    assert csl_json.csl_date({"literal": "Spring 2019"}) == "Spring 2019"
    assert csl_json.csl_date("2020-01-02") == "2020-01-02"
    assert csl_json.csl_date(True) is None
