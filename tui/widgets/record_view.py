"""A record laid out for reading: title, people, venue, identifiers, metrics, abstract."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.style import Style
from textual.widgets import Collapsible, Label, Static

from tui.display import volume_issue_pages
from tui.models import Record
from tui.normalize import strip_controls


def safe(text: object) -> str:
    """Record text made safe for the terminal again at render (it was cleaned at import too)."""
    return strip_controls(str(text))


def link(text: str, url: str) -> Content:
    """A terminal hyperlink (OSC 8) showing `text`; the text is never parsed as markup."""
    return Content.styled(safe(text), Style(link=safe(url), underline=True))


def venue_line(record: Record) -> str:
    """ "Journal · vol. 3, no. 2, pp. 10-20 · 2025-05-23" with what the record has."""
    details = volume_issue_pages(record)
    return " · ".join(part for part in (record.journal, details, record.date) if part)


def metrics_line(record: Record) -> str:
    """Citations, impact factor and JCR quartile in one line."""
    parts = []
    if record.citation_count is not None:
        parts.append(f"{record.citation_count:,} citations")
    if record.impact_factor is not None:
        parts.append(f"impact factor {record.impact_factor:g}")
    if record.jcr_quartile:
        quartile = f"JCR {record.jcr_quartile}"
        parts.append(f"{quartile} in {record.jcr_category}" if record.jcr_category else quartile)
    if record.open_access:
        parts.append("open access")
    return " · ".join(parts)


class RecordView(VerticalScroll, can_focus=True):
    """Every field of one record, scrollable."""

    DEFAULT_CSS = """
    RecordView {
        padding: 0 1;
        #title { text-style: bold; color: $text-primary; margin-bottom: 1; }
        #authors { margin-bottom: 0; }
        #venue { color: $text-muted; text-style: italic; }
        #metrics { color: $text-success; }
        #fields { grid-size: 2; grid-columns: 12 1fr; grid-rows: auto; height: auto; margin: 1 0; }
        .label { color: $text-muted; }
        .heading { text-style: bold; margin-top: 1; }
        #abstract { margin-bottom: 1; }
        Collapsible { padding-left: 0; border-top: none; }
    }
    """

    record: reactive[Record | None] = reactive(None, recompose=True)
    """The record shown."""

    def __init__(self, journal_description: str | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.journal_description = journal_description

    def compose(self) -> ComposeResult:
        record = self.record
        if record is None:
            return
        yield Static(Content(safe(record.title or "(no title)")), id="title")
        if record.authors:
            yield Static(Content(safe("; ".join(record.author_names))), id="authors")
        if record.editors:
            names = "; ".join(author.display for author in record.editors)
            yield Static(Content(safe(f"Edited by {names}")), id="editors")
        if venue := venue_line(record):
            yield Static(Content(safe(venue)), id="venue")
        if metrics := metrics_line(record):
            yield Static(Content(safe(metrics)), id="metrics")
        with Grid(id="fields"):
            for label, value in self._fields(record):
                yield Label(Content(label), classes="label")
                yield Label(value if isinstance(value, Content) else Content(safe(value)))
        if record.abstract:
            yield Static(Content("Abstract"), classes="heading")
            yield Static(Content(safe(record.abstract)), id="abstract")
        if self.journal_description and record.journal:
            with Collapsible(
                title=safe(f"About {record.journal}"), collapsed=True, id="journal-info"
            ):
                yield Static(Content(safe(self.journal_description)), id="journal-description")

    def _fields(self, record: Record) -> list[tuple[str, str | Content]]:
        rows: list[tuple[str, str | Content]] = []
        if record.doi:
            rows.append(("DOI", link(record.doi, f"https://doi.org/{record.doi}")))
        if record.url and record.url != f"https://doi.org/{record.doi}":
            rows.append(("URL", link(record.url, record.url)))
        if record.pdf_url:
            rows.append(("PDF", link(record.pdf_url, record.pdf_url)))
        simple = (
            ("Type", record.type),
            ("Date", record.date),
            ("Publisher", record.publisher),
            ("ISSN", record.issn),
            ("ISBN", record.isbn),
            ("PMID", record.pmid),
            ("PMCID", record.pmcid),
            ("Language", record.language),
            ("Keywords", "; ".join(record.keywords)),
            ("Tags", ", ".join(record.tags)),
            ("Note", record.note),
            ("Key", record.key),
            ("Id", record.id),
        )
        rows += [(label, str(value)) for label, value in simple if value]
        for source in record.source:
            when = f", {source.imported[:10]}" if source.imported else ""
            rows.append(("Imported", f"{source.file} ({source.format}{when})"))
        return rows
