"""BibTeX and BibLaTeX files (`.bib`), read with bibtexparser 2 and pylatexenc.

bibtexparser only splits the file into blocks here (no middleware): its
default string interpolation ignores `#` concatenation and month macros, and
its failed blocks must be reported one by one. Values are evaluated by
`_evaluate` (macros, `#`, enclosing braces or quotes), LaTeX is decoded by
`latex_to_text`, and the raw values go to `ParseResult.add`, which does the
format-independent cleaning.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from tui.formats.base import ParseResult
from tui.models import Author
from tui.normalize import is_group_name, month_number, to_int

if TYPE_CHECKING:  # pragma: no cover - typing only; the real imports happen in parse()
    from pylatexenc.latex2text import LatexNodes2Text
    from pylatexenc.latexwalker import LatexContextDb

NAME = "bibtex"

# An entry start at the beginning of a line: `@article{`, `@String (`, `@ InProceedings {`.
_ENTRY_START = re.compile(r"^[ \t]*@[ \t]*[A-Za-z]+[ \t]*[{(]", re.MULTILINE)
_SNIFF_LIMIT = 1_000_000

# BibTeX entry types -> CSL item types. Unknown types become "document" and the
# original type is always kept in extra["entry_type"].
_TYPES = {
    "article": "article-journal",
    "book": "book",
    "mvbook": "book",
    "booklet": "pamphlet",
    "collection": "book",
    "mvcollection": "book",
    "proceedings": "book",
    "mvproceedings": "book",
    "reference": "book",
    "mvreference": "book",
    "inbook": "chapter",
    "bookinbook": "chapter",
    "suppbook": "chapter",
    "incollection": "chapter",
    "suppcollection": "chapter",
    "inreference": "entry-encyclopedia",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "manual": "report",
    "techreport": "report",
    "report": "report",
    "mastersthesis": "thesis",
    "phdthesis": "thesis",
    "thesis": "thesis",
    "patent": "patent",
    "dataset": "dataset",
    "data": "dataset",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "webpage": "webpage",
    "software": "software",
    "unpublished": "manuscript",
    "periodical": "periodical",
    "suppperiodical": "article-journal",
    "standard": "standard",
    "artwork": "graphic",
    "image": "graphic",
    "audio": "song",
    "music": "song",
    "video": "motion_picture",
    "movie": "motion_picture",
    "letter": "personal_communication",
    "review": "review",
    "misc": "document",
}
_ENTRYSUBTYPES = {"magazine": "article-magazine", "newspaper": "article-newspaper"}
# Types whose `booktitle` (or `journal`) is the container of the work.
_CONTAINED = frozenset({"chapter", "paper-conference", "entry-encyclopedia"})
# Types whose `number` is an issue number; elsewhere it is a report, series or patent number.
_ISSUE_NUMBER = frozenset(
    {"article-journal", "article-magazine", "article-newspaper", "paper-conference", "periodical"}
)

# Fields whose value is an identifier, path or URL: LaTeX is not decoded there
# (`%`, `~` and `_` are literal in URLs), only TeX escapes like `\_` are undone.
# fmt: off
_VERBATIM_FIELDS = frozenset({
    "doi", "url", "eprint", "file", "pdf", "urldate", "biburl", "bibsource", "timestamp",
    "urn", "isbn", "issn", "pmid", "pmcid", "arxiv", "archiveprefix", "primaryclass",
    "crossref", "xdata", "ids", "sentelink", "local-url", "bdsk-url-1", "bdsk-url-2",
    "mrnumber", "mrclass", "zbl", "eid", "date", "origdate", "eventdate", "year", "month",
    "day", "langid", "ee", "link",
})
# A child entry does not take these from its crossref parent: they describe the parent itself.
_NOT_INHERITED = frozenset({
    "title", "subtitle", "titleaddon", "shorttitle", "doi", "url", "eprint", "eprinttype",
    "pages", "abstract", "keywords", "file", "pdf", "note", "crossref", "ids", "label",
    "urldate", "entrysubtype",
})
# fmt: on
# Crossref inheritance is followed this many levels deep (guards against cycles).
_MAX_CROSSREF_DEPTH = 5
# Values nested deeper than this are not given to pylatexenc, which recurses per level.
_MAX_LATEX_DEPTH = 64
# Nor values longer than this: pylatexenc decodes macro-dense text at about 30 s per MB,
# and no real field (an abstract is a few kB) comes near it.
_MAX_LATEX_CHARS = 50_000

# Month macros BibTeX predefines (`month = mar`); an @string may redefine them.
# fmt: off
_MONTH_MACROS = {
    "jan": "January", "feb": "February", "mar": "March", "apr": "April", "may": "May",
    "jun": "June", "jul": "July", "aug": "August", "sep": "September", "oct": "October",
    "nov": "November", "dec": "December",
}

# Lower-case words that join the words of an organization's name but not a person's
# ("American Rights at Work", "Corporation for Digital Scholarship").
def sniff(text: str) -> bool:
    """A BibTeX file has an entry start (`@type{` or `@type(`) at the beginning of a line."""
    text = text.removeprefix("\ufeff")
    head = text.lstrip()[:1]
    if head in ("{", "[", "<"):  # JSON or XML that merely quotes BibTeX
        return False
    return _ENTRY_START.search(text, 0, _SNIFF_LIMIT) is not None


# ---------------------------------------------------------------------------
# LaTeX decoding


@dataclass(frozen=True)
class _Latex:
    converter: LatexNodes2Text
    context: LatexContextDb


@lru_cache(maxsize=1)
def _latex() -> _Latex:
    """Build the pylatexenc converter once, with macros bibliographies use added."""
    from pylatexenc import latex2text, latexwalker, macrospec

    def last_argument(node: Any, l2tobj: Any = None, **_: Any) -> str:
        # \href{url}{text} -> text, \url{url} -> url; tolerate missing arguments,
        # on which pylatexenc's own \href/\url handling raises.
        args = [a for a in (node.nodeargd.argnlist if node.nodeargd else []) if a is not None]
        return l2tobj.nodelist_to_text([args[-1]]) if args and l2tobj is not None else ""

    walker_context = latexwalker.get_default_latex_context_db()
    walker_context.add_context_category(
        "refdeck",
        prepend=True,
        macros=[
            macrospec.MacroSpec("href", "{{"),
            macrospec.MacroSpec("url", "{"),
            macrospec.MacroSpec("etal", ""),
            macrospec.MacroSpec("textbraceleft", ""),
            macrospec.MacroSpec("textbraceright", ""),
            macrospec.MacroSpec("textasciicircum", ""),
            macrospec.MacroSpec("textasciitilde", ""),
        ],
    )
    text_context = latex2text.get_default_latex_context_db()
    text_context.add_context_category(
        "refdeck",
        prepend=True,
        macros=[
            latex2text.MacroTextSpec("href", simplify_repl=last_argument),
            latex2text.MacroTextSpec("url", simplify_repl=last_argument),
            latex2text.MacroTextSpec("etal", simplify_repl="et al. "),
            # What refdeck's own export writes for a brace that has no partner.
            latex2text.MacroTextSpec("textbraceleft", simplify_repl="{"),
            latex2text.MacroTextSpec("textbraceright", simplify_repl="}"),
            latex2text.MacroTextSpec("textasciicircum", simplify_repl="^"),
            latex2text.MacroTextSpec("textasciitilde", simplify_repl="~"),
        ],
    )
    converter = latex2text.LatexNodes2Text(
        latex_context=text_context,
        math_mode="text",
        strict_latex_spaces=False,
        keep_comments=False,
    )
    return _Latex(converter, walker_context)


_NEEDS_LATEX = re.compile(r"[\\{}$~%]|--|``|''")
# Braces alone (`{{DNA}}`, `{EEG}`: case protection) need no LaTeX parser to remove.
_NEEDS_PARSER = re.compile(r"[\\$~%]|--|``|''")
# `%` starts a comment in LaTeX, which would swallow the rest of a title ("50% of ...").
_BARE_PERCENT = re.compile(r"(?<!\\)%")
# A backslash escaped twice before an accent (`D\\'ecoret`, `Swe{\\i}g`), as some
# tools write it: meant as one backslash, not as a LaTeX line break.
_DOUBLED_ACCENT = re.compile(r"\\\\(?=['\"`^~=.]|[A-Za-z]{1,2}\})")
_TEX_ESCAPE = re.compile(r"\\([_%&#$~{}])")
_TEX_MACRO = re.compile(r"\\[A-Za-z]+\*?\s*|\\['\"`^~=.]")
_BRACES = re.compile(r"(?<!\\)[{}]")


def _brace_depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif char == "}":
            depth -= 1
    return deepest


def _strip_tex(text: str) -> str:
    """Undo TeX escapes (`\\_`, `\\&`, `$\\backslash$`) and drop braces; nothing else."""
    text = text.replace("$\\backslash$", "\\").replace("{\\textasciitilde}", "~")
    text = text.replace("\\~{}", "~").replace("{\\textunderscore}", "_")
    text = _BRACES.sub("", text)
    return _TEX_ESCAPE.sub(r"\1", text)


def _plain(value: str) -> str:
    """Text without a LaTeX parser, for values pylatexenc cannot decode.

    Macros and accents are dropped (their arguments kept), braces removed, escapes undone.
    """
    return _strip_tex(_TEX_MACRO.sub("", value))


@lru_cache(maxsize=4096)
def latex_to_text(value: str) -> str:
    """Decode the LaTeX in a text field: accents, `\\&`, braces, dashes, `~`, math.

    Cached: names and journal titles repeat across a file, and pylatexenc is slow.
    Raises ValueError when the value is nested too deeply or too long to decode
    safely; `_Decoder.text` then falls back to removing braces and reports it.
    """
    if not _NEEDS_LATEX.search(value):
        return value
    if not _NEEDS_PARSER.search(value):
        return _BRACES.sub("", value)
    if len(value) > _MAX_LATEX_CHARS:
        raise ValueError(f"longer than {_MAX_LATEX_CHARS:,} characters")
    if _brace_depth(value) > _MAX_LATEX_DEPTH:
        raise ValueError(f"braces nested more than {_MAX_LATEX_DEPTH} levels deep")
    value = _DOUBLED_ACCENT.sub(r"\\", value)
    value = _BARE_PERCENT.sub(r"\\%", value)
    latex = _latex()
    return latex.converter.latex_to_text(value, latex_context=latex.context)


def verbatim(value: str) -> str:
    """Read an identifier, path or URL field: TeX escapes undone, nothing else decoded."""
    text = value.strip()
    url = re.fullmatch(r"\\(?:url|path)\s*\{(.*)\}", text, re.DOTALL)
    if url:
        text = url.group(1)
    return _strip_tex(text)


def _looks_verbatim(value: str) -> bool:
    """Unknown fields holding a URL or file path are not LaTeX text."""
    text = value.strip()
    return bool(
        re.match(r"(?:https?|ftp|file|doi|urn|mailto):", text, re.IGNORECASE)
        # "/home/...", "~/papers", "C:\papers", Mendeley's ":C$\backslash$:/..."
        or re.match(r"(?:/|~/|[A-Za-z]:[\\/]|:[A-Za-z]?[:$/])", text)
        or (" " not in text and ("/" in text or "\\_" in text) and "{" not in text)
    )


@dataclass
class _Decoder:
    """Decodes one entry's values, collecting what could not be decoded cleanly."""

    problems: list[str] = field(default_factory=list)

    def text(self, name: str, value: str) -> str:
        """Decode a text field; on failure fall back to stripping braces and report it."""
        try:
            return latex_to_text(value)
        except Exception as error:  # noqa: BLE001 - pylatexenc fails in many ways on odd input
            reason = str(error) if isinstance(error, ValueError) else type(error).__name__
            self.problems.append(
                f"LaTeX in field `{name}` could not be decoded ({reason}); braces removed"
            )
            return _plain(value)

    def field(self, name: str, value: str) -> str:
        """Decode a field the importer does not map: identifiers, paths and URLs verbatim."""
        if name in _VERBATIM_FIELDS or _looks_verbatim(value):
            return verbatim(value)
        return self.text(name, value)


# ---------------------------------------------------------------------------
# Field values: @string macros, `#` concatenation, braces and quotes


def _matching(value: str, start: int, opening: str) -> int:
    """Index of the `}` or `"` that closes the group `opening` opened at `start`, or -1."""
    depth = 0
    index = start
    escaped = False
    while index < len(value):
        char = value[index]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif opening == '"' and char == "{":
            depth += 1
        elif opening == '"' and char == "}":
            depth -= 1
        elif opening == '"' and char == '"' and depth == 0 and index > start:
            return index
        elif opening == "{" and char == "{":
            depth += 1
        elif opening == "{" and char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


_WORD = re.compile(r"[^\s#{}\",=]+")


@dataclass
class _Value:
    text: str
    undefined: list[str]
    rest: str | None
    """Text after a complete value that is not joined with `#` (a missing comma)."""


def _evaluate(raw: str, strings: dict[str, str]) -> _Value:
    """Evaluate a raw field value: `{...}`, `"..."`, numbers and macros joined by `#`."""
    parts: list[str] = []
    undefined: list[str] = []
    pos = 0
    length = len(raw)
    while True:
        while pos < length and raw[pos].isspace():
            pos += 1
        if pos >= length:
            break
        char = raw[pos]
        if char in '{"':
            end = _matching(raw, pos, char)
            if end < 0:  # unbalanced: take the rest as written rather than lose it
                parts.append(raw[pos + 1 :])
                pos = length
                break
            parts.append(raw[pos + 1 : end])
            pos = end + 1
        else:
            match = _WORD.match(raw, pos)
            if not match:
                break
            word = match.group(0)
            if word.isdigit():
                parts.append(word)
            elif word.lower() in strings:
                parts.append(strings[word.lower()])
            elif word.lower() in _MONTH_MACROS:
                parts.append(_MONTH_MACROS[word.lower()])
            else:
                undefined.append(word)
                parts.append(word)
            pos = match.end()
        while pos < length and raw[pos].isspace():
            pos += 1
        if pos < length and raw[pos] == "#":
            pos += 1
            continue
        break
    rest = raw[pos:].strip() if pos < length else None
    return _Value("".join(parts), undefined, rest or None)


# ---------------------------------------------------------------------------
# Entries


@dataclass
class _Entry:
    """One entry with its values evaluated (LaTeX not yet decoded)."""

    key: str
    type: str
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    """Lower-case field name -> evaluated value, in source order; the first of duplicates wins."""
    duplicates: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    inherited: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.key or f"@{self.type} entry"


_KEY_IN_RAW = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s{}()=\"#%]*)")
_FIELD_REST = re.compile(r"([^\s=,{}\"#]+)\s*=\s*(.*)", re.DOTALL)


def _read_entry(block: Any, strings: dict[str, str]) -> _Entry:
    """Evaluate an Entry block's fields, noting duplicates, undefined macros, missing commas."""
    type_match = _KEY_IN_RAW.match(block.raw or "")
    entry = _Entry(
        key=str(block.key or "").strip(),
        type=(type_match.group(1) if type_match else block.entry_type).lower(),
        line=(block.start_line or 0) + 1,
    )
    pending = [(f.key, str(f.value)) for f in block.fields]
    while pending:
        name, raw = pending.pop(0)
        name = name.strip().lower()
        value = _evaluate(raw, strings)
        if value.rest is not None:
            follow = _FIELD_REST.fullmatch(value.rest)
            if follow:
                entry.warnings.append(
                    f"missing comma after field `{name}`; "
                    f"`{follow.group(1)}` read as the next field"
                )
                pending.insert(0, (follow.group(1), follow.group(2)))
            else:
                entry.warnings.append(
                    f"unexpected text after the value of field `{name}` ignored: "
                    f"{value.rest[:40]!r}"
                )
        for word in value.undefined:
            entry.warnings.append(
                f"field `{name}` uses undefined @string `{word}`; kept as written"
            )
        if not name:
            continue
        if name in entry.fields:
            entry.duplicates.setdefault(name, []).append(value.text)
            continue
        entry.fields[name] = value.text
    for name in entry.duplicates:
        entry.warnings.append(f"field `{name}` appears more than once; the first value is used")
    return entry


def _inherit(entries: list[_Entry]) -> None:
    """Give entries with `crossref` the fields they lack from their parent entry."""
    by_key: dict[str, _Entry] = {}
    for entry in entries:
        by_key.setdefault(entry.key.lower(), entry)

    def resolve(entry: _Entry, depth: int, seen: set[str]) -> None:
        parent_key = entry.fields.get("crossref", "").strip()
        if not parent_key or depth > _MAX_CROSSREF_DEPTH or parent_key.lower() in seen:
            return
        parent = by_key.get(parent_key.lower())
        if parent is None:
            entry.warnings.append(f"crossref `{parent_key}` is not in this file; nothing inherited")
            return
        resolve(parent, depth + 1, seen | {entry.key.lower()})
        for name, value in parent.fields.items():
            if name in entry.fields or name in _NOT_INHERITED:
                continue
            entry.fields[name] = value
            entry.inherited.append(name)
        # The parent's title is the child's container (a proceedings volume, a book).
        if "booktitle" not in entry.fields and "title" in parent.fields:
            entry.fields["booktitle"] = parent.fields["title"]
            entry.inherited.append("booktitle")

    for entry in entries:
        if "crossref" in entry.fields:
            resolve(entry, 0, set())


# ---------------------------------------------------------------------------
# Names

_NAME_FIELDS = ("author", "editor")


_SUFFIX = re.compile(r"^(?:jr|sr|jnr|snr|[ivx]{1,4}|\d+(?:st|nd|rd|th))\.?$", re.IGNORECASE)


def _top_level_commas(name: str) -> list[str]:
    """Split a name on commas that are not inside braces."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in name:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _whole_braced(name: str) -> bool:
    return name.startswith("{") and _matching(name, 0, "{") == len(name) - 1


_FAMILY_INITIALS = re.compile(r"^(\S{2,}(?: \S{2,})*?) ((?:[A-Z]\.? ?){1,3})$")
"""A family name followed by one to three initials, with no comma: "Brown E. N."."""


def _names(
    raw: str, role: str, decoder: _Decoder, warnings: list[str]
) -> tuple[list[Author], bool]:
    """Split an author/editor field into people.

    Returns the people and whether the list ended with `and others` (kept as a flag).
    """
    from bibtexparser.middlewares.names import (
        parse_single_name_into_parts,
        split_multiple_persons_names,
    )

    names = split_multiple_persons_names(raw)
    others = False
    expanded: list[str] = []
    for name in names:
        name = name.strip()
        if not name:
            continue
        if name.lower() == "others":
            others = True
            continue
        parts = _top_level_commas(name)
        if len(parts) >= 3 and all(" " in part for part in parts if part):
            # "Ricardo Bruña, Fernando Maestú, Ernesto Pereda": commas used instead of `and`.
            people = [part for part in parts if part]
            warnings.append(
                f"{role} list separates names with commas instead of `and`; "
                f"read as {len(people)} people"
            )
            expanded.extend(people)
        elif len(parts) >= 4 and len(parts) % 2 == 0 and all(" " not in p for p in parts[::2]):
            # "Smith, J., Doe, A.": "Family, Given" pairs separated by commas.
            people = [f"{parts[i]}, {parts[i + 1]}" for i in range(0, len(parts), 2)]
            warnings.append(
                f"{role} list separates names with commas instead of `and`; "
                f"read as {len(people)} people"
            )
            expanded.extend(people)
        elif len(parts) == 3 and not _SUFFIX.match(parts[1]):
            # BibTeX would take the middle part as a suffix like "Jr."; it is not one.
            words = parts[1].split()
            joint = next(
                (i for i, w in enumerate(words[1:-1], 1) if w.islower() and len(w) <= 3), None
            )
            if joint is not None:
                # "Mellor, Stephanie nd O'Neill, George C.": two people, `and` mistyped.
                people = [
                    f"{parts[0]}, {' '.join(words[:joint])}",
                    f"{' '.join(words[joint + 1 :])}, {parts[2]}",
                ]
                warnings.append(
                    f"{role} `{decoder.text(role, name)}` looks like two names joined by "
                    f"`{words[joint]}` instead of `and`; read as 2 people"
                )
                expanded.extend(people)
                continue
            # "Ilmoniemi, Risto J., Ilmoniemi": the middle part is the given name.
            fixed = f"{parts[0]}, {parts[1]}"
            warnings.append(
                f"{role} `{decoder.text(role, name)}` has a third part that is no suffix; "
                f"read as `{decoder.text(role, fixed)}`"
            )
            expanded.append(fixed)
        elif "," not in name.rstrip(", ") and (initials := _FAMILY_INITIALS.match(name.rstrip(", "))):
            # "Molins A," or "Stufflebeam S. M.": PubMed's "Family Initials" order, which
            # BibTeX would read as given "Stufflebeam S.", family "M.".
            expanded.append(f"{initials.group(1)}, {initials.group(2)}")
        else:
            expanded.append(name)

    authors: list[Author] = []
    for name in expanded:
        if _whole_braced(name):
            # `{American Heart Association}`: a group name, never split.
            authors.append(Author(literal=decoder.text(role, name[1:-1])))
            continue
        if "," not in name and is_group_name(decoder.text(role, name)):
            authors.append(Author(literal=decoder.text(role, name)))
            continue
        parts = parse_single_name_into_parts(name, strict=False)
        family = " ".join(parts.von + parts.last)
        authors.append(
            Author(
                family=decoder.text(role, family) if family else None,
                given=decoder.text(role, " ".join(parts.first)) if parts.first else None,
                suffix=decoder.text(role, " ".join(parts.jr)) if parts.jr else None,
            )
        )
    return authors, others


# ---------------------------------------------------------------------------
# Records

_PMID_IN_TEXT = re.compile(r"\bPMID:?\s*(\d{1,9})\b", re.IGNORECASE)
_PMCID_IN_TEXT = re.compile(r"\b(PMC\d{1,9})\b")
_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/", re.IGNORECASE)


def _date(entry: _Entry, decoder: _Decoder, warnings: list[str], used: set[str]) -> str | None:
    """Combine `year`, `month` and `day` into an ISO date (BibLaTeX `date` is used as is)."""
    fields = entry.fields
    if fields.get("date", "").strip():
        used.add("date")
        return verbatim(fields["date"])
    year = to_int(verbatim(fields.get("year", "")))
    month_text = decoder.text("month", fields["month"]).strip() if "month" in fields else ""
    if not month_text or year is None:
        return None  # a month without a year is no date; it stays in extra
    month = month_number(month_text)
    if month is None:
        # "13–15 Apr": a day range with the month name; the raw value stays in extra.
        names = (month_number(word) for word in re.findall(r"[^\W\d_]+", month_text))
        month = next((number for number in names if number is not None), None)
        if month is None:
            warnings.append(f"unreadable month {month_text!r}; kept in extra")
            return None
    else:
        used.add("month")
    day = to_int(verbatim(fields.get("day", ""))) if "day" in fields else None
    if day is not None and 1 <= day <= 31:
        used.add("day")
        return f"{year:04d}-{month:02d}-{day:02d}"
    return f"{year:04d}-{month:02d}"


def _convert(entry: _Entry, result: ParseResult) -> None:
    """Map one evaluated entry onto `ParseResult.add`."""
    decoder = _Decoder()
    warnings = list(entry.warnings)
    fields = entry.fields
    used: set[str] = set()

    def take(*names: str, text: bool = True) -> str | None:
        """The first non-blank of the named fields, decoded, marked as used."""
        for name in names:
            value = fields.get(name)
            if value is not None and value.strip():
                used.add(name)
                return decoder.text(name, value) if text else verbatim(value)
        return None

    csl_type = _TYPES.get(entry.type, "document")
    subtype = fields.get("entrysubtype", "").strip().lower()
    if csl_type == "article-journal" and subtype in _ENTRYSUBTYPES:
        csl_type = _ENTRYSUBTYPES[subtype]
        used.add("entrysubtype")
    if entry.type not in _TYPES:
        warnings.append(f"unknown entry type @{entry.type}; imported as a generic document")

    authors: list[Author] = []
    editors: list[Author] = []
    extra: dict[str, Any] = {"entry_type": entry.type}
    for role in _NAME_FIELDS:
        if role in fields and fields[role].strip():
            used.add(role)
            before = len(warnings)
            people, others = _names(fields[role], role, decoder, warnings)
            if len(warnings) > before:  # the list was repaired: keep it as written too
                extra[f"{role}_as_written"] = decoder.text(role, fields[role])
            (authors if role == "author" else editors).extend(people)
            if others:
                extra[f"{role}_others"] = True

    title = take("title")
    if title is None and csl_type == "book":
        title = take("booktitle")  # a @proceedings that names itself only as a booktitle
    subtitle = take("subtitle")
    if title and subtitle:
        title = f"{title.rstrip(': ')}: {subtitle}"

    if csl_type in _CONTAINED:
        journal = take("booktitle", "journaltitle", "journal", "maintitle")
    else:
        journal = take("fjournal", "journaltitle", "journal")
        if journal is None and csl_type not in ("book", "thesis", "report"):
            journal = take("booktitle")

    number_field = "number" if csl_type in _ISSUE_NUMBER else None
    issue = take("issue", *(() if number_field is None else (number_field,)))

    publisher = take("publisher")
    if publisher is None:
        publisher = take("school", "institution", "organization")

    doi = take("doi", text=False)
    url = take("url", text=False)
    if url is None and "howpublished" in fields:
        how = verbatim(fields["howpublished"])
        if re.match(r"https?://\S+$", how):
            url = how
            used.add("howpublished")
    if doi is None and url and _DOI_URL.match(url):
        doi = url
    eprint_type = fields.get("eprinttype", fields.get("archiveprefix", "")).strip().lower()
    pmid = take("pmid", text=False)
    pmcid = take("pmcid", text=False)
    eprint = verbatim(fields.get("eprint", ""))
    if eprint:
        if eprint_type == "doi" and doi is None:
            doi = eprint
        elif eprint_type == "pubmed" and pmid is None:
            pmid = eprint
        elif eprint_type == "pmc" and pmcid is None:
            pmcid = eprint
    note = decoder.text("note", fields["note"]) if fields.get("note", "").strip() else ""
    if pmid is None and (match := _PMID_IN_TEXT.search(note)):
        pmid = match.group(1)
    if pmcid is None and (match := _PMCID_IN_TEXT.search(note)):
        pmcid = match.group(1)

    pdf = verbatim(fields.get("pdf", ""))
    pdf_url = pdf if re.match(r"https?://", pdf) else None
    if pdf_url:
        used.add("pdf")

    keywords_raw = take("keywords", "keyword")
    keywords = re.split(r"\s*[,;]\s*", keywords_raw) if keywords_raw else []

    date = _date(entry, decoder, warnings, used)
    year = take("year", text=False)

    record_fields: dict[str, Any] = {
        "title": title,
        "authors": authors,
        "editors": editors,
        "doi": doi,
        "year": year,
        "date": date,
        "journal": journal,
        "volume": take("volume"),
        "issue": issue,
        "pages": take("pages"),
        "abstract": take("abstract"),
        "type": csl_type,
        "keywords": keywords,
        "publisher": publisher,
        "issn": take("issn", text=False),
        "isbn": take("isbn", text=False),
        "pmid": pmid,
        "pmcid": pmcid,
        "language": take("language", "langid"),
        "url": url,
        "pdf_url": pdf_url,
        "key": entry.key or None,
    }

    # Everything not mapped above stays in extra, decoded, so nothing is lost.
    for name, value in fields.items():
        if name not in used and value.strip():
            extra[name] = decoder.field(name, value)
    if entry.duplicates:
        extra["duplicate_fields"] = {
            name: [decoder.field(name, value) for value in values]
            for name, values in entry.duplicates.items()
        }
    if entry.inherited:
        extra["inherited_from_crossref"] = entry.inherited
    record_fields["extra"] = extra

    for message in warnings + decoder.problems:
        result.warn(entry.line, entry.label, message)
    result.add(line=entry.line, entry=entry.label, **record_fields)


# ---------------------------------------------------------------------------
# Failed blocks

_ABORT_MESSAGES = (
    (
        "Unexpectedly reached end of file",
        "unclosed brace or quote: the file ends inside this entry",
    ),
    (
        "Unexpected block start",
        "unclosed brace or quote: another entry starts before this one ends",
    ),
    ("Expected comma after entry key", "missing comma after the citation key"),
    ("Expected a `=` after entry key", "a field has no `=`"),
    ("Expected either a `,`", "missing comma between fields"),
    ("Expected equals sign", "@string has no `=`"),
)


def _failure_message(block: Any) -> str:
    error = getattr(block, "error", None)
    reason = str(getattr(error, "abort_reason", None) or error or "unreadable block").strip()
    for needle, message in _ABORT_MESSAGES:
        if needle in reason:
            return message
    return reason.rstrip(".")


def _block_label(block: Any) -> str | None:
    match = _KEY_IN_RAW.match(block.raw or "")
    if match and match.group(2):
        return match.group(2)
    return f"@{match.group(1).lower()} entry" if match else None


_STRAY_AT = re.compile(r"^[ \t]*@", re.MULTILINE)
_HIDDEN_SPECIAL = re.compile(r"@\s*(?:%[^\n]*\s*)*(?:preamble|comment)\b", re.IGNORECASE)
# An entry whose `@` was deleted or garbled (`article{Adams2001,`, "`article{...") is
# comment text to BibTeX; it is ignored, but the user must hear of it.
_HEADLESS_ENTRY = re.compile(
    r"^[ \t]*[^\s@]?(?:"
    + "|".join(sorted(_TYPES, key=len, reverse=True))
    + r")[ \t]*[{(][^\s,{}()]*[ \t]*,",
    re.MULTILINE | re.IGNORECASE,
)
# When the head is beyond recognizing, the entry's fields still are: `author = {`.
_FIELD_LINE = re.compile(r"^[ \t]*[A-Za-z][\w:.+-]*[ \t]*=[ \t]*[{\"]", re.MULTILINE)


def _check_implicit_comment(block: Any, result: ParseResult) -> None:
    """Text outside entries is a comment, but what is left of an entry there is reported.

    That is an `@` at a line start, a line like `article{key,` without its `@`, or
    else (when nothing of the head is left) a line like `author = {`.
    """
    text = block.comment or ""
    found: list[tuple[int, str]] = []
    for match in _STRAY_AT.finditer(text):
        if _HIDDEN_SPECIAL.match(text, match.end() - 1):
            continue  # `@ %comment\n preamble{...}`: an odd but harmless preamble
        snippet = _line_from(text, match.start())
        found.append((match.start(), f"`{snippet}` does not start a valid entry; ignored"))
    for match in _HEADLESS_ENTRY.finditer(text):
        snippet = match.group().strip()[:40]
        found.append((match.start(), f"`{snippet}` looks like an entry without its `@`; ignored"))
    if not found and (field := _FIELD_LINE.search(text)):
        snippet = _line_from(text, field.start())
        found.append((field.start(), f"`{snippet}` looks like a field outside any entry; ignored"))
    # Lines are counted once over the text, not from its start for each warning: a
    # comment of 100k stray `@` lines must not take minutes.
    line, counted = (block.start_line or 0) + 1, 0
    for offset, message in sorted(found):
        line += text.count("\n", counted, offset)
        counted = offset
        result.warn(line, None, message)


def _line_from(text: str, start: int) -> str:
    """The line of `text` from `start`, stripped and cut to 40 characters."""
    end = text.find("\n", start)
    return text[start : end if end >= 0 else len(text)].strip()[:40]


@contextmanager
def _quiet_libraries() -> Iterator[None]:
    """Keep bibtexparser's and pylatexenc's log messages off the user's terminal.

    Every problem they log is reported as an import issue instead.
    """
    loggers = [
        logging.getLogger(name)
        for name in list(logging.root.manager.loggerDict)
        if name.split(".")[0] in ("bibtexparser", "pylatexenc")
    ]
    states = [logger.disabled for logger in loggers]
    for logger in loggers:
        logger.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, state in zip(loggers, states, strict=True):
            logger.disabled = state


def parse(text: str, result: ParseResult) -> None:
    """Parse a BibTeX/BibLaTeX file: every entry becomes a record or a located issue."""
    import bibtexparser  # noqa: F401 - imported here, not at start-up; registers its loggers
    import pylatexenc.latex2text  # noqa: F401 - registers its loggers before they are silenced

    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        result.error("is empty")
        return
    with _quiet_libraries():
        entries = _split(text, result)
        _inherit(entries)
        for entry in entries:
            try:
                _convert(entry, result)
            except RecursionError:
                result.fail(
                    entry.line, entry.label, "is nested too deeply to read; entry not imported"
                )
            except Exception as error:  # noqa: BLE001 - one bad entry must not sink the file
                result.fail(
                    entry.line,
                    entry.label,
                    f"could not be read ({type(error).__name__}: {error}); entry not imported",
                )


def _split(text: str, result: ParseResult) -> list[_Entry]:
    """Split the text into blocks: entries are returned, every failed block is reported."""
    import bibtexparser
    from bibtexparser import model

    library = bibtexparser.parse_string(text, parse_stack=[])
    strings: dict[str, str] = {}
    entries: list[_Entry] = []
    first_line_of: dict[str, int] = {}
    for block in library.blocks:
        # bibtexparser numbers lines from 0.
        line = (block.start_line or 0) + 1
        if isinstance(block, model.DuplicateBlockKeyBlock):
            duplicate = block.ignore_error_block
            if isinstance(duplicate, model.String):
                strings[duplicate.key.lower()] = _evaluate(duplicate.value, strings).text
                result.warn(line, duplicate.key, "@string defined again; the later value is used")
                continue
            first = first_line_of.get(str(block.key).lower())
            where = f" (first used on line {first})" if first else ""
            result.warn(line, block.key, f"duplicate citation key{where}; both imported")
            block = duplicate
        elif isinstance(block, model.DuplicateFieldKeyBlock):
            block = block.ignore_error_block  # salvaged: _read_entry keeps the first value
        if isinstance(block, model.String):
            strings[block.key.lower()] = _evaluate(block.value, strings).text
        elif isinstance(block, model.Entry):
            try:
                entry = _read_entry(block, strings)
            except Exception as error:  # noqa: BLE001 - one bad entry must not sink the file
                message = f"could not be read ({type(error).__name__}); entry not imported"
                result.fail(line, block.key, message)
                continue
            first_line_of.setdefault(entry.key.lower(), entry.line)
            entries.append(entry)
        elif isinstance(block, model.ParsingFailedBlock):
            message = f"{_failure_message(block)}; entry not imported"
            result.fail(line, _block_label(block), message)
        elif isinstance(block, model.ImplicitComment):
            _check_implicit_comment(block, result)
        # @comment and @preamble blocks carry nothing to import.
    return entries
