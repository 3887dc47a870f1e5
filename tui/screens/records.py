"""The list screen: a search line, the count, and the records."""

from __future__ import annotations

import gc
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from tui.bindings import LIST_BINDINGS, SEARCH_BINDINGS
from tui.normalize import haystack
from tui.query import (
    SORT_KEYS,
    Query,
    SearchIndex,
    WordIndexBuilder,
    parse_query,
    sort_positions,
)
from tui.rows import ListRows
from tui.store import RecordStore
from tui.widgets.record_table import RecordTable

RELOAD_POLL_SECONDS = 2.0
"""How often the list checks (with one stat) whether another process changed the library."""
RELEVANCE_SCORING_LIMIT = 2_000
"""Above this many matches, relevance keeps library order: scoring costs a few microseconds a
record, so scoring them all would lag a keystroke, and a query that broad has no best match."""


class SearchLine(Input):
    """The search line: typing filters the list as you type."""


@dataclass
class RecordsLoaded(Message):
    """The list rows have been read (in a worker)."""

    data: ListRows


@dataclass
class RecordsHead(Message):
    """The first rows and the record count, to draw before the whole list is read."""

    data: ListRows
    count: int
    drawn: threading.Event
    """Set once the rows are on screen."""


@dataclass
class LoadProgress(Message):
    """How much of the library has been read, when its list cache had to be rebuilt."""

    fraction: float


@dataclass
class LibraryChanged(Message):
    """Another process wrote the library (an import from the shell, say), or removed it."""

    vanished: bool = False
    """The file is gone (moved or deleted): keep showing what was read, and say so."""


@dataclass
class IndexReady(Message):
    """The metadata search index is built (in a worker)."""

    data: ListRows
    index: SearchIndex


@dataclass
class AbstractsIndexed(Message):
    """The abstracts have been read and added to the index (in a worker)."""

    index: SearchIndex


class RecordListScreen(Screen[None]):
    """Find a record: search as you type, sort, mark, open."""

    BINDINGS = [*LIST_BINDINGS, *SEARCH_BINDINGS]
    AUTO_FOCUS = "RecordTable"
    _SEARCH_ACTIONS = frozenset(b.action for b in SEARCH_BINDINGS)

    def __init__(self, store: RecordStore, initial_query: str = "") -> None:
        super().__init__()
        self.store = store
        self.data = ListRows()
        self.index = SearchIndex(self.data)
        self.rows: list[int] = []
        self.marked: set[str] = set()
        self.sort_key = "relevance"
        self.sort_reverse = False
        self.query_text = initial_query
        self._query: Query = parse_query(initial_query)
        self._matches: list[int] = []
        self._loaded = False
        self._warned_vanished = False
        self._reloading_at: str | None = None
        """While reloading: the id of the record the cursor was on, to find it again."""

    def compose(self) -> ComposeResult:
        yield SearchLine(
            value=self.query_text,
            placeholder='Search: words, "a phrase", a:author, t:title, year:2018..2022, q:Q1, if:>10, -exclude',
            id="search",
            select_on_focus=False,
        )
        yield Static(Content("Loading the library…"), id="status")
        yield RecordTable(id="records")
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        self.set_interval(RELOAD_POLL_SECONDS, self._poll_library)

    # -- noticing another process's changes ------------------------------

    def _poll_library(self) -> None:
        if self._loaded and self._reloading_at is None:
            self.check_library()

    @work(thread=True, exclusive=True, group="poll", description="Check the library for changes")
    def check_library(self) -> None:
        """One stat of the library file, off the UI thread (a network mount can stall)."""
        if self.store.changed_elsewhere():
            path = self.store.path
            self.post_message(LibraryChanged(vanished=path is not None and not path.exists()))

    @on(LibraryChanged)
    def _library_changed(self, message: LibraryChanged) -> None:
        """Read the library again, keeping the search, the sort and the record under the cursor."""
        if message.vanished:
            if not self._warned_vanished:
                self._warned_vanished = True
                self.notify(
                    f"The library {self.store.path} has disappeared (moved or deleted?). "
                    "The list stays as it was; changes cannot be saved.",
                    severity="warning",
                    timeout=15,
                    markup=False,
                )
            return
        self._warned_vanished = False
        if self._reloading_at is not None:
            return
        self._reloading_at = self.current_id() or ""
        self.load()

    # -- loading ---------------------------------------------------------

    @work(thread=True, exclusive=True, group="load", description="Read and index the library")
    def load(self) -> None:
        """Read the list rows (from the cache when it matches), off the UI thread.

        The first rows, stored in the cache's header, are shown first; the
        rest is read once they are on screen (parsing it holds the interpreter).
        """
        head = self.store.rows_head()
        if head is not None:
            drawn = threading.Event()
            self.post_message(RecordsHead(head[0], head[1], drawn))
            drawn.wait(timeout=2)
        data = self.store.rows(progress=lambda fraction: self.post_message(LoadProgress(fraction)))
        self.post_message(RecordsLoaded(data))

    @work(thread=True, exclusive=True, group="index", description="Index the list")
    def build_index(self, data: ListRows) -> None:
        """Build the metadata search index (a third of a second at 100,000 records)."""
        self.post_message(IndexReady(data, SearchIndex(data)))

    @work(thread=True, exclusive=True, group="abstracts", description="Index the abstracts")
    def index_abstracts(self, data: ListRows, index: SearchIndex) -> None:
        """Index every record's words, abstracts included, after the first screen is drawn.

        Records are streamed from the library and their abstracts dropped once
        indexed, so memory holds the index, not the text. Until it is done,
        free words match the metadata only.
        """
        builder = WordIndexBuilder()
        # Millions of long-lived objects: a cyclic collection in the middle would
        # stop the whole app (the UI thread too) for seconds. Collect after, once.
        gc.disable()
        try:
            for position, doc in enumerate(self.store.iter_docs()):
                if position >= len(data.ids) or doc.get("id") != data.ids[position]:
                    return  # the library changed meanwhile; a reload will follow
                builder.add(index.word_text(position, haystack(doc.get("abstract"))))
            words = builder.finish()
        finally:
            gc.enable()
        gc.freeze()  # the index lives as long as the screen: keep it out of later collections
        if len(words.words) and words.size != len(data.ids):
            return
        store, ids = self.store, data.ids

        def abstract_text(position: int) -> str:
            record = store.record(ids[position])
            return haystack(record.abstract) if record else ""

        index.abstract_text = abstract_text
        index.add_word_index(words)
        self.post_message(AbstractsIndexed(index))

    @on(RecordsHead)
    def _records_head(self, message: RecordsHead) -> None:
        if self._loaded:
            message.drawn.set()
            return
        data = message.data
        self.data = data
        self.marked = {rid for rid, marked in zip(data.ids, data.marked, strict=True) if marked}
        self.rows = list(range(len(data)))
        self.query_one(RecordTable).show(data, self.rows, self.marked)
        self.query_one("#status", Static).update(
            Content.assemble((f"{message.count:,}", "bold"), " records  ·  loading the list…")
        )
        self.call_after_refresh(message.drawn.set)

    @on(LoadProgress)
    def _load_progress(self, message: LoadProgress) -> None:
        if self._loaded:
            return
        width = 30
        filled = int(width * message.fraction)
        bar = "█" * filled + "░" * (width - filled)
        self.query_one("#status", Static).update(
            Content.assemble(
                "Reading the library (once, after it changed elsewhere)  ",
                (bar, "$accent"),
                f" {message.fraction:4.0%}",
            )
        )

    @on(RecordsLoaded)
    def _loaded_records(self, message: RecordsLoaded) -> None:
        self.data = message.data
        self.index = SearchIndex(ListRows())  # until IndexReady: nothing to search yet
        self.marked = {
            rid for rid, marked in zip(self.data.ids, self.data.marked, strict=True) if marked
        }
        self._loaded = True
        self._matches = []
        self.rows = list(range(len(self.data)))
        table = self.query_one(RecordTable)
        table.show(self.data, self.rows, self.marked, keep_cursor=table.row_count > 0)
        self._update_status()
        gc.freeze()  # the rows are long-lived: spare later collections from scanning them
        # Indexing competes with drawing for the interpreter: start it once the rows show.
        self.call_after_refresh(self.build_index, self.data)

    @on(IndexReady)
    def _index_ready(self, message: IndexReady) -> None:
        if message.data is not self.data:
            return
        self.index = message.index
        self.refresh_results(keep_cursor=True)
        if self._reloading_at is not None:
            self._finish_reload(self._reloading_at)
        # Heavy reading competes with drawing for the interpreter: start it once the rows show.
        self.call_after_refresh(self.index_abstracts, self.data, self.index)

    @on(AbstractsIndexed)
    def _abstracts_indexed(self, message: AbstractsIndexed) -> None:
        # Free words may now match abstracts too: run the current search again.
        if message.index is self.index and any(c.field is None for c in self._query.positive_text):
            self.refresh_results(keep_cursor=True)

    def _finish_reload(self, record_id: str) -> None:
        self._reloading_at = None
        if record_id:
            ids = self.data.ids
            row = next(
                (r for r, position in enumerate(self.rows) if ids[position] == record_id), None
            )
            if row is not None:
                self.table.move_to(row)
        self.notify(
            f"The library was changed by another program: reloaded, {len(self.data):,} records.",
            markup=False,
        )

    # -- searching -------------------------------------------------------

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        previous = self._query
        self.query_text = event.value
        self._query = parse_query(event.value)
        # Typing more of a query usually narrows it: then search only the previous matches.
        narrowing = bool(previous.clauses) and self._query.narrows(previous)
        self.refresh_results(within=self._matches if narrowing else None)

    def refresh_results(
        self, within: Sequence[int] | None = None, keep_cursor: bool = False
    ) -> None:
        """Run the query, sort, and show the results."""
        if not self._loaded:
            return
        query = self._query
        self._matches = self.index.search(query, within=within)
        matches = self._matches
        if self.sort_key == "relevance" and len(matches) > RELEVANCE_SCORING_LIMIT:
            self.rows = matches[::-1] if self.sort_reverse else list(matches)
        else:
            self.rows = sort_positions(self.index, matches, self.sort_key, query, self.sort_reverse)
        needles = tuple(c.needle for c in query.positive_text if c.field != "doi")
        self.query_one(RecordTable).show(self.data, self.rows, self.marked, needles, keep_cursor)
        self._update_status()

    def _update_status(self) -> None:
        arrow = "↑" if self.sort_reverse else "↓"
        parts = [
            (f"{len(self.rows):,}", "bold"),
            f" of {len(self.data):,} records",
            "  ·  sorted by ",
            (f"{self.sort_key} {arrow}", "bold"),
        ]
        if self.marked:
            parts += ["  ·  ", (f"{len(self.marked):,} marked", "$text-warning")]
        if self._query.errors:
            parts += ["  ·  ", (self._query.errors[0], "$text-error")]
        self.query_one("#status", Static).update(Content.assemble(*parts))

    # -- actions ---------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Search-line keys work in the search line; list keys everywhere else."""
        in_search = isinstance(self.focused, SearchLine)
        return in_search if action in self._SEARCH_ACTIONS else not in_search

    def action_quit(self) -> None:
        """Leave refdeck."""
        self.app.exit()

    @property
    def table(self) -> RecordTable:
        """The record table."""
        return self.query_one(RecordTable)

    def current_id(self) -> str | None:
        """The id of the record under the cursor."""
        position = self.table.cursor_position
        return None if position is None else self.data.ids[position]

    # Focus moves at once (`set_focus`), not after the queued events as `focus()` does:
    # keys typed right after `/` must reach the search line, not the list.

    def action_focus_search(self) -> None:
        """Jump to the search line."""
        self.set_focus(self.query_one(SearchLine))

    def action_leave_search(self) -> None:
        """Back to the list, keeping the search."""
        self.set_focus(self.table)

    def action_cycle_sort(self) -> None:
        """Sort by the next key."""
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self.refresh_results(within=self._matches)

    def action_reverse_sort(self) -> None:
        """Reverse the order."""
        self.sort_reverse = not self.sort_reverse
        self.refresh_results(within=self._matches)

    def action_toggle_mark(self) -> None:
        """Mark or unmark the record under the cursor, and move on."""
        record_id = self.current_id()
        if record_id is None or not self._loaded:
            return  # the first rows are on screen but the list is still loading
        marked = record_id not in self.marked
        (self.marked.add if marked else self.marked.discard)(record_id)
        self._marks_changed([record_id], marked)
        self.table.action_cursor_down()

    def action_mark_all(self) -> None:
        """Mark every record shown."""
        if not self._loaded:
            return
        ids = [self.data.ids[i] for i in self.rows if self.data.ids[i] not in self.marked]
        self.marked.update(ids)
        self._marks_changed(ids, True)

    def action_clear_marks(self) -> None:
        """Unmark everything."""
        ids = list(self.marked)
        self.marked.clear()
        self._marks_changed(ids, False)

    def _marks_changed(self, ids: list[str], marked: bool) -> None:
        self.table.refresh_marks(self.marked)
        self._update_status()
        if ids:
            self.save_marks(ids, marked)

    @work(thread=True, group="save", description="Save marks")
    def save_marks(self, ids: list[str], marked: bool) -> None:
        """Write marks to the library in the background; the screen already shows them."""
        try:
            self.store.set_marked(ids, marked)
        except Exception as error:  # noqa: BLE001 - any failure becomes a message, not a crash
            self.app.call_from_thread(
                self.app.notify, f"Could not save marks: {error}", severity="error", markup=False
            )

    def marked_dois(self) -> tuple[list[str], int] | None:
        """DOIs of the marked records in library order, and how many have none; None without marks."""
        if not self.marked:
            return None
        positions = [i for i, rid in enumerate(self.data.ids) if rid in self.marked]
        dois = [self.data.dois[i] for i in positions if self.data.dois[i]]
        return dois, len(positions) - len(dois)

    def marked_ids(self) -> list[str]:
        """Ids of the marked records, in library order (the order `y` copies them in)."""
        if not self.marked:
            return []
        return [record_id for record_id in self.data.ids if record_id in self.marked]

    def _record_targets(self) -> list[str]:
        """The marked records, or else the record under the cursor."""
        record_id = self.current_id()
        return self.marked_ids() or ([record_id] if record_id else [])

    def _copy_targets(self) -> tuple[list[str], int]:
        marked = self.marked_dois()
        if marked is not None:
            return marked
        position = self.table.cursor_position
        doi = self.data.dois[position] if position is not None else ""
        return ([doi], 0) if doi else ([], 1)

    def action_copy_doi(self) -> None:
        """Copy the DOI of the marked records, or of the record under the cursor."""
        self.app.copy_dois(*self._copy_targets(), as_url=False)  # type: ignore[attr-defined]

    def action_copy_doi_url(self) -> None:
        """Copy the DOI as a https://doi.org/ link."""
        self.app.copy_dois(*self._copy_targets(), as_url=True)  # type: ignore[attr-defined]

    def action_copy_bibtex(self) -> None:
        """Copy the BibTeX entry of the marked records, or of the record under the cursor."""
        self.app.copy_records(self._record_targets(), "bibtex")  # type: ignore[attr-defined]

    def action_copy_citation(self) -> None:
        """Copy the citation, in the configured style, of the marked records or this record."""
        self.app.copy_records(self._record_targets(), "citation")  # type: ignore[attr-defined]

    def action_export(self) -> None:
        """Open the export dialog for this record, the marked ones or every result."""
        if not self._loaded:
            # Until then the rows are only the first screenful: "all results" would be wrong.
            self.notify("Still reading the library; export in a moment.", timeout=3)
            return
        results = [self.data.ids[position] for position in self.rows]
        self.app.open_export(self.current_id(), self.marked_ids(), results)  # type: ignore[attr-defined]

    def action_open_record(self) -> None:
        """Open the detail screen on the record under the cursor."""
        if self.table.cursor_position is None:
            return
        from tui.screens.detail import RecordDetailScreen

        self.app.push_screen(
            RecordDetailScreen(
                self.store,
                self.data.ids,
                self.rows,
                self.table.cursor,
                self.marked_dois,
                self.marked_ids,
            ),
            self._returned_from_detail,
        )

    def _returned_from_detail(self, row: int | None) -> None:
        if row is not None:
            self.table.move_to(row)
