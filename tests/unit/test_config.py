"""The config file: its settings checked once, at start, and never fatal."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tui.bindings import ALL_BINDINGS, check_keymap
from tui.config import Config, load_config

BY_ID = {b.id: b for bindings in ALL_BINDINGS.values() for b in bindings if b.id}


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


def test_every_default_binding_passes_the_keys_check() -> None:
    """The shipped keys, written out in [keys], are all accepted: no default clashes."""
    defaults = {b.id: b.key for bindings in ALL_BINDINGS.values() for b in bindings if b.id}
    assert check_keymap(defaults) == (defaults, [])


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ('mark-all = "ctrl+q"', "ctrl+q is reserved: it quits refdeck"),
        ('search = "x,ctrl+c"', "ctrl+c is reserved"),
        ('export = "ctrl+i"', "ctrl+i (that is tab) is reserved"),
        ('detail-export = "ctrl+p"', "ctrl+p is reserved: it opens the command palette"),
        ('toggle-mark = "notakey+++"', "'notakey+++' is not a key"),
        ('copy-doi = "a,,b"', "'' is not a key"),
        ('reverse-sort = "alt+alt+s"', "'alt+alt+s' is not a key"),
        ('cycle-sort = "hyperspace+o"', "'hyperspace+o' is not a key"),
        ('cycle-sort = "j"', "j is also the key of cursor-down in the record list"),
        (
            'clear-marks = "question_mark"',
            "question_mark is also the key of help in the record list",
        ),
        ('next-record = "d"', "d is also the key of toggle-description in the detail screen"),
        ('confirm-yes = "escape"', "escape is also the key of confirm-no in the question"),
    ],
)
def test_a_keys_entry_that_cannot_work_is_refused_and_its_default_kept(
    tmp_path: Path, entry: str, reason: str
) -> None:
    """A key that is no key, a reserved key, a key another binding has where it works."""
    config, problems = load_config(write(tmp_path, f"[keys]\n{entry}\n"))
    accepted, refused = check_keymap(config.keys)
    binding_id, value = (part.strip().strip('"') for part in entry.split("="))
    assert accepted == {}
    (problem,) = refused
    assert problem.startswith(f"keys.{binding_id} = {value!r}: {reason}")
    assert problem.endswith(f"; it keeps its default keys ({BY_ID[binding_id].key})")


def test_keys_may_move_when_the_key_they_take_is_freed_and_stay_on_their_own_keys() -> None:
    """j for search is fine once cursor-down moves off it; quit may keep ctrl+q and add x."""
    keymap = {"cursor-down": "down", "search": "j", "quit": "ctrl+q,x", "help": "?,f2"}
    assert check_keymap(keymap) == (keymap, [])
    # Two entries taking one key: the first keeps it, the second is refused.
    accepted, refused = check_keymap({"cycle-sort": "o", "reverse-sort": "o"})
    assert accepted == {"cycle-sort": "o"}
    assert refused == [
        "keys.reverse-sort = 'o': o is also the key of cycle-sort in the record list; "
        "it keeps its default keys (S)"
    ]
    # Refusing one entry can give a key back to its default owner: that clash is caught too.
    accepted, refused = check_keymap({"cursor-down": "ctrl+q", "search": "j"})
    assert accepted == {} and len(refused) == 2


def test_an_unknown_binding_id_is_named() -> None:
    """A typo in a binding id: said, and ignored."""
    assert check_keymap({"open-recrod": "o"}) == (
        {},
        ["keys.open-recrod: no key binding has this id (refdeck --bindings lists them); ignored"],
    )
