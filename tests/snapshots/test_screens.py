"""What the screens look like, at 80x24 and 120x40, on the sample records.

Review the HTML report before accepting changes with `--snapshot-update`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.conftest import sample_store
from tests.ui.conftest import hostile_store
from tui.app import BibApp


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the library to load; stop the cursor blinking so screenshots are stable."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.screen.workers.wait_for_complete()
    for search in pilot.app.screen.query(Input):
        search.cursor_blink = False
    await pilot.pause()


def test_list_80x24(snap_compare: Any) -> None:
    """The list at the smallest supported size: the title stays readable."""
    assert snap_compare(BibApp(sample_store()), terminal_size=(80, 24), run_before=settle)


def test_list_120x40(snap_compare: Any) -> None:
    """Wider terminals get the journal column and longer titles."""
    assert snap_compare(BibApp(sample_store()), terminal_size=(120, 40), run_before=settle)


def test_filtered_list_80x24(snap_compare: Any) -> None:
    """Typing filters the list, highlights matches, and updates the count."""

    async def search(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("slash", *"leuk")
        await pilot.pause()

    assert snap_compare(BibApp(sample_store()), terminal_size=(80, 24), run_before=search)


async def _open_seed(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("slash", *"a:adomako", "enter", "enter")
    await pilot.pause()
    await pilot.pause()


def test_detail_80x24(snap_compare: Any) -> None:
    """The seed record's detail screen at 80x24."""
    assert snap_compare(BibApp(sample_store()), terminal_size=(80, 24), run_before=_open_seed)


def test_detail_120x40(snap_compare: Any) -> None:
    """The seed record's detail screen at 120x40, with the journal description opened."""

    async def open_with_description(pilot: Pilot[Any]) -> None:
        await _open_seed(pilot)
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(
        BibApp(sample_store()), terminal_size=(120, 40), run_before=open_with_description
    )


def test_help_100x40(snap_compare: Any) -> None:
    """The help screen: keys and query syntax."""

    async def help_screen(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(BibApp(sample_store()), terminal_size=(100, 40), run_before=help_screen)


def test_hostile_titles_120x24(snap_compare: Any) -> None:
    """Markup in record text is shown literally, never styled or linked."""
    assert snap_compare(BibApp(hostile_store()), terminal_size=(120, 24), run_before=settle)


def test_export_dialog_80x24(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The export dialog at the smallest size, two records marked: every field fits."""
    monkeypatch.setattr("tui.screens.export.export_folder", lambda: Path("/home/reader/papers"))
    monkeypatch.setattr("tui.screens.export.export_date", lambda: dt.date(2026, 1, 2))

    async def open_dialog(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("space", "space", "e")
        await pilot.pause()
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(BibApp(sample_store()), terminal_size=(80, 24), run_before=open_dialog)
