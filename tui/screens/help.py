"""The help screen: every key binding and the query language, from their definitions."""

from __future__ import annotations

from itertools import groupby

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.bindings import binding_table
from tui.query import QUERY_SYNTAX


def _rows(rows: list[tuple[str, str]], key_style: str) -> Content:
    """Two aligned columns: keys (styled) and what they do."""
    width = max(cell_len(left) for left, _ in rows) + 2
    lines = [
        Content.assemble((left, key_style), " " * (width - cell_len(left)), right)
        for left, right in rows
    ]
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """Keys and query syntax; any of Esc, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="close-help")]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        #help { width: 100; max-width: 100%; height: 90%; border: round $primary; background: $surface; padding: 0 1; }
        .heading { text-style: bold; color: $text-primary; margin-top: 1; }
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            for where, group in groupby(binding_table(), key=lambda row: row[0]):
                yield Static(Content(where), classes="heading")
                rows = [(keys, description) for _, keys, _, description in group]
                yield Static(_rows(rows, "bold $text-accent"))
            yield Static(Content("Search syntax"), classes="heading")
            yield Static(_rows(list(QUERY_SYNTAX), "bold $text-accent"))
            yield Static(
                Content(
                    "\nCtrl+P opens the command palette with every action. Esc closes this help."
                )
            )

    def on_mount(self) -> None:
        self.query_one("#help").focus()
