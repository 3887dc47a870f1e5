"""The detail screen: one record, readable, with next/previous through the results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Collapsible, Footer, Header

from tui.bindings import DETAIL_BINDINGS
from tui.models import Record
from tui.rows import Results
from tui.widgets.record_view import RecordView

if TYPE_CHECKING:
    from tui.app import BibApp


@dataclass
class RecordRead(Message):
    """The record to show has been read (in a worker)."""

    row: int
    record: Record | None
    description: str | None


class RecordDetailScreen(Screen[int]):
    """Show the record at `row` of the results; `n`/`p` walk them; dismissing returns the row."""

    BINDINGS = DETAIL_BINDINGS

    def __init__(
        self, results: Results, row: int, marked_ids: Callable[[], list[str]] | None = None
    ) -> None:
        super().__init__()
        self._marked_ids = marked_ids
        """The list's marked records' ids, in library order: copying and exporting act on them."""
        self.results = results
        self.row = row
        self.record: Record | None = None
        """The record shown (read from the library when shown)."""

    @property
    def bib(self) -> BibApp:
        """The app, with its view of the library."""
        return cast("BibApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield RecordView(id="record-view")
        yield Footer()

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        self.sub_title = f"{self.row + 1} of {len(self.results):,}"
        self.title = "refdeck"
        self._read(self.row)

    @work(
        thread=True,
        exclusive=True,
        group="read",
        exit_on_error=False,
        description="Read the record",
    )
    def _read(self, row: int) -> None:
        # One record, read at its offset in the file: no parsing of the whole library.
        view = self.bib.view
        record = view.record(self.results.seqs[row]) if view is not None else None
        description = view.journal_description(record.journal) if view and record else None
        self.post_message(RecordRead(row, record, description))

    @on(RecordRead)
    def _record_read(self, message: RecordRead) -> None:
        if message.row != self.row:
            return  # n or p was pressed again meanwhile
        if message.record is None:
            self.notify("This record is no longer in the library.", severity="warning")
            return
        view = self.query_one(RecordView)
        self.record = message.record
        view.journal_description = message.description
        view.record = message.record
        view.scroll_home(animate=False)
        view.focus()

    def _marked(self) -> list[str]:
        return self._marked_ids() if self._marked_ids is not None else []

    def _targets(self) -> list[str]:
        """The marked records, or else this record."""
        return self._marked() or ([self.record.id] if self.record else [])

    def action_copy_doi(self) -> None:
        """Copy the DOI of this record (or of every marked record)."""
        self.bib.copy_dois(self._targets(), as_url=False)

    def action_copy_doi_url(self) -> None:
        """Copy the DOI as a https://doi.org/ link."""
        self.bib.copy_dois(self._targets(), as_url=True)

    def action_copy_bibtex(self) -> None:
        """Copy the BibTeX entry of this record (or of every marked record)."""
        self.bib.copy_records(self._targets(), "bibtex")

    def action_copy_citation(self) -> None:
        """Copy the citation of this record (or of every marked record) in the configured style."""
        self.bib.copy_records(self._targets(), "citation")

    def action_export(self) -> None:
        """Open the export dialog for this record, the marked ones or the results it came from."""
        record_id = self.record.id if self.record else None
        self.bib.open_export(record_id, self._marked(), self.results)

    def action_close(self) -> None:
        """Back to the list, with the cursor on the record last shown."""
        self.dismiss(self.row)

    def action_next_record(self) -> None:
        """Show the next record of the results."""
        if self.row + 1 < len(self.results):
            self.row += 1
            self._show()
        else:
            self.notify("This is the last record of the results.", timeout=2)

    def action_previous_record(self) -> None:
        """Show the previous record of the results."""
        if self.row > 0:
            self.row -= 1
            self._show()
        else:
            self.notify("This is the first record of the results.", timeout=2)

    def action_scroll_down(self) -> None:
        self.query_one(RecordView).scroll_down(animate=False)

    def action_scroll_up(self) -> None:
        self.query_one(RecordView).scroll_up(animate=False)

    def action_page_down(self) -> None:
        self.query_one(RecordView).scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        self.query_one(RecordView).scroll_page_up(animate=False)

    def action_scroll_home(self) -> None:
        self.query_one(RecordView).scroll_home(animate=False)

    def action_scroll_end(self) -> None:
        self.query_one(RecordView).scroll_end(animate=False)

    def action_toggle_description(self) -> None:
        """Open or close the journal's description."""
        for collapsible in self.query(Collapsible):
            collapsible.collapsed = not collapsible.collapsed
            if not collapsible.collapsed:
                self.call_after_refresh(collapsible.scroll_visible, animate=False)
            return
        self.notify("No description of this journal in the library.", timeout=2)
