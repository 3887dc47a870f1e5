"""Copying BibTeX (b) and citations (c), and the export dialog (e), through Textual's Pilot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, Select

from tests.ui.conftest import (
    aggregator_store,
    hostile_store,
    messages,
    press,
    ready,
    settle,
    shown_rows,
)
from tests.ui.conftest import search as search_for
from tui.app import BibApp
from tui.config import Config
from tui.export import ExportError
from tui.export.citations import format_citation
from tui.formats import parse_text
from tui.rows import Row
from tui.screens import ConfirmScreen, ExportScreen, RecordDetailScreen, RecordListScreen

ADOMAKO_DOI = "10.1016/j.molmed.2025.04.005"


def last_message(app: BibApp) -> str:
    """The newest notification's text."""
    return messages(app)[-1]


async def search(pilot: Pilot[int], screen: RecordListScreen, query: str) -> None:
    """Show the records matching `query`, with the list focused."""
    await search_for(pilot, query)
    await press(pilot, "escape")


def view_rows(screen: RecordListScreen, query: str) -> list[Row]:
    """The rows matching `query` (library order for ""), read from the screen's view."""
    view = screen.bib.view
    assert view is not None
    return view.rows(view.search(query))


# -- b: BibTeX -------------------------------------------------------------


async def test_b_copies_the_bibtex_entry_on_both_screens() -> None:
    """b copies the record's BibTeX entry, on the list and on the detail screen, and says so."""
    app = BibApp(aggregator_store(), Config(clipboard="osc52"))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        await search(pilot, screen, "a:adomako")
        await pilot.press("b")
        await settle(pilot)
        assert app.clipboard.startswith("@article{adomako2025acute,\n")
        assert f"doi = {{{ADOMAKO_DOI}}}" in app.clipboard
        assert "Sent the BibTeX entry of adomako2025acute to the terminal clipboard" in (
            last_message(app)
        )
        app.copy_to_clipboard("unchanged")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RecordDetailScreen)
        await pilot.press("b")
        await settle(pilot)
        assert app.clipboard.startswith("@article{adomako2025acute,\n")
        [record] = parse_text(app.clipboard, "x.bib").records
        assert record.doi == ADOMAKO_DOI


async def test_b_works_without_a_doi_and_copies_every_marked_record() -> None:
    """A record without a DOI still has a BibTeX entry; with marks, b copies them all."""
    app = BibApp(aggregator_store(), Config(clipboard="osc52"))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        await search(pilot, screen, "a:gudmundsson")
        await pilot.press("b")
        await settle(pilot)
        [record] = parse_text(app.clipboard, "x.bib").records
        assert record.doi is None and (record.title or "").startswith("Accent handling")
        await search(pilot, screen, "q:Q1")
        await pilot.press("asterisk", "b")
        await settle(pilot)
        records = parse_text(app.clipboard, "x.bib").records
        assert len(records) == 4
        # Library order, as y copies DOIs.
        marked = screen.marked_ids()
        assert [r.doi for r in records] == [r.doi for r in app.read_records(marked)]
        assert [r.id for r in app.read_records(marked)] == sorted(
            marked, key=[row.id for row in view_rows(screen, "")].index
        )
        assert "the BibTeX entries of 4 marked records" in last_message(app)


async def test_copy_larger_than_a_terminal_takes_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over the OSC 52 limit nothing is copied, and the message gives the size and the way out."""
    monkeypatch.setattr("tui.clipboard.OSC52_LIMIT", 500)
    app = BibApp(aggregator_store(), Config(clipboard="osc52"))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        await search(pilot, screen, "a:adomako")
        app.copy_to_clipboard("unchanged")
        await pilot.press("b")
        await settle(pilot)
        assert app.clipboard == "unchanged"
        notification = list(app._notifications)[-1]
        assert notification.severity == "warning"
        assert notification.message.startswith("Not copied: the BibTeX entry of adomako2025acute")
        assert notification.message.endswith(
            "KB, more than terminals accept (500 bytes); press e to export to a file"
        )


# -- c: citations ----------------------------------------------------------


async def test_c_copies_the_citation_in_apa_by_default() -> None:
    """c copies one reference, without a list number, in APA unless configured."""
    app = BibApp(aggregator_store(), Config(clipboard="osc52"))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        await search(pilot, screen, "a:adomako")
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, RecordDetailScreen) and detail.record is not None
        await pilot.press("c")
        await settle(pilot)
        assert app.clipboard == format_citation(detail.record, "apa")
        assert app.clipboard.startswith("Adomako, J., Jiménez-Camacho, K. E.")
        assert "the APA citation of adomako2025acute" in last_message(app)


async def test_c_uses_the_configured_style_and_copies_marked_records_one_a_line(
    tmp_path: Path,
) -> None:
    """citation_style in the config is what c uses; several marked records give one line each."""
    from tui.config import load_config

    config_file = tmp_path / "config.toml"
    config_file.write_text('clipboard = "osc52"\ncitation_style = "Vancouver"\n')
    config, problems = load_config(config_file)
    assert problems == []
    app = BibApp(aggregator_store(), config)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        await search(pilot, screen, "a:adomako")
        await pilot.press("c")
        await settle(pilot)
        assert app.clipboard.startswith("Adomako J, Jiménez-Camacho KE, Correa-Lara MVM")
        assert "2025 May 23" in app.clipboard
        assert "the Vancouver (NLM) citation of adomako2025acute" in last_message(app)
        await search(pilot, screen, "q:Q1")
        await pilot.press("asterisk", "c")
        await settle(pilot)
        lines = app.clipboard.splitlines()
        assert len(lines) == 4
        assert not any(line[:1].isdigit() for line in lines)  # no list numbers
        assert "the Vancouver (NLM) citations of 4 marked records" in last_message(app)


async def test_c_reports_a_broken_style_as_an_error() -> None:
    """A style citeproc cannot use is an error message; the clipboard is left alone."""
    app = BibApp(aggregator_store(), Config(clipboard="osc52", citation_style="/nowhere/x.csl"))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        app.copy_to_clipboard("unchanged")
        await pilot.press("c")
        await settle(pilot)
        assert app.clipboard == "unchanged"
        notification = list(app._notifications)[-1]
        assert notification.severity == "error"
        assert "Unknown citation style '/nowhere/x.csl'" in notification.message


async def test_copy_and_export_are_in_the_command_palette() -> None:
    """The palette offers the same actions as b, c and e on both screens."""
    app = BibApp(aggregator_store())
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        titles = [command.title for command in app.get_system_commands(screen)]
        assert {"Copy BibTeX", "Copy citation", "Export"} <= set(titles)
        await pilot.press("enter")
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Copy BibTeX", "Copy citation", "Export"} <= set(titles)


# -- e: the export dialog --------------------------------------------------


async def open_dialog(pilot: Pilot[int]) -> ExportScreen:
    """Press e and return the dialog."""
    await pilot.press("e")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, ExportScreen)
    return dialog


async def export_to(pilot: Pilot[int], dialog: ExportScreen, path: Path | str) -> None:
    """Type the file name and press Enter in it."""
    field = dialog.query_one("#path", Input)
    field.value = str(path)
    field.focus()
    await pilot.press("enter")
    await settle(pilot)


async def test_dialog_suggests_a_dated_file_and_the_extension_follows_the_format(
    folder: Path,
) -> None:
    """The default file is in the working folder; changing the format changes its extension."""
    app = BibApp(aggregator_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        path = dialog.query_one("#path", Input)
        style = dialog.query_one("#style", Select)
        assert path.value == str(folder / "refdeck-2026-01-02.bib")
        assert style.disabled
        dialog.query_one("#format", Select).value = "ris"
        await pilot.pause()
        assert path.value == str(folder / "refdeck-2026-01-02.ris")
        dialog.query_one("#format", Select).value = "text"
        await pilot.pause()
        assert path.value.endswith(".txt") and not style.disabled
        path.value = str(folder / "mine.txt")
        dialog.query_one("#format", Select).value = "csv"
        await pilot.pause()
        assert path.value == str(folder / "mine.txt")  # typed by the user: kept
        assert style.disabled


async def test_escape_cancels_and_writes_nothing(folder: Path) -> None:
    """Esc closes the dialog; no file appears."""
    app = BibApp(aggregator_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await open_dialog(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RecordListScreen)
        assert list(folder.iterdir()) == []


async def test_export_this_record_by_keyboard(folder: Path) -> None:
    """Tab to Export and press Enter: the record under the cursor is written as BibTeX."""
    app = BibApp(aggregator_store())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await search(pilot, screen, "a:adomako")
        dialog = await open_dialog(pilot)
        assert dialog.scope == "record"
        await pilot.press("tab", "tab", "tab")  # format, (style is off), records, file, Export
        assert app.focused is not None and app.focused.id == "export"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RecordListScreen)
        written = folder / "refdeck-2026-01-02.bib"
        [record] = parse_text(written.read_text(encoding="utf-8"), "x.bib").records
        assert record.doi == ADOMAKO_DOI
        assert last_message(app) == f"Exported 1 record to {written}"


async def test_export_marked_records_is_the_default_with_marks(folder: Path) -> None:
    """With marks, the dialog starts on the marked records."""
    app = BibApp(aggregator_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("space", "space", "space")
        dialog = await open_dialog(pilot)
        assert dialog.scope == "marked"
        assert not dialog.query_one("#scope-marked").disabled
        await export_to(pilot, dialog, folder / "marked.bib")
        records = parse_text((folder / "marked.bib").read_text(), "x.bib").records
        assert len(records) == 3
        assert last_message(app) == f"Exported 3 records to {folder / 'marked.bib'}"


async def test_export_all_results_from_the_detail_screen(folder: Path) -> None:
    """All results means the list the detail screen was opened from; marks off: choice disabled."""
    app = BibApp(aggregator_store())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await search(pilot, screen, "q:Q1")
        await pilot.press("enter")
        await pilot.pause()
        dialog = await open_dialog(pilot)
        assert dialog.query_one("#scope-marked").disabled
        assert "All 4 results" in str(dialog.query_one("#scope-results").render())
        dialog.query_one("#format", Select).value = "csl-json"
        await pilot.pause()
        await pilot.press("tab", "down", "enter")  # to Records; "marked" is skipped
        assert dialog.scope == "results"
        await export_to(pilot, dialog, folder / "q1.json")
        records = parse_text((folder / "q1.json").read_text(), "q1.json").records
        assert sorted(r.doi or "" for r in records) == sorted(row.doi for row in shown_rows(screen))


async def test_existing_file_is_replaced_only_after_yes(folder: Path) -> None:
    """An existing file brings a question; n keeps it and the dialog stays, y replaces it."""
    target = folder / "refs.bib"
    target.write_text("keep me\n")
    app = BibApp(aggregator_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        await export_to(pilot, dialog, target)
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        assert question.question == f"{target} already exists. Overwrite it?"
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is dialog
        assert target.read_text() == "keep me\n"
        await pilot.press("enter")  # the file name has focus again
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, RecordListScreen)
        assert len(parse_text(target.read_text(), "x.bib").records) == 1


async def test_a_symlink_is_named_in_the_question_and_replaced_not_followed(folder: Path) -> None:
    """Overwriting a symlink replaces the link; the file it pointed to is untouched."""
    elsewhere = folder / "elsewhere.txt"
    elsewhere.write_text("precious\n")
    link = folder / "link.bib"
    link.symlink_to(elsewhere)
    app = BibApp(aggregator_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        await export_to(pilot, dialog, link)
        question = app.screen
        assert isinstance(question, ConfirmScreen)
        assert "symbolic link: the link itself is replaced" in question.question
        await pilot.press("y")
        await settle(pilot)
        assert elsewhere.read_text() == "precious\n"
        assert not link.is_symlink() and link.read_text().startswith("@")


async def test_missing_folder_is_shown_in_the_dialog(folder: Path) -> None:
    """A folder that does not exist: the dialog says so and stays; nothing is written."""
    app = BibApp(aggregator_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        await export_to(pilot, dialog, folder / "no such folder" / "refs.bib")
        assert app.screen is dialog
        problem = dialog.query_one("#problem", Label)
        assert problem.display
        assert "the folder " + str(folder / "no such folder") + " does not exist" in str(
            problem.render()
        )
        assert list(folder.iterdir()) == []
        dialog.query_one("#path", Input).value = str(folder / "refs.bib")
        await pilot.pause()
        assert not problem.display  # editing the path clears the message


async def test_a_name_too_long_is_shown_in_the_dialog(folder: Path) -> None:
    """A name of 86 CJK characters (over 255 bytes): the dialog stays open with the reason
    and the path, its escape sequence shown escaped; nothing is written, nothing crashes."""
    app = BibApp(aggregator_store())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        await export_to(pilot, dialog, folder / ("文" * 86 + "\x1b[2J.bib"))
        assert app.is_running and app.screen is dialog
        shown = str(dialog.query_one("#problem", Label).render())
        assert "the file name is too long" in shown
        assert "\x1b" not in shown and "\\x1b[2J.bib" in shown
        assert list(folder.iterdir()) == []


async def test_a_fifo_or_a_device_is_written_into_never_replaced(folder: Path) -> None:
    """A FIFO with a reader and a device get the export streamed in, without the overwrite
    question; a FIFO nobody reads is an error at once, and stays a FIFO."""
    import stat

    fifo = folder / "pipe.bib"
    os.mkfifo(fifo)
    unread = folder / "unread.bib"
    os.mkfifo(unread)
    device = folder / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        os.close(os.open(device, os.O_WRONLY))
    except OSError as error:
        pytest.skip(f"cannot make a device node here: {error}")
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    app = BibApp(aggregator_store())
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(pilot)
            for target in (fifo, device):
                dialog = await open_dialog(pilot)
                await export_to(pilot, dialog, target)
                assert isinstance(app.screen, RecordListScreen), target  # no question
                assert last_message(app) == f"Exported 1 record to {target}"
            assert os.read(reader, 1 << 20).startswith(b"@")
            dialog = await open_dialog(pilot)
            await export_to(pilot, dialog, unread)
            assert last_message(app) == (
                f"Cannot export to {unread}: it is a FIFO (named pipe) that no program is"
                " reading; start the reader first; nothing was written"
            )
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and stat.S_ISFIFO(os.lstat(unread).st_mode)
    assert stat.S_ISCHR(os.lstat(device).st_mode)


async def test_the_terminal_is_refused_in_the_dialog(folder: Path) -> None:
    """The browser draws on its terminal: a terminal as the file is refused in the dialog."""
    controller, terminal = os.openpty()
    try:
        app = BibApp(aggregator_store())
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(pilot)
            dialog = await open_dialog(pilot)
            await export_to(pilot, dialog, os.ttyname(terminal))
            assert app.screen is dialog
            assert "it is a terminal, which the browser draws on" in str(
                dialog.query_one("#problem", Label).render()
            )
    finally:
        os.close(terminal)
        os.close(controller)


async def test_read_only_folder_is_shown_in_the_dialog(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder refdeck may not write to is named in the dialog (tests run as root: faked)."""
    real_access = os.access
    monkeypatch.setattr(
        "os.access", lambda path, mode, **kw: Path(path) != folder and real_access(path, mode)
    )
    app = BibApp(aggregator_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        await export_to(pilot, dialog, folder / "refs.bib")
        assert app.screen is dialog
        shown = str(dialog.query_one("#problem", Label).render())
        assert f"the folder {folder} is read-only" in shown
        assert list(folder.iterdir()) == []


async def test_a_failed_write_is_an_error_notification(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the write itself fails (disk full, say), the error is shown, as plain text."""

    def full_disk(
        path: Path, text: str, *, overwrite: bool = False, terminal_ok: bool = True
    ) -> Path:
        raise ExportError(f"cannot write {path}: the disk is full; nothing was written")

    monkeypatch.setattr("tui.app.write_export", full_disk)
    app = BibApp(aggregator_store())
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        dialog = await open_dialog(pilot)
        await export_to(pilot, dialog, folder / "[bold red]x.bib")
        notification = list(app._notifications)[-1]
        assert notification.severity == "error"
        assert notification.markup is False
        assert notification.message == (
            f"Cannot write {folder / '[bold red]x.bib'}: the disk is full; nothing was written"
        )


async def test_record_and_path_text_is_never_markup(folder: Path) -> None:
    """Hostile titles export and copy literally; a path with markup is shown literally."""
    app = BibApp(hostile_store(), Config(clipboard="osc52"))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        await pilot.press("asterisk", "c")
        await settle(pilot)
        assert "[bold red]x[/]" in app.clipboard
        dialog = await open_dialog(pilot)
        await export_to(pilot, dialog, folder / "[/]" / "x.bib")
        assert "[/]" in str(dialog.query_one("#problem", Label).render())
        written = folder / "[@click=app.quit]x[$accent].bib"
        await export_to(pilot, dialog, written)
        assert written.exists()
        assert last_message(app) == f"Exported {len(screen.marked_ids())} records to {written}"
        assert app.is_running
