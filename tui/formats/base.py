"""What every importer shares: the result of parsing one file and its located issues."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tui.models import Record
from tui.normalize import build_record, clean_block, clean_line
from tui.paths import path_text

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """A problem found while importing, located as precisely as the format allows."""

    file: str
    line: int | None
    entry: str | None
    """The entry's key, id or title, so the user can find it."""
    message: str
    severity: Severity = "error"

    def __post_init__(self) -> None:
        # A file name may hold bytes that are not UTF-8 and newlines (`file:line:` must
        # stay one line); keys and snippets come from the file: keep them printable and short.
        object.__setattr__(self, "file", path_text(self.file))
        object.__setattr__(self, "entry", _printable(self.entry, 80))
        object.__setattr__(self, "message", _printable(self.message, 300) or "")

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f" {self.entry}:" if self.entry else ""
        label = "" if self.severity == "error" else " warning:"
        return f"{where}:{label}{what} {self.message}"


@dataclass(slots=True)
class _Repeats:
    limit: int
    summary: str
    severity: Severity
    count: int = 0


@dataclass(slots=True)
class ParseResult:
    """Records parsed from one file, the issues met, and journal descriptions seen."""

    file: str
    format: str = "unknown"
    records: list[Record] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    journals: dict[str, str] = field(default_factory=dict)
    """Journal name -> description, stored once per journal by the store."""
    failed: int = 0
    """Entries that could not be imported."""
    count: int = 0
    """Records parsed, including those already handed on (see `tui.formats.read_file`)."""
    entries: int = 0
    """Entries met so far, imported or not: messages number them ("record 7"). A file
    parsed in slices keeps counting across them."""
    more_follows: bool = False
    """True while a slice of a big file is parsed and more of the file follows it."""
    repeats: dict[str, _Repeats] = field(default_factory=dict)
    """Issues that can come by the thousand, counted by kind (see `repeated`)."""

    def add(
        self,
        *,
        line: int | None = None,
        entry: str | None = None,
        format: str | None = None,
        **fields: Any,
    ) -> Record | None:
        """Normalize raw fields into a record and keep it; report it when it is empty.

        `fields` are the keyword arguments of `tui.normalize.build_record`.
        """
        warnings: list[str] = []
        record = build_record(
            format=format or self.format, file=self.file, warnings=warnings, **fields
        )
        label = entry or (record.title[:60] if record.title else None)
        for warning in warnings:
            self.warn(line, label, warning)
        if not (record.title or record.doi or record.authors):
            self.fail(line, label, "has no title, DOI or author; not imported")
            return None
        self.records.append(record)
        self.count += 1
        return record

    def repeated(self, kind: str, *, limit: int, summary: str, severity: Severity) -> bool:
        """Count one more issue of a kind; True while it is still to be reported by itself.

        Past `limit`, issues of the kind are only counted, and `summary` (with
        "{}" for how many were left out) is reported once, when the whole file
        has been read (`summarize_repeats`), however many slices it was read in.
        """
        repeats = self.repeats.setdefault(kind, _Repeats(limit, summary, severity))
        repeats.count += 1
        return repeats.count <= repeats.limit

    def summarize_repeats(self) -> None:
        """Report how many issues of each kind were counted but not reported."""
        for repeats in self.repeats.values():
            if repeats.count > repeats.limit:
                message = repeats.summary.format(repeats.count - repeats.limit)
                self.issues.append(ImportIssue(self.file, None, None, message, repeats.severity))
        self.repeats.clear()

    def add_journal(self, name: Any, description: Any) -> None:
        """Remember a journal's description (the aggregator format repeats it per record)."""
        clean_name, clean_description = clean_line(name), clean_block(description)
        if clean_name and clean_description:
            self.journals[clean_name] = clean_description

    def fail(self, line: int | None, entry: str | None, message: str) -> None:
        """Report an entry that could not be imported."""
        self.failed += 1
        self.issues.append(ImportIssue(self.file, line, entry, message, "error"))

    def warn(self, line: int | None, entry: str | None, message: str) -> None:
        """Report something imported with a caveat."""
        self.issues.append(ImportIssue(self.file, line, entry, message, "warning"))

    def error(self, message: str, line: int | None = None) -> None:
        """Report a problem with the whole file (not one entry); it counts as one failure."""
        self.fail(line, None, message)


class Parser(Protocol):
    """The shape of an importer module in `tui.formats`."""

    NAME: str

    def sniff(self, text: str) -> bool:
        """Return True when the text looks like this format."""
        ...

    def parse(self, text: str, result: ParseResult) -> None:
        """Parse the text, adding records and issues to `result`."""
        ...


def _printable(text: str | None, limit: int) -> str | None:
    """Text safe to show in a message: control characters replaced, length bounded."""
    if text is None:
        return None
    cleaned = "".join(char if char.isprintable() else "?" for char in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def line_of(text: str, offset: int) -> int:
    """The 1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1
