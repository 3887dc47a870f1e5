"""CSV for spreadsheets, safe to open in Excel, LibreOffice and Google Sheets.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a
formula to a spreadsheet, even when quoted (OWASP "CSV injection"): a title
like `=HYPERLINK("https://evil.example", "x")` would run on opening. Such
text cells get a leading `'`, which spreadsheets treat as "this is text" and
do not show. Numbers are written as numbers and left alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

from tui.export.keys import citation_keys
from tui.models import Record

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# (column, value) in the order a reader scans a sheet: who, what, where, then numbers.
COLUMNS: tuple[tuple[str, Callable[[Record], object]], ...] = (
    ("authors", lambda r: "; ".join(r.author_names)),
    ("year", lambda r: r.year),
    ("title", lambda r: r.title),
    ("journal", lambda r: r.journal),
    ("volume", lambda r: r.volume),
    ("issue", lambda r: r.issue),
    ("pages", lambda r: r.pages),
    ("doi", lambda r: r.doi),
    ("doi_url", lambda r: f"https://doi.org/{r.doi}" if r.doi else None),
    ("type", lambda r: r.type),
    ("publisher", lambda r: r.publisher),
    ("issn", lambda r: r.issn),
    ("pmid", lambda r: r.pmid),
    ("pmcid", lambda r: r.pmcid),
    ("citations", lambda r: r.citation_count),
    ("impact_factor", lambda r: r.impact_factor),
    ("jcr_quartile", lambda r: r.jcr_quartile),
    ("open_access", lambda r: None if r.open_access is None else str(r.open_access).lower()),
    ("url", lambda r: r.url),
    ("keywords", lambda r: "; ".join(r.keywords)),
    ("tags", lambda r: "; ".join(r.tags)),
    ("note", lambda r: r.note),
    ("abstract", lambda r: r.abstract),
)


def neutralize(value: object) -> object:
    """Make a text cell inert in spreadsheets; numbers and empty cells pass through."""
    if isinstance(value, str) and value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value


def export(records: Sequence[Record], style: str | None = None) -> str:
    """A CSV table with a header row: the citation key, then the `COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow(["key", *(name for name, _ in COLUMNS)])
    for record, key in zip(records, citation_keys(records), strict=True):
        cells = [key, *(value(record) for _, value in COLUMNS)]
        writer.writerow(["" if cell is None else neutralize(cell) for cell in cells])
    return buffer.getvalue()
