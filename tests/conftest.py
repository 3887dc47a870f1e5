"""Shared fixtures: tests never touch the user's real library or config."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tui.library import RecordStore

DATA = Path(__file__).parent / "data"
SEED = DATA / "000_b11f5d7b0448d0c6.txt"
ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "sample_records"


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Point every user directory at a temporary one and forget REFDECK_DB."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("REFDECK_DB", raising=False)
    yield


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A path for a library file that does not exist yet."""
    return tmp_path / "library.json"


def fixed_clock() -> str:
    """A clock for deterministic timestamps."""
    return "2026-01-02T03:04:05Z"


_SAMPLE_LIBRARY: list[Path] = []
"""The sample library, built once per test run (see `sample_store`)."""


def sample_store() -> RecordStore:
    """Every sample record, with fixed timestamps and repository-relative paths.

    Built once, then copied for each caller (a library folder copied as a user
    would, so every test also opens a copied library without rebuilding its index).
    """
    if not _SAMPLE_LIBRARY:
        from tui.formats import iter_files, read_file

        store = RecordStore.in_memory(clock=fixed_clock)
        records, journals = [], {}
        for path in iter_files([SAMPLES], []):
            result = read_file(path, display=str(path.relative_to(ROOT)))
            records.extend(result.records)
            journals.update(result.journals)
        store.upsert(records, journals)
        _SAMPLE_LIBRARY.append(store.path)
        _KEEP.append(store)
    return copied_store(_SAMPLE_LIBRARY[0])


_KEEP: list[RecordStore] = []


def copied_store(library: Path) -> RecordStore:
    """A temporary copy of a library and its index (as `cp -r` would make)."""
    folder = tempfile.TemporaryDirectory(prefix="refdeck-test-")
    target = Path(folder.name) / library.name
    for source in (library, library.with_name(library.name + ".index")):
        shutil.copyfile(source, Path(folder.name) / source.name)
    return RecordStore(target, clock=fixed_clock, temporary=folder)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount small file systems (tmpfs) for disk-full tests: `small_disk("4m")` gives a
    folder on a fresh one of that size (options: "4m,nr_inodes=20"). Skips, saying why,
    where the test may not mount (not root, no mount namespace)."""
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={options}", "refdeck-test", str(point)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(
                f"cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}"
            )
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the file system of `folder` until only about `leave` bytes are free."""
    free = shutil.disk_usage(folder).free - leave
    with open(folder / "filler", "wb") as handle:
        chunk = b"\0" * (1 << 16)
        while free > 0:
            try:
                handle.write(chunk[: min(len(chunk), free)])
                handle.flush()
            except OSError:
                break
            free -= len(chunk)
