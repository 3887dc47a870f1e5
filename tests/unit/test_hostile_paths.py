"""File names as they come from other systems: bytes that are not UTF-8, newlines, escapes."""

from __future__ import annotations

import io
import os
from pathlib import Path

import orjson
import pytest
from rich.cells import cell_len

from tests.unit.test_cli import refdeck
from tui.cli import Progress
from tui.paths import path_text

RIS = "TY  - JOUR\nTI  - {title}\nDO  - 10.5555/hostile.{n}\nER  - \n"


def name(raw: bytes) -> str:
    """A file name from its bytes, as Python sees it on Linux (bad bytes as surrogates)."""
    return os.fsdecode(raw)


@pytest.fixture
def windows_zip(tmp_path: Path) -> Path:
    """A folder unpacked from a Windows zip: a Latin-1 name, a GBK name, and a UTF-8 one."""
    folder = tmp_path / "unzipped"
    folder.mkdir()
    (folder / "good.ris").write_text(RIS.format(title="Good paper", n=1))
    (folder / name(b"caf\xe9.ris")).write_text(RIS.format(title="Latin-1 named paper", n=2))
    (folder / name(b"\xd6\xd0\xce\xc4.ris")).write_text("not a bibliography")  # GBK for 中文
    (folder / "二月.ris").write_text(RIS.format(title="UTF-8 named paper", n=3))
    return folder


def test_path_text_shows_bad_bytes_and_controls_as_escapes() -> None:
    """Bytes that are not UTF-8 become \\xNN, controls and newlines escapes; text stays as is."""
    assert path_text(name(b"caf\xe9.ris")) == "caf\\xe9.ris"
    assert path_text(b"caf\xe9.ris") == "caf\\xe9.ris"
    assert path_text(Path(name(b"/in/\xd6\xd0.bib"))) == "/in/\\xd6\\xd0.bib"
    assert path_text("two\nlines.ris") == "two\\nlines.ris"
    assert path_text("a\x1b]52;c;eA==\x07.ris") == "a\\x1b]52;c;eA==\\x07.ris"
    assert path_text("\u202egnp.ris") == "\\u202egnp.ris"
    assert path_text("論文 一覧\u3000v2.ris") == "論文 一覧\u3000v2.ris"
    for raw in (name(b"caf\xe9\n.ris"), "\x9b\x00x"):
        shown = path_text(raw)
        assert shown.isprintable() and path_text(shown) == shown
        shown.encode("utf-8")  # never raises: JSON, SQLite and the terminal take it


def test_names_that_are_not_utf8_do_not_stop_the_import(
    windows_zip: Path, library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The good files import, the bad one is reported by its escaped name, nothing crashes."""
    capsys.readouterr()
    assert refdeck("import", "--db", str(library), str(windows_zip)) == 1
    out, err = capsys.readouterr()  # pytest's capture is strict UTF-8, like a UTF-8 terminal
    assert "4 files: 3 added" in out and "1 failed" in out
    assert f"{windows_zip}/\\xd6\\xd0\\xce\\xc4.ris: is not in a format" in err
    assert refdeck("search", "--db", str(library), "--format", "json") == 0
    sources = {r["title"]: r["source"][0]["file"] for r in orjson.loads(capsys.readouterr().out)}
    assert sources == {
        "Good paper": f"{windows_zip}/good.ris",
        "Latin-1 named paper": f"{windows_zip}/caf\\xe9.ris",
        "UTF-8 named paper": f"{windows_zip}/二月.ris",
    }


def test_browsing_names_that_are_not_utf8_lists_the_records(
    windows_zip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`refdeck PATH --list` over the same folder prints the three records and the one problem."""
    capsys.readouterr()
    latin1 = windows_zip / name(b"caf\xe9.ris")
    assert refdeck(str(windows_zip), str(latin1), "--list") == 0
    out, err = capsys.readouterr()
    assert "Good paper" in out and "Latin-1 named paper" in out and "UTF-8 named paper" in out
    assert "\\xd6\\xd0\\xce\\xc4.ris: is not in a format" in err


def test_a_newline_in_a_file_name_does_not_split_its_message(
    tmp_path: Path, library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`file:line: reason` stays one line when the name holds a newline or an escape sequence."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "two\nlines.ris").write_text("TY  - JOUR\nER  - \n")  # a record with nothing in it
    (folder / "esc\x1b[2J.ris").write_text("")
    capsys.readouterr()
    assert refdeck("import", "--db", str(library), str(folder)) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"{folder}/esc\\x1b[2J.ris: is empty",
        f"{folder}/two\\nlines.ris:1: record 1: has no title, DOI or author; not imported",
    ]


class Terminal(io.StringIO):
    """A stream that says it is a terminal (the progress bar draws only on one)."""

    def isatty(self) -> bool:
        return True


def test_the_progress_line_fits_80_columns_with_a_cjk_file_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 60-character CJK name (120 cells) is cut by cells: no drawn line reaches column 80."""
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=0: os.terminal_size((80, 24)))
    cjk = "量子化学計算による有機半導体材料の電子構造解析と分子設計に関する研究報告書第三版" * 2
    long_name = cjk[:57] + ".ris"
    assert len(long_name) == 61 and cell_len(long_name) == 118
    screen = Terminal()
    progress = Progress(screen)
    progress.start(1000)
    progress.started -= 5
    progress.advance(500, 1234, long_name)
    progress.advance(900, 2345, name(b"\xd6\xd0\xce\xc4") + long_name)
    progress.note(f"Reading {long_name} (210 MB)…")
    progress.close()
    drawn = [line for line in screen.getvalue().split("\r") if line]
    assert len(drawn) == 4
    assert all(cell_len(line) == 79 for line in drawn)  # the last column would wrap in some
    assert "…" in drawn[0] and "2,345 records  \\xd6\\xd0\\xce\\xc4量子化学" in drawn[1]
    screen.getvalue().encode("utf-8")
