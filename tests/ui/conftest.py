"""Fixtures for driving the browser with Textual's Pilot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.conftest import fixed_clock
from tui.app import BibApp
from tui.formats import read_file
from tui.models import Author, Record, Source
from tui.store import RecordStore

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
