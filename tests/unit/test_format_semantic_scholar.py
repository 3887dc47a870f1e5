"""The Semantic Scholar converter, on Graph API responses recorded by the `semanticscholar` client."""

from __future__ import annotations

from pathlib import Path

import orjson

from tui.formats import parse_text, read_file, semantic_scholar
from tui.models import Author

DATA = Path(__file__).parent.parent / "data" / "s2"
TURING = DATA / "semanticscholar-paper-turing-citations-truncated.json"
BATCH = DATA / "semanticscholar-paper-batch-response.json"
REFERENCE = DATA / "semanticscholar-reference-item.json"


def test_paper_with_citations_is_one_record() -> None:
    result = read_file(TURING)
    assert (len(result.records), result.issues) == (1, [])
    (record,) = result.records
    assert record.source[0].format == "semantic_scholar"
    assert record.title == "Computing Machinery and Intelligence"
    assert record.doi == "10.1093/MIND/LIX.236.433"
    assert record.authors == (Author(family="Turing", given="A."),)
    assert (record.journal, record.volume, record.pages) == ("Mind", "LIX", "433-460")
    assert (record.year, record.date) == (1950, "1950-10-01")
    assert record.citation_count == 10059
    assert record.open_access is False
    assert record.type == "article-journal"
    assert record.keywords == ("Computer Science", "Sociology")
    extra = record.extra["semantic_scholar"]
    # The 100 citing and 14 cited papers are kept with the record, not imported.
    assert (len(extra["citations"]), len(extra["references"])) == (100, 14)
    assert extra["tldr"]["model"] == "tldr@v2.0.0"
    assert extra["venue"] == "The Philosophy of Artificial Intelligence"
    assert len(extra["embedding"]["vector"]) == 768
    assert "publicationVenue" not in extra  # null


def test_batch_response_null_is_a_warning() -> None:
    assert orjson.loads(BATCH.read_bytes())[0] is None
    result = read_file(BATCH)
    assert len(result.records) == 3 and result.failed == 0
    (warning,) = result.issues
    assert warning.severity == "warning" and warning.entry == "entry 1"
    assert "null" in warning.message
    titles = [r.title for r in result.records]
    assert titles[0] == "How Much Should We Trust Differences-in-Differences Estimates?"
    miracle = result.records[1]
    assert miracle.doi == "10.2139/ssrn.2250500"
    assert (
        miracle.pdf_url
        == "https://dspace.mit.edu/bitstream/1721.1/95941/1/Banerjee_The%20miracle.pdf"
    )
    assert miracle.citation_count == 2185
    assert miracle.type is None  # "publicationTypes": null


def test_reference_item_unwraps_cited_paper() -> None:
    result = read_file(REFERENCE)
    (record,) = result.records
    assert record.title == "Neural Variational Inference and Learning in Belief Networks"
    assert record.authors == (Author("Mnih", "A."), Author("Gregor", "Karol"))
    assert record.journal == "International Conference on Machine Learning"  # from venue
    assert record.type == "paper-conference"  # JournalArticle + Conference
    assert record.pages == "1791-1799"
    context = record.extra["semantic_scholar"]["citedPaper_context"]
    assert context["intents"] == ["background"] and context["isInfluential"] is False
    assert record.extra["semantic_scholar"]["externalIds"]["ArXiv"] == "1402.0030"


def test_data_envelope_and_identifiers() -> None:
    papers = {
        "offset": 0,
        "data": [
            {
                "paperId": "abc",
                "title": "With ids",
                "externalIds": {"DOI": "10.1000/xyz", "PubMed": "123", "PubMedCentral": "456"},
                "authors": [{"authorId": "1", "name": "Jane Doe"}, {"name": None}],
                "openAccessPdf": {"url": "https://x.org/a.pdf"},
                "isOpenAccess": True,
            },
            {"citingPaper": {"paperId": None, "title": "Unresolved citing paper"}},
        ],
    }
    result = parse_text(orjson.dumps(papers).decode(), "s2.json")
    first, second = result.records
    assert (first.doi, first.pmid, first.pmcid) == ("10.1000/xyz", "123", "PMC456")
    assert first.authors == (Author(family="Doe", given="Jane"),)
    assert (first.pdf_url, first.open_access) == ("https://x.org/a.pdf", True)
    assert second.title == "Unresolved citing paper"
    assert {r.source[0].format for r in result.records} == {"semantic_scholar"}


def test_matches_and_types() -> None:
    assert semantic_scholar.matches({"paperId": "x"})
    assert semantic_scholar.matches({"citedPaper": {"title": "x"}})
    assert not semantic_scholar.matches({"title": "x"})
    assert semantic_scholar.csl_type(["JournalArticle", "Review"]) == "article-journal"
    assert semantic_scholar.csl_type(["Book"]) == "book"
    assert semantic_scholar.csl_type(["Unheard"]) == "article-journal"
    assert semantic_scholar.csl_type(None) is None
