"""The detail screen: one record, readable, with next/previous through the results."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Collapsible, Footer, Header

from tui.bindings import DETAIL_BINDINGS
from tui.models import Record
from tui.store import RecordStore
from tui.widgets.record_view import RecordView


class RecordDetailScreen(Screen[int]):
    """Show the record `ids[rows[row]]`; `n`/`p` walk the results; dismissing returns the row."""

    BINDINGS = DETAIL_BINDINGS

    def __init__(
        self,
        store: RecordStore,
        ids: Sequence[str],
        rows: Sequence[int],
        row: int,
        marked_dois: Callable[[], tuple[list[str], int] | None] | None = None,
        marked_ids: Callable[[], list[str]] | None = None,
    ) -> None:
        super().__init__()
        self._marked_dois = marked_dois
        """The list's marked records' DOIs (None without marks): copying acts on them."""
        self._marked_ids = marked_ids
        """The list's marked records' ids, in library order: copying and exporting act on them."""
        self.store = store
        self.ids = ids
        self.rows = rows
        self.row = row
        self.record: Record | None = None
        """The record shown (read from the library when shown)."""

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield RecordView(id="record-view")
        yield Footer()

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        view = self.query_one(RecordView)
        # One record, read at its offset in the file: no parsing of the whole library.
        self.record = self.store.record(self.ids[self.rows[self.row]])
        if self.record is None:
            self.notify("This record is no longer in the library.", severity="warning")
            return
        view.journal_description = self.store.journal_description(self.record.journal)
        view.record = self.record
        view.scroll_home(animate=False)
        view.focus()
        self.sub_title = f"{self.row + 1} of {len(self.rows):,}"
        self.title = "refdeck"

    def _dois(self) -> tuple[list[str], int]:
        marked = self._marked_dois() if self._marked_dois is not None else None
        if marked is not None:
            return marked
        doi = self.record.doi if self.record else None
        return ([doi], 0) if doi else ([], 1)

    def action_copy_doi(self) -> None:
        """Copy the DOI of this record (or of every marked record)."""
        self.app.copy_dois(*self._dois(), as_url=False)  # type: ignore[attr-defined]

    def action_copy_doi_url(self) -> None:
        """Copy the DOI as a https://doi.org/ link."""
        self.app.copy_dois(*self._dois(), as_url=True)  # type: ignore[attr-defined]

    def _marked(self) -> list[str]:
        return self._marked_ids() if self._marked_ids is not None else []

    def _record_targets(self) -> list[str]:
        """The marked records, or else this record."""
        return self._marked() or ([self.record.id] if self.record else [])

    def action_copy_bibtex(self) -> None:
        """Copy the BibTeX entry of this record (or of every marked record)."""
        self.app.copy_records(self._record_targets(), "bibtex")  # type: ignore[attr-defined]

    def action_copy_citation(self) -> None:
        """Copy the citation of this record (or of every marked record) in the configured style."""
        self.app.copy_records(self._record_targets(), "citation")  # type: ignore[attr-defined]

    def action_export(self) -> None:
        """Open the export dialog for this record, the marked ones or the results it came from."""
        results = [self.ids[position] for position in self.rows]
        record_id = self.record.id if self.record else None
        self.app.open_export(record_id, self._marked(), results)  # type: ignore[attr-defined]

    def action_close(self) -> None:
        """Back to the list, with the cursor on the record last shown."""
        self.dismiss(self.row)

    def action_next_record(self) -> None:
        """Show the next record of the results."""
        if self.row + 1 < len(self.rows):
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
