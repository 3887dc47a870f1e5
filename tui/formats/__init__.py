"""Importers: detect a file's format by its content and parse it into records.

Each format is a module with `NAME`, `sniff(text)` and `parse(text, result)`.
They are imported lazily, so a command that parses nothing (`refdeck search`)
does not pay for bibtexparser or XML parsing at start-up.
"""

from __future__ import annotations

import importlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from tui.formats import slices
from tui.formats.base import ImportIssue, Parser, ParseResult
from tui.formats.encoding import UndecodableFile, decode
from tui.models import Record
from tui.paths import path_text

__all__ = [
    "FORMAT_NAMES",
    "MAX_FILE_BYTES",
    "ImportIssue",
    "ParseResult",
    "detect",
    "iter_files",
    "parse_text",
    "read_file",
]

# Order matters: the most specific signatures are tried first.
_SNIFF_ORDER = ("pubmed_xml", "json_records", "aggregator", "medline", "ris", "bibtex")
_EXTENSIONS = {
    ".xml": "pubmed_xml",
    ".json": "json_records",
    ".jsonl": "json_records",
    ".ndjson": "json_records",
    ".nbib": "medline",
    ".medline": "medline",
    ".ris": "ris",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".txt": "aggregator",
}
FORMAT_NAMES = _SNIFF_ORDER

MAX_FILE_BYTES = 1 << 30
"""Files above 1 GiB are refused rather than read into memory."""

# Files a directory import passes over without comment: not bibliographies.
_SKIPPED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_SKIPPED_SUFFIXES = frozenset(
    {".md", ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".html", ".htm", ".py", ".csl"}
)


def _parser(name: str) -> Parser:
    module = importlib.import_module(f"tui.formats.{name}")
    return module


def detect(text: str, path: str | Path = "") -> str | None:
    """Return the name of the format that `text` is in, or None.

    Content decides; the file's extension only breaks ties when several
    formats' signatures match.
    """
    matches = [name for name in _SNIFF_ORDER if _parser(name).sniff(text)]
    if not matches:
        return None
    by_extension = _EXTENSIONS.get(Path(path).suffix.lower())
    return by_extension if by_extension in matches else matches[0]


def parse_text(text: str, file: str, format: str | None = None) -> ParseResult:
    """Parse text in a known or detected format; never raises for bad input."""
    result = ParseResult(file=file)
    name = format or detect(text, file)
    if name is None:
        _unrecognized(text, result)
        return result
    result.format = name
    _parse_into(text, result, name)
    _finish(result, name)
    return result


def _unrecognized(text: str, result: ParseResult) -> None:
    if not text.strip():
        result.error("is empty")
    else:
        result.error(
            "is not in a format refdeck recognizes "
            "(BibTeX, RIS, MEDLINE, PubMed XML, CSL-JSON, Crossref, "
            "Semantic Scholar, OpenAlex or aggregator records)"
        )


def _parse_into(text: str, result: ParseResult, name: str, sliced: bool = False) -> None:
    parser = _parser(name)
    # A format may parse a slice of a file differently from a whole file (JSON Lines).
    parse = getattr(parser, "parse_slice", parser.parse) if sliced else parser.parse
    try:
        parse(text, result)
    except RecursionError:
        result.error("is nested too deeply to read")
    except Exception as error:  # noqa: BLE001 - a parser bug must not lose the rest of an import
        result.error(f"could not be read ({type(error).__name__}: {error})")


def _finish(result: ParseResult, name: str) -> None:
    result.summarize_repeats()
    # Warnings alone ("not a MEDLINE tag line; ignored") do not tell the user that
    # nothing at all was imported: a file without records always gets an error.
    if not result.count and not any(issue.severity == "error" for issue in result.issues):
        result.error(f"holds no records (read as {name})")
    # Parsers may report in any order (BibTeX resolves crossrefs last): show file order.
    result.issues.sort(key=lambda issue: issue.line or float("inf"))


RecordSink = Callable[[list[Record]], None]
"""Takes the records of a file as they are parsed (see `read_file`)."""


def read_file(
    path: Path,
    display: str | None = None,
    *,
    take: RecordSink | None = None,
    progress: Callable[[int], None] | None = None,
    slice_bytes: int | None = None,
) -> ParseResult:
    """Read, decode and parse one file; every problem becomes an issue, never an exception.

    With `take`, records are handed to it as they are parsed instead of being
    kept in the result, and a RIS, MEDLINE or JSON Lines file of over two
    slices is parsed a slice at a time (`slice_bytes`, by default
    `tui.formats.slices.SLICE_BYTES`): memory follows the slice, not the file.
    `progress` hears how many of the file's bytes have been parsed.
    """
    # Records name the file as their source, and JSON and SQLite take only valid text.
    file = path_text(display or path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            result = ParseResult(file=file)
            result.error(f"is too large to import ({size / 2**20:.0f} MiB)")
            return result
        slice_bytes = slice_bytes or slices.SLICE_BYTES
        if take is not None and size > 2 * slice_bytes:
            sliced = _read_in_slices(path, file, take, progress, slice_bytes)
            if sliced is not None:
                return sliced
        data = path.read_bytes()
    except OSError as error:
        result = ParseResult(file=file)
        result.error(f"cannot be read: {error.strerror or error}")
        return result
    try:
        decoded = decode(data)
    except (UndecodableFile, UnicodeDecodeError, LookupError) as error:
        result = ParseResult(file=file)
        result.error(
            str(error) if isinstance(error, UndecodableFile) else f"cannot be decoded: {error}"
        )
        return result
    del data  # the bytes are not needed once decoded: a 200 MB file is held once, not twice
    result = parse_text(decoded.text, file)
    if decoded.guessed and result.records:
        result.issues.insert(
            0,
            ImportIssue(file, None, None, f"read as {decoded.encoding} (not UTF-8)", "warning"),
        )
    if take is not None:
        take(result.records)
        result.records = []
    if progress is not None:
        progress(size)
    return result


def _read_in_slices(
    path: Path,
    file: str,
    take: RecordSink,
    progress: Callable[[int], None] | None,
    slice_bytes: int,
) -> ParseResult | None:
    """Parse a big file slice by slice, or return None when it must be read whole."""
    if not slices.is_utf8(path):
        return None
    head = slices.read_head(path)
    name = detect(head, path)
    if name is None or not slices.can_slice(name, path, head):
        return None
    result = ParseResult(file=file, format=name)
    for piece in slices.slices(path, name, slice_bytes):
        first_issue = len(result.issues)
        result.more_follows = not piece.last
        _parse_into(piece.text, result, name, sliced=True)
        # The parser numbered the slice's lines from 1: put its issues at the file's lines.
        shift = piece.first_line - 1
        if shift:
            result.issues[first_issue:] = [
                replace(issue, line=issue.line + shift) if issue.line else issue
                for issue in result.issues[first_issue:]
            ]
        take(result.records)
        result.records = []
        if progress is not None:
            progress(piece.end)
    result.more_follows = False
    _finish(result, name)
    return result


def iter_files(
    paths: Iterable[str | Path],
    errors: list[ImportIssue],
    skip: Callable[[Path], bool] | None = None,
) -> Iterator[Path]:
    """Yield the files under `paths`, recursing into directories.

    Symlink loops and unreadable directories are reported in `errors`, and each
    real file is yielded once, in a stable (sorted) order. A file or folder for
    which `skip` says True is passed over, named or met in a folder (an import
    skips the library's own files this way).
    """
    seen: set[tuple[int, int]] = set()
    skip = skip or _skip_nothing
    for raw in paths:
        path = Path(raw)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            errors.append(ImportIssue(str(path), None, None, "does not exist"))
            continue
        except OSError as error:
            errors.append(ImportIssue(str(path), None, None, f"cannot be read: {error.strerror}"))
            continue
        if skip(path):
            continue
        if stat.S_ISREG(mode):
            yield path
        elif stat.S_ISDIR(mode):
            yield from _walk(path, seen, errors, skip)
        else:
            # Named on purpose, so said out loud (in a folder they are passed over). Never
            # opened: a FIFO waits for a writer forever, /dev/zero never ends.
            errors.append(ImportIssue(str(path), None, None, _not_a_file(mode)))


def _not_a_file(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISCHR(mode):
        kind = "a character device"
    elif stat.S_ISBLK(mode):
        kind = "a block device (a disk or partition)"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a special file"
    return f"is {kind}, not a file of records; it was not read"


def _skip_nothing(path: Path) -> bool:
    return False


def _walk(
    top: Path,
    seen: set[tuple[int, int]],
    errors: list[ImportIssue],
    skip: Callable[[Path], bool],
) -> Iterator[Path]:
    try:
        stat = top.stat()
    except OSError as error:
        errors.append(ImportIssue(str(top), None, None, f"cannot be read: {error.strerror}"))
        return
    if (stat.st_dev, stat.st_ino) in seen:
        errors.append(ImportIssue(str(top), None, None, "skipped: a symlink loop", "warning"))
        return
    seen.add((stat.st_dev, stat.st_ino))
    try:
        entries = sorted(os.scandir(top), key=lambda entry: entry.name)
    except OSError as error:
        errors.append(ImportIssue(str(top), None, None, f"cannot be read: {error.strerror}"))
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name in _SKIPPED_NAMES:
            continue
        path = Path(entry.path)
        if skip(path):
            continue
        if entry.is_dir():
            yield from _walk(path, seen, errors, skip)
        elif entry.is_file():
            if path.suffix.lower() not in _SKIPPED_SUFFIXES:
                yield path
        elif entry.is_symlink():
            errors.append(
                ImportIssue(str(path), None, None, "skipped: a broken symlink", "warning")
            )
        # Sockets, FIFOs and devices are passed over: reading a FIFO would wait forever.
