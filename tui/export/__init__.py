"""Exporters: records to the text of a file another tool reads.

Each exporter is a pure function from records to text, so the CLI, the
export dialog and the copy keys (`b`, `c`) share one implementation and
tests can compare the output with golden files. Writing the text to disk is
`tui.export.files`; formatting citations in CSL styles is `tui.export.citations`.

Modules are imported on first use: `import tui.export` must not pull in
citeproc-py and lxml for someone who only copies a DOI.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from tui.models import Record
from tui.normalize import strip_escapes

__all__ = [
    "EXPORTERS",
    "ExportError",
    "Exporter",
    "copy_text_of",
    "export_text",
]


class ExportError(Exception):
    """An export that cannot be done; the message is written for the user."""


@dataclass(frozen=True)
class Exporter:
    """One output format."""

    name: str
    """The name used by `refdeck export --format` and the config file."""
    label: str
    """What the export dialog shows."""
    extension: str
    """The file name extension, with its dot."""
    module: str
    """The module under `tui.export` whose `export(records, style)` writes the text."""
    styled: bool = False
    """True when the output depends on a citation style."""

    def write(self, records: Sequence[Record], style: str | None = None) -> str:
        """Return the export of `records` as text."""
        function: Callable[[Sequence[Record], str | None], str] = importlib.import_module(
            f"tui.export.{self.module}"
        ).export
        return function(records, style)


EXPORTERS: dict[str, Exporter] = {
    exporter.name: exporter
    for exporter in (
        Exporter("bibtex", "BibTeX (.bib)", ".bib", "bibtex"),
        Exporter("ris", "RIS (.ris)", ".ris", "ris"),
        Exporter("csl-json", "CSL-JSON (.json)", ".json", "csl_json"),
        Exporter("csv", "CSV spreadsheet (.csv)", ".csv", "spreadsheet"),
        Exporter("markdown", "Markdown list (.md)", ".md", "markdown"),
        Exporter("json", "refdeck JSON (.json)", ".json", "refdeck_json"),
        Exporter("text", "Formatted citations (.txt)", ".txt", "citations", styled=True),
    )
}


def export_text(records: Sequence[Record], format: str, style: str | None = None) -> str:
    """The export of `records` in `format` (a name in `EXPORTERS`)."""
    try:
        exporter = EXPORTERS[format]
    except KeyError:
        names = ", ".join(EXPORTERS)
        raise ExportError(f"unknown export format {format!r} (choose from {names})") from None
    # Files get `cat`ed to terminals: no control character from a record may reach one.
    # (Importers already strip them; this holds for records that did not come through one.)
    return strip_escapes(exporter.write(records, style))


def copy_text_of(
    records: Sequence[Record], kind: Literal["bibtex", "citation"], style: str | None = None
) -> str:
    """What the copy keys put in the clipboard: `b` the BibTeX entries, `c` the references.

    References are one a line and unnumbered: a pasted citation is the reference
    itself, not item 1 of a list.
    """
    if kind == "bibtex":
        return export_text(records, "bibtex")
    from tui.export.citations import format_references

    return strip_escapes("\n".join(format_references(records, style, numbered=False)))
