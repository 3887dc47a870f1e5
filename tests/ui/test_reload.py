"""The open browser and its library changing under it: reloads, and what it refuses."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import (
    aggregator_store,
    messages,
    press,
    ready,
    settle,
    shown_rows,
    shown_titles,
    status,
)
from tui.app import BibApp
from tui.library import LibraryError, RecordStore
from tui.models import Author, Record, Source
from tui.screens.records import RELOAD_POLL_SECONDS, RecordListScreen

AGGREGATOR_RECORDS = 8


def library_at(folder: Path) -> Path:
    """The sample aggregator library, as a file in `folder`."""
    source = aggregator_store()
    folder.mkdir(parents=True, exist_ok=True)
    library = folder / "library.json"
    shutil.copyfile(source.path, library)
    return library


def shell_record(title: str, n: int = 1) -> Record:
    return Record(
        title=title,
        doi=f"10.5555/shell.{n}",
        authors=(Author(family="Shell", given="S"),),
        year=2026,
        source=(Source("ris", "shell.ris"),),
    )


async def wait_until(pilot: Pilot[int], done: Callable[[], bool], polls: int = 3) -> None:
    """Wait (through the browser's polls of the library) until `done()`."""
    for _ in range(int(RELOAD_POLL_SECONDS * 10 * polls)):
        await asyncio.sleep(0.1)
        if done():
            break
    await settle(pilot)
    assert done()


async def test_an_import_from_the_shell_shows_up_in_the_open_browser(tmp_path: Path) -> None:
    """Search kept, cursor kept on its record, the new record listed, nothing typed."""
    library = library_at(tmp_path)
    app = BibApp(RecordStore.open(library))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        await press(pilot, "slash", *"leuk", "escape")
        before = shown_titles(screen)
        assert len(before) >= 2
        await press(pilot, "down")
        under_cursor = screen.current_id()
        # Another process (the CLI, say) imports a record that matches the search.
        RecordStore.open(library).upsert(
            [shell_record("Leukemia relapse prediction from the shell")]
        )
        await wait_until(
            pilot, lambda: "Leukemia relapse prediction from the shell" in shown_titles(screen)
        )
        assert isinstance(app.screen, RecordListScreen)
        assert set(before) < set(shown_titles(screen))
        assert screen.query_text == "leuk"
        assert f"of {AGGREGATOR_RECORDS + 1} records" in status(screen)
        assert screen.current_id() == under_cursor
        assert any("reloaded" in m for m in messages(app))


async def test_own_marks_do_not_count_as_a_change(tmp_path: Path) -> None:
    """Marking writes the library: the browser knows it was itself, and says nothing."""
    app = BibApp(RecordStore.open(library_at(tmp_path)))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        await press(pilot, "space", "space")
        await asyncio.sleep(RELOAD_POLL_SECONDS + 0.5)
        await settle(pilot)
        assert not any("reloaded" in m for m in messages(app))
        assert len(screen.saved_marks) == 2 and screen.pending_marks == {}


async def test_marks_while_another_process_writes_never_stop_the_reloads(tmp_path: Path) -> None:
    """Marks saved right after another process wrote (before the next poll) used to make
    the browser adopt the new file without reading it: it never noticed again."""
    library = library_at(tmp_path)
    app = BibApp(RecordStore.open(library))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        other = RecordStore.open(library)
        for n in range(4):
            other.upsert([shell_record(f"Shell paper {n}", n)])
            await press(pilot, "space")  # within the two seconds before the next poll
        await wait_until(pilot, lambda: f"of {AGGREGATOR_RECORDS + 4} records" in status(screen))
        other.upsert([shell_record("Shell paper 9", 9)])
        await wait_until(pilot, lambda: f"of {AGGREGATOR_RECORDS + 5} records" in status(screen))
        assert len(screen.marked_ids_unordered()) == 4
        assert sum(r.marked for r in RecordStore.open(library).all()) == 4


async def test_a_mark_that_cannot_be_saved_is_taken_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the screen shows is what is saved: a mark whose save fails (disk full, library
    busy) is removed again, the count too, and the reason shown."""
    app = BibApp(RecordStore.open(library_at(tmp_path)))

    def full(*args: object) -> None:
        time.sleep(0.5)  # a slow disk: long enough to see the mark before it fails
        raise LibraryError("cannot write the library: No space left on device; it is unchanged")

    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        monkeypatch.setattr(app.store, "set_marked", full)
        first = shown_rows(screen)[0]
        await pilot.press("space")
        assert first.id in screen.marked_ids_unordered()  # shown at once
        await settle(pilot)
        assert screen.marked_ids_unordered() == set()
        assert "marked" not in status(screen)
        assert "No space left on device" in messages(app)[-1]


@pytest.mark.parametrize(
    "replacement",
    [
        b"{this is not json",
        b'{"_default": {"1": {"a": 1}}}',  # another program's TinyDB file
        "truncated at a line",
        "a newer version",
    ],
)
async def test_a_library_replaced_by_a_file_it_cannot_read_is_never_written(
    tmp_path: Path, replacement: bytes | str
) -> None:
    """Another program (a sync tool, a bad restore) replaces the open library: the browser
    says so and keeps its list, a mark is refused with the reason, the file is untouched;
    a valid library put back is read again."""
    library = library_at(tmp_path)
    good = library.read_bytes()
    if replacement == "truncated at a line":
        content = b"\n".join(good.split(b"\n")[:5]) + b"\n"
    elif replacement == "a newer version":
        content = good.replace(b'"version":1', b'"version":7', 1)
    else:
        assert isinstance(replacement, bytes)
        content = replacement
    app = BibApp(RecordStore.open(library))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        temporary = tmp_path / "replacement"
        temporary.write_bytes(content)
        temporary.replace(library)
        await wait_until(pilot, lambda: any("changes cannot be saved" in m for m in messages(app)))
        assert app.is_running and len(shown_titles(screen)) == AGGREGATOR_RECORDS
        await press(pilot, "space")
        assert screen.marked_ids_unordered() == set()
        assert "Could not save" in messages(app)[-1]
        assert library.read_bytes() == content
        temporary.write_bytes(good)
        temporary.replace(library)
        await wait_until(
            pilot,
            lambda: (
                screen.bib.view is not None
                and screen.bib.view.count == AGGREGATOR_RECORDS
                and status(screen).startswith(f"{AGGREGATOR_RECORDS} of")
            ),
        )
        await press(pilot, "space")
        assert len(screen.saved_marks) == 1


async def test_a_library_moved_away_is_reported_and_the_list_kept(tmp_path: Path) -> None:
    """Moved or deleted while open: a warning, the list kept, a mark refused, not recreated."""
    library = library_at(tmp_path)
    app = BibApp(RecordStore.open(library))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        library.rename(tmp_path / "elsewhere.json")
        await wait_until(pilot, lambda: any("has disappeared" in m for m in messages(app)))
        assert len(shown_titles(screen)) == AGGREGATOR_RECORDS
        await press(pilot, "space")  # a mark cannot be saved: said, not crashed
        assert app.is_running and screen.marked_ids_unordered() == set()
        assert not library.exists()


async def test_a_library_that_cannot_be_reached_is_reported_and_retried(tmp_path: Path) -> None:
    """Its folder replaced by a file (the 2-second check then fails with ENOTDIR, as a
    dropped network mount fails with ESTALE): reported once, retried, read again later."""
    folder = tmp_path / "papers"
    library = library_at(folder)
    app = BibApp(RecordStore.open(library))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        folder.rename(tmp_path / "away")
        folder.write_text("a file where the folder was")
        await wait_until(pilot, lambda: len(messages(app)) > 0)
        assert app.is_running and len(shown_titles(screen)) == AGGREGATOR_RECORDS
        await asyncio.sleep(RELOAD_POLL_SECONDS * 2)
        await settle(pilot)
        warnings = [m for m in messages(app) if str(library) in m]
        assert len(warnings) == 1  # said once, not every two seconds
        folder.unlink()
        (tmp_path / "away").rename(folder)
        RecordStore.open(library).upsert([shell_record("Back again")])
        await wait_until(pilot, lambda: f"of {AGGREGATOR_RECORDS + 1} records" in status(screen))
