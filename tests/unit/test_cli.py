"""The command line, run in-process as a user would type it."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from rich.cells import cell_len

from tests.conftest import SAMPLES, SEED
from tui.cli import Progress, run

SEED_DOI = "10.1016/j.molmed.2025.04.005"


def refdeck(*args: str) -> int:
    """Run `refdeck ARGS` in-process and return its exit code (argparse exits too)."""
    try:
        return run(list(args))
    except SystemExit as exit_:
        return int(exit_.code or 0)


@pytest.fixture
def seeded(library: Path) -> Path:
    """A library holding the seed record."""
    assert refdeck("import", "--db", str(library), str(SEED)) == 0
    return library


def test_seed_imports_as_one_record_with_its_metrics(
    seeded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The seed's JSON output has the DOI, five authors, year, counts, IF, quartile, clean abstract."""
    capsys.readouterr()
    assert refdeck("search", "--db", str(seeded), "--format", "json") == 0
    (record,) = orjson.loads(capsys.readouterr().out)
    assert record["doi"] == SEED_DOI
    assert len(record["authors"]) == 5
    assert record["authors"][0] == "Joseph Adomako"
    assert record["year"] == 2025
    assert record["citation_count"] == 0
    assert record["impact_factor"] == 12.8
    assert record["jcr_quartile"] == "Q1"
    assert record["jcr_category"] == "BIOCHEMISTRY & MOLECULAR BIOLOGY"
    assert record["abstract"].startswith("Acute lymphoblastic leukemia (ALL) is a rare disease")
    assert "<" not in record["abstract"] and ">" not in record["abstract"]
    assert record["volume"] is None
    assert record["source"][0]["format"] == "aggregator"


def test_import_summary_and_idempotence(library: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The summary counts added, then unchanged on the second run."""
    assert refdeck("import", "--db", str(library), str(SEED)) == 0
    assert "1 added, 0 merged, 0 unchanged, 0 failed" in capsys.readouterr().out
    assert refdeck("import", "--db", str(library), str(SEED)) == 0
    assert "0 added, 0 merged, 1 unchanged, 0 failed" in capsys.readouterr().out


def test_failures_are_located_and_good_records_still_import(
    library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad file next to a good one: exit 1, `file:line: reason`, the good record is in."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_bytes(SEED.read_bytes())
    bad = SEED.read_text().replace('"doi":"10.1016', '"doi":"10.5555/other","x":"10.1016')
    truncated = bad.split("\n")
    truncated[1] = truncated[1][:200]
    (folder / "bad.txt").write_text("\n".join(truncated))
    (folder / "empty.bib").write_text("")
    assert refdeck("import", "--db", str(library), str(folder)) == 1
    out, err = capsys.readouterr()
    assert "1 added" in out and "2 failed" in out
    assert f"{folder / 'bad.txt'}:2:" in err and "not valid JSON" in err
    assert f"{folder / 'empty.bib'}: is empty" in err
    assert "Traceback" not in err


def test_binary_and_missing_files_are_reported(
    library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A binary file and a missing path: clear messages, exit 1, no traceback."""
    binary = tmp_path / "photo.dat"
    binary.write_bytes(bytes(range(256)) * 10)
    assert refdeck("import", "--db", str(library), str(binary), str(tmp_path / "nope.bib")) == 1
    err = capsys.readouterr().err
    assert f"{binary}: is a binary file" in err
    assert "nope.bib: does not exist" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown options and a missing import path are usage errors."""
    assert refdeck("import") == 2
    assert refdeck("search", "--format", "xml") == 2
    assert refdeck("search", "year:abc") == 2
    assert "bad query" in capsys.readouterr().err


def test_invalid_library_is_refused_and_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that is not a refdeck library: exit 3, a message naming it, bytes unchanged."""
    other = tmp_path / "notes.json"
    other.write_text('{"_default": {"1": {"note": "mine"}}}')
    before = other.read_bytes()
    assert refdeck("import", "--db", str(other), str(SEED)) == 3
    assert f"{other} is not a refdeck library" in capsys.readouterr().err
    assert other.read_bytes() == before


def test_search_formats(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """table, jsonl and doi formats; queries with fields and exclusions."""
    capsys.readouterr()
    assert refdeck("search", "--db", str(seeded), "--format", "doi", "a:adomako", "year:2025") == 0
    assert capsys.readouterr().out == SEED_DOI + "\n"
    assert refdeck("search", "--db", str(seeded), "--format", "jsonl", "leukemia") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and orjson.loads(lines[0])["id"] == "adomako2025acute"
    assert refdeck("search", "--db", str(seeded), "leukemia", "-relapse") == 1
    assert refdeck("search", "--db", str(seeded), "-mouse", "--format", "doi", "leukemia") == 0
    assert capsys.readouterr().out.endswith(SEED_DOI + "\n")
    assert refdeck("search", "--db", str(seeded), "--bogus") == 2
    assert refdeck("search", "--db", str(seeded), "nunez") == 0
    assert "adomako2025acute  2025  Adomako et al." in capsys.readouterr().out


def test_show_by_id_or_doi(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """show finds a record by id or any spelling of its DOI, as text or JSON."""
    capsys.readouterr()
    assert refdeck("show", "--db", str(seeded), f"https://doi.org/{SEED_DOI.upper()}") == 0
    text = capsys.readouterr().out
    assert text.startswith("Acute lymphoblastic leukemia relapse")
    assert "IF 12.8 Q1 (BIOCHEMISTRY & MOLECULAR BIOLOGY)" in text
    assert "About Trends in molecular medicine" in text
    assert refdeck("show", "--db", str(seeded), "adomako2025acute", "--format", "json") == 0
    assert orjson.loads(capsys.readouterr().out)["doi"] == SEED_DOI
    assert refdeck("show", "--db", str(seeded), "missing") == 1


def test_doi_of_best_match(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """doi prints the best match's DOI, exit 1 when nothing matches."""
    capsys.readouterr()
    assert refdeck("doi", "--db", str(seeded), "leukemia", "biomarkers") == 0
    assert capsys.readouterr().out == SEED_DOI + "\n"
    assert refdeck("doi", "--db", str(seeded), "zebrafish") == 1
    assert "no record matches" in capsys.readouterr().err


def test_stats(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Counts by year, journal and format."""
    capsys.readouterr()
    assert refdeck("stats", "--db", str(seeded), "--format", "json") == 0
    stats = orjson.loads(capsys.readouterr().out)
    assert stats["records"] == 1
    assert stats["by_year"] == {"2025": 1}
    assert stats["by_format"] == {"aggregator": 1}
    assert stats["by_journal"] == {"Trends in molecular medicine": 1}
    assert refdeck("stats", "--db", str(seeded)) == 0
    assert "By year" in capsys.readouterr().out


def test_refdeck_db_environment_variable(
    library: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """REFDECK_DB names the library like --db does."""
    monkeypatch.setenv("REFDECK_DB", str(library))
    assert refdeck("import", str(SEED)) == 0
    assert library.exists()
    assert refdeck("doi", "leukemia") == 0


def test_browsing_files_never_touches_the_users_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`refdeck PATH` without a named library uses memory: no library file appears."""
    from tui.library import default_library_path

    assert refdeck(str(SEED)) == 0
    assert "adomako2025acute" in capsys.readouterr().out
    assert not default_library_path().exists()


def test_browsing_files_with_a_named_library_imports_them(
    library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`refdeck --db LIB PATH` imports PATH into LIB first."""
    assert refdeck("--db", str(library), str(SEED)) == 0
    assert library.exists()


def test_progress_bar_only_on_a_terminal() -> None:
    """Piped output gets no progress bar; a terminal gets one for long imports."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    piped = io.StringIO()
    progress = Progress(piped)
    progress.start(1000)
    progress.started -= 5
    progress.advance(500, 10, "a.bib")
    assert piped.getvalue() == ""
    tty = Tty()
    progress = Progress(tty)
    progress.start(1000)
    progress.started -= 5
    progress.advance(500, 10, "a.bib")
    progress.note("Reading big.ris (200 MB)…")
    progress.close()
    assert "50.0%" in tty.getvalue() and "10 records" in tty.getvalue()
    assert "Reading big.ris (200 MB)…" in tty.getvalue()
    Progress(piped).note("Reading big.ris (200 MB)…")
    assert piped.getvalue() == ""


def test_console_entry_points(library: Path) -> None:
    """`python -m tui` runs the same program as the `refdeck` script."""
    done = subprocess.run(
        [sys.executable, "-m", "tui", "import", "--db", str(library), str(SEED)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "1 added" in done.stdout
    version = subprocess.run(
        [sys.executable, "-m", "tui", "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.stdout.startswith("refdeck ")


# ---------------------------------------------------------------------------
# refdeck export


@pytest.fixture
def samples_library(library: Path) -> Path:
    """A library holding every sample record."""
    assert refdeck("import", "--db", str(library), str(SAMPLES)) == 1  # two real bad entries
    return library


def test_export_to_stdout_is_bibtex_of_the_matches(
    samples_library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --output: the entries go to standard output, and `-word` still excludes."""
    capsys.readouterr()
    assert refdeck("export", "--db", str(samples_library), "leukemia") == 0
    with_all = capsys.readouterr().out
    assert refdeck("export", "--db", str(samples_library), "leukemia", "-relapse") == 0
    without = capsys.readouterr().out
    assert "@article{adomako2025acute," in with_all
    assert SEED_DOI in with_all and SEED_DOI not in without
    assert with_all.count("\n@") == without.count("\n@") + 1


def test_export_every_format_to_a_file(
    samples_library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`-o FILE` writes the file, reports the count, and the file re-imports."""
    from tui.formats import parse_text

    for format, name in (("bibtex", "r.bib"), ("ris", "r.ris"), ("csl-json", "r.json")):
        target = tmp_path / name
        code = refdeck(
            "export",
            "--db",
            str(samples_library),
            "--format",
            format,
            "-o",
            str(target),
            "a:adomako",
        )
        assert code == 0
        assert capsys.readouterr().err == f"Exported 1 record to {target}\n"
        (record,) = parse_text(target.read_text(encoding="utf-8"), name).records
        assert record.doi == SEED_DOI
    assert refdeck("export", "--db", str(samples_library), "--format", "csv") == 0
    assert capsys.readouterr().out.count("\r\n") == 991  # a header and 990 records


def test_export_citations_in_a_style(
    samples_library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = refdeck(
        "export", "--db", str(samples_library), "--format", "text", "--style", "vancouver", SEED_DOI
    )
    assert code == 0
    assert capsys.readouterr().out.startswith("1. Adomako J, Jiménez-Camacho KE, Correa-Lara MVM")
    assert (
        refdeck("export", "--db", str(samples_library), "--format", "text", "--style", "mla") == 1
    )
    assert "unknown citation style 'mla'" in capsys.readouterr().err


def test_export_never_overwrites_without_being_told(
    samples_library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An existing file is kept unless --force (stdin is not a terminal here, so no prompt)."""
    target = tmp_path / "refs.bib"
    target.write_text("my own work\n")
    args = ("export", "--db", str(samples_library), "-o", str(target), "leukemia")
    assert refdeck(*args) == 1
    assert "exists; nothing written (--force overwrites)" in capsys.readouterr().err
    assert target.read_text() == "my own work\n"
    assert refdeck(*args, "--force") == 0
    assert target.read_text().startswith("@")


def test_export_to_a_missing_folder_or_a_folder_says_so(
    samples_library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    missing = tmp_path / "no" / "such" / "refs.bib"
    assert refdeck("export", "--db", str(samples_library), "-o", str(missing)) == 1
    assert f"the folder {missing.parent} does not exist" in capsys.readouterr().err
    assert refdeck("export", "--db", str(samples_library), "-o", str(tmp_path)) == 1
    assert "is a folder; give a file name" in capsys.readouterr().err
    assert not [p for p in tmp_path.rglob("*") if not p.name.startswith("library.json")]


def test_export_with_no_match_writes_nothing(
    samples_library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "refs.bib"
    assert refdeck("export", "--db", str(samples_library), "-o", str(target), "zzzqqq") == 1
    assert "no record matches; nothing exported" in capsys.readouterr().err
    assert not target.exists()


def test_commands_answer_from_the_index_and_read_only_what_they_print(
    library: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """search, doi, stats and show never read the whole library: streaming every record or
    parsing the file raises, and the records read one at a time are only those printed."""
    import tui.library.layout
    import tui.library.snapshot
    import tui.library.store
    import tui.library.tinydb_file

    assert refdeck("import", "--db", str(library), str(SAMPLES)) == 1  # two entries fail
    capsys.readouterr()

    def whole(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole library was read")

    monkeypatch.setattr(tui.library.store, "scan", whole)
    monkeypatch.setattr(tui.library.layout, "scan", whole)
    monkeypatch.setattr(tui.library.tinydb_file, "read_whole", whole)
    reads: list[str] = []
    real = tui.library.snapshot.read_record

    def counted(fd: int, offset: int, length: int, expect_id: str) -> dict[str, object]:
        reads.append(expect_id)
        return real(fd, offset, length, expect_id)

    monkeypatch.setattr(tui.library.snapshot, "read_record", counted)
    db = ("--db", str(library))
    for args in (
        ("search", *db, "leukemia"),
        ("search", *db, "--format", "doi", "a:adomako", "year:2025"),
        ("search", *db),
        ("doi", *db, "adomako", "relapse"),
        ("stats", *db),
        ("stats", *db, "--format", "json"),
    ):
        assert refdeck(*args) == 0, args
        assert reads == [], args
    assert capsys.readouterr().out.count(SEED_DOI) == 2
    assert refdeck("show", *db, SEED_DOI) == 0
    assert reads == ["adomako2025acute"]
    assert refdeck("search", *db, "--format", "json", "a:adomako") == 0
    assert reads == ["adomako2025acute"] * 2


def test_reading_commands_create_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """search, doi, show, stats, export and restore on a library that is not there: they say
    so and create no folder, lock or index (a typo in --db leaves no litter)."""
    missing = tmp_path / "typo" / "deep" / "path" / "lib.json"
    db = ("--db", str(missing))
    for args in (
        ("search", *db, "foo"),
        ("doi", *db, "foo"),
        ("show", *db, "x"),
        ("stats", *db),
        ("export", *db),
    ):
        assert refdeck(*args) == 3, args
        assert "there is no library at" in capsys.readouterr().err, args
    assert refdeck("restore", *db) == 0
    assert list(tmp_path.iterdir()) == []


def test_no_library_yet_in_the_default_place_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With HOME pointing somewhere empty (or unset), `refdeck stats` makes no data folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert refdeck("stats") == 3
    assert "there is no library at" in capsys.readouterr().err
    assert list(home.iterdir()) == []
    monkeypatch.delenv("HOME")
    assert refdeck("stats") == 3


def test_the_table_fits_its_width_in_cells_with_cjk_titles(
    library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CJK titles, authors and journals are cut and padded by cells: the columns stay aligned."""
    ris = tmp_path / "cjk.ris"
    title = "量子化学計算による有機半導体材料の電子構造解析と分子設計に関する研究報告書"
    ris.write_text(
        f"TY  - JOUR\nTI  - {title * 2}\nAU  - 宮地, 元彦\nJO  - 日本化学会誌材料編\n"
        "PY  - 2021\nER  - \n"
        "TY  - JOUR\nTI  - A plain title\nAU  - Smith, Jo\nJO  - Plain Journal\nPY  - 2020\n"
        "ER  - \n",
        encoding="utf-8",
    )
    assert refdeck("import", "--db", str(library), str(ris)) == 0
    capsys.readouterr()
    assert refdeck("search", "--db", str(library)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert all(cell_len(line) <= 120 for line in lines)
    # The journal column starts at the same cell on both lines.
    cjk, plain = sorted(lines, key=lambda line: "Plain" in line)
    assert "…" in cjk
    assert cell_len(cjk[: cjk.index("日本化学会誌")]) == cell_len(plain[: plain.index("Plain J")])
