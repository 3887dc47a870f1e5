"""`refdeck import` in a real terminal: what its progress bar leaves on the screen."""

from __future__ import annotations

import shlex
from pathlib import Path

from tests.terminal.test_browser_in_tmux import refdeck_command
from tests.terminal.tmux import TmuxTerminal

CJK = "量子化学計算による有機半導体材料の電子構造解析と分子設計に関する研究報告書第三版"


def test_the_progress_bar_of_cjk_file_names_stays_on_one_line_at_80_columns(
    terminal: TmuxTerminal, tmp_path: Path
) -> None:
    """Files with 60-character CJK names (120 cells) redraw the bar in place; nothing is left."""
    folder = tmp_path / "papers"
    folder.mkdir()
    for file in range(40):  # long enough for the bar (it waits 0.3 s), redrawn 40 times
        records = "".join(
            f"TY  - JOUR\nTI  - Paper {file}-{n}\nDO  - 10.5555/tmux.{file}.{n}\nER  - \n"
            for n in range(400)
        )
        (folder / f"{file:02d}{CJK[:54]}.ris").write_text(records, encoding="utf-8")
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    library = tmp_path / "library.json"
    command = shlex.join(refdeck_command("import", "--db", str(library), str(folder)))
    # refdeck waits for a line on its input, so the recording of the pane's output
    # has begun before it draws anything, however slow the machine.
    terminal.start(["sh", "-c", f"read -r _; exec {command}"], env=env)
    terminal.record_output(tmp_path / "output")
    terminal.keys("Enter")
    # The scrollback too: the summary may scroll off when the pane dies (see `screen`),
    # and a bar that wrapped would have left its rows there.
    screen = terminal.wait(r"Imported 40 files: 16000 added", timeout=120, history=True)
    assert "█" not in screen and "░" not in screen, screen  # no wrapped redraw left behind
    assert screen.strip().startswith("Imported 40 files"), screen
    drawn = (tmp_path / "output").read_text(encoding="utf-8")
    assert drawn.count("records  ") > 5 and "量子化学計算" in drawn  # the bar was drawn, in place
