"""What can go wrong with a library, worded for the user."""

from __future__ import annotations


class LibraryError(Exception):
    """A problem with the library, worded for the user."""


class InvalidLibrary(LibraryError):
    """The file exists but is not a refdeck library this version can read; it is left untouched."""


class LibraryBusy(LibraryError):
    """Another process held the library's lock for too long."""


class NoLibrary(LibraryError):
    """There is no library at the path (and a reading command creates none)."""


class StaleIndex(Exception):
    """The index does not describe the library file (found while reading or writing).

    Never shown to the user: the store rebuilds the index and tries again.
    """
