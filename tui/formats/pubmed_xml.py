"""PubMed XML, as returned by NCBI efetch (`<PubmedArticleSet>`).

Each `<PubmedArticle>` (a journal article) or `<PubmedBookArticle>` (an NCBI
Bookshelf book or chapter) becomes one record. The file is read incrementally,
article by article, so a damaged or truncated file still yields every article
before the damage, and reading resumes at the next article after it.

Safety: the standard library's expat parser never fetches external DTDs or
entities, and documents that declare their own entities (the way to build an
"entity expansion bomb") are refused outright. HTML entity names that PubMed
sometimes emits (`&nbsp;`, `&eacute;`) are turned into the characters they
name before parsing, since XML without the DTD does not know them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui.formats.base import ParseResult, line_of
from tui.formats.medline import csl_type, expand_pages
from tui.models import Author
from tui.normalize import month_number

if TYPE_CHECKING:  # ElementTree is imported inside parse(), to keep start-up light.
    from xml.etree.ElementTree import Element

NAME = "pubmed_xml"

_SNIFF = re.compile(r"<(?:!DOCTYPE\s+)?Pubmed(?:Book)?Article(?:Set)?[\s>/]")
_SNIFF_WINDOW = 10_000
_ARTICLES = frozenset({"PubmedArticle", "PubmedBookArticle"})
_ENTITY_DECLARATION = re.compile(r"<!ENTITY", re.IGNORECASE)
_ENTITY_REFERENCE = re.compile(r"&([A-Za-z][A-Za-z0-9]{0,31});")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
# Where reading can start again after damage: a new document or the next article.
_RESTART = re.compile(r"<\?xml\b|<!DOCTYPE\b|<PubmedArticleSet\b|<Pubmed(?:Book)?Article[\s>]")
_POSITION_SUFFIX = re.compile(r":\s*line \d+, column \d+\s*$")
# Inline markup PubMed keeps inside titles and abstracts ("math" is MathML's, namespaced).
_INLINE = frozenset({"i", "b", "u", "sup", "sub", "em", "strong", "italic", "bold", "math"})
# A line break just before a sub/superscript is pretty-printing, not a space in the
# text: "β\n    <sub>2</sub>-agonist" is "β2-agonist". After one it can be a real
# word break ("CO<sub>2</sub>\n  uptake"), so only the side before is tightened.
_TIGHT = frozenset({"sub", "sup"})
_NEWLINE_SPACE_END = re.compile(r"\s*\n\s*$")
_MAX_DEPTH = 50


def sniff(text: str) -> bool:
    """A PubMed XML file names `PubmedArticleSet`, `PubmedArticle` or `PubmedBookArticle` early."""
    return _SNIFF.search(text[:_SNIFF_WINDOW]) is not None


# ---------------------------------------------------------------------------
# Text helpers


def _local(tag: Any) -> str:
    """An element's name without namespace ("{...MathML}math" -> "math")."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(element: Element | None) -> str:
    """All the text inside an element, inline markup (`<i>`, `<sup>`) included.

    Walked without recursion so that absurdly deep markup cannot overflow the stack.
    """
    if element is None:
        return ""
    parts: list[str] = [element.text or ""]
    # Each stack item is an element to open, or the tail text to emit once a child closes.
    stack: list[Element | str] = [child for child in reversed(list(element))]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        if _local(item.tag) in _TIGHT:
            parts[-1] = _NEWLINE_SPACE_END.sub("", parts[-1])
        parts.append(item.text or "")
        stack.append(item.tail or "")
        stack.extend(reversed(list(item)))
    return "".join(parts)


def _find_text(element: Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path)
    text = _text(found).strip() if found is not None else ""
    return text or None


def _to_json(element: Element, depth: int = 0) -> Any:
    """Any element as plain JSON, so fields this importer does not map are kept in `extra`."""
    children = list(element)
    attributes = {f"@{_local(k)}": v for k, v in element.attrib.items()}
    mixed = any(_local(child.tag) in _INLINE for child in children)
    if not children or mixed or depth >= _MAX_DEPTH:
        text = " ".join(_text(element).split())
        if not attributes:
            return text
        return {**attributes, "text": text} if text else attributes
    grouped: dict[str, list[Any]] = {}
    for child in children:
        grouped.setdefault(_local(child.tag), []).append(_to_json(child, depth + 1))
    value: dict[str, Any] = dict(attributes)
    for key, items in grouped.items():
        value[key] = items if len(items) > 1 else items[0]
    return value


# ---------------------------------------------------------------------------
# Field helpers


def _date(node: Element | None) -> str | None:
    """A PubDate/ArticleDate as ISO text ("2008-02"), or MedlineDate text ("1998 Dec-1999 Jan")."""
    if node is None:
        return None
    medline = _find_text(node, "MedlineDate")
    if medline:
        return medline
    year = _find_text(node, "Year")
    if not year:
        return None
    month = month_number(_find_text(node, "Month"))
    day = _find_text(node, "Day")
    if month:
        if day and day.isdigit() and 1 <= int(day) <= 31:
            return f"{year}-{month:02d}-{int(day):02d}"
        return f"{year}-{month:02d}"
    season = _find_text(node, "Season")
    return f"{year} {season}" if season else year


def _person(node: Element) -> Author | None:
    collective = _find_text(node, "CollectiveName")
    if collective:
        return Author(literal=collective)
    family = _find_text(node, "LastName")
    given = _find_text(node, "ForeName") or _find_text(node, "Initials")
    if not family and not given:
        return None
    return Author(family=family, given=given, suffix=_find_text(node, "Suffix"))


def _people(
    lists: list[Element], extra: dict[str, Any], key: str = "author_details"
) -> list[Author]:
    """The people of some AuthorLists; affiliations, ORCIDs and invalid entries go to `extra`."""
    people: list[Author] = []
    for author_list in lists:
        if author_list.get("CompleteYN") == "N":
            extra["author_list_incomplete"] = True
        for node in author_list.findall("Author"):
            person = _person(node)
            detail: dict[str, Any] = {}
            affiliations = [
                _text(a).strip() for a in node.findall("AffiliationInfo/Affiliation") if _text(a)
            ]
            if affiliations:
                detail["affiliations"] = affiliations
            identifiers = [
                f"{i.get('Source', 'id')}: {_text(i).strip()}"
                for i in node.findall("Identifier")
                if _text(i).strip()
            ]
            if identifiers:
                detail["identifiers"] = identifiers
            affiliation_ids = [
                f"{i.get('Source', 'id')}: {_text(i).strip()}"
                for i in node.findall("AffiliationInfo/Identifier")
                if _text(i).strip()
            ]
            if affiliation_ids:
                detail["affiliation_identifiers"] = affiliation_ids
            if node.get("EqualContrib") == "Y":
                detail["equal_contribution"] = True
            if person is None:
                if detail:
                    extra.setdefault("unnamed_author_details", []).append(detail)
                continue
            if node.get("ValidYN") == "N":
                # PubMed marks names it has since corrected as invalid: not an author.
                extra.setdefault("invalid_authors", []).append(person.display)
                continue
            people.append(person)
            if detail:
                extra.setdefault(key, []).append({"name": person.display, **detail})
    return people


def _abstract(node: Element | None, extra: dict[str, Any]) -> str | None:
    """Abstract paragraphs; a structured abstract's sections become `LABEL: text` paragraphs."""
    if node is None:
        return None
    paragraphs = []
    for part in node.findall("AbstractText"):
        text = " ".join(_text(part).split())
        label = (part.get("Label") or "").strip()
        if label and text:
            text = f"{label}: {text}"
        if text:
            paragraphs.append(text)
    copyright_text = _find_text(node, "CopyrightInformation")
    if copyright_text:
        extra["copyright"] = copyright_text
    return "\n\n".join(paragraphs) or None


def _mesh(mesh_list: Element | None) -> tuple[list[str], list[dict[str, Any]]]:
    """MeSH headings as keywords ("Gait/physiology") and as structured data for `extra`."""
    keywords: list[str] = []
    structured: list[dict[str, Any]] = []
    if mesh_list is None:
        return keywords, structured
    for heading in mesh_list.findall("MeshHeading"):
        descriptor = heading.find("DescriptorName")
        if descriptor is None or not _text(descriptor).strip():
            continue
        name = " ".join(_text(descriptor).split())
        qualifiers = [
            (" ".join(_text(q).split()), q.get("MajorTopicYN") == "Y", q.get("UI"))
            for q in heading.findall("QualifierName")
        ]
        keywords.append("/".join([name] + [q[0] for q in qualifiers if q[0]]))
        item: dict[str, Any] = {"descriptor": name, "major": descriptor.get("MajorTopicYN") == "Y"}
        if descriptor.get("UI"):
            item["ui"] = descriptor.get("UI")
        if qualifiers:
            item["qualifiers"] = [
                {"name": q[0], "major": q[1], **({"ui": q[2]} if q[2] else {})} for q in qualifiers
            ]
        structured.append(item)
    return keywords, structured


def _article_ids(id_list: Element | None) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    if id_list is None:
        return ids
    for node in id_list.findall("ArticleId"):
        value = _text(node).strip()
        kind = (node.get("IdType") or "other").lower()
        if value and value not in ids.setdefault(kind, []):
            ids[kind].append(value)
    return {kind: values for kind, values in ids.items() if values}


def _elocations(parent: Element | None, ids: dict[str, list[str]], extra: dict[str, Any]) -> None:
    """ELocationIDs join the article ids; ones PubMed marks invalid are only kept in `extra`."""
    if parent is None:
        return
    for node in parent.findall("ELocationID"):
        value = _text(node).strip()
        kind = (node.get("EIdType") or "other").lower()
        if not value:
            continue
        if node.get("ValidYN") == "N":
            extra.setdefault("invalid_elocation_ids", []).append(f"{kind}: {value}")
        elif value not in ids.setdefault(kind, []):
            ids[kind].insert(0, value)


def _keywords(parent: Element | None) -> list[str]:
    if parent is None:
        return []
    return [
        " ".join(_text(k).split())
        for k in parent.findall("KeywordList/Keyword")
        if _text(k).strip()
    ]


def _pages(pagination: Element | None) -> str | None:
    if pagination is None:
        return None
    medline = _find_text(pagination, "MedlinePgn")
    if medline:
        return expand_pages(medline)
    start, end = _find_text(pagination, "StartPage"), _find_text(pagination, "EndPage")
    if start and end:
        return f"{start}-{end}"
    return start


def _language(values: list[str], extra: dict[str, Any]) -> str | None:
    languages = [v.lower() if len(v) == 3 else v for v in values if v]
    if len(languages) > 1:
        extra["languages"] = languages
    return languages[0] if languages else None


def _keep_rest(parent: Element | None, handled: frozenset[str], extra: dict[str, Any]) -> None:
    """Keep every child of `parent` this importer does not map, under its own name."""
    if parent is None:
        return
    for child in parent:
        key = _local(child.tag)
        if key in handled:
            continue
        value = _to_json(child)
        if value in ("", {}, []):
            continue
        if key in extra:
            if not isinstance(extra[key], list):
                extra[key] = [extra[key]]
            extra[key].append(value)
        else:
            extra[key] = value


# ---------------------------------------------------------------------------
# Articles

_CITATION_HANDLED = frozenset(
    {"PMID", "Article", "MeshHeadingList", "KeywordList", "MedlineJournalInfo"}
)
_ARTICLE_HANDLED = frozenset(
    {
        "Journal",
        "ArticleTitle",
        "VernacularTitle",
        "Pagination",
        "ELocationID",
        "Abstract",
        "AuthorList",
        "Language",
        "PublicationTypeList",
        "ArticleDate",
    }
)
_PUBMED_DATA_HANDLED = frozenset({"ArticleIdList", "PublicationStatus", "History"})
_BOOK_DOCUMENT_HANDLED = frozenset(
    {
        "PMID",
        "ArticleIdList",
        "Book",
        "ArticleTitle",
        "VernacularTitle",
        "Pagination",
        "ELocationID",
        "Abstract",
        "AuthorList",
        "Language",
        "PublicationType",
        "KeywordList",
        "LocationLabel",
    }
)
_BOOK_HANDLED = frozenset(
    {"Publisher", "BookTitle", "PubDate", "AuthorList", "Isbn", "Volume", "ELocationID"}
)


def _status_and_history(data: Element | None, extra: dict[str, Any]) -> dict[str, list[str]]:
    if data is None:
        return {}
    status = _find_text(data, "PublicationStatus")
    if status:
        extra["publication_status"] = status
    history = {
        node.get("PubStatus", "date"): _date(node)
        for node in data.findall("History/PubMedPubDate")
        if _date(node)
    }
    if history:
        extra["history"] = history
    return _article_ids(data.find("ArticleIdList"))


def _convert_article(node: Element, line: int, result: ParseResult) -> None:
    citation = node.find("MedlineCitation")
    article = citation.find("Article") if citation is not None else None
    data = node.find("PubmedData")
    extra: dict[str, Any] = {}
    pmid = _find_text(citation, "PMID")
    label = f"PMID {pmid}" if pmid else None
    if citation is None or article is None:
        result.fail(line, label, "has no MedlineCitation/Article; not imported")
        return
    for attribute in ("Status", "Owner", "IndexingMethod"):
        if citation.get(attribute):
            extra[f"citation_{attribute.lower()}"] = citation.get(attribute)
    if article.get("PubModel"):
        extra["pub_model"] = article.get("PubModel")
    ids = _status_and_history(data, extra)
    _elocations(article, ids, extra)
    journal = article.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    date = _date(issue.find("PubDate") if issue is not None else None)
    if issue is not None and issue.get("CitedMedium"):
        extra["cited_medium"] = issue.get("CitedMedium")
    article_date = _date(article.find("ArticleDate"))
    if article_date:
        extra["article_date"] = article_date
    issns = []
    if journal is not None:
        for issn in journal.findall("ISSN"):
            kind = issn.get("IssnType")
            issns.append(f"{_text(issn).strip()} ({kind})" if kind else _text(issn).strip())
        abbreviation = _find_text(journal, "ISOAbbreviation")
        if abbreviation:
            extra["journal_abbreviation"] = abbreviation
    if issns:
        extra["issns"] = issns
    info = citation.find("MedlineJournalInfo")
    if info is not None:
        extra["journal_info"] = _to_json(info)
    title = _find_text(article, "ArticleTitle")
    vernacular = _find_text(article, "VernacularTitle")
    if vernacular:
        extra["vernacular_title"] = vernacular
    if not title and vernacular:
        # PubMed leaves ArticleTitle empty for some non-English articles; the
        # original-language title is then the only title there is.
        title = vernacular
        result.warn(line, label, "has no English title; using the original-language title")
    types = [" ".join(_text(t).split()) for t in article.findall("PublicationTypeList/*")]
    if types:
        extra["publication_types"] = types
    mesh_keywords, mesh = _mesh(citation.find("MeshHeadingList"))
    if mesh:
        extra["mesh"] = mesh
    lists = article.findall("AuthorList")
    authors = _people([a for a in lists if a.get("Type", "authors") != "editors"], extra)
    editors = _people([a for a in lists if a.get("Type") == "editors"], extra, key="editor_details")
    abstract = _abstract(article.find("Abstract"), extra)
    language = _language([" ".join(_text(n).split()) for n in article.findall("Language")], extra)
    _keep_rest(citation, _CITATION_HANDLED, extra)
    _keep_rest(article, _ARTICLE_HANDLED, extra)
    _keep_rest(data, _PUBMED_DATA_HANDLED, extra)
    doi, pmcid = _pop_first(ids, "doi"), _pop_first(ids, "pmc")
    ids.pop("pubmed", None)
    if ids:
        extra["ids"] = ids
    volume = _find_text(issue, "Volume")
    issue_number = _find_text(issue, "Issue")
    issn = _find_text(journal, "ISSN") or _find_text(info, "ISSNLinking")
    result.add(
        line=line,
        entry=label,
        title=title,
        authors=authors,
        editors=editors,
        doi=doi,
        date=date or article_date,
        journal=_find_text(journal, "Title"),
        volume=volume,
        issue=issue_number,
        pages=_pages(article.find("Pagination")),
        abstract=abstract,
        type=csl_type(types, serial=True),
        keywords=_keywords(citation) + mesh_keywords,
        issn=issn,
        pmid=pmid,
        pmcid=pmcid,
        language=language,
        extra=extra,
    )


def _convert_book_article(node: Element, line: int, result: ParseResult) -> None:
    document = node.find("BookDocument")
    extra: dict[str, Any] = {}
    pmid = _find_text(document, "PMID")
    label = f"PMID {pmid}" if pmid else None
    if document is None:
        result.fail(line, label, "has no BookDocument; not imported")
        return
    book = document.find("Book")
    ids = _article_ids(document.find("ArticleIdList"))
    data_ids = _status_and_history(node.find("PubmedBookData"), extra)
    for kind, values in data_ids.items():
        ids.setdefault(kind, []).extend(v for v in values if v not in ids[kind])
    _elocations(document, ids, extra)
    _elocations(book, ids, extra)
    book_title = _find_text(book, "BookTitle")
    chapter_title = _find_text(document, "ArticleTitle")
    vernacular = _find_text(document, "VernacularTitle")
    if vernacular:
        extra["vernacular_title"] = vernacular
    # A BookDocument with its own ArticleTitle is a chapter of the book; without
    # one it describes the whole book.
    is_chapter = bool(chapter_title)
    book_lists = book.findall("AuthorList") if book is not None else []
    document_lists = document.findall("AuthorList")
    book_authors = _people([a for a in book_lists if a.get("Type", "authors") != "editors"], extra)
    editors = _people(
        [a for a in book_lists + document_lists if a.get("Type") == "editors"],
        extra,
        key="editor_details",
    )
    document_authors = _people(
        [a for a in document_lists if a.get("Type", "authors") != "editors"], extra
    )
    if is_chapter and document_authors:
        authors = document_authors
        if book_authors:
            extra["book_authors"] = [a.display for a in book_authors]
    else:
        authors = document_authors or book_authors
        if document_authors and book_authors:
            authors = book_authors + [a for a in document_authors if a not in book_authors]
    publisher = _find_text(book, "Publisher/PublisherName")
    place = _find_text(book, "Publisher/PublisherLocation")
    if place:
        extra["publisher_place"] = place
    isbns = [_text(i).strip() for i in book.findall("Isbn")] if book is not None else []
    if len(isbns) > 1:
        extra["isbns"] = isbns
    types = [" ".join(_text(t).split()) for t in document.findall("PublicationType")]
    if types:
        extra["publication_types"] = types
    if document.find("LocationLabel") is not None:
        extra["location_label"] = _find_text(document, "LocationLabel")
    abstract = _abstract(document.find("Abstract"), extra)
    language = _language([" ".join(_text(n).split()) for n in document.findall("Language")], extra)
    _keep_rest(document, _BOOK_DOCUMENT_HANDLED, extra)
    _keep_rest(book, _BOOK_HANDLED, extra)
    doi, pmcid = _pop_first(ids, "doi"), _pop_first(ids, "pmc")
    ids.pop("pubmed", None)
    if ids:
        extra["ids"] = ids
    result.add(
        line=line,
        entry=label,
        title=chapter_title if is_chapter else (book_title or vernacular),
        authors=authors,
        editors=editors,
        doi=doi,
        date=_date(book.find("PubDate") if book is not None else None),
        journal=book_title if is_chapter else None,
        volume=_find_text(book, "Volume"),
        pages=_pages(document.find("Pagination")),
        abstract=abstract,
        type="chapter" if is_chapter else "book",
        keywords=_keywords(document),
        publisher=publisher,
        isbn=isbns[0] if isbns else None,
        pmid=pmid,
        pmcid=pmcid,
        language=language,
        extra=extra,
    )


def _pop_first(ids: dict[str, list[str]], kind: str) -> str | None:
    values = ids.pop(kind, [])
    if len(values) > 1:
        ids[f"other_{kind}"] = values[1:]
    return values[0] if values else None


# ---------------------------------------------------------------------------
# Reading the document


def _replace_entities(text: str, result: ParseResult) -> str:
    """Turn HTML entity names into character references; leave unknown ones as text.

    Without its DTD, XML only knows five named entities, and expat stops at any
    other (`&nbsp;`). Known HTML names become the characters they stand for; an
    unknown `&name;` is kept literally (as `&amp;name;`) and reported once.
    """
    if "&" not in text:
        return text
    import html.entities

    unknown: dict[str, int] = {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _XML_ENTITIES:
            return match.group(0)
        character = html.entities.html5.get(name + ";")
        if character is not None:
            return "".join(f"&#{ord(c)};" for c in character)
        unknown.setdefault(name, match.start())
        return f"&amp;{name};"

    replaced = _ENTITY_REFERENCE.sub(replace, text)
    if unknown:
        offset = next(iter(unknown.values()))
        names = " ".join(f"&{name};" for name in list(unknown)[:5])
        noun = "entity" if len(unknown) == 1 else f"entities ({len(unknown)})"
        result.warn(line_of(text, offset), None, f"unknown {noun} kept as text: {names}")
    return replaced


@dataclass(slots=True)
class _Damage:
    line: int
    column: int
    message: str
    offset: int
    """Character offset of the damage in the whole text."""


@dataclass(slots=True)
class _Progress:
    line: int
    pmid: str | None = None


class _Reader:
    """Feeds the text to an incremental parser and converts articles as they close."""

    def __init__(self, text: str, result: ParseResult) -> None:
        self.text = text
        self.result = result
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.articles = 0
        self.roots: list[str] = []
        self.deleted: list[str] = []

    def _lines_from(self, offset: int) -> Iterator[tuple[int, str]]:
        """The text from `offset` on, one physical line at a time, with 1-based line numbers."""
        line = line_of(self.text, offset)
        position = offset
        while position < len(self.text):
            end = self.text.find("\n", position)
            end = len(self.text) if end < 0 else end + 1
            yield line, self.text[position:end]
            position, line = end, line + 1

    def read(self, offset: int, wrap: bool) -> tuple[_Damage, _Progress | None] | None:
        """Parse from `offset` to the end; return the damage met (and the cut article), if any.

        With `wrap`, the text starts mid-document at an article, so a synthetic
        `<PubmedArticleSet>` root is put before it.
        """
        import xml.etree.ElementTree as ET

        parser = ET.XMLPullParser(events=("start", "end"))
        prefix = "<PubmedArticleSet>" if wrap else ""
        first_line = line_of(self.text, offset)
        first_column = offset - self.line_starts[first_line - 1]
        stack: list[Element] = []
        progress: _Progress | None = None
        line = first_line

        def damage(error: ET.ParseError) -> tuple[_Damage, _Progress | None]:
            parser_line, column = getattr(error, "position", (1, 0))
            absolute = first_line + parser_line - 1
            if parser_line == 1:
                column = column - len(prefix) + first_column
            absolute = min(max(absolute, 1), len(self.line_starts))
            start = self.line_starts[absolute - 1]
            where = min(start + max(column, 0), len(self.text))
            message = _POSITION_SUFFIX.sub("", str(error))
            return _Damage(absolute, column + 1, message, max(where, offset + 1)), progress

        def drain() -> None:
            nonlocal progress
            for event, element in parser.read_events():
                name = _local(element.tag)
                if event == "start":
                    if not stack:
                        self.roots.append(name)
                    stack.append(element)
                    if name in _ARTICLES and progress is None:
                        progress = _Progress(line)
                    continue
                stack.pop()
                if name == "PMID" and progress is not None and progress.pmid is None:
                    progress.pmid = _text(element).strip() or None
                elif name in _ARTICLES and progress is not None:
                    self._convert(name, element, progress)
                    progress = None
                    if stack:
                        # Free each article once read: files can hold thousands.
                        stack[-1].remove(element)
                elif name == "DeleteCitation":
                    self.deleted.extend(
                        _text(p).strip() for p in element.findall("PMID") if _text(p).strip()
                    )

        try:
            for line, chunk in self._lines_from(offset):
                if prefix and line == first_line:
                    chunk = prefix + chunk
                parser.feed(chunk)
                drain()
            parser.close()
            drain()
        except ET.ParseError as error:
            return damage(error)
        return None

    def _convert(self, name: str, element: Element, progress: _Progress) -> None:
        self.articles += 1
        label = f"PMID {progress.pmid}" if progress.pmid else None
        try:
            if name == "PubmedArticle":
                _convert_article(element, progress.line, self.result)
            else:
                _convert_book_article(element, progress.line, self.result)
        except Exception as error:  # noqa: BLE001 - one odd article must not lose the others
            self.result.fail(
                progress.line, label, f"could not be read ({type(error).__name__}: {error})"
            )


def parse(text: str, result: ParseResult) -> None:
    """Parse a PubMed efetch XML document, article by article."""
    if not text.strip():
        result.error("is empty")
        return
    declaration = _ENTITY_DECLARATION.search(text)
    if declaration:
        result.error(
            "declares its own XML entities (<!ENTITY ...>); refused, because entity "
            "expansion can exhaust memory. PubMed's own files never do this.",
            line_of(text, declaration.start()),
        )
        return
    # Expat counts a lone CR as a line break too; one convention keeps line numbers exact.
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = _replace_entities(text, result)
    reader = _Reader(text, result)
    offset, wrap = 0, False
    while True:
        outcome = reader.read(offset, wrap)
        if outcome is None:
            break
        damage, cut = outcome
        restart = _RESTART.search(text, damage.offset)
        between = text[damage.offset : restart.start()] if restart else text[damage.offset :]
        next_document = (
            restart is not None
            and restart.group(0)[:2] in ("<?", "<!")
            or (restart is not None and restart.group(0).startswith("<PubmedArticleSet"))
        )
        if cut is not None:
            label = f"PMID {cut.pmid}" if cut.pmid else None
            result.fail(
                cut.line,
                label,
                f"is cut off: the XML is damaged at line {damage.line}, column {damage.column} "
                f"({damage.message}); not imported",
            )
        elif (
            next_document
            and damage.message.startswith("junk after document element")
            and (not between.strip())
        ):
            # Two efetch answers pasted one after the other: read them both.
            result.warn(damage.line, None, "holds several XML documents in a row; reading on")
        else:
            result.error(
                f"is not well-formed XML at line {damage.line}, column {damage.column}: "
                f"{damage.message}",
                damage.line,
            )
        if restart is None:
            break
        if cut is not None or between.strip():
            result.warn(
                line_of(text, restart.start()),
                None,
                f"skipped the damaged XML from line {damage.line}; reading resumes here",
            )
        offset, wrap = restart.start(), not next_document
    if reader.deleted:
        result.warn(
            None,
            None,
            f"lists {len(reader.deleted)} deleted citation(s), not imported: "
            + ", ".join(reader.deleted[:10]),
        )
    if not reader.articles and reader.roots and not result.failed and not reader.deleted:
        result.error(
            f"holds no PubmedArticle or PubmedBookArticle (its root element is <{reader.roots[0]}>)"
        )
