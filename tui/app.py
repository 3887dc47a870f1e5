"""The browser application."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from textual import work
from textual.app import App, SystemCommand
from textual.screen import Screen

from tui.bindings import APP_BINDINGS, check_keymap
from tui.clipboard import copy_text
from tui.config import Config
from tui.export import ExportError, copy_text_of, export_text
from tui.export.citations import style_label
from tui.export.files import write_export
from tui.export.keys import citation_keys
from tui.library import RecordStore, Snapshot
from tui.models import Record
from tui.normalize import strip_controls
from tui.rows import Results
from tui.screens.export import ExportRequest, ExportScreen
from tui.screens.help import HelpScreen
from tui.screens.records import RecordListScreen

SLOW_EXPORT = 500
"""From this many records an export says it has started (citations take ~20 ms each)."""


class BibApp(App[int]):
    """refdeck's browser: a searchable list of records and a detail screen."""

    CSS_PATH = "app.tcss"
    BINDINGS = APP_BINDINGS
    TITLE = "refdeck"

    def __init__(
        self,
        store: RecordStore,
        config: Config | None = None,
        config_problems: Iterable[str] = (),
        initial_query: str = "",
        import_problems: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.store = store
        self.config = config or Config()
        self._problems = list(config_problems)
        self._initial_query = initial_query
        self._import_problems = list(import_problems)
        self.view: Snapshot | None = None
        """The view of the library the screens show (taken again after every change)."""

    def on_mount(self) -> None:
        self._apply_config()
        self.push_screen(RecordListScreen(self.store, self._initial_query))
        for problem in self._problems:
            self.notify(problem, title="Config", severity="error", timeout=10, markup=False)
        if self._import_problems:
            count = len(self._import_problems)
            shown = "\n".join(self._import_problems[:3])
            more = f"\n…and {count - 3} more" if count > 3 else ""
            self.notify(
                f"{shown}{more}\n(listed again when you quit)",
                title=f"{count} entr{'y' if count == 1 else 'ies'} not imported",
                severity="warning",
                timeout=12,
                markup=False,
            )

    def _apply_config(self) -> None:
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme
        else:
            self._problems.append(
                f"unknown theme {self.config.theme!r}; themes: {', '.join(sorted(self.available_themes))}"
            )
        keymap, problems = check_keymap(self.config.keys)
        where = f"{self.config.source}: " if self.config.source else ""
        self._problems += [where + problem for problem in problems]
        if keymap:
            self.set_keymap(keymap)

    def copy_dois(self, record_ids: Sequence[str], as_url: bool) -> None:
        """Copy the DOIs of these records (one a line), or say clearly why nothing was copied.

        Several ids are the marked records; one is the record under the cursor.
        """
        if not record_ids:
            self.notify("No record to copy.", severity="warning", markup=False)
            return
        self._copy_dois(list(record_ids), as_url)

    @work(thread=True, group="copy", exit_on_error=False, description="Copy DOIs")
    def _copy_dois(self, record_ids: list[str], as_url: bool) -> None:
        view = self.view
        if view is None:
            return
        seqs = view.seqs_of_ids(record_ids)
        dois = [row.doi for row in view.rows([seqs[i] for i in record_ids if i in seqs]) if row.doi]
        missing = len(record_ids) - len(dois)
        if not dois:
            what = "This record has" if len(record_ids) <= 1 else "None of the marked records has"
            self.call_from_thread(
                self.notify, f"{what} no DOI; nothing was copied.", severity="warning", markup=False
            )
            return
        text = "\n".join(f"https://doi.org/{doi}" if as_url else doi for doi in dois)
        label = text if len(dois) == 1 else f"{len(dois)} DOIs"
        if missing:
            label += f" ({missing} marked without a DOI left out)"
        self._copy_now(text, label)

    def _copy_now(self, text: str, label: str) -> None:
        """Copy and say what happened; called in a worker thread."""

        def osc52(value: str) -> None:
            self.call_from_thread(self.copy_to_clipboard, value)

        result = copy_text(
            strip_controls(text), strip_controls(label), osc52, self.config.clipboard
        )
        self.call_from_thread(
            self.notify,
            result.message,
            severity="information" if result.ok else "warning",
            markup=False,
        )

    def copy_records(self, ids: Sequence[str], kind: Literal["bibtex", "citation"]) -> None:
        """Copy the BibTeX entries or citations of the records with these ids.

        Several ids are the marked records; one is the current record.
        """
        if not ids:
            self.notify("No record to copy.", severity="warning", markup=False)
            return
        self._copy_records(list(ids), kind, self.config.citation_style)

    @work(thread=True, group="copy", exit_on_error=False, description="Format and copy records")
    def _copy_records(
        self, ids: list[str], kind: Literal["bibtex", "citation"], style: str
    ) -> None:
        # Reading records is disk work and citeproc takes tens of ms a record: both off the UI thread.
        try:
            records = self.read_records(ids)
            if not records:
                raise ExportError("these records are no longer in the library; nothing was copied")
            text = copy_text_of(records, kind, style)
            if kind == "bibtex":
                what = "BibTeX entry" if len(records) == 1 else "BibTeX entries"
            else:
                what = f"{style_label(style)} citation{'' if len(records) == 1 else 's'}"
        except ExportError as error:
            self._report_error(str(error), "Not copied")
            return
        except Exception as error:  # noqa: BLE001 - a failed copy is a message, not a crash
            self._report_error(f"formatting failed: {error}; nothing was copied", "Not copied")
            return
        if len(records) == 1:
            label = f"the {what} of {citation_keys(records)[0]}"
        else:
            label = f"the {what} of {len(records):,} marked records"
        self._copy_now(text, label)

    def open_export(self, record_id: str | None, marked: Sequence[str], results: Results) -> None:
        """Open the export dialog on these records; the export runs once it closes."""
        if record_id is None and not marked and not len(results):
            self.notify("No records to export.", severity="warning", markup=False)
            return

        def chosen(request: ExportRequest | None) -> None:
            if request is not None:
                self.export_records(request, record_id, list(marked), results)

        dialog = ExportScreen(
            marked=len(marked),
            results=len(results),
            has_record=record_id is not None,
            style=self.config.citation_style,
        )
        self.push_screen(dialog, chosen)

    @work(thread=True, group="export", exit_on_error=False, description="Export to a file")
    def export_records(
        self, request: ExportRequest, record_id: str | None, marked: list[str], results: Results
    ) -> None:
        """Read the records, format them and write the file (all of it disk or CPU work)."""
        view = self.view
        count = {"record": 1, "marked": len(marked), "results": len(results)}[request.scope]
        if count >= SLOW_EXPORT:
            self.call_from_thread(
                self.notify, f"Exporting {count:,} records…", markup=False, timeout=3
            )
        try:
            if view is None:
                raise ExportError("the library could not be read; nothing was written")
            if request.scope == "results":
                records = list(view.records(results.seqs))
            else:
                records = self.read_records(
                    marked if request.scope == "marked" else [record_id or ""]
                )
            if not records:
                raise ExportError("these records are no longer in the library; nothing was written")
            text = export_text(records, request.format, request.style)
            path = write_export(request.path, text, overwrite=request.overwrite, terminal_ok=False)
        except ExportError as error:
            self._report_error(str(error), "Not exported")
            return
        except Exception as error:  # noqa: BLE001 - a failed export is a message, not a crash
            self._report_error(f"the export failed: {error}; nothing was written", "Not exported")
            return
        noun = "record" if len(records) == 1 else "records"
        self.call_from_thread(
            self.notify, strip_controls(f"Exported {len(records):,} {noun} to {path}"), markup=False
        )

    def _report_error(self, message: str, title: str) -> None:
        """Show an error from a worker thread; the message may hold record text or a path."""
        self.call_from_thread(
            self.notify,
            strip_controls(message[:1].upper() + message[1:]),
            title=title,
            severity="error",
            timeout=10,
            markup=False,
        )

    def read_records(self, ids: Sequence[str]) -> list[Record]:
        """The records with these ids, in this order (disk work: call it from a worker)."""
        view = self.view
        if view is None:
            return []
        seqs = view.seqs_of_ids(ids)
        return list(view.records([seqs[i] for i in ids if i in seqs]))

    def action_help(self) -> None:
        """Show every key and the query syntax."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette lists every action of the screen, calling the same code as its key."""
        yield from super().get_system_commands(screen)
        seen = set()
        for binding in [*APP_BINDINGS, *getattr(screen, "BINDINGS", [])]:
            if (
                not hasattr(binding, "id")
                or binding.id in seen
                or binding.action.startswith("app.quit")
            ):
                continue
            seen.add(binding.id)
            action = binding.action
            target = self if action.startswith("app.") else screen
            method = getattr(target, f"action_{action.removeprefix('app.')}", None)
            if method is not None:
                yield SystemCommand(
                    binding.description, binding.tooltip or binding.description, method
                )
