"""The MEDLINE/.nbib importer, on real PubMed and ERIC exports and on broken input."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tui.formats import FORMAT_NAMES, ParseResult, medline, parse_text, pubmed_xml, read_file
from tui.formats.medline import csl_type, expand_pages, mesh_keyword
from tui.models import Author, Record

DATA = Path(__file__).parent.parent / "data"
MEDLINE = DATA / "medline"
SCIHUB = MEDLINE / "manubot-scihub.nbib"
PUBMED = MEDLINE / "zotero-medline-pubmed.nbib"
ERIC = MEDLINE / "zotero-medline-eric.nbib"

RIS_SNIPPET = "TY  - JOUR\nTI  - A RIS record\nAU  - Doe, Jane\nPY  - 2020\nER  - \n"


def parse(text: str, file: str = "x.nbib") -> ParseResult:
    return parse_text(text, file, format="medline")


def parse_file(path: Path) -> ParseResult:
    return parse(path.read_text(encoding="utf-8"), path.name)


def by_pmid(result: ParseResult, pmid: str) -> Record:
    return next(record for record in result.records if record.pmid == pmid)


def by_title(result: ParseResult, start: str) -> Record:
    return next(r for r in result.records if r.title and r.title.startswith(start))


def extra(record: Record) -> dict:
    return record.extra["medline"]


def errors(result: ParseResult) -> list[str]:
    return [str(issue) for issue in result.issues if issue.severity == "error"]


# ---------------------------------------------------------------------------
# The real files


@pytest.mark.parametrize(("path", "count"), [(PUBMED, 6), (ERIC, 9), (SCIHUB, 2)])
def test_every_record_of_the_real_files_is_imported(path: Path, count: int) -> None:
    result = parse_file(path)
    assert len(result.records) == count
    assert result.failed == 0
    assert result.issues == []
    assert all(record.source[0].format == "medline" for record in result.records)


def test_pubmed_record_fields() -> None:
    record = by_pmid(parse_file(SCIHUB), "29424689")
    assert record.title == "Sci-Hub provides access to nearly all scholarly literature."
    assert record.doi == "10.7554/eLife.32822"
    assert record.date == "2018-03-01"
    assert record.year == 2018
    assert record.journal == "eLife"
    assert record.volume == "7"
    assert record.pmcid == "PMC5832410"
    assert record.issn == "2050-084X"
    assert record.language == "eng"
    assert record.type == "article-journal"
    assert len(record.authors) == 7
    assert record.authors[0] == Author(family="Himmelstein", given="Daniel S")
    assert record.authors[-1] == Author(family="Greene", given="Casey S")
    assert "open access" in record.keywords
    # Fields the model does not name are kept, not dropped.
    kept = extra(record)
    assert kept["journal_abbreviation"] == "Elife"
    assert kept["ids"]["pii"] == ["32822", "e32822"]
    assert kept["GR"] == ["GBMF 4552/Gordon and Betty Moore Foundation"]
    assert kept["CI"] == ["(c) 2018, Himmelstein et al."]
    assert kept["STAT"] == "In-Data-Review"
    first = kept["author_details"][0]
    assert first["name"] == "Himmelstein, Daniel S"
    assert first["identifiers"] == ["ORCID: https://orcid.org/0000-0002-3012-7446"]
    # The affiliation was wrapped onto a continuation line after a trailing space.
    assert first["affiliations"] == [
        "Department of Systems Pharmacology and Translational Therapeutics, University of "
        "Pennsylvania, Philadelphia, United States."
    ]


def test_url_cut_across_continuation_lines_is_rejoined() -> None:
    abstract = by_pmid(parse_file(SCIHUB), "29424689").abstract or ""
    assert "Our interactive browser at https://greenelab.github.io/scihub allows users" in abstract
    assert "scihu b" not in abstract
    assert "ext-link" not in abstract  # the JATS markup is gone, its text stays
    assert abstract.endswith("may become unsustainable.")


def test_continuation_lines_join_titles_abstracts_and_affiliations() -> None:
    result = parse_file(PUBMED)
    record = by_pmid(result, "8692918")
    assert record.title == (
        "The structure of bovine F1-ATPase complexed with the antibiotic inhibitor aurovertin B."
    )
    assert record.abstract is not None
    assert "\n" not in record.abstract
    assert "no nucleotide is bound to the third (betaE)" in record.abstract
    assert extra(record)["author_details"][0]["affiliations"] == [
        "Medical Research Council Laboratory of Molecular Biology, Cambridge, United Kingdom."
    ]
    # FAU is preferred over AU; the particle stays with the family name.
    assert record.authors[0] == Author(family="van Raaij", given="M J")


def test_abbreviated_page_ranges_are_expanded() -> None:
    result = parse_file(PUBMED)
    assert by_pmid(result, "8692918").pages == "6913-6917"
    assert by_pmid(result, "25744111").pages == "475-482"
    assert by_pmid(result, "8402898").pages == "25-36"
    assert by_pmid(parse_file(SCIHUB), "28288103").pages == "342-346"


@pytest.mark.parametrize(
    ("raw", "expanded"),
    [
        ("1234-45", "1234-1245"),
        ("6913-7", "6913-6917"),
        ("110-2", "110-112"),
        ("342-346", "342-346"),
        ("S4-10", "S4-S10"),
        ("123-5, 130-2", "123-125, 130-132"),
        ("e32822", "e32822"),
        ("1234-12", "1234-12"),  # would run backwards: left as the source wrote it
        (None, None),
    ],
)
def test_expand_pages(raw: str | None, expanded: str | None) -> None:
    assert expand_pages(raw) == expanded


def test_mesh_headings_become_keywords_without_stars() -> None:
    record = by_pmid(parse_file(PUBMED), "8692918")
    assert "Aurovertins/chemistry/metabolism" in record.keywords
    assert "Protein Structure, Secondary" in record.keywords
    assert not any("*" in keyword for keyword in record.keywords)
    # The major-topic marks survive in extra.
    assert "*Protein Structure, Secondary" in extra(record)["mesh"]
    assert mesh_keyword("GTP Phosphohydrolases/isolation & purification/*metabolism") == (
        "GTP Phosphohydrolases/isolation & purification/metabolism"
    )


def test_several_issn_lines_first_is_kept_all_in_extra() -> None:
    record = by_pmid(parse_file(PUBMED), "25744111")
    assert record.issn == "1476-5616"
    assert extra(record)["issns"] == ["1476-5616 (Electronic)", "0033-3506 (Linking)"]
    assert record.doi == "10.1016/j.puhe.2015.01.018"
    assert record.date == "2015-05"
    assert extra(record)["ids"]["pii"] == ["S0033-3506(15)00037-2"]


def test_doi_found_when_the_pii_comes_first() -> None:
    record = by_pmid(parse_file(PUBMED), "36216673")
    assert record.doi == "10.1016/j.wem.2022.07.008"
    assert record.type == "article-journal"  # only "Case Reports"
    assert record.journal == "Wilderness & environmental medicine"


def test_book_chapter_with_editors() -> None:
    record = by_pmid(parse_file(PUBMED), "21249755")
    assert record.type == "chapter"
    assert record.title == "Peutz-Jeghers Syndrome"
    assert record.journal == "Cancer Syndromes"  # BTI: the book is the container
    assert record.publisher == "National Center for Biotechnology Information (US)"
    assert record.date == "2009"
    assert [e.family for e in record.editors] == [
        "Riegert-Johnson",
        "Boardman",
        "Hefferon",
        "Roberts",
    ]
    assert record.editors[0] == Author(family="Riegert-Johnson", given="Douglas L")
    assert len(record.authors) == 7
    assert record.authors[4] == Author(family="Wong Kee Song", given="Louis M.")
    assert extra(record)["ids"]["bookaccession"] == ["NBK1826"]
    assert extra(record)["PL"] == "Bethesda (MD)"


def test_et_al_is_not_an_author_but_is_remembered() -> None:
    record = by_pmid(parse_file(PUBMED), "8402898")
    assert len(record.authors) == 10
    assert record.authors[-1] == Author(family="Booker", given="G W")
    assert extra(record)["author_list_incomplete"] is True


# ---------------------------------------------------------------------------
# ERIC


def test_eric_records_have_no_pmid_and_are_labelled_by_eric_id() -> None:
    result = parse_file(ERIC)
    assert all(record.pmid is None for record in result.records)
    record = by_title(result, "Educational Test Approaches")
    assert record.authors == (
        Author(family="van Groen", given="Maaike M."),
        Author(family="Eggen", given="Theo J. H. M."),
    )
    assert record.journal == "Journal of Applied Testing Technology"
    assert (record.volume, record.issue, record.pages) == ("21", "1", "12-24")
    assert record.issn == "2375-5636"
    assert record.language == "English"
    assert record.type == "article-journal"
    assert record.url == "http://www.jattjournal.com/index.php/atp/article/view/146484"
    assert "Computer Assisted Testing" in record.keywords
    assert extra(record)["OID"] == ["EJ1227990"]
    assert "http://eric.ed.gov/?id=EJ1227990" in extra(record)["links"]


def test_eric_doi_from_a_doi_url_and_odd_dates() -> None:
    result = parse_file(ERIC)
    record = by_title(result, "Test-Taker Perception")
    assert record.doi == "10.1186/s40468-019-0086-7"
    assert record.year == 2019  # DP "Article 10 2019"
    assert by_title(result, "From Here to There").date == "2019-04"  # DP "Apr 2019"


def test_eric_types_reports_theses_and_books() -> None:
    result = parse_file(ERIC)
    report = by_title(result, "College Entrance Exams")
    assert report.type == "report"
    assert report.publisher == "ACT, Inc."  # ERIC's JT names the issuer, not a journal
    assert report.journal is None
    # Reports printed in a journal are journal articles.
    assert by_title(result, "From Here to There").type == "article-journal"
    thesis = by_title(result, "Tests of Robustness in Peer Review")
    assert thesis.type == "thesis"
    assert thesis.publisher == "Drexel University"
    assert thesis.isbn == "979-8-2098-8762-1"
    assert extra(thesis)["genre"] == "Ph.D. Dissertation"
    book = by_title(result, "Evidence-Based Instructional Strategies")
    assert book.type == "book"
    assert book.isbn == "978-1-5985-7192-9"
    assert book.publisher == "Brookes Publishing Company"
    # A record without any author still imports.
    assert by_title(result, "Findings from the PISA").authors == ()


@pytest.mark.parametrize(
    ("types", "serial", "expected"),
    [
        (["Journal Article", "Review"], True, "article-journal"),
        (["Book Chapter"], False, "chapter"),
        (["Dissertations/Theses - Doctoral Dissertations"], False, "thesis"),
        (["Reports - Research"], False, "report"),
        (["Journal Articles", "Reports - Research"], True, "article-journal"),
        (["Preprint", "Journal Article"], True, "article"),
        (["Books", "Collected Works - General"], False, "book"),
        (["Information Analyses"], False, "document"),
        ([], False, None),
    ],
)
def test_publication_types_map_to_csl(types: list[str], serial: bool, expected: str) -> None:
    assert csl_type(types, serial=serial) == expected


# ---------------------------------------------------------------------------
# Synthetic records for what the corpus lacks


GROUP_AUTHOR_FILE = """\
PMID- 99000001
OWN - NLM
STAT- MEDLINE
DP  - 1998 Dec-1999 Jan
TI  - A synthetic multi-centre study, written by a consortium for this test
      suite.
PG  - 1234-45
LID - 10.5555/refdeck.medline.1 [doi]
CN  - The Synthetic Test Consortium
FAU - Roe, Richard, Jr
AU  - Roe R Jr
FAU - Mustermann, Erika
AU  - Mustermann E
AD  - Example Institute, Testville.
LA  - eng
PT  - Journal Article
TA  - J Synth Test
JT  - Journal of synthetic tests
"""


def test_group_author_suffix_and_medline_date(tmp_path: Path) -> None:
    path = tmp_path / "synthetic-group-author.nbib"
    path.write_text(GROUP_AUTHOR_FILE, encoding="utf-8")
    result = parse(path.read_text(encoding="utf-8"), str(path))
    assert result.issues == []
    (record,) = result.records
    assert record.authors == (
        Author(literal="The Synthetic Test Consortium"),
        Author(family="Roe", given="Richard", suffix="Jr"),
        Author(family="Mustermann", given="Erika"),
    )
    assert record.doi == "10.5555/refdeck.medline.1"
    assert record.date == "1998-12"  # "1998 Dec-1999 Jan": the start of the range
    assert record.pages == "1234-1245"
    assert record.title == (
        "A synthetic multi-centre study, written by a consortium for this test suite."
    )
    assert extra(record)["author_details"] == [
        {
            "role": "author",
            "name": "Mustermann, Erika",
            "abbreviated": "Mustermann E",
            "affiliations": ["Example Institute, Testville."],
        }
    ]


def test_au_lines_without_full_names() -> None:
    result = parse("PMID- 1\nTI  - Old style\nAU  - Smith JA Jr\nAU  - Greshake Tzovaras B\n")
    assert result.records[0].authors == (
        Author(family="Smith", given="JA", suffix="Jr"),
        Author(family="Greshake Tzovaras", given="B"),
    )


def test_short_names_pair_only_with_the_full_name_they_repeat() -> None:
    text = (
        "PMID- 2\nTI  - Mixed people\nFED - Editor, Ella\nAU  - Solo A\n"
        "FAU - Full, Name\nAD  - Somewhere.\nAU  - Full N\n"
    )
    record = parse(text).records[0]
    assert record.editors == (Author(family="Editor", given="Ella"),)
    assert record.authors == (
        Author(family="Solo", given="A"),
        Author(family="Full", given="Name"),
    )
    assert extra(record)["author_details"][-1]["affiliations"] == ["Somewhere."]


# ---------------------------------------------------------------------------
# Broken input


GOOD = "PMID- {pmid}\nOWN - NLM\nTI  - Good record {pmid}\nFAU - Doe, Jane\nAU  - Doe J\n"


def test_garbage_lines_are_reported_and_good_records_kept() -> None:
    text = (
        "<html><body>\n"
        + GOOD.format(pmid="1")
        + "this line is not a tag\n"
        + "\n"
        + GOOD.format(pmid="2")
    )
    result = parse(text)
    assert [r.pmid for r in result.records] == ["1", "2"]
    warnings = [str(issue) for issue in result.issues]
    assert warnings == [
        "x.nbib:1: warning: not a MEDLINE tag line; ignored: '<html><body>'",
        "x.nbib:7: warning: not a MEDLINE tag line; ignored: 'this line is not a tag'",
    ]
    # The stray line inside a record is kept with it.
    assert extra(result.records[0])["unparsed_lines"] == ["this line is not a tag"]


def test_many_garbage_lines_give_a_bounded_number_of_warnings() -> None:
    text = "\n".join(f"junk line {n}" for n in range(500)) + "\n\n" + GOOD.format(pmid="7")
    result = parse(text)
    assert [r.pmid for r in result.records] == ["7"]
    assert len(result.issues) == 21
    assert result.issues[-1].message == "480 more lines that are not MEDLINE tags"


def test_a_file_of_only_garbage_lines_fails_with_an_error() -> None:
    # Found by fuzzing: warnings alone ("not a MEDLINE tag line") left an import of
    # nothing without an error, so it was not counted as failed.
    result = parse("not a tag\nnor this\n")
    assert result.records == []
    assert [issue.severity for issue in result.issues] == ["warning", "warning", "error"]
    assert errors(result) == ["x.nbib: holds no records (read as medline)"]
    assert result.failed == 1


@pytest.mark.parametrize("text", ["", "\n\n   \n"])
def test_empty_file(text: str) -> None:
    result = parse(text)
    assert result.records == []
    assert errors(result) == ["x.nbib: is empty"]


def test_record_without_title_or_pmid_is_reported_with_its_line() -> None:
    text = GOOD.format(pmid="1") + "\nOWN - NLM\nSTAT- MEDLINE\nLR  - 20200101\n\n"
    text += GOOD.format(pmid="3")
    result = parse(text)
    assert [r.pmid for r in result.records] == ["1", "3"]
    assert errors(result) == ["x.nbib:7: has no title, DOI or author; not imported"]
    assert result.failed == 1


def test_record_with_pmid_only_is_named_by_it() -> None:
    result = parse("PMID- 424242\nSTAT- Publisher\n")
    assert errors(result) == ["x.nbib:1: PMID 424242: has no title, DOI or author; not imported"]


def test_records_without_blank_lines_crlf_and_bom_still_split() -> None:
    text = "\ufeff" + GOOD.format(pmid="1") + GOOD.format(pmid="2")
    result = parse(text.replace("\n", "\r\n"))
    assert [r.pmid for r in result.records] == ["1", "2"]
    assert [r.title for r in result.records] == ["Good record 1", "Good record 2"]
    assert result.issues == []


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_cr_line_ends_split_like_lf(newline: str) -> None:
    # Found by fuzzing: with CR-only line ends (old Mac files) the text given to the
    # parser was one line, and the second record vanished into the first one's OT tag.
    text = GOOD.format(pmid="1") + "OT  - Compu\n" + GOOD.format(pmid="2").replace("\n", newline)
    result = parse(text)
    assert [r.pmid for r in result.records] == ["1", "2"]
    assert result.records[0].keywords == ("Compu",)
    assert result.issues == []


def test_malformed_doi_is_reported_not_stored() -> None:
    result = parse(GOOD.format(pmid="5") + "LID - not-a-doi [doi]\n")
    (record,) = result.records
    assert record.doi is None
    assert extra(record)["invalid_doi"] == "not-a-doi"
    assert [str(i) for i in result.issues] == [
        "x.nbib:1: warning: PMID 5: malformed DOI 'not-a-doi'; not stored as the DOI"
    ]


def test_control_characters_never_reach_the_record() -> None:
    result = parse("PMID- 6\nTI  - Evil \x1b[31mred\x1b[0m title\u202e\n")
    assert result.records[0].title == "Evil [31mred[0m title"


# ---------------------------------------------------------------------------
# Detection


@pytest.mark.parametrize("path", [PUBMED, ERIC, SCIHUB])
def test_sniff_recognizes_medline_and_pubmed_xml_does_not(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert medline.sniff(text)
    assert not pubmed_xml.sniff(text)


def test_sniff_rejects_ris_and_xml() -> None:
    assert not medline.sniff(RIS_SNIPPET)
    # RIS with MEDLINE-looking tags is still RIS.
    assert not medline.sniff(RIS_SNIPPET + "TI  - Also a title\n")
    for path in (DATA / "pubmed-xml").glob("*.xml"):
        assert not medline.sniff(path.read_text(encoding="utf-8"))


def _all_importers_present() -> bool:
    return all(importlib.util.find_spec(f"tui.formats.{name}") for name in FORMAT_NAMES)


@pytest.mark.skipif(not _all_importers_present(), reason="detection needs every importer module")
@pytest.mark.parametrize(("path", "count"), [(PUBMED, 6), (ERIC, 9), (SCIHUB, 2)])
def test_read_file_detects_medline(path: Path, count: int) -> None:
    result = read_file(path)
    assert result.format == "medline"
    assert len(result.records) == count
