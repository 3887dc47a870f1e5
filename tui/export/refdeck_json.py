"""refdeck's own JSON: every field of every record, as `refdeck search --format json` prints.

`tui.formats.refdeck_json` imports it back unchanged, so it is the format for
moving records between refdeck libraries.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from tui.models import Record


def export(records: Sequence[Record], style: str | None = None) -> str:
    """A JSON array of `Record.to_json()` objects."""
    items = [record.to_json() for record in records]
    return orjson.dumps(items, option=orjson.OPT_INDENT_2).decode() + "\n"
