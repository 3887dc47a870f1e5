"""Turning a file's bytes into text: encodings are detected, never assumed."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


# UTF-16 read a byte out of step turns ASCII into U+XX00 characters ("title" becomes
# "琀椀琀氀攀"): valid code points, so decoding succeeds and the rest of the file is
# garbage that no parser complains about. Real text never has eight in a row, four of
# them letters and three different (in Chinese, where 一 is U+4E00, 1 in 256 is one).
_SHIFTED_ASCII = re.compile(
    "[" + "".join(chr(byte << 8) for byte in (9, 10, 13, *range(32, 127))) + "]{8,}"
)


class UndecodableFile(ValueError):
    """The bytes are not text in any encoding we can tell apart (e.g. a binary file)."""


@dataclass(frozen=True, slots=True)
class DecodedText:
    """A file's text and how it was read."""

    text: str
    encoding: str
    """The encoding used, e.g. "utf-8" or "gb18030"."""
    guessed: bool = False
    """True when the encoding was inferred from the bytes alone (worth a warning)."""


def _looks_utf16(data: bytes) -> str | None:
    """Recognize BOM-less UTF-16 by its zero bytes in every other position."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_zeros = sample[0::2].count(0)
    odd_zeros = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_zeros > 0.4 * half and even_zeros < 0.05 * half:
        return "utf-16-le"
    if even_zeros > 0.4 * half and odd_zeros < 0.05 * half:
        return "utf-16-be"
    return None


def _is_binary(data: bytes) -> bool:
    """Text files hold no NUL bytes and few other control bytes."""
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte < 9 or 13 < byte < 32)
    return controls > max(8, len(sample) // 20)


def _check_in_step(text: str, encoding: str, offset: int) -> None:
    """Raise `UndecodableFile` when UTF-16 text turns to shifted ASCII (a byte lost or added)."""
    for match in _SHIFTED_ASCII.finditer(text):
        run = match.group()
        if sum(char >= "\u4100" for char in run) >= 4 and len(set(run)) >= 3:
            at = offset + len(text[: match.start()].encode(encoding))
            raise UndecodableFile(
                f"is {encoding.upper()} with a byte missing or extra before byte {at}; "
                "the text after it is garbled"
            )


def _finish(text: str, encoding: str, guessed: bool = False) -> DecodedText:
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return DecodedText(unicodedata.normalize("NFC", text), encoding, guessed)


def decode(data: bytes) -> DecodedText:
    """Decode a file's bytes: a BOM first, then strict UTF-8, BOM-less UTF-16, then a guess.

    Legacy 8-bit and GBK/GB18030 files are recognized by charset-normalizer and
    flagged as guessed. Raises `UndecodableFile` for binary data.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as error:
                raise UndecodableFile(
                    f"starts with a {encoding.upper()} byte-order mark but is not valid "
                    f"{encoding.upper()} (byte {error.start + len(bom)})"
                ) from error
            if encoding.startswith("utf-16"):
                _check_in_step(text, encoding, len(bom))
            return _finish(text, encoding)
    try:
        return _finish(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    utf16 = _looks_utf16(data)
    if utf16:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            pass
        else:
            _check_in_step(text, utf16, 0)
            return _finish(text, utf16, guessed=True)
    if _is_binary(data):
        raise UndecodableFile("is a binary file, not text")
    # Deferred: charset-normalizer is only needed for the rare non-UTF-8 file.
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise UndecodableFile("is not in an encoding refdeck can recognize")
    encoding = best.encoding
    if encoding in ("gbk", "gb2312"):
        encoding = "gb18030"  # a superset that decodes everything GBK does
    text = data.decode(encoding, errors="strict")
    # Short Western texts fit several 8-bit code pages equally well; when the most
    # common one (Windows-1252, a superset of Latin-1's letters) reads the same
    # text, name it rather than a lookalike such as cp1250.
    try:
        if encoding != "cp1252" and data.decode("cp1252") == text:
            encoding = "cp1252"
    except UnicodeDecodeError:
        pass
    return _finish(text, encoding, guessed=True)
