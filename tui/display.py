"""Records described in words, the same way on the command line and in the browser."""

from __future__ import annotations

from tui.models import Record
from tui.rows import ListRows


def volume_issue_pages(record: Record) -> str:
    """ "vol. 3, no. 2, pp. 10-20" with the parts the record has."""
    parts = (
        f"vol. {record.volume}" if record.volume else "",
        f"no. {record.issue}" if record.issue else "",
        f"pp. {record.pages}" if record.pages else "",
    )
    return ", ".join(part for part in parts if part)


def first_author_label(rows: ListRows, i: int) -> str:
    """ "Adomako et al." for lists; two authors are both named."""
    count = rows.author_counts[i]
    if not count:
        return ""
    name = rows.first_authors[i]
    if count == 2:
        return f"{name} & {rows.second_authors[i]}"
    return f"{name} et al." if count > 2 else name
