"""The command line: everything refdeck does, scriptable, without the browser.

Exit codes: 0 success; 1 some input failed or nothing matched; 2 usage error;
3 the library could not be used (not a refdeck library, busy, unwritable).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

import orjson
from rich.cells import cell_len, get_character_cell_size

from tui import __version__
from tui.display import volume_issue_pages
from tui.export import EXPORTERS, ExportError, export_text
from tui.export.citations import STYLES
from tui.importing import ImportReport, import_paths
from tui.library import (
    LibraryError,
    NoLibrary,
    RecordStore,
    Snapshot,
    default_library_path,
    find_backup,
    list_backups,
)
from tui.models import Record
from tui.normalize import strip_controls
from tui.paths import path_text
from tui.query import SORT_KEYS, Query, parse_query
from tui.rows import Row

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LIBRARY = 0, 1, 2, 3
COMMANDS = ("browse", "import", "search", "show", "stats", "doi", "export", "restore")


# ---------------------------------------------------------------------------
# Opening the library


def library_path(db: str | None) -> tuple[Path, bool]:
    """The library to use, and whether the user named it (`--db` or `REFDECK_DB`)."""
    if db:
        return Path(db), True
    if os.environ.get("REFDECK_DB"):
        return Path(os.environ["REFDECK_DB"]), True
    return default_library_path(), False


def open_library(db: str | None) -> RecordStore:
    """Open the library named by `--db`, `REFDECK_DB`, or the default one."""
    path, _ = library_path(db)
    return RecordStore.open(path)


# ---------------------------------------------------------------------------
# Importing


class Progress:
    """A one-line progress bar on stderr, shown only on a terminal and only for long imports.

    The line is kept narrower than the terminal, in cells (a CJK character takes
    two): a line that wraps would leave every redraw on a new row.
    """

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.total = 1
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self.shown = False

    def start(self, total_bytes: int) -> None:
        """The import will read this many bytes."""
        self.total = max(total_bytes, 1)

    def advance(self, done_bytes: int, records: int, name: str) -> None:
        """Redraw the bar: so many bytes parsed, so many records found."""
        if not self.enabled or time.monotonic() - self.started < 0.3:
            return
        fraction = min(done_bytes / self.total, 1.0)
        filled = int(_BAR * fraction)
        bar = "█" * filled + "░" * (_BAR - filled)
        self._draw(f"{bar} {100 * fraction:5.1f}%  {records:,} records  {path_text(name)}")

    def note(self, text: str) -> None:
        """Say what a long step is doing (reading a big file, writing the library)."""
        if self.enabled:
            self._draw(strip_controls(text))

    def close(self) -> None:
        """Clear the line so the summary starts on a clean one."""
        if self.shown:
            self.stream.write("\r" + " " * self._width() + "\r")
            self.stream.flush()
            self.shown = False

    def _draw(self, line: str) -> None:
        width = self._width()
        self.stream.write("\r" + _pad(_cut(line, width), width))
        self.stream.flush()
        self.shown = True

    def _width(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, io.UnsupportedOperation):
            columns = 80
        return max(columns - 1, 20)  # the last column would make some terminals wrap


_BAR = 30


def print_import_summary(report: ImportReport, out: TextIO, err: TextIO) -> None:
    """The summary: counts, then every failure and warning as `file:line: reason`."""
    upsert = report.upsert
    files = f"{report.files} file" + ("" if report.files == 1 else "s")
    out.write(
        f"Imported {files}: {len(upsert.added)} added, {len(upsert.merged)} merged, "
        f"{len(upsert.unchanged)} unchanged, {report.failed} failed.\n"
    )
    if report.own_files:
        out.write(
            "Skipped the library's own files (the library, its lock, index and backups): "
            "they are not imported into it.\n"
        )
    if upsert.backup is not None:
        out.write(f"The library as it was before is kept: refdeck restore {upsert.backup.name}\n")
    errors = [i for i in report.issues if i.severity == "error"]
    warnings = [i for i in report.issues if i.severity == "warning"]
    for issue in errors + warnings:
        err.write(strip_controls(str(issue)) + "\n")


# ---------------------------------------------------------------------------
# Reading the library


class IndexProgress:
    """Says on stderr, on a terminal, that the index is being (re)built, and how far."""

    def __init__(self, store: RecordStore, progress: Progress) -> None:
        self._store, self._progress, self._shown = store, progress, -1

    def __call__(self, fraction: float) -> None:
        percent = int(fraction * 100)
        if percent != self._shown:
            self._shown = percent
            self._progress.note(f"Indexing the library {self._store.path} (once): {percent}%")


@contextlib.contextmanager
def library_view(store: RecordStore) -> Iterator[Snapshot]:
    """A view of an existing library, for a reading command (which creates nothing)."""
    if not store.exists():
        raise NoLibrary(
            f"there is no library at {store.path} yet; add records with: refdeck import FILES"
        )
    progress = Progress()
    try:
        snapshot = store.snapshot(progress=IndexProgress(store, progress))
    finally:
        progress.close()
    try:
        yield snapshot
    finally:
        snapshot.close()


# ---------------------------------------------------------------------------
# Printing records


def _terminal_width(stream: TextIO) -> int:
    if stream.isatty():
        return shutil.get_terminal_size((100, 24)).columns
    return 120


def _cut(text: str, width: int) -> str:
    """`text` in at most `width` terminal cells, ending in "…" when cut."""
    if cell_len(text) <= width:
        return text
    kept, used = [], 1  # the "…"
    for char in text:
        used += get_character_cell_size(char)
        if used > width:
            break
        kept.append(char)
    return "".join(kept) + "…" if width > 0 else ""


def _pad(text: str, width: int) -> str:
    """`text` padded with spaces to `width` cells."""
    return text + " " * (width - cell_len(text))


def print_table(rows: Sequence[Row], out: TextIO) -> None:
    """Rows as an aligned table that fits the terminal."""
    width = _terminal_width(out)
    id_width = min(max((cell_len(r.id) for r in rows), default=2), 24)
    author_width = 22
    journal_width = 24 if width >= 110 else 0
    title_width = (
        width - id_width - 4 - author_width - (journal_width + 2 if journal_width else 0) - 6
    )
    for row in rows:
        cells = [
            _pad(row.id, id_width),
            str(row.year or "").rjust(4),
            _pad(_cut(row.first_author_label, author_width), author_width),
            _pad(_cut(row.title or "(no title)", title_width), title_width)
            if journal_width
            else _cut(row.title or "(no title)", title_width),
        ]
        if journal_width:
            cells.append(_cut(row.journal, journal_width))
        out.write(strip_controls("  ".join(cells).rstrip()) + "\n")


def print_rows(snapshot: Snapshot, seqs: Sequence[int], out: TextIO) -> None:
    """The table of these records, read from the index a page at a time."""
    for start in range(0, len(seqs), _PAGE):
        print_table(snapshot.rows(seqs[start : start + _PAGE]), out)


_PAGE = 1000


def _json_bytes(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def print_record(record: Record, description: str | None, out: TextIO) -> None:
    """A record laid out for reading (with its journal's description, when there is one)."""
    lines = [record.title or "(no title)", ""]

    def row(label: str, value: object) -> None:
        if value not in (None, "", ()):
            lines.append(f"{label:<14}{value}")

    row("Authors", "; ".join(record.author_names))
    row("Editors", "; ".join(a.display for a in record.editors))
    where, details = record.journal or "", volume_issue_pages(record)
    row("Journal", f"{where}, {details}" if where and details else where or details)
    row("Date", record.date)
    row("Type", record.type)
    row("DOI", record.doi)
    row("URL", record.url)
    row("PDF", record.pdf_url)
    row("PMID", record.pmid)
    row("Citations", record.citation_count)
    if record.impact_factor is not None or record.jcr_quartile:
        metrics = " ".join(
            part
            for part in (
                f"IF {record.impact_factor:g}" if record.impact_factor is not None else "",
                record.jcr_quartile or "",
                f"({record.jcr_category})" if record.jcr_category else "",
            )
            if part
        )
        row("JCR", metrics)
    row("Open access", {True: "yes", False: "no"}.get(record.open_access))  # type: ignore[arg-type]
    row("Keywords", "; ".join(record.keywords))
    row("Tags", ", ".join(record.tags))
    row("Note", record.note)
    row("Id", record.id)
    for source in record.source:
        row("Imported", f"{source.file} ({source.format}) {source.imported or ''}".rstrip())
    if record.abstract:
        lines += ["", "Abstract", "", record.abstract]
    if description:
        lines += ["", f"About {record.journal}", "", description]
    out.write(strip_controls("\n".join(lines)) + "\n")


# ---------------------------------------------------------------------------
# Commands


def cmd_import(args: argparse.Namespace) -> int:
    """`refdeck import PATH...`"""
    store = open_library(args.db)
    report = import_paths(store, args.paths, Progress())
    print_import_summary(report, sys.stdout, sys.stderr)
    return EXIT_FAILED if report.failed else EXIT_OK


def _query(text: str) -> Query | None:
    """The parsed query, or None (after saying why) when part of it cannot be read."""
    query = parse_query(text)
    for error in query.errors:
        sys.stderr.write(f"refdeck: bad query: {error}\n")
    return None if query.errors else query


DOI_RANK_LIMIT = 10_000
"""`refdeck doi` ranks up to this many matches to find the best one (the browser: fewer)."""


def cmd_search(args: argparse.Namespace) -> int:
    """`refdeck search [--format F] [QUERY...]`"""
    query = _query(" ".join(args.query))
    if query is None:
        return EXIT_USAGE
    with library_view(open_library(args.db)) as snapshot:
        seqs = snapshot.search(query, args.sort, args.reverse)
        if args.limit is not None:
            seqs = seqs[: args.limit]
        out = sys.stdout
        if args.format in ("json", "jsonl"):
            records = (record.to_json() for record in snapshot.records(seqs))
            if args.format == "jsonl":
                for record in records:
                    out.write(orjson.dumps(record).decode() + "\n")
            else:
                out.write(_json_bytes(list(records)) + "\n")
        elif args.format == "doi":
            for start in range(0, len(seqs), _PAGE):
                for row in snapshot.rows(seqs[start : start + _PAGE]):
                    if row.doi:
                        out.write(strip_controls(row.doi) + "\n")
        else:
            print_rows(snapshot, seqs, out)
            if out.isatty():
                sys.stderr.write(f"{len(seqs)} of {snapshot.count} records\n")
    return EXIT_OK if seqs else EXIT_FAILED


def cmd_show(args: argparse.Namespace) -> int:
    """`refdeck show ID_OR_DOI [--format text|json]`"""
    with library_view(open_library(args.db)) as snapshot:
        record = snapshot.find(args.id)
        if record is None:
            sys.stderr.write(f"refdeck: no record with id or DOI {args.id!r}\n")
            return EXIT_FAILED
        if args.format == "json":
            sys.stdout.write(_json_bytes(record.to_json()) + "\n")
        else:
            print_record(record, snapshot.journal_description(record.journal), sys.stdout)
    return EXIT_OK


def cmd_doi(args: argparse.Namespace) -> int:
    """`refdeck doi QUERY...`: the DOI of the best match."""
    if not args.query:
        sys.stderr.write("refdeck doi: a query is required, e.g. refdeck doi adomako leukemia\n")
        return EXIT_USAGE
    query = _query(" ".join(args.query))
    if query is None:
        return EXIT_USAGE
    with library_view(open_library(args.db)) as snapshot:
        seqs = snapshot.search(query, rank_limit=DOI_RANK_LIMIT)
        for start in range(0, len(seqs), 50):
            best = next((r for r in snapshot.rows(seqs[start : start + 50]) if r.doi), None)
            if best is not None:
                sys.stdout.write(strip_controls(best.doi) + "\n")
                return EXIT_OK
    what = "no record matches" if not seqs else "no matching record has a DOI"
    sys.stderr.write(f"refdeck: {what}\n")
    return EXIT_FAILED


def cmd_export(args: argparse.Namespace) -> int:
    """`refdeck export --format F [--style S] [--output FILE] [QUERY...]`"""
    from tui.export.files import exists, problem_with, resolve, shown, write_export

    target = None
    if args.output and args.output != "-":
        try:
            target = resolve(args.output)
        except ExportError as error:
            sys.stderr.write(f"refdeck: {error}\n")
            return EXIT_USAGE
        # Check the destination before searching and formatting, which can take a while.
        problem = problem_with(target)
        if problem:
            sys.stderr.write(f"refdeck: {problem}\n")
            return EXIT_FAILED
        # A FIFO or a device is written into, never replaced: nothing to ask.
        if (
            exists(target)
            and not args.force
            and not _confirm(f"{shown(target)} exists. Overwrite it?")
        ):
            sys.stderr.write(
                f"refdeck: {shown(target)} exists; nothing written (--force overwrites)\n"
            )
            return EXIT_FAILED
    query = _query(" ".join(args.query))
    if query is None:
        return EXIT_USAGE
    with library_view(open_library(args.db)) as snapshot:
        records = list(snapshot.records(snapshot.search(query, args.sort, args.reverse)))
    if not records:
        sys.stderr.write("refdeck: no record matches; nothing exported\n")
        return EXIT_FAILED
    try:
        text = export_text(records, args.format, args.style)
        if target is None:
            sys.stdout.write(text)
            return EXIT_OK
        write_export(target, text, overwrite=True)
    except ExportError as error:
        sys.stderr.write(f"refdeck: {error}\n")
        return EXIT_FAILED
    noun = "record" if len(records) == 1 else "records"
    sys.stderr.write(f"Exported {len(records)} {noun} to {shown(target)}\n")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    """`refdeck restore [BACKUP]`: list the backups, or put one back."""
    store = open_library(args.db)
    path = store.paths.real
    backups = list_backups(path)
    if not args.backup:
        if not backups:
            sys.stdout.write(f"No backups of {store.path} yet (one is kept before each import).\n")
            return EXIT_OK
        sys.stdout.write(f"Backups of {store.path}, newest first:\n")
        for number, backup in enumerate(backups, start=1):
            records = backup.count_records()
            noun = "record " if records == 1 else "records"
            sys.stdout.write(f"{number:>3}  {backup.taken}  {records:>8,} {noun}  {backup.name}\n")
        sys.stdout.write("Restore one with: refdeck restore NUMBER (or its name)\n")
        return EXIT_OK
    chosen = find_backup(path, args.backup)
    if chosen is None:
        sys.stderr.write(
            f"refdeck: no backup {args.backup!r} of {store.path}; 'refdeck restore' lists them\n"
        )
        return EXIT_FAILED
    question = f"Replace {store.path} with the backup of {chosen.taken}?"
    if not args.yes and not _confirm(question):
        sys.stderr.write("refdeck: nothing restored (--yes restores without asking)\n")
        return EXIT_FAILED
    count, written = store.restore(chosen.path)
    noun = "record" if count == 1 else "records"
    sys.stdout.write(f"Restored {count:,} {noun} from the backup of {chosen.taken}.\n")
    if written.backup is not None:
        sys.stdout.write(
            f"The library you replaced is kept: refdeck restore {written.backup.name}\n"
        )
    return EXIT_OK


def _confirm(question: str) -> bool:
    """Ask on the terminal; without one (a script, a pipe) the answer is no."""
    if not sys.stdin.isatty():
        return False
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_stats(args: argparse.Namespace) -> int:
    """`refdeck stats [--format text|json]`"""
    with library_view(open_library(args.db)) as snapshot:
        stats = snapshot.stats()
    out = sys.stdout
    if args.format == "json":
        out.write(_json_bytes(stats) + "\n")
        return EXIT_OK
    out.write(
        f"{stats['records']} records, {stats['with_doi']} with a DOI, "
        f"{stats['with_abstract']} with an abstract\n"
    )
    sections = (
        ("By year", stats["by_year"], None),
        ("By format", stats["by_format"], None),
        ("By type", stats["by_type"], None),
        ("Top journals", stats["by_journal"], 15),
    )
    for title, counts, limit in sections:
        assert isinstance(counts, dict)
        items = list(counts.items())
        out.write(f"\n{title}\n")
        for name, count in items[:limit] if limit else items:
            out.write(strip_controls(f"  {count:>6}  {name}") + "\n")
        if limit and len(items) > limit:
            out.write(f"  ({len(items) - limit} more)\n")
    return EXIT_OK


def cmd_browse(args: argparse.Namespace) -> int:
    """`refdeck [PATH...]`: open the browser.

    With PATHs and no named library, the files are browsed in a temporary
    library that is removed on exit, so trying refdeck on a file never changes
    the user's library; with `--db` or `REFDECK_DB`, they are imported into it first.
    """
    path, named = library_path(args.db)
    store = RecordStore.in_memory() if args.paths and not named else RecordStore.open(path)
    problems: list[str] = []
    if args.paths:
        report = import_paths(store, args.paths, Progress())
        problems = [strip_controls(str(i)) for i in report.issues if i.severity == "error"]
    if not sys.stdout.isatty() or args.list:
        # Not a terminal (a pipe, a script): print the library instead of drawing it.
        for problem in problems:
            sys.stderr.write(problem + "\n")
        if store.exists():
            with library_view(store) as snapshot:
                print_rows(snapshot, snapshot.search(""), sys.stdout)
        return EXIT_OK
    from tui.app import BibApp  # deferred: Textual is only needed for the browser
    from tui.config import load_config

    config, config_problems = load_config()
    app = BibApp(
        store, config, config_problems, initial_query=args.query or "", import_problems=problems
    )
    code = app.run() or EXIT_OK
    # The browser's screen is gone: leave the import problems where the user can read them.
    for problem in problems:
        sys.stderr.write(problem + "\n")
    return code


# ---------------------------------------------------------------------------
# Argument parsing


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="library file (default: REFDECK_DB, else the user data directory)",
    )
    parser = argparse.ArgumentParser(
        prog="refdeck",
        parents=[db],
        description="Browse, search and export scholarly literature records.",
        epilog="Run 'refdeck COMMAND --help' for a command's options. "
        "'refdeck PATH...' browses files without touching your library.",
    )
    parser.add_argument("--version", action="version", version=f"refdeck {__version__}")
    parser.add_argument(
        "--bindings",
        action="store_true",
        help="list every key binding with its id (for the [keys] table of the config file)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    browse = commands.add_parser("browse", parents=[db], help="open the browser (the default)")
    browse.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to browse")
    browse.add_argument("--query", "-q", metavar="QUERY", help="start with this search")
    browse.add_argument(
        "--list", action="store_true", help="print the records instead of opening the browser"
    )
    browse.set_defaults(handler=cmd_browse)

    imp = commands.add_parser("import", parents=[db], help="import files into the library")
    imp.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    imp.set_defaults(handler=cmd_import)

    # No one-letter options on the query commands: `-relapse` must stay an exclusion,
    # not become `-r elapse`.
    search = commands.add_parser(
        "search",
        parents=[db],
        help="search the library",
        epilog="Words starting with - exclude: refdeck search leukemia -mouse",
    )
    search.add_argument("query", nargs="*", help="query (no query: every record)")
    search.add_argument("--format", choices=("table", "json", "jsonl", "doi"), default="table")
    search.add_argument("--sort", choices=SORT_KEYS, default="relevance")
    search.add_argument("--reverse", action="store_true", help="reverse the order")
    search.add_argument("--limit", type=int, metavar="N", help="at most N records")
    search.set_defaults(handler=cmd_search)

    show = commands.add_parser("show", parents=[db], help="show one record")
    show.add_argument("id", metavar="ID_OR_DOI")
    show.add_argument("--format", "-f", choices=("text", "json"), default="text")
    show.set_defaults(handler=cmd_show)

    stats = commands.add_parser("stats", parents=[db], help="counts by year, journal, format")
    stats.add_argument("--format", "-f", choices=("text", "json"), default="text")
    stats.set_defaults(handler=cmd_stats)

    doi = commands.add_parser("doi", parents=[db], help="print the DOI of the best match")
    doi.add_argument("query", nargs="*")
    doi.set_defaults(handler=cmd_doi)

    export = commands.add_parser(
        "export",
        parents=[db],
        help="export records as BibTeX, RIS, CSL-JSON, CSV, Markdown, JSON or citations",
        epilog="No query exports every record. Words starting with - exclude: "
        "refdeck export -o refs.bib leukemia -mouse",
    )
    export.add_argument("query", nargs="*", help="query (no query: every record)")
    export.add_argument("--format", choices=list(EXPORTERS), default="bibtex")
    export.add_argument(
        "--style",
        metavar="STYLE",
        help=f"citation style for --format text: {', '.join(STYLES)} or a .csl file (default: apa)",
    )
    export.add_argument(
        "--output", metavar="FILE", help="write to FILE (also -o; default: standard output)"
    )
    export.add_argument("--force", action="store_true", help="overwrite FILE without asking")
    export.add_argument("--sort", choices=SORT_KEYS, default="relevance")
    export.add_argument("--reverse", action="store_true", help="reverse the order")
    export.set_defaults(handler=cmd_export)

    restore = commands.add_parser(
        "restore",
        parents=[db],
        help="list the library's backups (one is kept before each import), or restore one",
    )
    restore.add_argument("backup", nargs="?", metavar="BACKUP", help="number or file name")
    restore.add_argument("--yes", action="store_true", help="restore without asking")
    restore.set_defaults(handler=cmd_restore)
    return parser


def print_bindings() -> int:
    """`refdeck --bindings`: every key, with the id the config file's [keys] table uses."""
    from tui.bindings import binding_table  # deferred: it needs Textual

    for where, keys, binding_id, description in binding_table():
        sys.stdout.write(f"{binding_id:<20} {keys:<14} {where:<14} {description}\n")
    return EXIT_OK


def _with_default_command(argv: list[str]) -> list[str]:
    """Insert `browse` when no command is given: `refdeck sample_records/` browses."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--db":
            index += 2
            continue
        if token.startswith("-"):
            if token in ("-h", "--help", "--version", "--bindings"):
                return argv
            index += 1
            continue
        if token in COMMANDS:
            return argv
        return argv[:index] + ["browse"] + argv[index:]
    return argv + ["browse"]


def run(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run a command; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    argv = _with_default_command(argv)
    if "export" in argv:
        # `-o FILE` as the issue and habit want it, without making `-obesity` mean `-o besity`.
        argv = ["--output" if token == "-o" else token for token in argv]
    args, unknown = parser.parse_known_args(argv)
    # `-word` excludes a word from a query; argparse takes it for an unknown option.
    exclusions = [
        token for token in unknown if token.startswith("-") and not token.startswith("--")
    ]
    if args.command in ("search", "doi", "export") and len(exclusions) == len(unknown):
        args.query = [*args.query, *exclusions]
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if not hasattr(args, "db"):
        args.db = None
    try:
        if getattr(args, "bindings", False):
            return print_bindings()
        return int(args.handler(args))
    except LibraryError as error:
        sys.stderr.write(f"refdeck: {error}\n")
        return EXIT_LIBRARY
    except BrokenPipeError:
        # `refdeck search | head` closes the pipe early: not an error.
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
