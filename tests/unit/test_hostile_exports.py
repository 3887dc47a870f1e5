"""Exports to what is not an ordinary file: FIFOs, devices, standard output, process
substitutions, names too long for the file system, folders that may not be entered.

None of these tests names the machine's own `/dev/null` or `/dev/stdout` as the target:
before the fix, `--force` as root renamed a regular file over whatever was at the path,
and a failing test must not break the machine it runs on. A device node made in the
test's folder, and links to the real ones, show the same thing safely.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SEED
from tests.unit.test_cli import refdeck
from tests.unit.test_store import _as_nobody
from tui.export import ExportError

SEED_KEY = "@article{adomako2025acute,"


@pytest.fixture
def seeded(library: Path) -> Path:
    """A library holding the seed record."""
    assert refdeck("import", "--db", str(library), str(SEED)) == 0
    return library


def export(library: Path, target: Path | str, *extra: str) -> int:
    return refdeck("export", "--db", str(library), "-o", str(target), *extra)


def null_device(folder: Path) -> Path:
    """A character device like /dev/null (major 1, minor 3), made in `folder`."""
    node = folder / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        os.close(os.open(node, os.O_WRONLY))  # a folder mounted nodev refuses to open it
    except OSError as error:
        pytest.skip(f"cannot make a device node here: {error}")
    return node


def test_force_writes_into_a_fifo_with_a_reader_and_never_replaces_it(
    seeded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A FIFO someone reads gets the export streamed into it; it stays a FIFO."""
    fifo = tmp_path / "pipe.bib"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the reader, there before the export
    try:
        capsys.readouterr()
        assert export(seeded, fifo, "--force") == 0
        assert capsys.readouterr().err == f"Exported 1 record to {fifo}\n"
        received = os.read(reader, 1 << 20).decode()
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert received.startswith(SEED_KEY)


def test_a_fifo_nobody_reads_is_refused_at_once(
    seeded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No reader: a clear refusal without waiting (and without a question), never a file."""
    fifo = tmp_path / "pipe.bib"
    os.mkfifo(fifo)
    capsys.readouterr()
    started = time.monotonic()
    assert export(seeded, fifo) == 1
    assert time.monotonic() - started < 10
    assert "it is a FIFO (named pipe) that no program is reading" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_force_writes_into_a_device_and_links_to_one_and_never_replaces_them(
    seeded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A character device, and links to /dev/null and /dev/stdout: written into, kept."""
    device = null_device(tmp_path)
    to_null = tmp_path / "null.bib"
    to_null.symlink_to("/dev/null")
    for target in (device, to_null):
        assert export(seeded, target, "--force") == 0, capsys.readouterr().err
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert os.readlink(to_null) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    # No --force, and no question: writing into a device replaces nothing.
    assert export(seeded, device) == 0
    assert {p.name for p in tmp_path.iterdir() if not p.name.startswith("library.json")} == {
        "null",
        "null.bib",
    }


def run_refdeck(*args: str) -> subprocess.CompletedProcess[bytes]:
    """`python -m tui ARGS` in a child process whose standard output is a pipe."""
    command = [sys.executable, "-m", "tui", *args]
    return subprocess.run(command, capture_output=True, timeout=120, check=False)


def test_standard_output_and_links_to_it_are_written_into(seeded: Path, tmp_path: Path) -> None:
    """`/proc/self/fd/1`, and links to it and to /dev/stdout: the export comes out on
    standard output (here a pipe), and the links stay links."""
    to_fd = tmp_path / "out.bib"
    to_fd.symlink_to("/proc/self/fd/1")
    to_stdout = tmp_path / "stdout.bib"
    to_stdout.symlink_to("/dev/stdout")
    for target in ("/proc/self/fd/1", str(to_fd), str(to_stdout)):
        done = run_refdeck("export", "--db", str(seeded), "--force", "-o", target)
        assert done.returncode == 0, done.stderr
        assert done.stdout.decode().startswith(SEED_KEY), target
        assert done.stderr.decode() == f"Exported 1 record to {target}\n"
    assert os.readlink(to_fd) == "/proc/self/fd/1"
    assert os.readlink(to_stdout) == "/dev/stdout"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash for a process substitution")
def test_a_process_substitution_gets_the_export(seeded: Path, tmp_path: Path) -> None:
    """`refdeck export -o >(cat > out.bib)`: the text reaches the program, no "folder
    disappeared"."""
    out = tmp_path / "out.bib"
    script = '"$0" -m tui export --db "$1" --force -o >(cat > "$2"); code=$?; wait $!; exit $code'
    done = subprocess.run(
        ["bash", "-c", script, sys.executable, str(seeded), str(out)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert b"disappeared" not in done.stderr
    for _ in range(100):  # `wait $!` needs bash 5.1; older ones return before cat ends
        if out.exists() and out.read_text().endswith("}\n"):
            break
        time.sleep(0.05)
    assert out.read_text().startswith(SEED_KEY)


def test_a_name_too_long_is_a_message_naming_the_path(
    seeded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """86 CJK characters (258 bytes) in one name: exit 1 with the reason, no traceback;
    an escape sequence in the name is shown escaped, never sent to the terminal."""
    target = tmp_path / ("文" * 86 + "\x1b[31m.bib")
    capsys.readouterr()
    assert export(seeded, target, "--force") == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err
    assert str(tmp_path / ("文" * 86 + "\\x1b[31m.bib")) in err
    assert "the file name is too long: one part of it is 267 bytes" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in tmp_path.glob("library.json*")
    )


def test_writing_a_name_too_long_is_an_export_error(tmp_path: Path) -> None:
    """The writer says the same when called directly (the browser's worker calls it)."""
    from tui.export.files import existing, problem_with, write_export

    target = tmp_path / ("文" * 86 + ".bib")
    assert "too long" in (problem_with(target) or "")
    assert existing(target) == "nothing"
    with pytest.raises(ExportError, match="too long"):
        write_export(target, "x", overwrite=True)
    deep = tmp_path.joinpath(*["d" * 200] * 25, "refs.bib")
    assert "the path is too long" in (problem_with(deep) or "")


@pytest.fixture
def locked_folder() -> Iterator[Path]:
    """/tmp/refdeck-locked-*/locked/sub: `locked` may be entered by its owner (root) only."""
    top = Path(tempfile.mkdtemp(prefix="refdeck-locked-", dir="/tmp"))
    top.chmod(0o777)  # outside pytest's private folder, so that an ordinary user reaches it
    (top / "locked" / "sub").mkdir(parents=True)
    (top / "locked").chmod(0o700 if os.geteuid() == 0 else 0o000)
    try:
        yield top / "locked" / "sub"
    finally:
        (top / "locked").chmod(0o700)
        shutil.rmtree(top)


def test_a_folder_that_may_not_be_entered_is_a_message(locked_folder: Path) -> None:
    """EACCES on a parent folder (as an ordinary user: root may enter any folder): the
    folder is named, the CLI exits 1 without a traceback, nothing is written."""
    import contextlib
    import io

    from tui.cli import run
    from tui.export.files import problem_with, write_export

    target = locked_folder / "refs.bib"

    def attempt() -> list[object]:
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = run(["export", "--db", "/nonexistent/library.json", "-o", str(target)])
        try:
            write_export(target, "x", overwrite=True)
            written = "written"
        except ExportError as error:
            written = str(error)
        return [problem_with(target), code, err.getvalue(), written]

    outcome = _as_nobody(attempt) if os.geteuid() == 0 else attempt()
    assert isinstance(outcome, list), outcome
    problem, code, err, written = outcome
    expected = (
        f"cannot export to {target}: permission denied "
        f"(the folder {locked_folder.parent} may not be entered); nothing was written"
    )
    assert problem == expected
    assert (code, err) == (1, f"refdeck: {expected}\n")
    assert written == expected
    (locked_folder.parent).chmod(0o700)
    assert list(locked_folder.iterdir()) == []


def test_the_browser_refuses_a_terminal_and_the_command_line_writes_to_it(
    tmp_path: Path,
) -> None:
    """The browser draws on its terminal: exporting into a terminal is refused there; on
    the command line a terminal is written into like any device."""
    from tui.export.files import problem_with, write_export

    controller, terminal = os.openpty()
    try:
        name = Path(os.ttyname(terminal))
        assert "it is a terminal, which the browser draws on" in (
            problem_with(name, terminal_ok=False) or ""
        )
        with pytest.raises(ExportError, match="it is a terminal"):
            write_export(name, "@article{x,}\n", terminal_ok=False)
        assert problem_with(name) is None
        write_export(name, "@article{x,}\n")
        assert os.read(controller, 100).startswith(b"@article{x,}")
        assert stat.S_ISCHR(os.stat(name).st_mode)
    finally:
        os.close(terminal)
        os.close(controller)


def test_a_block_device_or_a_socket_is_refused(tmp_path: Path) -> None:
    """What can be neither replaced nor sensibly written into is refused, left as it is."""
    import socket

    from tui.export.files import write_export

    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(ExportError, match="it is a socket, not a file"):
            write_export(path, "x", overwrite=True)
    finally:
        server.close()
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
    disk = tmp_path / "disk"
    try:
        os.mknod(disk, stat.S_IFBLK | 0o600, os.makedev(7, 250))  # a loop device, never opened
    except OSError as error:
        pytest.skip(f"cannot make a device node here: {error}")
    with pytest.raises(ExportError, match=r"it is a block device \(a disk or partition\)"):
        write_export(disk, "x", overwrite=True)
    assert stat.S_ISBLK(os.lstat(disk).st_mode)
