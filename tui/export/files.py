"""Writing an export to the path the user chose, and nowhere else.

The path is the user's: it is not rewritten or confined to a folder. What
refdeck guarantees is that it writes that one file, atomically (a temporary
file in the same folder, renamed over the target), that it never overwrites
without being told to, and that a symlink at the path is replaced rather than
followed, so an export cannot write through a link into another file.
Problems come back as `ExportError` with a message that names the path.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
from pathlib import Path

from tui.atomic import atomic_write
from tui.export import EXPORTERS, ExportError


def _umask() -> int:
    # Read once, at import (on the main thread): os.umask can only be read by setting it.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_NEW_FILE_MODE = 0o666 & ~_umask()


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


def problem_with(path: Path) -> str | None:
    """Why `path` cannot be written, checked before any work is done; None when it can."""
    folder = path.parent
    if path.is_dir():
        return f"{path} is a folder; give a file name"
    if not folder.exists():
        return f"cannot export to {path}: the folder {folder} does not exist"
    if not folder.is_dir():
        return f"cannot export to {path}: {folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot export to {path}: the folder {folder} is read-only"
    return None


def exists(path: Path) -> bool:
    """True when something (a file, or a symlink even if dangling) is already at `path`."""
    return os.path.lexists(path)


def write_export(path: Path, text: str, *, overwrite: bool = False) -> Path:
    """Write `text` to `path` atomically; refuses to replace an existing file unless told to."""
    problem = problem_with(path)
    if problem:
        raise ExportError(problem)
    if exists(path) and not overwrite:
        raise ExportError(f"{path} already exists (choose overwrite, or another name)")
    try:
        atomic_write(path, text.encode("utf-8"), durable=True, new_file_mode=_NEW_FILE_MODE)
    except OSError as error:
        raise ExportError(_describe(path, error)) from error
    return path


def _describe(path: Path, error: OSError) -> str:
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.ENAMETOOLONG: "the file name is too long",
        errno.ENOENT: "the folder disappeared",
    }
    reason = reasons.get(error.errno or 0, error.strerror or str(error))
    return f"cannot write {path}: {reason}; nothing was written"
