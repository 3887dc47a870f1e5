"""Records described in words, the same way on the command line and in the browser."""

from __future__ import annotations

from tui.models import Record


def volume_issue_pages(record: Record) -> str:
    """ "vol. 3, no. 2, pp. 10-20" with the parts the record has."""
    parts = (
        f"vol. {record.volume}" if record.volume else "",
        f"no. {record.issue}" if record.issue else "",
        f"pp. {record.pages}" if record.pages else "",
    )
    return ", ".join(part for part in parts if part)
