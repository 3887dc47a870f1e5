"""BibTeX that bibtex, biber and pandoc all read.

* Entry types are the classic BibTeX ones (`article`, `incollection`, ...), so
  the file works with plain `bibtex` styles as well as with biblatex.
* Text is UTF-8 with LaTeX's special characters escaped (`\\&`, `\\%`, `\\_`,
  ...). A literal brace is escaped as `\\{`; when a value's braces do not pair
  up, BibTeX would still count escaped ones, so `\\textbraceleft{}` is used.
* Title casing is kept as the source wrote it: words with capitals (other than
  a sentence-case title's first word) are wrapped in braces, consecutive words
  in one group (`{DNA} repair in {Alzheimer's} disease`), so bibliography
  styles cannot lowercase acronyms and names.
* Identifiers (DOI, URL) are written as they are; styles print them verbatim.

The entries are laid out by bibtexparser's writer; the values are made here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tui.export.keys import citation_keys
from tui.models import Author, Record

# CSL item types -> classic BibTeX entry types; anything else is @misc.
_ENTRY_TYPES = {
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "review": "article",
    "book": "book",
    "chapter": "incollection",
    "entry-encyclopedia": "incollection",
    "entry-dictionary": "incollection",
    "paper-conference": "inproceedings",
    "thesis": "phdthesis",
    "report": "techreport",
    "manuscript": "unpublished",
    "pamphlet": "booklet",
}
# Where each entry type keeps the record's container (journal, book, proceedings).
_CONTAINER_FIELD = {"article": "journal", "incollection": "booktitle", "inproceedings": "booktitle"}
# Where each entry type keeps the record's publisher.
_PUBLISHER_FIELD = {"phdthesis": "school", "techreport": "institution"}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL_CHARS = re.compile(r"[\\&%$#_~^{}]")
_WORDS = re.compile(r"(\s+)")
_LIGATURES = re.compile(r"--+|``|''")
# A protected run's opening and closing punctuation, kept outside the braces: `({Natrix} cetti)`.
_OUTER_PUNCTUATION = re.compile(r"^([(\[\"'“‘]*)(.*?)([)\]\"'”’.,;:!?]*)$", re.DOTALL)


def _braces_pair(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def escape(text: str) -> str:
    """`text` as the inside of a braced BibTeX value: LaTeX specials escaped, Unicode kept."""
    if _braces_pair(text):
        braces = {"{": r"\{", "}": r"\}"}
    else:
        braces = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}
    table = _SPECIAL | braces
    escaped = _SPECIAL_CHARS.sub(lambda match: table[match.group()], text)
    # TeX ligatures: `--` would print as an en dash and ``` `` ```/`''` as curly quotes.
    return _LIGATURES.sub(lambda match: "{}".join(match.group()), escaped)


def _has_capital(word: str, first: bool) -> bool:
    """True when bibliography styles would lose the casing of `word` by lowercasing it."""
    letters = [c for c in word if c.isalpha()]
    if not any(c.isupper() for c in letters):
        return False
    # A sentence-case title's first word ("Acute") is capitalized by the styles anyway.
    initial_only = word[0].isupper() and not any(c.isupper() for c in letters[1:])
    return not (first and initial_only)


def protect_case(title: str) -> str:
    """The escaped title with its capitalized words braced, runs of them in one group."""
    parts = _WORDS.split(title)
    out: list[str] = []
    run: list[str] = []
    for index, part in enumerate(parts):
        if index % 2:  # whitespace between words
            (run if run else out).append(part)
            continue
        if part and _has_capital(part, first=index == 0):
            run.append(escape(part))
            continue
        if run:
            _close_run(run, out)
        out.append(escape(part))
    if run:
        _close_run(run, out)
    return "".join(out)


def _close_run(run: list[str], out: list[str]) -> None:
    """Brace a run of protected words; whitespace and outer punctuation stay outside."""
    trailing: list[str] = []
    while run and not run[-1].strip():
        trailing.insert(0, run.pop())
    text = "".join(run)
    core = _OUTER_PUNCTUATION.match(text)
    assert core is not None  # the pattern matches any string
    lead, inner, tail = core.groups()
    out.append(f"{lead}{{{inner}}}{tail}" if inner else text)
    out.extend(trailing)
    run.clear()


def verbatim(value: str | None) -> str | None:
    """An identifier as written; only braces that do not pair up are escaped."""
    if value is None or _braces_pair(value):
        return value
    return value.replace("{", r"\{").replace("}", r"\}")


def name(author: Author) -> str:
    """One name as BibTeX reads it: `Family, Given`, `Family, Jr, Given`, `{Group Name}`.

    Everything before the first comma is the family name, particles included
    ("van Rossum, Guido"); a part holding a comma or a TeX escape is braced.
    """
    if author.literal or not author.family:
        # Groups, and the odd source name with no family part, are one unsplittable unit.
        return "{" + escape(author.literal or author.given or "") + "}"
    if not author.given and " " in author.family:
        # Alone, "BI Intelligence" would be read as given "BI", family "Intelligence".
        return "{" + escape(author.family) + "}"
    parts = [_part(author.family)]
    if author.suffix:
        parts.append(_part(author.suffix))
    if author.given:
        parts.append(_part(author.given))
    return ", ".join(parts)


def _part(text: str) -> str:
    """A name part; braced when a comma or a TeX escape would confuse BibTeX's name splitter."""
    escaped = escape(text)
    return "{" + escaped + "}" if "," in text or escaped != text else escaped


def _names(authors: Sequence[Author]) -> str:
    return " and ".join(name(author) for author in authors)


def entry_type(record: Record) -> str:
    """The BibTeX entry type for the record's CSL type."""
    if record.type in _ENTRY_TYPES:
        return _ENTRY_TYPES[record.type]
    return "article" if record.type is None and record.journal else "misc"


def fields(record: Record) -> list[tuple[str, str]]:
    """(field, value) pairs in reading order, each value braced and escaped, ready to write."""
    kind = entry_type(record)

    def text(value: str | None) -> str | None:
        return escape(value) if value else None

    values: list[tuple[str, str | None]] = [
        ("author", _names(record.authors) if record.authors else None),
        ("editor", _names(record.editors) if record.editors else None),
        ("title", protect_case(record.title) if record.title else None),
        (_CONTAINER_FIELD.get(kind, "journal"), text(record.journal)),
        ("year", str(record.year) if record.year else None),
        ("volume", text(record.volume)),
        ("number", text(record.issue)),
        ("pages", escape(record.pages).replace("-", "--") if record.pages else None),
        (_PUBLISHER_FIELD.get(kind, "publisher"), text(record.publisher)),
        ("doi", verbatim(record.doi)),
        ("url", verbatim(record.url)),
        ("issn", verbatim(record.issn)),
        ("isbn", verbatim(record.isbn)),
        ("pmid", verbatim(record.pmid)),
        ("pmcid", verbatim(record.pmcid)),
        ("language", text(record.language)),
        ("keywords", text(", ".join(record.keywords))),
        ("abstract", text(record.abstract)),
        ("note", text(record.note)),
    ]
    out: list[tuple[str, str]] = []
    for field, value in values:
        if value:
            out.append((field, "{" + value + "}"))
        if field == "year" and (month := _month(record.date)):
            # A bare month macro: `month = may` prints as the style wants ("May", "5").
            out.append(("month", month))
    return out


def _month(date: str | None) -> str | None:
    if date and len(date) >= 7 and date[5:7].isdigit() and 1 <= int(date[5:7]) <= 12:
        return _MONTHS[int(date[5:7]) - 1]
    return None


def export(records: Sequence[Record], style: str | None = None) -> str:
    """A .bib file with one entry per record, each with a unique citation key."""
    import bibtexparser
    from bibtexparser.model import Entry, Field

    library = bibtexparser.Library()
    for record, key in zip(records, citation_keys(records), strict=True):
        entry_fields = [Field(field, value) for field, value in fields(record)]
        library.add(Entry(entry_type(record), key, entry_fields))
    layout = bibtexparser.BibtexFormat()
    layout.indent = "  "
    layout.block_separator = "\n"
    # An empty unparse stack: the values above are already braced and escaped.
    return bibtexparser.write_string(library, unparse_stack=[], bibtex_format=layout)
