"""Fixtures for driving the browser with Textual's Pilot."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.conftest import fixed_clock
from tui.app import BibApp
from tui.formats import read_file
from tui.library import RecordStore
from tui.models import Author, Record, Source
from tui.rows import Row
from tui.screens import RecordListScreen
from tui.widgets import RecordTable

AGGREGATOR = Path(__file__).parents[2] / "sample_records" / "aggregator"

HOSTILE_TITLES = [
    "Synthesis of benzo[b]thiophene",
    "[Article in German] Therapie der Leukämie",
    "Ring [i] and [s]-isomers",
    "[bold red]x[/]",
    "[link=https://evil.example]x[/link]",
    "A [/] B",
    "[/ x",
    "[$accent]x",
    "[@click=app.quit]x[/]",
    "Escapes \x1b]52;c;aGk=\x07 \x1b[2J \x1b]8;;https://evil.example\x1b\\ \x9b31m end",
]
"""Record text that must show exactly as stored, never styled, linked or run."""


def aggregator_store() -> RecordStore:
    """The sample aggregator records (8), with fixed timestamps."""
    store = RecordStore.in_memory(clock=fixed_clock)
    for path in sorted(AGGREGATOR.iterdir()):
        result = read_file(path, display=f"sample_records/aggregator/{path.name}")
        store.upsert(result.records, result.journals)
    return store


def hostile_store() -> RecordStore:
    """Records whose titles, authors and journals are markup payloads."""
    records = [
        Record(
            title=title,
            authors=(Author(family=f"[b]Evil{n}[/b]", given="[i]x"),),
            journal="[red]Journal[/red] [/",
            year=2000 + n,
            doi=f"10.5555/hostile.{n}",
            abstract=f"Abstract with {title} and [link=https://evil.example]a link[/link].",
            source=(Source("test", "hostile"),),
        )
        for n, title in enumerate(HOSTILE_TITLES)
    ]
    return RecordStore.in_memory(records, clock=fixed_clock)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The export dialog's default folder and date, fixed."""
    monkeypatch.setattr("tui.screens.export.export_folder", lambda: tmp_path)
    monkeypatch.setattr("tui.screens.export.export_date", lambda: dt.date(2026, 1, 2))
    return tmp_path


@pytest.fixture
def app() -> BibApp:
    """The browser on the sample aggregator records."""
    return BibApp(aggregator_store())


async def settle(pilot: Pilot[int]) -> None:
    """Wait until the app is idle: every worker done and every message it posted handled.

    Searches, page fetches, record reads and saves all run in workers, and a
    worker's message may start another worker: wait until a round starts none.
    """
    for _ in range(20):
        await _searches_answered(pilot)
        await pilot.pause()
        running = [w for w in pilot.app.workers if w.is_running and w.group != "poll"]
        if not running and not _searching(pilot):
            await pilot.pause()
            if not _searching(pilot) and not [
                w for w in pilot.app.workers if w.is_running and w.group != "poll"
            ]:
                return
        await pilot.app.workers.wait_for_complete(running)


def _searching(pilot: Pilot[int]) -> bool:
    return any(
        screen._searcher.busy
        for screen in pilot.app.screen_stack
        if isinstance(screen, RecordListScreen)
    )


async def _searches_answered(pilot: Pilot[int]) -> None:
    """Queries run on the list's own search thread, not in Textual workers."""
    for _ in range(1000):
        if not _searching(pilot):
            return
        await asyncio.sleep(0.005)


async def press(pilot: Pilot[int], *keys: str) -> None:
    """Press keys as a person does, one after the other, waiting for each to take effect."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def ready(pilot: Pilot[int]) -> RecordListScreen:
    """Wait for the library to load into the list screen."""
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RecordListScreen)
    return screen


async def search(pilot: Pilot[int], text: str) -> None:
    """Put `text` in the search line (as a paste would) and wait for the answer."""
    screen = pilot.app.screen
    assert isinstance(screen, RecordListScreen)
    screen.query_one("#search", Input).value = text
    await settle(pilot)


def status(screen: RecordListScreen) -> str:
    """The count/sort line."""
    return str(screen.query_one("#status", Static).render())


def shown_rows(screen: RecordListScreen) -> list[Row]:
    """The rows of the records shown, in order."""
    view = screen.bib.view
    assert view is not None
    return view.rows(screen.results.seqs)


def shown_titles(screen: RecordListScreen) -> list[str]:
    """Titles of the shown records, in order."""
    return [row.title for row in shown_rows(screen)]


def table_lines(screen: RecordListScreen) -> list[str]:
    """The table as text, as drawn on screen."""
    table = screen.query_one(RecordTable)
    return [table.render_line(y).text for y in range(table.size.height)]


def messages(app: BibApp) -> list[str]:
    """The notifications shown so far, oldest first."""
    return [notification.message for notification in app._notifications]
