"""Record text with escape sequences and bidi controls, everywhere the browser shows or copies it.

The record is put in the library directly, without the importer's cleaning,
so what is checked is the browser's own last line of defence.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Select, Static

from tests.ui.conftest import ready, table_lines
from tests.ui.test_copy_and_export import export_to, open_dialog, settle
from tui.app import BibApp
from tui.config import Config
from tui.library import RecordStore
from tui.models import Author, Record, Source
from tui.screens import RecordDetailScreen
from tui.screens.help import HelpScreen

UNSAFE = ("\x1b", "\x07", "\x9b", "\x00", "\u202e", "\u202c", "\u2066", "\u2069")


def hostile() -> RecordStore:
    record = Record(
        title="Title \u202eevil\u202c \x1b]52;c;aGk=\x07 [bold]x[/bold] \x9b31m end",
        authors=(Author(family="Fam\u2066ily\u2069", given="\x1b]0;pwned\x07Ann"),),
        journal="Journal \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ [link=x]y[/link]",
        abstract="Abstract \x00 with \u202e override and \x1b[2J clear.",
        keywords=("\u202ekw",),
        doi="10.5555/hostile.9",
        year=2026,
        source=(Source("test", "hostile"),),
    )
    return RecordStore.in_memory([record])


def clean(text: str) -> bool:
    return not any(char in text for char in UNSAFE)


async def test_no_unsafe_character_is_drawn_copied_or_exported(folder: Path) -> None:
    app = BibApp(hostile(), Config(clipboard="osc52"))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await ready(pilot)
        lines = "\n".join(table_lines(screen))
        assert "evil" in lines and "[bold]x[/bold]" in lines and clean(lines)

        for key in ("y", "Y", "b", "c"):
            await pilot.press(key)
            await settle(pilot)
            assert clean(app.clipboard), key
            assert all(clean(n.message) for n in app._notifications), key
        assert "[bold]x[/bold]" in app.clipboard  # the citation: text, not markup

        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, RecordDetailScreen)
        for widget in detail.query(Static):
            assert clean(str(widget.render())), widget.id
        await pilot.press("escape")
        await pilot.pause()

        dialog = await open_dialog(pilot)
        assert all(clean(str(w.render())) for w in dialog.query(Static))
        dialog.query_one("#format", Select).value = "markdown"
        await pilot.pause()
        target = folder / "list.md"
        await export_to(pilot, dialog, target)
        exported = target.read_text(encoding="utf-8")
        assert "evil" in exported and clean(exported)

        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert all(clean(str(w.render())) for w in app.screen.query(Static))
        assert app.is_running
