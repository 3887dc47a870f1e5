"""The library: records kept in one TinyDB file, with an index beside it.

store.py       RecordStore: opening views, the write operations, noticing changes
snapshot.py    Snapshot: a consistent view (index transaction + open file)
writer.py      the one write path: a ChangeSet into the file and the index together
changes.py     ChangeSet: records put and deleted, spooled
merging.py     an import's matching against the index
index.py       the SQLite index (list columns, identity keys, filters, FTS5 words)
columns.py     what the index keeps of each record, defined once
search.py      the query language as SQL
layout.py      the file's layout: one record per line, the meta table first
backups.py     the generations kept, and restoring them
paths.py       where a library's files are (symlinks resolved)
tinydb_file.py reading a TinyDB file in another layout (the only tinydb import)
"""

from tui.library.backups import Backup, find_backup, list_backups
from tui.library.changes import ChangeSet
from tui.library.errors import InvalidLibrary, LibraryBusy, LibraryError, NoLibrary
from tui.library.layout import SCHEMA_VERSION
from tui.library.merging import UpsertResult
from tui.library.search import RELEVANCE_LIMIT
from tui.library.snapshot import Snapshot
from tui.library.store import RecordStore, default_library_path
from tui.library.writer import Current, Written

__all__ = [
    "RELEVANCE_LIMIT",
    "SCHEMA_VERSION",
    "Backup",
    "ChangeSet",
    "Current",
    "InvalidLibrary",
    "LibraryBusy",
    "LibraryError",
    "NoLibrary",
    "RecordStore",
    "Snapshot",
    "UpsertResult",
    "Written",
    "default_library_path",
    "find_backup",
    "list_backups",
]
