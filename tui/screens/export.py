"""The export dialog: which format, which records, which file.

It only collects the choices and returns them with `dismiss()`; the caller
reads the records and writes the file in a worker. Checking the path touches
the disk (a folder on a stalled network mount can hang), so that runs in a
worker too, and the dialog stays open to show what is wrong with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static

from tui.bindings import EXPORT_BINDINGS
from tui.export import EXPORTERS, ExportError
from tui.export.citations import DEFAULT_STYLE, STYLES, style_label
from tui.export.files import default_file_name, existing, problem_with, resolve, shown
from tui.screens.confirm import ConfirmScreen

Scope = Literal["record", "marked", "results"]
"""Which records an export takes: the current one, the marked ones, or every result."""
_SCOPES: dict[str | None, Scope] = {
    "scope-record": "record",
    "scope-marked": "marked",
    "scope-results": "results",
}


def export_folder() -> Path:
    """Where an export goes unless another path is typed: the folder refdeck was started in."""
    try:
        return Path.cwd()
    except OSError:  # the folder was deleted while refdeck ran
        return Path.home()


def export_date() -> dt.date:
    """The date in the suggested file name (tests fix it)."""
    return dt.date.today()


@dataclass(frozen=True)
class ExportRequest:
    """What the export dialog collected."""

    format: str
    """A name in `tui.export.EXPORTERS`."""
    style: str | None
    """The citation style, for formats that have one."""
    scope: Scope
    path: Path
    """Absolute, checked when the dialog closed (the writer checks again)."""
    overwrite: bool = False
    """True only when the user agreed to replace the file already at `path`."""


@dataclass
class PathChecked(Message):
    """The file path has been checked (in a worker)."""

    check: int
    """Which press of Export this answers; only the latest counts."""
    request: ExportRequest | None
    problem: str | None
    exists: bool
    is_link: bool


class ExportScreen(ModalScreen[ExportRequest | None]):
    """Choose a format, the records and the file; Enter in the file name exports, Esc cancels."""

    BINDINGS = EXPORT_BINDINGS

    DEFAULT_CSS = """
    ExportScreen {
        align: center middle;
        #export-dialog {
            width: 76; max-width: 100%; height: auto; max-height: 100%;
            border: round $primary; background: $surface; padding: 0 1;
            border-title-color: $text-primary; border-title-style: bold;
        }
        .field { height: auto; }
        .caption { width: 9; padding-top: 1; color: $text-muted; }
        .field > Select, .field > RadioSet, .field > Input { width: 1fr; }
        #problem { color: $text-error; width: 1fr; padding-left: 9; display: none; }
        #problem.-shown { display: block; }
        #actions { height: 1; margin-top: 1; align-horizontal: right; }
        #actions Button { margin-left: 2; }
        #hint { color: $text-muted; margin-top: 1; }
    }
    """

    def __init__(
        self,
        *,
        marked: int,
        results: int,
        has_record: bool = True,
        style: str = DEFAULT_STYLE,
        format: str = "bibtex",
    ) -> None:
        super().__init__()
        self.marked = marked
        """How many records are marked (the "marked" choice is off without any)."""
        self.results = results
        """How many records the current search shows."""
        self.has_record = has_record
        """Whether there is a current record (an empty result list has none)."""
        self.style = style
        """The configured citation style, offered first."""
        self.format = format
        self._folder = export_folder()
        self._today = export_date()
        self._suggested = self._suggestion(format)
        """The path the dialog last filled in; a different value means the user edited it."""
        self._default_scope: Scope = "marked" if marked else "record" if has_record else "results"
        """Marked records when there are marks (as `y`, `b` and `c` do), else this record."""
        self._check = 0
        """Counts presses of Export, so that only the latest path check is acted on."""
        self._finished = False
        """Dismissed, or about to be (not `_closing`: Textual's message pump uses that name)."""

    def _suggestion(self, format: str) -> str:
        return str(self._folder / default_file_name(format, self._today))

    def compose(self) -> ComposeResult:
        styles = [(Content(style_label(name)), name) for name in STYLES]
        if self.style not in STYLES:
            styles.insert(0, (Content(style_label(self.style)), self.style))
        results = f"All {self.results:,} result{'' if self.results == 1 else 's'}"
        marked = f"{self.marked:,} marked record{'' if self.marked == 1 else 's'}"
        with Vertical(id="export-dialog") as dialog:
            dialog.border_title = "Export"
            with Horizontal(classes="field"):
                yield Label(Content("Format"), classes="caption")
                yield Select(
                    [(Content(exporter.label), name) for name, exporter in EXPORTERS.items()],
                    value=self.format,
                    allow_blank=False,
                    id="format",
                )
            with Horizontal(classes="field"):
                yield Label(Content("Style"), classes="caption")
                yield Select(
                    styles,
                    value=self.style,
                    allow_blank=False,
                    id="style",
                    disabled=not EXPORTERS[self.format].styled,
                    tooltip="Citation style, for formatted citations (.txt) only.",
                )
            with Horizontal(classes="field"):
                yield Label(Content("Records"), classes="caption")
                with RadioSet(id="scope"):
                    yield RadioButton(
                        Content("This record"), id="scope-record", disabled=not self.has_record
                    )
                    yield RadioButton(Content(marked), id="scope-marked", disabled=not self.marked)
                    yield RadioButton(
                        Content(results), id="scope-results", disabled=not self.results
                    )
            with Horizontal(classes="field"):
                yield Label(Content("File"), classes="caption")
                yield Input(self._suggested, id="path", select_on_focus=False)
            yield Label("", id="problem", markup=False)
            with Horizontal(id="actions"):
                yield Button(Content("Export"), id="export", variant="primary", compact=True)
                yield Button(Content("Cancel"), id="cancel", compact=True)
            yield Static(
                Content("Tab: next field · Enter in the file name: export · Esc: cancel"),
                id="hint",
            )

    def on_mount(self) -> None:
        # Pressed after mounting, not built pressed: the RadioSet then also moves its
        # keyboard cursor to this choice, so Enter on it does not switch to the first one.
        self.query_one(f"#scope-{self._default_scope}", RadioButton).value = True
        self.query_one("#format", Select).focus()

    # -- reading the choices ---------------------------------------------

    @property
    def scope(self) -> Scope:
        """The chosen records."""
        pressed = self.query_one(RadioSet).pressed_button
        if pressed is None or pressed.id not in _SCOPES:
            return self._default_scope
        return _SCOPES[pressed.id]

    def _choices(self) -> ExportRequest:
        """The request as chosen so far; the path is resolved by the check."""
        format = str(self.query_one("#format", Select).value)
        styled = EXPORTERS[format].styled
        style = str(self.query_one("#style", Select).value) if styled else None
        return ExportRequest(format, style, self.scope, Path())

    # -- reacting to changes ---------------------------------------------

    @on(Select.Changed, "#format")
    def _format_changed(self, event: Select.Changed) -> None:
        format = str(event.value)
        self.query_one("#style", Select).disabled = not EXPORTERS[format].styled
        path = self.query_one("#path", Input)
        # The extension follows the format, but a path the user typed is theirs.
        if path.value == self._suggested:
            self._suggested = self._suggestion(format)
            path.value = self._suggested
            path.cursor_position = len(path.value)

    @on(Input.Changed, "#path")
    def _path_edited(self) -> None:
        self._show_problem(None)

    # -- exporting -------------------------------------------------------

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#export")
    def action_export(self) -> None:
        """Check the file path, then close with the choices (asking before replacing a file)."""
        if self._finished:
            return
        self._check += 1
        self.check_path(self._check, self._choices(), self.query_one("#path", Input).value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without exporting."""
        self._finished = True
        self.dismiss(None)

    @work(
        thread=True,
        exclusive=True,
        group="export-check",
        exit_on_error=False,
        description="Check the export path",
    )
    def check_path(self, check: int, request: ExportRequest, text: str) -> None:
        """Resolve the path and see whether it can be written (disk access: off the UI thread)."""
        try:
            path = resolve(text)
        except ExportError as error:
            self.post_message(PathChecked(check, None, str(error), False, False))
            return
        try:
            # The browser draws on the terminal: a terminal is refused as the target. A FIFO
            # or a device is written into, never replaced, so it needs no question.
            problem = problem_with(path, terminal_ok=False)
            there = "nothing" if problem else existing(path)
        except Exception as error:  # noqa: BLE001 - the dialog stays open with the reason
            problem, there = f"cannot export to {shown(path)}: {error}", "nothing"
        self.post_message(
            PathChecked(
                check,
                replace(request, path=path),
                problem,
                there in ("file", "link"),
                there == "link",
            )
        )

    @on(PathChecked)
    def _path_checked(self, message: PathChecked) -> None:
        if self._finished or message.check != self._check:
            return  # the dialog closed, or Export was pressed again since
        if message.problem or message.request is None:
            self._show_problem(message.problem or "cannot export there")
            self.query_one("#path", Input).focus()
            return
        request = message.request
        if not message.exists:
            self._finished = True
            self.dismiss(request)
            return
        question = f"{shown(request.path)} already exists. Overwrite it?"
        if message.is_link:
            question += (
                "\nIt is a symbolic link: the link itself is replaced by the export;"
                " the file it points to is not touched."
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self._finished = True
                self.dismiss(replace(request, overwrite=True))
            else:
                self.query_one("#path", Input).focus()

        self.app.push_screen(ConfirmScreen(question, yes="Overwrite", no="Keep it"), answered)

    def _show_problem(self, problem: str | None) -> None:
        label = self.query_one("#problem", Label)
        # The message names the user's path: plain text, never markup.
        label.update(Content(problem[:1].upper() + problem[1:] if problem else ""))
        label.set_class(problem is not None, "-shown")
