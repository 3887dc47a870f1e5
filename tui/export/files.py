"""Writing an export to the path the user chose, and nowhere else.

The path is the user's: it is not rewritten or confined to a folder. What
refdeck guarantees is that it writes that one file, atomically (a temporary
file in the same folder, renamed over the target), that it never overwrites
without being told to, and that a symlink at the path is replaced rather than
followed, so an export cannot write through a link into another file.

What is at the path decides how it is written. Nothing, a regular file, or a
link to one (or a dangling link): the atomic write above. A FIFO or a
character device (`/dev/null`, a terminal, `/dev/stdout`, a process
substitution such as `>(gzip > refs.bib.gz)`), itself or at the end of a link:
the text is streamed into it, since it cannot be replaced without destroying
it and nothing is lost by writing into it. Anything else (a folder, a disk, a
socket) is refused. Problems come back as `ExportError` with a message that
names the path, its control characters escaped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import stat
from pathlib import Path
from typing import Literal

from tui.atomic import atomic_write
from tui.export import EXPORTERS, ExportError
from tui.normalize import printable

Existing = Literal["nothing", "file", "link", "stream"]
"""What is at an export path: nothing; a regular file; a symlink to a regular file (or a
dangling one), replaced by the export; a FIFO or character device, written into."""

NAME_MAX = 255
"""The longest file name (in bytes) most file systems allow, when the folder cannot say."""


def _umask() -> int:
    # Read once, at import (on the main thread): os.umask can only be read by setting it.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_NEW_FILE_MODE = 0o666 & ~_umask()
_CHUNK = 1 << 16


def default_file_name(format: str, today: dt.date | None = None) -> str:
    """`refdeck-2026-11-27.bib`: dated, so exports made on different days do not collide."""
    day = (today or dt.date.today()).isoformat()
    return f"refdeck-{day}{EXPORTERS[format].extension}"


def resolve(path: str | Path) -> Path:
    """The user's path with `~` expanded, made absolute against the working folder."""
    text = str(path)
    if not text.strip():
        raise ExportError("no file name given")
    if "\0" in text:
        raise ExportError("a file name cannot contain a NUL character")
    return Path(os.path.abspath(os.path.expanduser(text)))


def shown(path: Path) -> str:
    """The path as a message may print it: control characters and undecodable bytes escaped."""
    return printable(str(path))


def problem_with(path: Path, *, terminal_ok: bool = True) -> str | None:
    """Why `path` cannot be written, checked before any work is done; None when it can.

    Never raises: a path the system refuses to look at (a name too long, a folder
    that may not be entered) is itself the problem. `terminal_ok=False` (the
    browser, which draws on the terminal) refuses a terminal as the target.
    """
    try:
        target = os.stat(path)
    except OSError as error:
        if error.errno != errno.ENOENT:
            return f"cannot export to {shown(path)}: {_unreachable(path, error)}"
    else:
        mode = target.st_mode
        if stat.S_ISDIR(mode):
            return f"{shown(path)} is a folder; give a file name"
        if stat.S_ISFIFO(mode):
            return None
        if stat.S_ISCHR(mode):
            return None if terminal_ok else _terminal_problem(path)
        if not stat.S_ISREG(mode):
            return f"cannot export to {shown(path)}: it is {_kind(mode)}, not a file; nothing was written"
    # A new or regular file: written beside it and renamed, so its folder must take a new file.
    folder = path.parent
    try:
        folder_stat = os.stat(folder)
    except FileNotFoundError:
        return f"cannot export to {shown(path)}: the folder {shown(folder)} does not exist"
    except OSError as error:
        return f"cannot export to {shown(path)}: {_unreachable(folder, error)}"
    if not stat.S_ISDIR(folder_stat.st_mode):
        return f"cannot export to {shown(path)}: {shown(folder)} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot export to {shown(path)}: the folder {shown(folder)} is read-only"
    return None


def existing(path: Path) -> Existing:
    """What is at `path` now (see `Existing`); "nothing" when it cannot be looked at."""
    try:
        link = os.lstat(path)
    except OSError:
        return "nothing"
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = link.st_mode  # a dangling link
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return "stream"
    return "link" if stat.S_ISLNK(link.st_mode) else "file"


def exists(path: Path) -> bool:
    """True when an export to `path` would replace something: a file, or a symlink."""
    return existing(path) in ("file", "link")


def write_export(
    path: Path, text: str, *, overwrite: bool = False, terminal_ok: bool = True
) -> Path:
    """Write `text` to `path`: atomically to a file, streamed into a FIFO or a device.

    Refuses to replace an existing file unless told to; a FIFO or a device is
    never replaced, only written into.
    """
    problem = problem_with(path, terminal_ok=terminal_ok)
    if problem:
        raise ExportError(problem)
    data = text.encode("utf-8")
    kind = existing(path)
    if kind == "stream":
        _write_into(path, data, terminal_ok)
        return path
    if kind != "nothing" and not overwrite:
        raise ExportError(f"{shown(path)} already exists (choose overwrite, or another name)")
    try:
        atomic_write(path, data, durable=True, new_file_mode=_NEW_FILE_MODE)
    except OSError as error:
        raise ExportError(_describe(path, error)) from error
    return path


def _write_into(path: Path, data: bytes, terminal_ok: bool) -> None:
    """Stream `data` into the FIFO or character device at `path` (never creating a file)."""
    try:
        # No O_CREAT: only what is there is opened. O_NONBLOCK: a FIFO nobody reads
        # fails at once (ENXIO) instead of waiting for a reader forever.
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ENXIO:
            raise ExportError(_no_reader(path)) from error
        raise ExportError(_describe(path, error)) from error
    written = 0
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
            # Replaced by a file since the check: writing in place would mix old and new.
            raise ExportError(f"{shown(path)} changed while exporting; nothing was written")
        if not terminal_ok and os.isatty(fd):
            raise ExportError(_terminal_refusal(path))
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        view = memoryview(data)
        while written < len(data):
            written += os.write(fd, view[written : written + _CHUNK])
    except OSError as error:
        raise ExportError(_describe(path, error, written, len(data))) from error
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def _terminal_problem(path: Path) -> str | None:
    """A terminal is refused where refdeck draws on it; other character devices are fine."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return None  # the write will say why it cannot open it
    try:
        return _terminal_refusal(path) if os.isatty(fd) else None
    finally:
        os.close(fd)


def _terminal_refusal(path: Path) -> str:
    return (
        f"cannot export to {shown(path)}: it is a terminal, which the browser draws on; "
        "choose a file (or use refdeck export on the command line); nothing was written"
    )


def _no_reader(path: Path) -> str:
    return (
        f"cannot export to {shown(path)}: it is a FIFO (named pipe) that no program is "
        "reading; start the reader first; nothing was written"
    )


def _kind(mode: int) -> str:
    if stat.S_ISBLK(mode):
        return "a block device (a disk or partition)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _unreachable(path: Path, error: OSError) -> str:
    """Why the system would not look at `path` (an error other than "not found")."""
    if error.errno == errno.ENAMETOOLONG:
        return _too_long(path)
    if error.errno in (errno.EACCES, errno.EPERM):
        blocked = next(
            (
                folder
                for folder in reversed(path.parents)
                if os.path.isdir(folder) and not os.access(folder, os.X_OK)
            ),
            None,
        )
        where = (
            f"the folder {shown(blocked)} may not be entered" if blocked else "a folder on the way"
        )
        return f"permission denied ({where}); nothing was written"
    if error.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder; nothing was written"
    if error.errno == errno.ELOOP:
        return "the path has a symbolic link loop; nothing was written"
    return f"{error.strerror or error}; nothing was written"


def _too_long(path: Path) -> str:
    longest = max((os.fsencode(part) for part in path.parts), key=len)
    limit = NAME_MAX
    with contextlib.suppress(OSError, ValueError):
        limit = os.pathconf(path.parent if os.path.isdir(path.parent) else "/", "PC_NAME_MAX")
    if len(longest) > limit:
        return (
            f"the file name is too long: one part of it is {len(longest)} bytes in UTF-8, "
            f"and the file system allows {limit}; nothing was written"
        )
    return f"the path is too long ({len(os.fsencode(str(path)))} bytes); nothing was written"


def _describe(path: Path, error: OSError, written: int = 0, total: int = 0) -> str:
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.EPIPE: "the program reading it stopped",
        errno.ENXIO: "the device is not there",
        errno.ENOENT: (f"the folder {shown(path.parent)} is gone or does not take new files"),
    }
    if error.errno == errno.ENAMETOOLONG:
        return f"cannot write {shown(path)}: {_too_long(path)}"
    reason = reasons.get(error.errno or 0, error.strerror or str(error))
    if written:
        outcome = f"only {written:,} of {total:,} bytes were written"
    else:
        outcome = "nothing was written"
    return f"cannot write {shown(path)}: {reason}; {outcome}"
