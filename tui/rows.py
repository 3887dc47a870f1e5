"""What the list shows of a record: one `Row`, read from the library's index.

The browser and `refdeck search` never build full records to list them: a
row holds the few columns a list line shows, and it comes straight from the
index (`tui.library`), a screenful at a time. The full record is read only
when it is opened, copied or exported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class Row:
    """One record as a list shows it."""

    seq: int
    """The record's place in the library (its order in the file); the key of the index."""
    id: str
    title: str = ""
    first_author: str = ""
    """The first author's family (or group) name."""
    second_author: str = ""
    """The second author's family name ("" unless there are exactly two)."""
    author_count: int = 0
    journal: str = ""
    year: int | None = None
    doi: str = ""
    citation_count: int | None = None
    impact_factor: float | None = None
    jcr_quartile: str = ""
    """"Q1" to "Q4", or ""."""
    marked: bool = False

    @property
    def first_author_label(self) -> str:
        """ "Adomako et al." for lists; two authors are both named."""
        if not self.author_count:
            return ""
        if self.author_count == 2:
            return f"{self.first_author} & {self.second_author}"
        return f"{self.first_author} et al." if self.author_count > 2 else self.first_author

    def with_mark(self, marked: bool) -> Row:
        """The same row, marked or not (for showing a mark before it is saved)."""
        return Row(**{**{f: getattr(self, f) for f in ROW_FIELDS}, "marked": marked})


ROW_FIELDS = tuple(f.name for f in fields(Row))
"""The row's fields, in order: the index selects exactly these columns."""


class Results:
    """One answer to a query, as the list shows it: the records' seqs in order, and the
    rows fetched so far (a page at a time, as they scroll into view)."""

    def __init__(self, seqs: Sequence[int] = (), rows: Iterable[Row] = (), total: int = 0) -> None:
        self.seqs = seqs
        self.total = total
        """How many records the library holds."""
        self._rows = {row.seq: row for row in rows}

    def __len__(self) -> int:
        return len(self.seqs)

    def row(self, position: int) -> Row | None:
        """The row at `position`, or None while it is not fetched."""
        return self._rows.get(self.seqs[position])

    def missing(self, first: int, last: int) -> list[int]:
        """The seqs of positions `first` to `last` whose rows are not fetched yet."""
        seqs = self.seqs[max(first, 0) : max(last + 1, 0)]
        return [seq for seq in seqs if seq not in self._rows]

    def add(self, rows: Iterable[Row]) -> None:
        """Keep fetched rows (a cache: rows never change within one answer)."""
        self._rows.update((row.seq, row) for row in rows)
