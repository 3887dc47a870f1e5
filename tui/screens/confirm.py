"""A yes/no question in a small modal, answered with y or n."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.bindings import CONFIRM_BINDINGS


class ConfirmScreen(ModalScreen[bool]):
    """Ask `question`; dismisses with True for yes, False for no (also Esc)."""

    BINDINGS = CONFIRM_BINDINGS

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        #confirm {
            width: 64; max-width: 100%; height: auto;
            border: round $warning; background: $surface; padding: 0 1;
        }
        #question { margin-bottom: 1; }
        #answers { height: auto; align-horizontal: right; }
        #answers Button { margin-left: 2; }
    }
    """

    def __init__(self, question: str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question
        """The question; it names a path the user typed, so it is shown as plain text."""
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(Content(self.question), id="question")
            with Horizontal(id="answers"):
                yield Button(Content(f"{self.yes} (y)"), id="yes", variant="warning", compact=True)
                yield Button(Content(f"{self.no} (n)"), id="no", compact=True)

    def on_mount(self) -> None:
        # The safe answer has focus, so a stray Enter keeps the file.
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_yes(self) -> None:
        """Answer yes."""
        self.dismiss(True)

    def action_no(self) -> None:
        """Answer no."""
        self.dismiss(False)
