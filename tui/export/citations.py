"""Formatted citations in real CSL styles, through citeproc-py.

The styles refdeck names (`apa`, `vancouver`, `ama`, `nature`, `chicago`,
`ieee`, `harvard`) are CSL files from the Citation Style Language project,
shipped in `tui/export/styles/` so they work offline; any other `.csl` file
can be given by its path.

Two fixes are applied to a style as it is loaded, because citeproc-py 0.11
renders them differently from the CSL specification and from Zotero:

* A localized date format (`<date form="text"/>`) takes its delimiter from
  the style's `<locale>`; citeproc-py drops it, giving "2025May23" in
  Vancouver instead of "2025 May 23".
* Numbered styles put the number in a margin column (`second-field-align`),
  which plain text does not have; citeproc-py runs it into the reference
  ("1.Adomako EK"). A space is added, or the number is dropped when a single
  reference is copied.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.export import ExportError
from tui.export.csl_json import to_csl
from tui.export.keys import citation_keys
from tui.models import Record

if TYPE_CHECKING:  # pragma: no cover - citeproc is imported on first use
    from citeproc import CitationStylesStyle

STYLE_DIR = Path(__file__).with_name("styles")
STYLES = {
    "apa": "apa.csl",
    "vancouver": "nlm-citation-sequence.csl",
    "ama": "american-medical-association.csl",
    "nature": "nature.csl",
    "chicago": "chicago-author-date.csl",
    "ieee": "ieee.csl",
    "harvard": "harvard-cite-them-right.csl",
}
"""Style names -> the shipped CSL files."""
DEFAULT_STYLE = "apa"

STYLE_LABELS = {
    "apa": "APA",
    "vancouver": "Vancouver (NLM)",
    "ama": "AMA",
    "nature": "Nature",
    "chicago": "Chicago (author-date)",
    "ieee": "IEEE",
    "harvard": "Harvard (Cite Them Right)",
}
"""How the shipped styles are named to the user."""


def style_label(style: str | None) -> str:
    """A style as the user knows it: "APA", or the file name of their own `.csl` file."""
    name = style or DEFAULT_STYLE
    return STYLE_LABELS.get(name.lower(), Path(name).name)


_CSL = "{http://purl.org/net/xbiblio/csl}"
# CSL 1.0.1 item types, the ones citeproc-py knows; newer ones are given as the closest.
_TYPE_FALLBACK = {"document": "article", "standard": "report", "software": "article"}
_SPACES = re.compile(r"\s+")
# citeproc-py's objects are not documented as thread-safe; exports run in worker threads.
_LOCK = threading.Lock()


def style_path(style: str | None) -> Path:
    """The CSL file for a style name or a path to a `.csl` file."""
    name = (style or DEFAULT_STYLE).strip()
    if name.lower() in STYLES:
        return STYLE_DIR / STYLES[name.lower()]
    path = Path(name).expanduser()
    if path.suffix.lower() == ".csl" and path.is_file():
        return path
    raise ExportError(
        f"unknown citation style {name!r}: use one of {', '.join(STYLES)} or the path of a .csl file"
    )


def _fix_style(tree: Any, numbered: bool) -> None:
    """Apply the two fixes described in the module docstring to a parsed style."""
    root = tree.getroot()
    delimiters = {
        date.get("form"): date.get("delimiter")
        for date in root.iter(f"{_CSL}date")
        if date.get("delimiter") is not None and date.getparent().tag == f"{_CSL}locale"
    }
    for date in root.iter(f"{_CSL}date"):
        form = date.get("form")
        calling = date.getparent().tag != f"{_CSL}locale"
        if calling and form in delimiters and date.get("delimiter") is None:
            date.set("delimiter", delimiters[form])
    bibliography = root.find(f"{_CSL}bibliography")
    if bibliography is None or bibliography.get("second-field-align") is None:
        return
    layout = bibliography.find(f"{_CSL}layout")
    # The first element, not a comment (IEEE's layout starts with `<!-- Citation Number -->`).
    first = (
        next((c for c in layout if isinstance(c.tag, str)), None) if layout is not None else None
    )
    if first is None or b"citation-number" not in _serialize(first):
        return
    if numbered:
        first.set("suffix", (first.get("suffix") or "").rstrip() + " ")
    else:
        layout.remove(first)


def _serialize(element: Any) -> bytes:
    from lxml import etree

    return etree.tostring(element)


@lru_cache(maxsize=8)
def load_style(path: Path, numbered: bool = True) -> CitationStylesStyle:
    """Parse and fix a CSL style once; a broken file is an ExportError naming it."""
    from citeproc import CitationStylesStyle
    from lxml import etree

    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
        if tree.getroot().find(f"{_CSL}bibliography") is None:
            raise ExportError(
                f"{path}: this CSL style has no bibliography (a dependent style? use its parent)"
            )
        _fix_style(tree, numbered)
        buffer = io.BytesIO(etree.tostring(tree))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return CitationStylesStyle(buffer, validate=False)
    except ExportError:
        raise
    except (OSError, etree.XMLSyntaxError, ValueError, KeyError) as error:
        raise ExportError(f"{path}: not a usable CSL style ({error})") from error


def _item(record: Record, key: str) -> dict[str, Any]:
    item = to_csl(record, key)
    item["type"] = _TYPE_FALLBACK.get(item["type"], item["type"])
    if item.get("title", "").endswith(".") and not item["title"].endswith(".."):
        # PubMed ends every title with a period; the style adds its own punctuation.
        item["title"] = item["title"][:-1]
    # Abstracts and keywords are never printed; leaving them out keeps citeproc fast.
    item.pop("abstract", None)
    item.pop("keyword", None)
    return item


def format_references(
    records: Sequence[Record], style: str | None = None, numbered: bool = True
) -> list[str]:
    """The reference list entries of `records` in the style, in the style's order."""
    if not records:
        return []
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    csl_style = load_style(style_path(style), numbered)
    keys = citation_keys(records)
    items = [_item(record, key) for record, key in zip(records, keys, strict=True)]
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            bibliography = CitationStylesBibliography(
                csl_style, CiteProcJSON(items), formatter.plain
            )
            for key in keys:
                bibliography.register(Citation([CitationItem(key)]))
            entries = [str(entry) for entry in bibliography.bibliography()]
        except Exception as error:  # citeproc-py raises many kinds on odd data
            raise ExportError(
                f"citation style {style or DEFAULT_STYLE!r} failed: {error}"
            ) from error
    return [_SPACES.sub(" ", entry).strip() for entry in entries]


def format_citation(record: Record, style: str | None = None) -> str:
    """One reference, as copied with `c`: no list number in front."""
    return format_references([record], style, numbered=False)[0]


def export(records: Sequence[Record], style: str | None = None) -> str:
    """The reference list as plain text, one reference per paragraph."""
    return "".join(f"{entry}\n\n" for entry in format_references(records, style)).rstrip() + "\n"
