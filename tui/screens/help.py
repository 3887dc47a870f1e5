"""The help screen: every key binding and the query language, from their definitions."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.bindings import binding_table
from tui.query import QUERY_SYNTAX


class HelpScreen(ModalScreen[None]):
    """Keys and query syntax; any of Esc, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="close-help")]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        #help { width: 100; max-width: 100%; height: 90%; border: round $primary; background: $surface; padding: 0 1; }
        .heading { text-style: bold; color: $text-primary; margin-top: 1; }
        DataTable { height: auto; }
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Content("refdeck: keys"), classes="heading")
            keys: DataTable[Content] = DataTable(cursor_type="none", zebra_stripes=True, id="keys")
            keys.add_columns("Where", "Keys", "What it does")
            for where, key, _id, description in binding_table():
                keys.add_row(Content(where), Content(key), Content(description))
            yield keys
            yield Static(Content("Search syntax"), classes="heading")
            syntax: DataTable[Content] = DataTable(
                cursor_type="none", zebra_stripes=True, id="syntax"
            )
            syntax.add_columns("Type", "Finds")
            for example, meaning in QUERY_SYNTAX:
                syntax.add_row(Content(example), Content(meaning))
            yield syntax
            yield Static(
                Content("Ctrl+P opens the command palette with every action. Esc closes this help.")
            )

    def on_mount(self) -> None:
        self.query_one("#help").focus()
