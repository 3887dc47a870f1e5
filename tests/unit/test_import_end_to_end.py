"""Importing real and broken files through the command line, as a user would."""

from __future__ import annotations

import codecs
from pathlib import Path

import orjson
import pytest

from tests.conftest import ROOT, SAMPLES, SEED
from tui.cli import run
from tui.formats import iter_files
from tui.library import RecordStore

SAMPLE_FILES = sorted(iter_files([SAMPLES], []))


def refdeck(*args: str) -> int:
    """Run the CLI in-process; argparse's exits become codes."""
    try:
        return run(list(args))
    except SystemExit as exit_:
        return int(exit_.code or 0)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_sample_file_imports_and_reimporting_changes_nothing(
    path: Path, library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each sample file imports records; the second import adds and merges nothing."""
    refdeck("import", "--db", str(library), str(path))
    first = capsys.readouterr().out
    store = RecordStore.open(library)
    assert store.count() > 0, first
    before = library.read_bytes()
    refdeck("import", "--db", str(library), str(path))
    second = capsys.readouterr().out
    assert " 0 added, 0 merged, " in second, second
    assert library.read_bytes() == before


def test_the_whole_sample_folder(library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """990 records from 24 files; the two real entries without title, DOI or author are named."""
    assert refdeck("import", "--db", str(library), str(SAMPLES)) == 1
    out, err = capsys.readouterr()
    assert "Imported 24 files: 990 added, 0 merged, 0 unchanged, 2 failed." in out
    assert "deep-review-references.json:26434: entry 594 (SqhJCztH): has no title" in err
    formats = {s.format for r in RecordStore.open(library).all() for s in r.source}
    assert formats == {
        "aggregator", "bibtex", "ris", "medline", "pubmed_xml", "csl_json",
        "crossref", "openalex", "semantic_scholar",
    }  # fmt: skip


def _malformed_files(folder: Path) -> dict[str, str]:
    """Broken inputs of every kind; returns name -> what the message must say."""
    folder.mkdir()
    seed_json = SEED.read_text().split("\n")[1]
    (folder / "truncated.json").write_text(seed_json[: len(seed_json) // 2])
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (folder / "unclosed.bib").write_text(
        "@article{good2020,\n  title = {A good entry},\n  author = {Smith, Ann},\n  year = 2020\n}\n\n"
        "@article{broken2021,\n  title = {Never closed,\n  year = 2021\n"
    )
    (folder / "dupfield.bib").write_text(
        "@article{twice2019,\n  title = {First title},\n  title = {Second title},\n  year = 2019\n}\n"
    )
    (folder / "binary.bib").write_bytes(bytes(range(256)) * 40)
    ris = "TY  - JOUR\nTI  - Latin-1 café au lait\nAU  - Müller, Jörg\nPY  - 2001\nER  - \n"
    (folder / "latin1.ris").write_bytes(ris.encode("latin-1"))
    (folder / "utf16.ris").write_bytes(
        codecs.BOM_UTF16_LE + ris.replace("Latin-1", "UTF-16").encode("utf-16-le")
    )
    (folder / "bom.ris").write_bytes(codecs.BOM_UTF8 + ris.replace("Latin-1", "BOM").encode())
    (folder / "empty.bib").write_text("")
    return {
        "truncated.json": "invalid JSON",
        "deep.json": "nested",
        "unclosed.bib": "broken2021",
        "binary.bib": "binary",
        "empty.bib": "empty",
    }


def test_malformed_input_is_reported_and_nothing_is_lost(
    library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every broken file is named with a reason; good entries import; old records stay."""
    assert refdeck("import", "--db", str(library), str(SEED)) == 0
    folder = tmp_path / "incoming"
    expected = _malformed_files(folder)
    capsys.readouterr()
    assert refdeck("import", "--db", str(library), str(folder)) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    for name, words in expected.items():
        line = next((line for line in err.splitlines() if name in line), "")
        assert words.lower() in line.lower(), (name, err)
    titles = {record.title for record in RecordStore.open(library).all()}
    assert "Acute lymphoblastic leukemia relapse: biomarkers, hopes, and challenges." in titles
    assert "A good entry" in titles
    assert "First title" in titles  # the duplicated field is saved, with a warning
    assert {"Latin-1 café au lait", "UTF-16 café au lait", "BOM café au lait"} <= titles
    assert "dupfield.bib:1: warning: twice2019: field `title` appears more than once" in err


def test_control_characters_never_reach_the_library(
    library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ESC, C1, NUL and DEL in imported text are removed before anything is stored."""
    bib = tmp_path / "escape.bib"
    bib.write_text(
        "@article{esc2020,\n  title = {Evil \x1b]52;c;aGk=\x07title \x1b[2J\x9b},\n"
        "  author = {Smith\x00, Ann\x7f},\n  abstract = {Line one\x1b]8;;https://evil.example\x07},\n"
        "  year = 2020\n}\n"
    )
    assert refdeck("import", "--db", str(library), str(bib)) == 0
    raw = library.read_bytes().decode()
    for char in ("\x1b", "\x07", "\x9b", "\x00", "\x7f", "\\u001b", "\\u0000"):
        assert char not in raw
    (record,) = RecordStore.open(library).all()
    assert record.title is not None and record.title.startswith("Evil ]52;c;aGk=title [2J")


def test_library_json_is_what_show_prints(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`refdeck show --format json` re-imports to the same record (the refdeck JSON format)."""
    refdeck(
        "import", "--db", str(library), str(SAMPLES / "bibtex" / "zotero-bibtex-import-tests.bib")
    )
    capsys.readouterr()
    refdeck("search", "--db", str(library), "--format", "json")
    exported = capsys.readouterr().out
    copy = library.parent / "export.json"
    copy.write_text(exported)
    other = library.parent / "other.json"
    assert refdeck("import", "--db", str(other), str(copy)) == 0
    originals = {r.id: r for r in RecordStore.open(library).all()}
    for record in RecordStore.open(other).all():
        original = originals[record.id]
        assert (record.title, record.authors, record.doi, record.year) == (
            original.title, original.authors, original.doi, original.year,
        )  # fmt: skip
    assert orjson.loads(exported)[0]["source"]
    assert ROOT.exists()
