"""The OpenAlex works converter, on recorded API responses and Zotero's test inputs."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tui.formats import ParseResult, openalex, parse_text, read_file
from tui.models import Author, Record

DATA = Path(__file__).parent.parent / "data" / "openalex"
COMMONMETA = DATA / "commonmeta-openalex-works.jsonl"
COMMONMETA_LIST = DATA / "commonmeta-openalex-works-sample5-list-response.json"
ZOTERO = DATA / "zotero-openalex-works.jsonl"
ZOTERO_LIST = DATA / "zotero-openalex-works-list-response.json"


@pytest.fixture(scope="module")
def works() -> ParseResult:
    return read_file(COMMONMETA)


def by_doi(result: ParseResult, doi: str | None, title: str = "") -> Record:
    return next(r for r in result.records if r.doi == doi and (r.title or "").startswith(title))


def one_work(**fields: object) -> Record:
    work = {"id": "https://openalex.org/W1", "title": "A work", **fields}
    result = parse_text(orjson.dumps(work).decode(), "w.json", format="json_records")
    assert result.issues == [] or all(i.severity == "warning" for i in result.issues)
    return result.records[0]


@pytest.mark.parametrize(
    ("path", "count"), [(COMMONMETA, 26), (ZOTERO, 7), (COMMONMETA_LIST, 5), (ZOTERO_LIST, 5)]
)
def test_counts_match_the_files(path: Path, count: int) -> None:
    result = read_file(path)
    assert (len(result.records), result.failed, result.issues) == (count, 0, [])
    assert {r.source[0].format for r in result.records} == {"openalex"}


def test_sici_doi_from_its_url_form(works: ParseResult) -> None:
    record = by_doi(works, "10.1890/0012-9658(2006)87[2832:tiopma]2.0.co;2")
    assert record.title.startswith("THE IMPACT OF PARASITE MANIPULATION")
    assert record.pmid == "17168027"  # from "https://pubmed.ncbi.nlm.nih.gov/17168027"
    assert (record.journal, record.volume, record.issue) == ("Ecology", "87", "11")
    assert record.pages == "2832-2841"
    assert record.citation_count == 130
    # The same work with its DOI URL percent-encoded, as OpenAlex's own links write it.
    encoded = one_work(doi="https://doi.org/10.1890/0012-9658(2006)87%5B2832:tiopma%5D2.0.co;2")
    assert encoded.doi == "10.1890/0012-9658(2006)87[2832:tiopma]2.0.co;2"


def test_null_title_and_japanese_journal(works: ParseResult) -> None:
    record = by_doi(works, "10.7600/jspfsm.56.60")
    assert record.title is None  # "title": "" and "display_name": ""
    assert record.journal == "Japanese Journal of Physical Fitness and Sports Medicine"
    # CJK names are family name first: 宮地 is the family name.
    assert record.authors == (
        Author(family="宮地", given="元彦"),
        Author(family="山元", given="健太"),
    )
    assert record.pdf_url == "https://www.jstage.jst.go.jp/article/jspfsm/56/1/56_1_60/_pdf"
    assert record.open_access is True
    assert record.pages == "60"  # first_page == last_page


def test_abstract_rebuilt_in_word_order(works: ParseResult) -> None:
    record = by_doi(works, "10.7554/elife.01567")
    assert record.abstract.startswith(
        "Among various advantages, their small size makes model organisms preferred "
        "subjects of investigation. Yet, even in model systems detailed analysis"
    )
    assert "abstract_inverted_index" not in record.extra["openalex"]
    assert record.citation_count == 45
    assert record.pmid == "24520159"
    assert "Plant Molecular Biology Research" in record.keywords  # a topic
    # oa_url is the DOI landing page here, not a PDF: it is not taken as one.
    assert record.pdf_url is None
    assert record.url == "https://doi.org/10.7554/elife.01567"


def test_rebuild_abstract_orders_by_position() -> None:
    index = {"world": [1], "hello": [0, 2], "junk": [-1, "x", True, 10**12], "again": "no"}
    assert openalex.rebuild_abstract(index) == "hello world hello"
    assert openalex.rebuild_abstract(None) is None
    assert openalex.rebuild_abstract({}) is None


def test_neurips_work_with_null_doi() -> None:
    zotero = read_file(ZOTERO)
    record = by_doi(zotero, None, "Generalizing to Unseen Domains")
    assert record.journal == "Neural Information Processing Systems"
    assert record.type == "paper-conference"  # an "article" whose source is a conference
    assert record.citation_count == 142
    sklearn = by_doi(zotero, "10.48550/arxiv.1201.0490")
    assert sklearn.title == "Scikit-learn: Machine Learning in Python"
    assert sklearn.citation_count == 39943
    assert sklearn.type == "article"  # preprint
    assert len(sklearn.authors) > 10
    assert by_doi(zotero, "10.18130/v3v002").type == "thesis"


def test_types_languages_and_multiple_titles(works: ParseResult) -> None:
    german = by_doi(works, "10.1007/s00120-007-1345-2")
    assert german.title == "Penisverletzung durch eine Moulinette"
    assert german.language == "de"
    assert by_doi(works, "10.2210/pdb4hhb/pdb").type == "dataset"
    assert by_doi(works, "10.1007/978-3-319-75889-3_1").type == "chapter"
    assert by_doi(works, "10.7554/elife.55167.sa2").type == "review"
    listed = read_file(COMMONMETA_LIST)
    portuguese = next(r for r in listed.records if r.language == "pt")
    assert portuguese.title.startswith("A função retórica da lei")
    cyrillic = next(r for r in listed.records if r.journal == "Бизнес. Общество. Власть")
    assert cyrillic.doi is None


def test_missing_author_names_do_not_crash() -> None:
    record = one_work(
        authorships=[
            {"author": {"display_name": None}, "raw_author_name": "Jane Q. Doe"},
            {"author": None},
            {"author": {}},
            "junk",
            {"author": {"display_name": "Peter Wilson"}},
        ]
    )
    assert record.authors == (Author(family="Doe", given="Jane Q."), Author("Wilson", "Peter"))


def test_sparse_work_and_legacy_fields() -> None:
    record = one_work(
        display_name="Shown name",
        title=None,
        primary_location=None,
        host_venue={"display_name": "Old Venue"},
        concepts=[{"display_name": "Biology"}],
        ids={"pmcid": "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5938574"},
        abstract_inverted_index={"bad": "shape"},
    )
    assert record.title == "Shown name"
    assert record.journal == "Old Venue"
    assert record.keywords == ("Biology",)  # concepts only when there are no keywords
    assert record.pmcid == "PMC5938574"
    assert record.extra["openalex"]["abstract_inverted_index"] == {"bad": "shape"}


def test_matches() -> None:
    assert openalex.matches({"id": "https://openalex.org/W2800740883"})
    assert openalex.matches({"authorships": [], "display_name": "x"})
    assert not openalex.matches({"id": "https://openalex.org/A5073955619"})  # an author
    assert not openalex.matches({"title": "x", "type": "article"})
