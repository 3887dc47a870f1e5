"""Writing files so that a crash leaves the old file or the new one, never a mix.

Every file refdeck writes for the user (the library, its backups, exports)
goes through here: the new bytes fill a temporary file in the target's folder,
which is flushed, fsynced and renamed over the target, and then the folder is
fsynced. The library needs one more step than a plain atomic write: between
"the new file is complete" and "the new file is in place" it commits its
index, so `AtomicFile` splits the write into `prepare()` and `commit()`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

Signature = tuple[int, int, int]
"""A file's inode, size and modification time: all change when it is replaced."""

TEMP_PREFIX = ".refdeck-tmp-"
"""Temporary files of interrupted writes start with this (the store removes them)."""

_CHUNK = 1 << 20


def file_signature(path: Path) -> Signature | None:
    """The signature of the file at `path`, or None when there is none."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def fd_signature(fd: int) -> Signature:
    """The signature of an open file."""
    stat = os.fstat(fd)
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class HashingWriter:
    """A binary sink that counts and checksums what passes through it to a file.

    The checksum (CRC-32, about 2 GB/s) lets the library tell later, after a
    copy, that a file is byte for byte the one it wrote, without keeping any
    other record of it.
    """

    def __init__(self, target: BinaryIO) -> None:
        self._target = target
        self.size = 0
        self.crc = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write `data`; returns its length."""
        self._target.write(data)
        self.size += len(data)
        self.crc = zlib.crc32(data, self.crc)
        return len(data)


def file_crc(fd: int) -> tuple[int, int]:
    """(size, CRC-32) of an open file's whole content, read from its start."""
    crc, size, position = 0, 0, 0
    while chunk := os.pread(fd, _CHUNK, position):
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        position += len(chunk)
    return size, crc


class AtomicFile:
    """A new version of `path`, written beside it and put in place in one rename.

    ::

        with AtomicFile(path) as new:
            new.out.write(...)
            signature = new.prepare()   # complete and durable, not yet in place
            ...                         # e.g. commit what depends on it
            new.commit()                # renamed over `path`

    Leaving the block without `commit()` (an exception, a return) removes the
    temporary file and leaves `path` as it was. A replaced file keeps its
    permissions; a new one gets `new_file_mode`, or stays private (0600).
    """

    def __init__(self, path: Path, durable: bool = True, new_file_mode: int | None = None) -> None:
        self.path = path
        self.durable = durable
        self.new_file_mode = new_file_mode
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
        self._temp = Path(name)
        self._handle = os.fdopen(fd, "wb")
        self.out = HashingWriter(self._handle)
        self._prepared: Signature | None = None
        self._committed = False

    def prepare(self) -> Signature:
        """Flush and fsync the new file; returns the signature it will have in place.

        A rename keeps a file's inode, size and modification time, so this is
        the signature `path` has once `commit()` has run.
        """
        if self._prepared is None:
            self._handle.flush()
            if self.durable:
                os.fsync(self._handle.fileno())
            mode: int | None
            try:
                mode = os.stat(self.path).st_mode & 0o7777
            except FileNotFoundError:
                mode = self.new_file_mode
            if mode is not None:
                os.fchmod(self._handle.fileno(), mode)
            self._prepared = fd_signature(self._handle.fileno())
            self._handle.close()
        return self._prepared

    def commit(self) -> Signature:
        """Put the new file in place of `path` (and make the rename durable)."""
        signature = self.prepare()
        os.replace(self._temp, self.path)
        self._committed = True
        if self.durable:
            fsync_directory(self.path.parent)
        return signature

    def discard(self) -> None:
        """Give up: remove the temporary file, leave `path` untouched."""
        if self._committed:
            return
        with contextlib.suppress(OSError):
            self._handle.close()
        with contextlib.suppress(OSError):
            os.unlink(self._temp)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.discard()


def write_atomically(
    path: Path,
    write: Callable[[HashingWriter], object],
    durable: bool = True,
    new_file_mode: int | None = None,
) -> Signature:
    """Replace `path` with what `write` writes, so that a crash leaves the old or the new file."""
    with AtomicFile(path, durable, new_file_mode) as new:
        write(new.out)
        return new.commit()


def atomic_write(
    path: Path, payload: bytes | bytearray, durable: bool = True, new_file_mode: int | None = None
) -> Signature:
    """Replace `path` with `payload`, atomically.

    With `durable=False` (caches) the fsyncs are skipped: after a power cut the
    file may be stale or empty, never half-written by refdeck.
    """
    return write_atomically(path, lambda out: out.write(payload), durable, new_file_mode)


def copy_into(source: int, out: HashingWriter, start: int = 0, size: int | None = None) -> int:
    """Copy `size` bytes (None: to the end) of the open file `source` from `start` into `out`.

    Returns how many bytes were copied; fewer than asked means the file is shorter.
    """
    copied, position = 0, start
    while size is None or copied < size:
        want = _CHUNK if size is None else min(_CHUNK, size - copied)
        chunk = os.pread(source, want, position)
        if not chunk:
            break
        out.write(chunk)
        copied += len(chunk)
        position += len(chunk)
    return copied


def atomic_copy(source: Path, target: Path) -> Signature:
    """Replace `target` with a durable copy of `source`, whole or absent."""
    fd = os.open(source, os.O_RDONLY)
    try:
        return write_atomically(target, lambda out: copy_into(fd, out))
    finally:
        os.close(fd)


def fsync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable (where the file system allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a folder; the rename is still atomic
    finally:
        os.close(fd)
