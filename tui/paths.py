"""File names as text that is safe to print, store and draw.

A file name on Linux is bytes. One that is not UTF-8 (a Latin-1 or GBK name
from a Windows zip) reaches Python with its bad bytes as lone surrogates,
which cannot be written to a UTF-8 stream, to JSON or to SQLite; a name can
also hold newlines and escape sequences. Every message, progress line and
record source names a file through `path_text`, which shows such bytes and
characters as escapes.
"""

from __future__ import annotations

import os
import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def path_text(path: str | os.PathLike[str] | bytes) -> str:
    r"""A file name as printable text.

    A byte that is not UTF-8 is shown as `\xNN` (`b"caf\xe9.ris"` becomes
    `caf\xe9.ris`); newlines, tabs and other control characters as `\n`, `\t`,
    `\xNN`; invisible format characters (bidi overrides) as `\uNNNN`. Printable
    text, CJK included, is kept as it is, and applying it twice changes nothing.
    """
    text = os.fsdecode(path)
    if text.isprintable():
        return text  # the common case: nothing to escape
    return "".join(_shown(char) for char in text)


def _shown(char: str) -> str:
    if char.isprintable() or unicodedata.category(char) == "Zs":
        return char  # spaces such as U+00A0 and U+3000 show as spaces
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # a byte that was not UTF-8 (surrogateescape)
    if char in _NAMED:
        return _NAMED[char]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
