"""The config file: its settings checked once, at start, and never fatal."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tui.config import Config, load_config


def write(folder: Path, text: str) -> Path:
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_citation_style_defaults_to_apa(tmp_path: Path) -> None:
    """No setting: APA."""
    config, problems = load_config(write(tmp_path, 'theme = "nord"\n'))
    assert config.citation_style == "apa" == Config().citation_style
    assert problems == []


@pytest.mark.parametrize("name", ["vancouver", "IEEE", " harvard "])
def test_citation_style_by_name(tmp_path: Path, name: str) -> None:
    """A shipped style's name, in any case."""
    config, problems = load_config(write(tmp_path, f'citation_style = "{name}"\n'))
    assert config.citation_style == name.strip().lower()
    assert problems == []


def test_citation_style_by_path_absolute_or_next_to_the_config(tmp_path: Path) -> None:
    """A .csl file by absolute path, or relative to the config file's folder."""
    style = tmp_path / "styles" / "mine.csl"
    style.parent.mkdir()
    style.write_text("<style/>")
    config, problems = load_config(write(tmp_path, f'citation_style = "{style}"\n'))
    assert (config.citation_style, problems) == (str(style), [])
    config, problems = load_config(write(tmp_path, 'citation_style = "styles/mine.csl"\n'))
    assert (config.citation_style, problems) == (str(style), [])


@pytest.mark.parametrize(
    "value",
    ['"harvad"', '"missing.csl"', '"styles"', "3", '""'],
    ids=["typo", "missing-file", "not-a-csl-file", "not-a-string", "empty"],
)
def test_bad_citation_style_is_reported_and_apa_used(tmp_path: Path, value: str) -> None:
    """Anything else: a problem naming the config file, and the default style."""
    (tmp_path / "styles").mkdir()
    path = write(tmp_path, f"citation_style = {value}\n")
    config, problems = load_config(path)
    assert config.citation_style == "apa"
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: ")
    assert "citation_style" in problems[0] and "using apa" in problems[0]


def load_in_a_child(path: Path) -> list[str]:
    """`load_config(path)`'s problems, read in a child process with 20 s and 1 GB at most.

    Before the fix a FIFO blocked the start forever and /dev/zero ate memory until
    MemoryError: the child's limits turn either into a failure, not a stuck test run.
    """

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    code = (
        "import sys, json; from pathlib import Path; from tui.config import load_config; "
        "config, problems = load_config(Path(sys.argv[1])); "
        "assert config == type(config)(); print(json.dumps(problems))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=20,
        preexec_fn=limit_memory,
    )
    assert done.returncode == 0, done.stderr
    problems: list[str] = json.loads(done.stdout)
    return problems


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "huge"])
def test_a_config_that_is_not_a_regular_file_of_config_size_is_refused(
    tmp_path: Path, kind: str
) -> None:
    """A FIFO, a link to /dev/zero, a folder, 2 MB: one problem naming the file; the defaults."""
    path = tmp_path / "config.toml"
    if kind == "fifo":
        os.mkfifo(path)  # nobody writes to it: opening it for reading would wait forever
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_text('theme = "nord"\n' + "#" * (2 << 20) + "\n")
    try:
        problems = load_in_a_child(path)
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading a config that is a {kind} did not end")
    expected = {
        "fifo": "is a named pipe (FIFO), not a regular file",
        "dev-zero": "is a character device (a link to /dev/zero), not a regular file",
        "folder": "is a folder, not a regular file",
        "huge": "is larger than 1 MB, too large for settings",
    }[kind]
    assert problems == [f"{path}: {expected}; using the defaults"]
