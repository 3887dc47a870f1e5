"""refdeck's own JSON export: re-importing `Record.to_json()` gives the same record back."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tui.formats import parse_text, read_file, refdeck_json
from tui.library import RecordStore
from tui.models import Author, Record, Source

DATA = Path(__file__).parent.parent / "data"
SOURCES = [
    DATA / "crossref" / "commonmeta-crossref-works.jsonl",
    DATA / "openalex" / "zotero-openalex-works.jsonl",
    DATA / "csl-json" / "manubot-test-csl-items.json",
    DATA / "s2" / "semanticscholar-paper-batch-response.json",
]
COMPARED = ("source", "tags", "note", "marked", "added", "id", "extra")


def exported() -> list[Record]:
    records = [record for path in SOURCES for record in read_file(path).records]
    return [
        r.with_changes(id=f"rec{i}", tags=("mine",), note="a note", marked=True, added="2026")
        for i, r in enumerate(records)
    ]


def reimport(records: list[Record], file: str = "export.json") -> list[Record]:
    text = orjson.dumps([record.to_json() for record in records]).decode()
    result = parse_text(text, file)
    assert result.issues == []
    return result.records


def test_round_trip_keeps_every_field() -> None:
    before = exported()
    after = reimport(before)
    assert len(after) == len(before) == 24 + 7 + 12 + 3
    for old, new in zip(before, after, strict=True):
        old_doc, new_doc = old.to_doc(), new.to_doc()
        for name in set(old_doc) | set(new_doc):
            if name not in COMPARED:
                assert new_doc.get(name) == old_doc.get(name), (old.title, name)
        # Extra stays under the original format; refdeck's notes are in their own namespace.
        original_format = old.source[0].format
        assert new.extra[original_format] == old.extra[original_format]
        assert new.extra["refdeck_json"]["exported_id"] == old.id
        assert new.extra["refdeck_json"]["exported_source"][0]["format"] == original_format
        # User fields are not imported from a file; the source is this file.
        assert (new.tags, new.note, new.marked, new.added) == ((), None, False, None)
        assert new.source == (Source(format="refdeck_json", file="export.json"),)


def test_structured_authors_are_used_not_display_names() -> None:
    record = Record(
        title="Names",
        authors=(
            Author(family="van Rossum", given="Guido"),
            Author(literal="The ENCODE Project Consortium"),
            Author(family="King", given="Martin Luther", suffix="Jr."),
            Author(family="宮地", given="元彦"),
        ),
        editors=(Author(family="Doe", given="Jane"),),
        source=(Source("bibtex", "a.bib"),),
    )
    (back,) = reimport([record])
    assert back.authors == record.authors
    assert back.editors == record.editors
    # Without the structured list, display names are re-split.
    doc = record.to_json()
    del doc["authors_structured"]
    (split,) = parse_text(orjson.dumps([doc]).decode(), "x.json").records
    assert split.authors[0] == Author(family="van Rossum", given="Guido")


def test_jsonl_export_and_library_documents() -> None:
    records = exported()[:3]
    jsonl = "\n".join(orjson.dumps(r.to_json()).decode() for r in records)
    result = parse_text(jsonl, "export.jsonl")
    assert [r.doi for r in result.records] == [r.doi for r in records]
    # The library's own documents (`to_doc()`) are recognized too.
    docs = orjson.dumps([r.to_doc() for r in records]).decode()
    assert [r.title for r in parse_text(docs, "library.json").records] == [r.title for r in records]


def test_bad_values_in_an_export_are_reported_not_raised() -> None:
    doc = Record(title="T", source=(Source("ris", "a.ris"),)).to_json()
    doc.update(doi="not a doi", year=["2020"], extra={"ris": {"N1": "x"}, "odd": 5}, future="x")
    result = parse_text(orjson.dumps([doc]).decode(), "x.json")
    (record,) = result.records
    assert record.doi is None and record.year is None
    assert "malformed DOI" in result.issues[0].message
    assert record.extra["ris"] == {"N1": "x"}
    own = record.extra["refdeck_json"]
    assert own["invalid_doi"] == "not a doi"
    assert own["odd"] == 5 and own["future"] == "x"


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"authors_structured": [], "source": []}, True),
        (Record(title="x").to_json(), True),
        ({"title": "x", "source": [{"format": "ris", "file": "a"}]}, True),
        ({"title": "x", "source": "PubMed", "type": "article"}, False),  # CSL `source`
        ({"title": "x"}, False),
    ],
)
def test_matches(obj: dict, expected: bool) -> None:
    assert refdeck_json.matches(obj) is expected


def test_another_refdeck_library_file(tmp_path: Path) -> None:
    records = exported()[:2]
    library = tmp_path / "other.json"
    store = RecordStore.open(library)
    store.upsert(records, journals={"Der Urologe": "A urology journal."})
    result = read_file(library)
    assert sorted(r.doi for r in result.records) == sorted(r.doi for r in records)
    assert result.journals == {"Der Urologe": "A urology journal."}
    assert {r.source[0].format for r in result.records} == {"refdeck_json"}
