"""The record list: a virtual table that renders only the rows on screen.

Built on Textual's Line API, so showing 100,000 records costs the same as
showing 30: `render_line` builds a row when it scrolls into view. Cell text is
turned into plain Segments, never parsed as markup, and control characters
are removed again at render.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.bindings import TABLE_BINDINGS
from tui.normalize import strip_controls
from tui.query import highlight_spans
from tui.rows import Results, Row


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the table: its key, header and width in cells."""

    key: str
    header: str
    width: int
    right: bool = False


def layout_columns(width: int) -> list[Column]:
    """Choose columns for a width: the title gets what is left, never less than ~30 cells.

    At 80 columns: mark, year, first author, title, citations, IF/quartile.
    From 110: the journal too, and wider author and title columns.
    """
    fixed = [
        Column("mark", "", 1),
        Column("year", "Year", 4, right=True),
        Column("author", "First author", 16 if width < 110 else 22),
    ]
    tail = [Column("cites", "Cites", 5, right=True), Column("metric", "IF   Q", 7)]
    if width >= 110:
        tail.insert(0, Column("journal", "Journal", min(34, max(20, (width - 110) // 3 + 20))))
    used = sum(c.width for c in fixed + tail) + len(fixed + tail)  # one space after each column
    title = max(width - used - 1, 10)
    return [*fixed, Column("title", "Title", title), *tail]


def _cites(value: int | None) -> str:
    if value is None:
        return ""
    if value >= 100_000:
        return f"{value // 1000}k"
    return f"{value:,}" if value < 10_000 else f"{value / 1000:.1f}k"


def _metric(impact_factor: float | None, quartile: str) -> str:
    impact = ""
    if impact_factor is not None:
        impact = f"{impact_factor:.1f}" if impact_factor < 100 else f"{impact_factor:.0f}"
    return f"{impact:>4} {quartile:2}".rstrip() if impact or quartile else ""


def cell_text(row: Row, key: str, marked: bool) -> str:
    """The text of one cell of a row, safe for the terminal."""
    if key == "mark":
        return "●" if marked else " "
    if key == "year":
        return str(row.year or "")
    if key == "author":
        value = row.first_author_label
    elif key == "title":
        value = row.title or "(no title)"
    elif key == "journal":
        value = row.journal
    elif key == "cites":
        return _cites(row.citation_count)
    else:
        return _metric(row.impact_factor, row.jcr_quartile)
    return strip_controls(value).replace("\n", " ").replace("\t", " ")


def fit(text: str, width: int, right: bool = False) -> str:
    """Pad or cut text to exactly `width` cells, marking a cut with an ellipsis."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    return set_cell_size(text, width) if not right else " " * (width - cell_len(text)) + text


class RecordTable(ScrollView, can_focus=True):
    """A scrolling list of records with a cursor, marks and highlighted matches."""

    COMPONENT_CLASSES = {
        "record-table--header",
        "record-table--cursor",
        "record-table--match",
        "record-table--mark",
        "record-table--dim",
        "record-table--q1",
    }

    DEFAULT_CSS = """
    RecordTable {
        background: $surface;
        scrollbar-gutter: stable;
        & > .record-table--header { text-style: bold; color: $text-muted; background: $panel; }
        & > .record-table--cursor { background: $block-cursor-blurred-background; }
        &:focus > .record-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
        & > .record-table--match { color: $text-accent; text-style: bold underline; }
        & > .record-table--mark { color: $text-warning; text-style: bold; }
        & > .record-table--dim { color: $text-muted; }
        & > .record-table--q1 { color: $text-success; }
    }
    """

    BINDINGS = TABLE_BINDINGS

    cursor: reactive[int] = reactive(0, always_update=True)
    """Row of the cursor, among the rows shown."""

    class CursorMoved(Message):
        """The cursor moved to another record."""

        def __init__(self, row: int) -> None:
            self.row = row
            super().__init__()

    class RowsWanted(Message):
        """Rows on screen (or about to be) are not fetched yet: positions `first` to `last`."""

        def __init__(self, first: int, last: int) -> None:
            self.first, self.last = first, last
            super().__init__()

    PREFETCH = 100
    """Rows fetched beyond the screen in each direction, so scrolling rarely waits."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._results = Results()
        self._marks: dict[str, bool] = {}
        self._needles: tuple[str, ...] = ()
        self._columns: list[Column] = layout_columns(80)
        self._wanted: tuple[int, int] | None = None

    # -- data ------------------------------------------------------------

    def show(
        self,
        results: Results,
        marks: dict[str, bool],
        needles: tuple[str, ...] = (),
        cursor: int | None = None,
    ) -> None:
        """Show `results`, highlighting `needles` (folded words); `marks` overrides the
        saved mark of a record (a mark not saved yet). The cursor goes to `cursor`, or
        stays where it is."""
        self._results, self._marks, self._needles = results, marks, needles
        self._wanted = None
        # The content's width, not the widget's: wider than the content region (the
        # scrollbar's gutter) would add a horizontal scrollbar, and a render of its own.
        self.virtual_size = Size(self.scrollable_content_region.width, len(results) + 1)
        if cursor is not None:
            self.cursor = cursor
            self._keep_cursor_visible(cursor)
        else:
            self.cursor = min(self.cursor, max(len(results) - 1, 0))
        self.refresh()

    def rows_arrived(self) -> None:
        """Rows asked for by `RowsWanted` are in the results now: draw them."""
        self._wanted = None
        self.refresh()

    def refresh_marks(self, marks: dict[str, bool]) -> None:
        """Redraw after marks changed."""
        self._marks = marks
        self.refresh()

    def is_marked(self, row: Row) -> bool:
        """The record's mark as shown: a mark not saved yet, else the saved one."""
        return self._marks.get(row.id, row.marked)

    @property
    def row_count(self) -> int:
        """How many records are shown."""
        return len(self._results)

    @property
    def current(self) -> Row | None:
        """The row under the cursor (None when there is none, or it is not fetched yet)."""
        if not len(self._results):
            return None
        return self._results.row(min(self.cursor, len(self._results) - 1))

    # -- cursor ----------------------------------------------------------

    @property
    def _page(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def validate_cursor(self, cursor: int) -> int:
        return max(0, min(cursor, len(self._results) - 1)) if len(self._results) else 0

    def watch_cursor(self, old: int, new: int) -> None:
        self._keep_cursor_visible(new)
        self.refresh()
        self.post_message(self.CursorMoved(new))

    def _keep_cursor_visible(self, cursor: int) -> None:
        page = self._page
        top = int(self.scroll_y)
        if cursor < top:
            self.scroll_to(y=cursor, animate=False, immediate=True)
        elif cursor >= top + page:
            self.scroll_to(y=cursor - page + 1, animate=False, immediate=True)

    def move(self, delta: int) -> None:
        """Move the cursor by `delta` rows."""
        self.cursor = self.cursor + delta

    def move_to(self, row: int) -> None:
        """Put the cursor on `row` (negative counts from the end)."""
        self.cursor = row if row >= 0 else len(self._results) + row

    def action_cursor_down(self) -> None:
        """Next record."""
        self.move(1)

    def action_cursor_up(self) -> None:
        """Previous record."""
        self.move(-1)

    def action_cursor_first(self) -> None:
        """First record."""
        self.move_to(0)

    def action_cursor_last(self) -> None:
        """Last record."""
        self.move_to(-1)

    def action_page_down(self) -> None:
        """One screen down."""
        self.move(self._page)

    def action_page_up(self) -> None:
        """One screen up."""
        self.move(-self._page)

    def action_half_page_down(self) -> None:
        """Half a screen down."""
        self.move(max(self._page // 2, 1))

    def action_half_page_up(self) -> None:
        """Half a screen up."""
        self.move(-max(self._page // 2, 1))

    # -- rendering -------------------------------------------------------

    def on_resize(self) -> None:
        self._columns = layout_columns(self.scrollable_content_region.width)
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._results) + 1)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            return self._header(width, base)
        position = int(self.scroll_y) + y - 1
        if position >= len(self._results):
            return Strip.blank(width, base)
        row = self._results.row(position)
        if row is None:
            self._want(position)
            dim = base + self.get_component_rich_style("record-table--dim", partial=True)
            return Strip([Segment(fit("  …", width), dim)], width)
        return self._row(position, row, width, base)

    def _want(self, position: int) -> None:
        """Ask once (per screenful) for the rows around `position`."""
        top = int(self.scroll_y)
        wanted = (max(top - self.PREFETCH, 0), top + self._page + self.PREFETCH)
        if self._wanted is None or not (self._wanted[0] <= position <= self._wanted[1]):
            self._wanted = wanted
            self.post_message(self.RowsWanted(*wanted))

    def _header(self, width: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("record-table--header")
        text = " ".join(fit(c.header, c.width, c.right) for c in self._columns)
        return Strip([Segment(fit(text, width), style)], width)

    def _row(self, position: int, row: Row, width: int, base: Style) -> Strip:
        marked = self.is_marked(row)
        style = base
        if position == self.cursor:
            style = base + self.get_component_rich_style("record-table--cursor")
        dim = style + self.get_component_rich_style("record-table--dim", partial=True)
        match = style + self.get_component_rich_style("record-table--match", partial=True)
        segments: list[Segment] = []
        for column in self._columns:
            text = fit(cell_text(row, column.key, marked), column.width, column.right)
            if column.key == "mark":
                mark_style = self.get_component_rich_style("record-table--mark", partial=True)
                segments.append(Segment(text, style + mark_style if marked else style))
            elif column.key in ("year", "cites", "journal"):
                segments.append(Segment(text, dim))
            elif column.key == "metric" and row.jcr_quartile == "Q1":
                q1 = self.get_component_rich_style("record-table--q1", partial=True)
                segments.append(Segment(text, style + q1))
            elif column.key in ("title", "author") and self._needles:
                segments.extend(_highlighted(text, self._needles, style, match))
            else:
                segments.append(Segment(text, style))
            segments.append(Segment(" ", style))
        strip = Strip(segments)
        return strip.crop_extend(0, width, style)


def _highlighted(text: str, needles: tuple[str, ...], style: Style, match: Style) -> list[Segment]:
    spans = highlight_spans(text, needles)
    if not spans:
        return [Segment(text, style)]
    segments, position = [], 0
    for start, end in spans:
        if start > position:
            segments.append(Segment(text[position:start], style))
        segments.append(Segment(text[start:end], match))
        position = end
    if position < len(text):
        segments.append(Segment(text[position:], style))
    return segments
