"""The open browser notices when another process changes its library, and reloads."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.ui.conftest import aggregator_store
from tests.ui.test_browser import ready, shown_titles, status
from tui.app import BibApp
from tui.models import Author, Record, Source
from tui.screens.records import RELOAD_POLL_SECONDS, RecordListScreen
from tui.store import RecordStore


async def test_an_import_from_the_shell_shows_up_in_the_open_browser(tmp_path: Path) -> None:
    """Search kept, cursor kept on its record, the new record listed, nothing typed."""
    library = tmp_path / "library.json"
    source = aggregator_store()
    RecordStore.open(library).upsert(source.all(), source.journals())
    app = BibApp(RecordStore.open(library))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        await pilot.press("slash", *"leuk", "escape")
        await pilot.pause()
        before = shown_titles(screen)
        assert len(before) >= 2
        await pilot.press("down")
        under_cursor = screen.current_id()

        # Another process (the CLI, say) imports a record that matches the search.
        RecordStore.open(library).upsert(
            [
                Record(
                    title="Leukemia relapse prediction from the shell",
                    doi="10.5555/shell.1",
                    authors=(Author(family="Shell", given="S"),),
                    year=2026,
                    source=(Source("ris", "shell.ris"),),
                )
            ]
        )
        for _ in range(int(RELOAD_POLL_SECONDS * 10) + 40):
            await asyncio.sleep(0.1)
            if "Leukemia relapse prediction from the shell" in shown_titles(screen):
                break
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, RecordListScreen)
        assert "Leukemia relapse prediction from the shell" in shown_titles(screen)
        assert set(before) < set(shown_titles(screen))
        assert screen.query_text == "leuk"
        assert f"of {len(source.all()) + 1} records" in status(screen)
        assert screen.current_id() == under_cursor
        assert any("reloaded" in n.message for n in app._notifications)


async def test_own_marks_do_not_count_as_a_change(tmp_path: Path) -> None:
    library = tmp_path / "library.json"
    source = aggregator_store()
    RecordStore.open(library).upsert(source.all(), source.journals())
    app = BibApp(RecordStore.open(library))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        await pilot.press("space")
        await screen.workers.wait_for_complete()
        await asyncio.sleep(RELOAD_POLL_SECONDS + 0.5)
        await pilot.pause()
        assert not any("reloaded" in n.message for n in app._notifications)


async def test_a_library_moved_away_is_reported_and_the_list_kept(tmp_path: Path) -> None:
    library = tmp_path / "library.json"
    source = aggregator_store()
    RecordStore.open(library).upsert(source.all(), source.journals())
    app = BibApp(RecordStore.open(library))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        library.rename(tmp_path / "elsewhere.json")
        for _ in range(int(RELOAD_POLL_SECONDS * 10) + 40):
            await asyncio.sleep(0.1)
            if any("has disappeared" in n.message for n in app._notifications):
                break
        assert any("has disappeared" in n.message for n in app._notifications)
        assert len(shown_titles(screen)) == len(source.all())
        await pilot.press("space")  # a mark cannot be saved: said, not crashed
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running
        assert not library.exists()
