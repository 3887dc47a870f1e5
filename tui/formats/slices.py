"""Cutting a big file into slices of whole records, so it is parsed a slice at a time.

A 200 MB file read whole is held as text, then as every record parsed from it,
before anything is written. The formats whose records start on a line of
their own (RIS at `TY  -`, MEDLINE at `PMID-` after a blank line, JSON Lines at
any line) can instead be cut into slices of a few megabytes, each parsed on
its own and handed on: memory then follows the slice, not the file.

Only UTF-8 files are sliced (checked over the whole file first, in blocks):
other encodings are rare, guessed from the whole text, and read whole.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

SLICE_BYTES = 8 << 20
"""About how much of a file is parsed at a time."""

_CHECK_BLOCK = 8 << 20
"""How much of a file the UTF-8 check reads at a time."""
_OVERLAP = 16
"""A boundary pattern is shorter than this: searching on, start this far back."""

# Where a slice may end: just before a line that starts a record.
_RECORD_STARTS = {
    # Exactly the `TY` lines the RIS parser starts a record at (see `tui.formats.ris`).
    "ris": re.compile(rb"\n(?=TY[ \t]{1,2}-(?:[ \t\r\n\x0b\x0c]|$))"),
    "medline": re.compile(rb"\n\r?\n(?=PMID- |OWN - )"),
    "json_records": re.compile(rb"\n"),
}
# A record's first line, anywhere: the first slice must hold one (and not only a
# preamble that happens to be longer than a slice).
_HAS_RECORD = {
    "ris": re.compile(rb"^TY[ \t]{1,2}-(?:[ \t\r\n\x0b\x0c]|$)", re.MULTILINE),
    "medline": re.compile(rb"^(?:PMID- |OWN - )", re.MULTILINE),
    "json_records": re.compile(rb"\S"),
}
SLICED_FORMATS = frozenset(_RECORD_STARTS)
JSON_LINES_SUFFIXES = frozenset({".jsonl", ".ndjson"})


@dataclass(frozen=True, slots=True)
class Slice:
    """Whole records cut from a file, as text ready for its parser."""

    text: str
    first_line: int
    """The file's line number of the slice's first line."""
    end: int
    """The byte offset in the file where the slice ends (for progress)."""
    last: bool
    """Whether the slice ends the file."""


def is_utf8(path: Path) -> bool:
    """Whether the whole file is valid UTF-8, read a block at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(_CHECK_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def can_slice(format: str, path: Path, head: str) -> bool:
    """Whether a file in `format`, starting with `head`, may be cut at its record lines.

    JSON is cut only when its name says JSON Lines (`.jsonl`, `.ndjson`), as
    the importer then reads every line as a document, and its first line is a
    whole document (a mislabelled pretty-printed file's first line is `{`).
    Other JSON files are read whole: whether their lines are records is
    judged over the whole file.
    """
    if format != "json_records":
        return format in SLICED_FORMATS
    if path.suffix.lower() not in JSON_LINES_SUFFIXES:
        return False
    first = next((line for line in head.split("\n") if line.strip()), "")
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    return True


def read_head(path: Path, size: int = 1 << 20) -> str:
    """The start of a UTF-8 file, up to its last whole line, for format detection.

    A JSON Lines file whose first line is longer than this is read whole.
    """
    with open(path, "rb") as handle:
        data = handle.read(size)
    cut = data.rfind(b"\n")
    if cut > 0 and len(data) == size:
        data = data[: cut + 1]
    return _text(data.decode("utf-8", errors="ignore"), first=True)


def slices(path: Path, format: str, size: int = SLICE_BYTES) -> Iterator[Slice]:
    """The file's text in slices of about `size` bytes, each of whole records."""
    starts = _RECORD_STARTS[format]
    line = 1
    offset = 0
    pending = b""
    searched = 0  # how much of `pending` is known to hold no usable cut
    with open(path, "rb") as handle:
        while True:
            # A record longer than a slice makes the reads grow, so it costs linear time.
            block = handle.read(max(size, len(pending)))
            data = pending + block
            if not block:
                if data:
                    text = _text(data.decode("utf-8"), offset == 0)
                    yield Slice(text, line, offset + len(data), last=True)
                return
            cut = _last_cut(starts, data, max(searched - _OVERLAP, 0), size)
            if (
                cut is None
                or cut == len(data)  # maybe the end of the file: the last slice says so
                or (offset == 0 and not _HAS_RECORD[format].search(data, 0, cut))
            ):
                pending, searched = data, len(data)  # no whole record yet: read on
                continue
            text = _text(data[:cut].decode("utf-8"), offset == 0)
            yield Slice(text, line, offset + cut, last=False)
            line += text.count("\n")
            offset += cut
            pending, searched = data[cut:], 0


def _last_cut(starts: re.Pattern[bytes], data: bytes, begin: int, size: int) -> int | None:
    """The offset just after the last record boundary in `data[begin:]`, or None.

    The tail is searched first: it nearly always holds a boundary, and then a
    slice costs one pass over its bytes, not two.
    """
    for start in (max(len(data) - size // 4, begin), begin):
        last = deque(starts.finditer(data, start), maxlen=1)
        if last:
            return last[0].end()
    return None


def _text(text: str, first: bool) -> str:
    """What `tui.formats.encoding.decode` makes of UTF-8: no BOM, LF line ends, NFC."""
    if first:
        text = text.removeprefix("\ufeff")
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
