"""Citation keys for exports: the same key for a record in BibTeX and CSL-JSON.

A key the record came with (a colleague's BibTeX key, a Zotero item key) is
kept when it is a valid BibTeX key, so that `\\cite{...}` commands already in a
manuscript keep working. Otherwise the record's library id is used, which is
already in the `adomako2025acute` style. Keys are unique within one export.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tui.identity import record_id
from tui.models import Record

# Characters BibTeX, biber and pandoc all accept in a key; no spaces, commas or braces.
_VALID_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_:./+-]{0,99}$")


def citation_keys(records: Sequence[Record]) -> list[str]:
    """One unique key per record, in order."""
    taken: set[str] = set()
    keys: list[str] = []
    for record in records:
        key = next(
            (
                candidate
                for candidate in (record.key, record.id)
                if candidate and _VALID_KEY.match(candidate) and candidate.lower() not in taken
            ),
            None,
        )
        if key is None:
            # record_id makes an ASCII key unique against what is already taken.
            key = record_id(record, taken)
        taken.add(key.lower())
        keys.append(key)
    return keys
