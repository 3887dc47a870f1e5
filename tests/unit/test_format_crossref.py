"""The Crossref works converter, on recorded `/works` API responses."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tui.formats import ParseResult, crossref, parse_text, read_file
from tui.models import Author, Record

DATA = Path(__file__).parent.parent / "data" / "crossref"
WORKS = DATA / "commonmeta-crossref-works.jsonl"
LIST = DATA / "commonmeta-crossref-works-sample5-list-response.json"


@pytest.fixture(scope="module")
def works() -> ParseResult:
    return read_file(WORKS)


def by_doi(result: ParseResult, doi: str) -> Record:
    return next(record for record in result.records if record.doi == doi)


def test_counts_match_the_files(works: ParseResult) -> None:
    assert len(WORKS.read_text(encoding="utf-8").splitlines()) == 24
    assert (len(works.records), works.failed, works.issues) == (24, 0, [])
    assert {r.source[0].format for r in works.records} == {"crossref"}
    listed = read_file(LIST)
    assert len(orjson.loads(LIST.read_bytes())["message"]["items"]) == 5
    assert (len(listed.records), listed.issues) == (5, [])


def test_multiple_titles_first_is_the_title(works: ParseResult) -> None:
    record = by_doi(works, "10.1007/s00120-007-1345-2")
    assert record.title == "Penisverletzung durch eine Moulinette"
    assert record.extra["crossref"]["other-titles"] == ["Penile injury caused by a Moulinette"]
    assert record.language == "de"
    assert record.journal == "Der Urologe"
    assert (record.volume, record.issue, record.pages) == ("46", "7", "776-779")
    assert record.authors == (Author(family="Lehsnau", given="M."),)
    assert record.issn == "0340-2592"
    assert record.pdf_url == "https://link.springer.com/content/pdf/10.1007/s00120-007-1345-2.pdf"


def test_types_map_to_csl(works: ParseResult) -> None:
    expected = {
        "10.1045/january2017-burton": "article-journal",
        "10.54900/rckn8ey-1fm76va-qsrnf": "article",  # posted-content (blog)
        "10.1007/978-3-662-46370-3_13": "chapter",
        "10.1109/iccv.2007.4408927": "paper-conference",
        "10.14264/uql.2020.791": "thesis",
        "10.1017/9781108348843": "book",  # monograph
        "10.1371/journal.pmed.0030277.g001": "document",  # component
        "10.2210/pdb4hhb/pdb": "dataset",
        "10.7554/elife.55167.sa2": "review",  # peer-review
    }
    for doi, kind in expected.items():
        record = by_doi(works, doi)
        assert record.type == kind, doi
        assert record.extra["crossref"]["type"]  # the original type is kept


def test_jats_abstract_and_markup_in_title(works: ParseResult) -> None:
    record = by_doi(works, "10.1101/2020.12.01.406702")
    assert record.title == (
        "Identification of a novel cationic glycolipid in Streptococcus agalactiae "
        "that contributes to brain entry and meningitis"
    )
    assert record.abstract and record.abstract.startswith("Bacterial membrane lipids are critical")
    assert "<" not in record.abstract and "Abstract" not in record.abstract[:20]
    assert record.journal == "bioRxiv"  # a preprint's server, from `institution`
    assert record.year == 2020


def test_citation_counts_dates_and_identifiers(works: ParseResult) -> None:
    elife = by_doi(works, "10.7554/elife.01567")
    assert elife.citation_count == 36  # is-referenced-by-count
    assert elife.pages == "e01567"  # article-number, since there are no pages
    assert elife.pdf_url == "https://cdn.elifesciences.org/articles/01567/elife-01567-v1.pdf"
    assert elife.authors[0] == Author(family="Sankar", given="Martial")
    assert "affiliation" in elife.extra["crossref"]["author"][0]
    archived = by_doi(works, "10.5694/j.1326-5377.1943.tb44329.x")
    assert archived.year == 1943
    book = by_doi(works, "10.1017/9781108348843")
    assert book.isbn == "9781108348843"
    assert len(book.extra["crossref"]["ISBN"]) == 3
    # CJK characters in the reference list survive in extra.
    references = orjson.dumps(book.extra["crossref"]["reference"]).decode()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in references)
    funded = by_doi(works, "10.1145/3448016.3452841")
    assert funded.extra["crossref"]["funder"]
    assert (
        funded.journal == "Proceedings of the 2021 International Conference on Management of Data"
    )


def test_work_without_title_or_authors_imports_by_doi(works: ParseResult) -> None:
    component = by_doi(works, "10.1371/journal.pmed.0030277.g001")
    assert (component.title, component.authors) == (None, ())


def test_work_list_envelope(works: ParseResult) -> None:
    listed = read_file(LIST)
    first = listed.records[0]
    assert first.doi == "10.1080/19420889.2017.1395120"
    assert first.title == "The dire side of autophagy in aging: Lessons from C. elegans"
    assert first.journal == "Communicative & Integrative Biology"
    sici = by_doi(listed, "10.1016/0091-3057(84)90081-9")
    assert sici.title == "Trichloroethylene: Possible opioid involvement"


def test_series_and_proceedings_container_titles() -> None:
    work = {
        "DOI": "10.1007/978-3-642-33191-6_49",
        "type": "book-chapter",
        "title": ["Human Body Orientation Estimation"],
        "container-title": ["Lecture Notes in Computer Science", "Computer Vision - ECCV 2012"],
        "issued": {"date-parts": [[2012]]},
    }
    envelope = {"status": "ok", "message-type": "work", "message": work}
    (record,) = parse_text(orjson.dumps(envelope).decode(), "x.json").records
    assert record.journal == "Computer Vision - ECCV 2012"
    assert record.extra["crossref"]["container-title"][0] == "Lecture Notes in Computer Science"


def test_matches_and_type_mapping() -> None:
    assert crossref.matches({"DOI": "10.1/x", "title": ["T"]})
    assert not crossref.matches({"DOI": "10.1/x", "title": "T"})  # CSL from Crossref
    assert crossref.csl_type("journal-article") == "article-journal"
    assert crossref.csl_type("something-new") == "document"
    assert crossref.csl_type(None) is None
