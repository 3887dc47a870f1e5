"""The list screen: a search line, the count, and the records.

Nothing here holds the library: the screen shows one `Snapshot` of it (the
app's `view`), asks it for the seqs that match the query and for the rows on
screen, a page at a time, in workers. A keystroke costs a query of the
index, whatever the library's size; a mark costs one write, after which the
view is taken again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from tui.bindings import LIST_BINDINGS, SEARCH_BINDINGS
from tui.library import InvalidLibrary, LibraryError, RecordStore, Snapshot, Written
from tui.query import SORT_KEYS, Query, parse_query
from tui.rows import Results, Row
from tui.screens.latest import LatestOnly
from tui.widgets.record_table import RecordTable

if TYPE_CHECKING:
    from tui.app import BibApp

RELOAD_POLL_SECONDS = 2.0
"""How often the list checks (with one stat) whether another process changed the library."""
PAGE = 200
"""Rows fetched with an answer, around the cursor."""
FRAME_HELD_SECONDS = 0.08
"""How long a keystroke's echo in the search line may wait for the list it changes."""


class SearchLine(Input):
    """The search line: typing filters the list as you type."""


@dataclass
class Answered(Message):
    """A query was answered (in a worker)."""

    request: int
    """Which request this answers (older answers than the last asked for are dropped)."""
    view: Snapshot
    query: Query
    results: Results
    cursor: int | None
    """Where the cursor goes (None: it stays)."""


@dataclass
class Loaded(Message):
    """The library was (re)read: a new view of it (in a worker)."""

    view: Snapshot
    marked: frozenset[str]
    """The ids of the records marked in this view."""
    announce: bool
    """Say that another program changed the library."""


@dataclass
class LoadFailed(Message):
    """The library could not be read: the list keeps what it shows."""

    message: str
    vanished: bool = False


@dataclass
class RowsFetched(Message):
    """Rows for the table, fetched in a worker."""

    results: Results
    rows: list[Row]


@dataclass
class LoadProgress(Message):
    """How much of the library has been indexed, when its index had to be rebuilt."""

    fraction: float


@dataclass
class LibraryChanged(Message):
    """Another process wrote the library (an import from the shell, say), or removed it."""


class RecordListScreen(Screen[None]):
    """Find a record: search as you type, sort, mark, open."""

    BINDINGS = [*LIST_BINDINGS, *SEARCH_BINDINGS]
    AUTO_FOCUS = "RecordTable"
    _SEARCH_ACTIONS = frozenset(b.action for b in SEARCH_BINDINGS)

    def __init__(self, store: RecordStore, initial_query: str = "") -> None:
        super().__init__()
        self.store = store
        self.results = Results()
        self.sort_key = "relevance"
        self.sort_reverse = False
        self.query_text = initial_query
        self._query: Query = parse_query(initial_query)
        self.saved_marks: frozenset[str] = frozenset()
        """Ids of the records marked in the library (as of the view)."""
        self.pending_marks: dict[str, bool] = {}
        """Marks shown but not saved yet (or whose save is not yet in the view)."""
        self._loaded = False
        self._requests = 0
        self._own_generations: set[str] = set()
        """Generations of the library this screen wrote (its own marks): no news to announce."""
        self._announce_next = False
        self._warned: str | None = None
        self._loading = False
        self._marking_all = 0
        """Mark-alls whose ids are still being read."""
        self._after_marking: list[Callable[[], None]] = []
        """Actions on the marked records pressed while a mark-all was being read."""
        self._searcher = LatestOnly("refdeck-search", self._search_failed)
        self._frame_held: Timer | None = None
        """While set, the screen is not drawn (until this deadline, or the answer)."""

    @property
    def bib(self) -> BibApp:
        """The app, with its view of the library."""
        return cast("BibApp", self.app)

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

    def on_unmount(self) -> None:
        self._searcher.close()
        self._release_frame()

    @property
    def table(self) -> RecordTable:
        """The record table."""
        return self.query_one(RecordTable)

    # -- reading the library ---------------------------------------------

    def load(self, keep: str | None = None, announce: bool = False) -> None:
        """Take a new view of the library and answer the current query in it."""
        self._loading = True
        self._load(keep, announce)

    @work(
        thread=True,
        exclusive=True,
        group="load",
        exit_on_error=False,
        description="Read the library",
    )
    def _load(self, keep: str | None, announce: bool) -> None:
        # The first screen may show a copied library at once, its checksum compared with
        # the index's just after (see `RecordStore.verify`); a reload checks first.
        first = self.bib.view is None

        def progress(fraction: float) -> None:
            self.post_message(LoadProgress(fraction))

        try:
            view = self.store.snapshot(progress=progress, verify=not first)
            marked = frozenset(row.id for row in view.rows(view.marked()))
            self.post_message(Loaded(view, marked, announce))
            self._answer(view, self._next_request(), keep)
            if not view.verified and not self.store.verify(view):
                # The file is not the one its index describes (edited by hand): the
                # index has been rebuilt, so read it again.
                self.app.call_from_thread(self.load, keep, True)
        except InvalidLibrary as error:
            self.post_message(
                LoadFailed(f"{error}. The list stays as it was; changes cannot be saved.")
            )
        except LibraryError as error:
            self.post_message(LoadFailed(str(error), not self.store.exists()))

    @on(Loaded)
    def _loaded_view(self, message: Loaded) -> None:
        self._loading = False
        previous = self.bib.view
        self.bib.view = message.view
        self.saved_marks = message.marked
        # A mark whose save is in this view is shown by the view itself now.
        self.pending_marks = {
            record_id: marked
            for record_id, marked in self.pending_marks.items()
            if (record_id in message.marked) != marked
        }
        self._warned = None
        generation = message.view.generation
        news = previous is not None and (
            message.announce or self._announce_next or generation not in self._own_generations
        )
        if news and previous is not None and previous.generation != generation:
            self._announce_next = False
            self.notify(
                f"The library was changed by another program: reloaded, {message.view.count:,} records.",
                markup=False,
            )

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        self._loading = False
        if not self._loaded:
            self._loaded = True
            self._update_status()
        if message.message != self._warned:
            self._warned = message.message
            text = message.message
            if message.vanished:
                text = (
                    f"The library {self.store.path} has disappeared (moved or deleted?). "
                    "The list stays as it was; changes cannot be saved."
                )
            self.notify(text, severity="warning", timeout=15, markup=False)

    @on(LoadProgress)
    def _load_progress(self, message: LoadProgress) -> None:
        width = 30
        filled = int(width * message.fraction)
        bar = "█" * filled + "░" * (width - filled)
        self.query_one("#status", Static).update(
            Content.assemble(
                "Indexing the library (once, after it changed)  ",
                (bar, "$accent"),
                f" {message.fraction:4.0%}",
            )
        )

    def _poll_library(self) -> None:
        view = self.bib.view
        if view is not None and not self._loading:
            self._check_library(view)

    @work(
        thread=True,
        exclusive=True,
        group="poll",
        exit_on_error=False,
        description="Check the library for changes",
    )
    def _check_library(self, view: Snapshot) -> None:
        """One stat of the library file, off the UI thread (a network mount can stall)."""
        if self.store.changed(view):
            self.post_message(LibraryChanged())

    @on(LibraryChanged)
    def _library_changed(self) -> None:
        """Read the library again, keeping the search, the sort and the record under the cursor."""
        if not self._loading:
            self.load(self.current_id())

    # -- answering the query ---------------------------------------------

    def _next_request(self) -> int:
        self._requests += 1
        return self._requests

    def refresh_results(self, keep: bool = True) -> None:
        """Answer the current query again (after a change of query or sort)."""
        view = self.bib.view
        if view is not None:
            request, cursor = self._next_request(), self.current_id() if keep else None
            self._searcher.submit(lambda: self._answer(view, request, cursor))

    def _search_failed(self, error: Exception) -> None:
        """A query the index could not answer (on the search thread): say so, keep the list."""
        self.app.call_from_thread(self._release_frame)
        self.app.call_from_thread(
            self.notify, f"The search failed: {error}", severity="error", markup=False
        )

    # A keystroke changes the search line at once and the list a query later: drawn
    # apart, the echo takes the next frame and the list waits a frame interval (up to
    # 17 ms) for the one after. Holding the echo for the answer (or a short deadline)
    # draws both in one frame, right after the answer.

    def _hold_frame(self) -> None:
        if self._frame_held is None:
            self.app._begin_batch()  # what App.batch_update() does, across two events
            self._frame_held = self.set_timer(FRAME_HELD_SECONDS, self._release_frame)

    def _release_frame(self) -> None:
        if self._frame_held is not None:
            self._frame_held.stop()
            self._frame_held = None
            self.app._end_batch()

    def _answer(self, view: Snapshot, request: int, keep: str | None) -> None:
        """Answer the query in `view` and post the answer (called in workers)."""
        query, sort, reverse = self._query, self.sort_key, self.sort_reverse
        seqs = view.search(query, sort, reverse)
        cursor: int | None = 0
        if keep is not None:
            seq = view.seqs_of_ids([keep]).get(keep)
            cursor = seqs.index(seq) if seq is not None and seq in seqs else 0
        first = max((cursor or 0) - PAGE // 2, 0)
        results = Results(seqs, view.rows(seqs[first : first + PAGE]), view.count)
        self.post_message(Answered(request, view, query, results, cursor))

    @on(Answered)
    def _answered(self, message: Answered) -> None:
        if message.request != self._requests:
            return  # a newer query is on its way
        self._loaded = True
        self.results = message.results
        needles = tuple(c.needle for c in message.query.positive_text if c.field != "doi")
        self.table.show(self.results, self.pending_marks, needles, message.cursor)
        self._update_status()
        self._release_frame()

    @on(RecordTable.RowsWanted)
    def _rows_wanted(self, message: RecordTable.RowsWanted) -> None:
        missing = self.results.missing(message.first, message.last)
        view = self.bib.view
        if missing and view is not None:
            self._fetch_rows(view, self.results, missing)

    @work(thread=True, group="rows", exit_on_error=False, description="Read rows")
    def _fetch_rows(self, view: Snapshot, results: Results, seqs: list[int]) -> None:
        self.post_message(RowsFetched(results, view.rows(seqs)))

    @on(RowsFetched)
    def _rows_fetched(self, message: RowsFetched) -> None:
        message.results.add(message.rows)
        if message.results is self.results:
            self.table.rows_arrived()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self._query = parse_query(event.value)
        self._hold_frame()
        self.refresh_results(keep=False)

    def _update_status(self) -> None:
        arrow = "↑" if self.sort_reverse else "↓"
        parts: list[str | tuple[str, str]] = [
            (f"{len(self.results):,}", "bold"),
            f" of {self.results.total:,} records",
            "  ·  sorted by ",
            (f"{self.sort_key} {arrow}", "bold"),
        ]
        marked = len(self.marked_ids_unordered())
        if marked:
            parts += ["  ·  ", (f"{marked:,} marked", "$text-warning")]
        if self._query.errors:
            parts += ["  ·  ", (self._query.errors[0], "$text-error")]
        # One line, always: no layout needed.
        self.query_one("#status", Static).update(Content.assemble(*parts), layout=False)

    # -- actions ---------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Search-line keys work in the search line; list keys everywhere else."""
        in_search = isinstance(self.focused, SearchLine)
        return in_search if action in self._SEARCH_ACTIONS else not in_search

    def action_quit(self) -> None:
        """Leave refdeck."""
        self.app.exit()

    def current_id(self) -> str | None:
        """The id of the record under the cursor."""
        row = self.table.current
        return row.id if row is not None else None

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
        self._update_status()
        self.refresh_results()

    def action_reverse_sort(self) -> None:
        """Reverse the order."""
        self.sort_reverse = not self.sort_reverse
        self._update_status()
        self.refresh_results()

    # -- marks -----------------------------------------------------------

    def marked_ids_unordered(self) -> set[str]:
        """The ids of the records shown as marked (saved, or not saved yet)."""
        marked = set(self.saved_marks)
        for record_id, value in self.pending_marks.items():
            (marked.add if value else marked.discard)(record_id)
        return marked

    def action_toggle_mark(self) -> None:
        """Mark or unmark the record under the cursor, and move on."""
        row = self.table.current
        if row is None:
            return
        self._set_marks([row.id], not self.table.is_marked(row))
        self.table.action_cursor_down()

    def action_mark_all(self) -> None:
        """Mark every record shown."""
        view = self.bib.view
        if view is not None and len(self.results):
            self._marking_all += 1
            self._mark_results(view, self.results)

    @work(thread=True, group="marks", exit_on_error=False, description="Mark every result")
    def _mark_results(self, view: Snapshot, results: Results) -> None:
        ids = [row.id for row in view.rows(results.seqs)]
        self.app.call_from_thread(self._all_marked, ids)

    def _all_marked(self, ids: list[str]) -> None:
        self._marking_all -= 1
        self._set_marks(ids, True)
        if not self._marking_all:
            waiting, self._after_marking = self._after_marking, []
            for action in waiting:
                action()

    def _with_marks(self, action: Callable[[], None]) -> None:
        """Run `action` once every mark asked for is on screen: `*` then `y` copies them all."""
        if self._marking_all:
            self._after_marking.append(action)
        else:
            action()

    def action_clear_marks(self) -> None:
        """Unmark everything."""
        self._set_marks(sorted(self.marked_ids_unordered()), False)

    def _set_marks(self, ids: Sequence[str], marked: bool) -> None:
        """Show the marks at once, and save them in the background."""
        changed = [i for i in ids if (i in self.marked_ids_unordered()) != marked]
        if not changed:
            return
        for record_id in changed:
            self.pending_marks[record_id] = marked
        self.table.refresh_marks(self.pending_marks)
        self._update_status()
        view = self.bib.view
        self.save_marks(changed, marked, view.generation if view else None)

    @work(thread=True, group="save", exit_on_error=False, description="Save marks")
    def save_marks(self, ids: list[str], marked: bool, generation: str | None) -> None:
        """Write marks to the library in the background; the screen already shows them."""
        try:
            written = self.store.set_marked(ids, marked)
        except Exception as error:  # noqa: BLE001 - any failure becomes a message, not a crash
            self.app.call_from_thread(self._marks_failed, ids, marked, str(error))
            return
        self.app.call_from_thread(self._marks_saved, written, generation)

    def _marks_saved(self, written: Written | None, generation: str | None) -> None:
        if written is None:
            return
        self._own_generations.add(written.generation)
        if written.generation_before not in (generation, *self._own_generations):
            self._announce_next = True  # someone else wrote in between: their change shows too
        self.load(self.current_id())

    def _marks_failed(self, ids: list[str], marked: bool, error: str) -> None:
        """What the screen shows is what is saved: the marks go back, and the reason shows."""
        for record_id in ids:
            if self.pending_marks.get(record_id) == marked:
                del self.pending_marks[record_id]
        self.table.refresh_marks(self.pending_marks)
        self._update_status()
        noun = "mark" if len(ids) == 1 else f"{len(ids):,} marks"
        self.notify(
            f"Could not save the {noun}: {error}",
            title="Not saved",
            severity="error",
            timeout=10,
            markup=False,
        )

    def marked_ids(self) -> list[str]:
        """Ids of the marked records, in library order (the order `y` copies them in)."""
        marked = self.marked_ids_unordered()
        view = self.bib.view
        if not marked or view is None:
            return sorted(marked)
        seqs = view.seqs_of_ids(sorted(marked))
        return sorted(seqs, key=seqs.__getitem__)

    # -- copying and exporting -------------------------------------------

    def _targets(self) -> list[str]:
        """The marked records, or else the record under the cursor."""
        record_id = self.current_id()
        return self.marked_ids() or ([record_id] if record_id else [])

    def action_copy_doi(self) -> None:
        """Copy the DOI of the marked records, or of the record under the cursor."""
        self._with_marks(lambda: self.bib.copy_dois(self._targets(), as_url=False))

    def action_copy_doi_url(self) -> None:
        """Copy the DOI as a https://doi.org/ link."""
        self._with_marks(lambda: self.bib.copy_dois(self._targets(), as_url=True))

    def action_copy_bibtex(self) -> None:
        """Copy the BibTeX entry of the marked records, or of the record under the cursor."""
        self._with_marks(lambda: self.bib.copy_records(self._targets(), "bibtex"))

    def action_copy_citation(self) -> None:
        """Copy the citation, in the configured style, of the marked records or this record."""
        self._with_marks(lambda: self.bib.copy_records(self._targets(), "citation"))

    def action_export(self) -> None:
        """Open the export dialog for this record, the marked ones or every result."""
        if not self._loaded:
            self.notify("Still reading the library; export in a moment.", timeout=3)
            return
        self._with_marks(
            lambda: self.bib.open_export(self.current_id(), self.marked_ids(), self.results)
        )

    def action_open_record(self) -> None:
        """Open the detail screen on the record under the cursor."""
        if not len(self.results):
            return
        from tui.screens.detail import RecordDetailScreen

        self.app.push_screen(
            RecordDetailScreen(self.results, self.table.cursor, self.marked_ids),
            self._returned_from_detail,
        )

    def _returned_from_detail(self, row: int | None) -> None:
        if row is not None:
            self.table.move_to(row)


MarkedIds = Callable[[], list[str]]
"""The list's marked records, in library order (what copy and export act on)."""
