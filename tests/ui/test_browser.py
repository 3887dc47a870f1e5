"""The browser's behaviour, key by key, through Textual's Pilot."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tests.ui.conftest import (
    HOSTILE_TITLES,
    aggregator_store,
    hostile_store,
    messages,
    press,
    ready,
    search,
    settle,
    shown_rows,
    shown_titles,
    status,
    table_lines,
)
from tui.app import BibApp
from tui.config import load_config
from tui.normalize import strip_controls
from tui.screens import HelpScreen, RecordDetailScreen, RecordListScreen
from tui.widgets import RecordTable, RecordView


async def test_list_shows_count_and_rows(app: BibApp) -> None:
    """Every record is listed with the count."""
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        assert status(screen).startswith("8 of 8 records")
        lines = table_lines(screen)
        assert "Year" in lines[0] and "Title" in lines[0]
        assert any("Adomako et al." in line and "12.8 Q1" in line for line in lines)


async def test_search_as_you_type(app: BibApp) -> None:
    """Each key filters the list; the count follows."""
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await press(pilot, "slash")
        assert isinstance(app.focused, Input)
        await press(pilot, *"leuk")
        assert status(screen).startswith("2 of 8")
        await press(pilot, *" -german")
        assert shown_titles(screen) == [
            "Acute lymphoblastic leukemia relapse: biomarkers, hopes, and challenges."
        ]
        await press(pilot, *["backspace"] * len(" -german"))
        assert status(screen).startswith("2 of 8")


async def test_fielded_and_metric_queries(app: BibApp) -> None:
    """a:, year ranges, q:, if:, is:oa and has:doi all filter."""
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        cases = {
            "a:adomako": 1,
            "a:nunez": 1,
            "year:2021..2023": 3,
            "q:Q1": 4,
            "if:>10": 3,
            "is:oa": 4,
            "-has:doi": 1,
            '"synthetic example"': 3,
        }
        for query, count in cases.items():
            await search(pilot, query)
            assert status(screen).startswith(f"{count} of 8"), (query, status(screen))


async def test_bad_query_shows_the_error(app: BibApp) -> None:
    """A query that cannot be read says why in the status line."""
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await ready(pilot)
        await search(pilot, "year:abc")
        assert "cannot read 'abc'" in status(screen)


async def test_matching_words_are_highlighted(app: BibApp) -> None:
    """The table knows the words to highlight."""
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await search(pilot, "leuk")
        table = screen.query_one(RecordTable)
        highlighted = [
            segment.text
            for row in range(1, table.row_count + 1)
            for segment in table.render_line(row)
            if segment.style and segment.style.underline
        ]
        assert "leuk" in [text.lower() for text in highlighted]


async def test_sort_cycles_and_reverses(app: BibApp) -> None:
    """s cycles relevance -> year -> citations..., S reverses; shown in the status."""
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await press(pilot, "s")
        assert "sorted by year ↓" in status(screen)
        years = [row.year or 0 for row in shown_rows(screen)]
        assert years == sorted(years, reverse=True)
        await press(pilot, "S")
        assert "sorted by year ↑" in status(screen)
        years = [row.year or 0 for row in shown_rows(screen)]
        assert years == sorted(years)
        await press(pilot, "s")
        assert "sorted by citations ↑" in status(screen)
        await press(pilot, "S", "s", "s", "s", "s")
        assert "sorted by relevance" in status(screen)


async def test_movement_keys(app: BibApp) -> None:
    """j/k, arrows, g/G, PgDn/PgUp, Ctrl+D/Ctrl+U move the cursor."""
    async with app.run_test(size=(80, 12)) as pilot:
        screen = await ready(pilot)
        table = screen.query_one(RecordTable)
        await pilot.press("j", "j")
        assert table.cursor == 2
        await pilot.press("k")
        assert table.cursor == 1
        await pilot.press("down", "up", "up")
        assert table.cursor == 0
        await pilot.press("G")
        assert table.cursor == 7
        await pilot.press("g")
        assert table.cursor == 0
        await pilot.press("end")
        assert table.cursor == 7
        await pilot.press("home", "pagedown")
        assert table.cursor > 1
        await pilot.press("pageup")
        assert table.cursor == 0
        await pilot.press("ctrl+d")
        half = table.cursor
        assert half >= 1
        await pilot.press("ctrl+u")
        assert table.cursor == 0


async def test_marks_toggle_all_clear_and_persist(app: BibApp) -> None:
    """Space marks and moves on, * marks all shown, u clears; the library keeps marks."""
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        first = shown_rows(screen)[0].id
        await pilot.press("space")
        assert screen.marked_ids_unordered() == {first}  # shown at once, before it is saved
        assert screen.query_one(RecordTable).cursor == 1
        assert "1 marked" in status(screen)
        await settle(pilot)
        assert app.store.get(first).marked  # type: ignore[union-attr]
        assert "●" in table_lines(screen)[1]
        assert screen.pending_marks == {}  # saved: the view shows it now
        await search(pilot, "q:Q1")
        await press(pilot, "escape", "asterisk")
        assert len(screen.marked_ids_unordered()) == 4  # the first was marked already
        await search(pilot, "is:marked")
        assert len(shown_rows(screen)) == 4
        await press(pilot, "escape", "u")
        assert screen.marked_ids_unordered() == set()
        assert not any(record.marked for record in app.store.all())


async def test_search_focus_and_escape(app: BibApp) -> None:
    """/ jumps to the search line, Esc returns to the list with the search kept."""
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        assert isinstance(app.focused, RecordTable)
        await press(pilot, "slash", *"sepsis")
        await press(pilot, "escape")
        assert isinstance(app.focused, RecordTable)
        assert status(screen).startswith("1 of 8")
        await press(pilot, "slash", "enter")
        assert isinstance(app.focused, RecordTable)


async def test_open_detail_next_previous_and_back(app: BibApp) -> None:
    """Enter opens the detail screen; n/p walk the results; Esc returns with the cursor moved."""
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await press(pilot, "s")  # by year: a known order
        await press(pilot, "enter")
        detail = app.screen
        assert isinstance(detail, RecordDetailScreen)
        view = detail.query_one(RecordView)
        assert view.record is not None and view.record.year == 2025
        await press(pilot, "n")
        assert detail.record is not None and detail.record.year == 2024
        await press(pilot, "n", "p", "n", "n")
        assert detail.row == 3
        await press(pilot, "escape")
        assert app.screen is screen
        assert screen.query_one(RecordTable).cursor == 3
        assert "sorted by year" in status(screen)
        await press(pilot, "enter")
        await press(pilot, "q")
        assert app.screen is screen


async def test_detail_shows_every_field(app: BibApp) -> None:
    """Title, authors, journal, metrics, DOI link, abstract and the journal's description."""
    async with app.run_test(size=(120, 50)) as pilot:
        await ready(pilot)
        await search(pilot, "a:adomako")
        await press(pilot, "escape", "enter")
        detail = app.screen
        text = " ".join(str(w.render()) for w in detail.query("Static, Label"))
        for expected in (
            "Acute lymphoblastic leukemia relapse",
            "Joseph Adomako; Karina E Jiménez-Camacho",
            "Trends in molecular medicine",
            "impact factor 12.8",
            "JCR Q1 in BIOCHEMISTRY & MOLECULAR BIOLOGY",
            "10.1016/j.molmed.2025.04.005",
            "most common pediatric malignancy",
            "sample_records/aggregator/000_b11f5d7b0448d0c6.txt (aggregator, 2026-01-02)",
        ):
            assert expected in text, expected
        doi_label = next(w for w in detail.query("Label") if "10.1016" in str(w.render()))
        spans = doi_label.render().spans  # type: ignore[attr-defined]
        assert any("https://doi.org/10.1016/j.molmed.2025.04.005" in str(s.style) for s in spans)
        await press(pilot, "d")
        description = str(detail.query_one("#journal-description", Static).render())
        assert description.startswith("Trends in Molecular Medicine (TMM) aims")


async def test_help_screen_lists_keys_and_syntax(app: BibApp) -> None:
    """? opens help with every binding and the query syntax; Esc closes it."""
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RecordListScreen)


async def test_quit_key(app: BibApp) -> None:
    """q on the list quits."""
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code in (0, None)


async def test_hostile_record_text_shows_literally_everywhere() -> None:
    """Markup in titles, authors, journals and abstracts is never parsed, styled or run.

    The records here bypass the importer, so the escape sequences in one title
    reach the browser: it must remove them again when it draws.
    """
    app = BibApp(hostile_store())
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await ready(pilot)
        lines = "\n".join(table_lines(screen))
        for title in HOSTILE_TITLES[:-1]:
            assert title[:30] in lines, title
        assert "Escapes ]52;c;aGk= [2J ]8;;https://evil.example\\ 31m end"[:40] in lines
        for control in ("\x1b", "\x07", "\x9b"):
            assert control not in lines
        for row in range(len(HOSTILE_TITLES)):
            screen.query_one(RecordTable).move_to(row)
            await press(pilot, "enter")
            detail = app.screen
            assert isinstance(detail, RecordDetailScreen)
            title = str(detail.query_one("#title", Static).render())
            assert detail.record is not None
            assert title == strip_controls(detail.record.title or "")
            assert not any(c in title for c in ("\x1b", "\x07", "\x9b"))
            assert "[b]Evil" in str(detail.query_one("#authors", Static).render())
            assert "[link=https://evil.example]a link[/link]" in str(
                detail.query_one("#abstract", Static).render()
            )
            await press(pilot, "escape")
        assert app.is_running  # [@click=app.quit] did nothing


async def test_config_keymap_theme_and_bad_config(tmp_path: Path) -> None:
    """Keys rebind by id, the theme applies, and a bad setting is a message, not a crash."""
    config_file = tmp_path / "config.toml"
    config_file.write_text('theme = "nord"\nbogus = 1\n[keys]\ncycle-sort = "o"\nnot-an-id = "x"\n')
    config, problems = load_config(config_file)
    app = BibApp(aggregator_store(), config, problems)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        assert app.theme == "nord"
        await press(pilot, "o")
        assert "sorted by year" in status(screen)
        assert any("unknown setting 'bogus'" in m for m in messages(app))
        assert f"{config_file}: keys.not-an-id: no key binding has this id" in "\n".join(
            messages(app)
        )


async def test_keys_that_would_take_over_a_key_or_are_no_keys_are_refused(
    tmp_path: Path,
) -> None:
    """[keys] entries taking ctrl+q or another binding's key, or no keys at all: each refused
    with a message naming the file and the entry; its binding keeps its keys, the rest apply."""
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        "[keys]\n"
        'cycle-sort = "o"\n'  # fine
        'mark-all = "ctrl+q"\n'  # would take the way out
        'toggle-mark = "notakey+++"\n'
        'clear-marks = "j"\n'  # cursor-down's key in the list
    )
    config, problems = load_config(config_file)
    app = BibApp(aggregator_store(), config, problems)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        shown = "\n".join(messages(app))
        assert f"{config_file}: keys.mark-all = 'ctrl+q': ctrl+q is reserved" in shown
        assert f"{config_file}: keys.toggle-mark = 'notakey+++': 'notakey+++' is not a key" in shown
        assert (
            f"{config_file}: keys.clear-marks = 'j': j is also the key of cursor-down "
            "in the record list; it keeps its default keys (u)"
        ) in shown
        await press(pilot, "o")
        assert "sorted by year" in status(screen)  # the good entry applies
        first = screen.table.cursor
        await press(pilot, "space")  # still marks, and moves on
        assert len(screen.marked_ids_unordered()) == 1
        await press(pilot, "j")  # still moves down; clears nothing
        assert screen.table.cursor == first + 2
        assert len(screen.marked_ids_unordered()) == 1
        await press(pilot, "ctrl+q")  # still quits (mark-all kept its asterisk)
        assert not app.is_running


async def test_broken_config_file_uses_defaults(tmp_path: Path) -> None:
    """Invalid TOML: defaults and a message naming the file."""
    config_file = tmp_path / "config.toml"
    config_file.write_text("theme = = nord")
    config, problems = load_config(config_file)
    assert problems and str(config_file) in problems[0]
    app = BibApp(aggregator_store(), config, problems)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert app.theme == "textual-dark"


async def test_command_palette_lists_the_screen_actions(app: BibApp) -> None:
    """Ctrl+P offers the list's actions, and running one does what its key does."""
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        titles = [command.title for command in app.get_system_commands(screen)]
        for expected in ("Search", "Open", "Mark", "Sort", "Help"):
            assert expected in titles
        await press(pilot, "ctrl+p")
        await press(pilot, *"Sort", "enter")
        assert "sorted by year" in status(screen)


async def test_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR turns colour off (Textual reads it when the app is created)."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = BibApp(aggregator_store())
    assert app.no_color


async def test_first_load_of_a_library_without_an_index_shows_progress(tmp_path: Path) -> None:
    """A library whose index is gone is indexed with a progress bar, then listed."""
    from tui.library import RecordStore
    from tui.screens.records import LoadProgress

    library = tmp_path / "library.json"
    RecordStore.open(library).upsert(aggregator_store().all())
    (tmp_path / "library.json.index").unlink()
    fractions: list[float] = []
    RecordStore.open(library).snapshot(progress=fractions.append)
    assert fractions and all(0 <= f <= 1 for f in fractions) and fractions[-1] == 1
    assert (tmp_path / "library.json.index").exists()  # rebuilt for the next start

    (tmp_path / "library.json.index").unlink()
    app = BibApp(RecordStore.open(library))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        assert status(screen).startswith("8 of 8 records")
        screen._load_progress(LoadProgress(0.5))
        assert "Indexing the library" in status(screen) and "50%" in status(screen)


async def test_detail_scroll_keys(app: BibApp) -> None:
    """j/k, Space/PgDn, PgUp, g/G scroll the detail screen; the record stays the same."""
    async with app.run_test(size=(80, 12)) as pilot:
        await ready(pilot)
        await search(pilot, "a:adomako")
        await press(pilot, "escape", "enter")
        view = app.screen.query_one(RecordView)
        assert view.scroll_y == 0
        await pilot.press("j", "j")
        await pilot.pause()
        assert view.scroll_y == 2
        await pilot.press("k")
        await pilot.pause()
        assert view.scroll_y == 1
        await pilot.press("G")
        await pilot.pause()
        bottom = view.scroll_y
        assert bottom == view.max_scroll_y > 5
        await pilot.press("g")
        await pilot.pause()
        assert view.scroll_y == 0
        await pilot.press("space")
        await pilot.pause()
        assert view.scroll_y > 1
        await pilot.press("pageup")
        await pilot.pause()
        assert view.scroll_y == 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert view.scroll_y > 1
        assert view.record is not None and view.record.doi == "10.1016/j.molmed.2025.04.005"


async def test_copy_doi_keys_on_both_screens() -> None:
    """y copies the bare DOI, Y the DOI URL; marks copy every marked DOI; no DOI is a warning."""
    from tui.config import Config

    app = BibApp(aggregator_store(), Config(clipboard="osc52"))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        await search(pilot, "a:adomako")
        await press(pilot, "escape", "y")
        assert app.clipboard == "10.1016/j.molmed.2025.04.005"
        assert (
            "Sent 10.1016/j.molmed.2025.04.005 to the terminal clipboard (OSC 52)"
            in messages(app)[-1]
        )
        await press(pilot, "Y")
        assert app.clipboard == "https://doi.org/10.1016/j.molmed.2025.04.005"
        await press(pilot, "enter", "y")
        assert app.clipboard == "10.1016/j.molmed.2025.04.005"
        await press(pilot, "escape")
        await search(pilot, "a:gudmundsson")  # the record without a DOI
        app.copy_to_clipboard("unchanged")
        await press(pilot, "escape", "y")
        assert app.clipboard == "unchanged"
        assert "no DOI; nothing was copied" in messages(app)[-1]
        await search(pilot, "q:Q1")
        await press(pilot, "escape", "asterisk", "y")
        library_order = [row.doi for row in shown_rows(screen)]
        await search(pilot, "")
        library_order = [row.doi for row in shown_rows(screen) if row.doi in library_order]
        assert app.clipboard.splitlines() == [doi for doi in library_order if doi]
        assert len(app.clipboard.splitlines()) == 3  # four marked, one without a DOI
        assert "(1 marked without a DOI left out)" in messages(app)[-1]


async def test_the_echo_and_the_list_are_drawn_in_one_frame(
    app: BibApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keystroke holds the screen until its answer (drawing both at once), and a query
    that does not answer in time never holds it longer than the deadline."""
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await press(pilot, "slash")
        answer, slow = screen._answer, threading.Event()
        monkeypatch.setattr(screen, "_answer", lambda *args: (slow.wait(5), answer(*args)))
        await pilot.press("l")
        assert app._batch_count == 1  # held: the echo waits for the list
        slow.set()
        await settle(pilot)
        assert app._batch_count == 0 and status(screen).startswith("6 of 8")

        slow.clear()
        await pilot.press("e")
        assert app._batch_count == 1
        await pilot.pause(0.3)
        assert app._batch_count == 0  # the deadline let the echo through
        assert status(screen).startswith("6 of 8")  # the list still waits for its answer
        slow.set()
        await settle(pilot)
        assert screen.query_one("#search", Input).value == "le"
        assert status(screen).startswith("3 of 8")
