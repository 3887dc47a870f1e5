"""JSON and JSON Lines files of literature records, whatever API or tool wrote them.

This module finds the records in a `.json`/`.jsonl` file and hands each one to
the converter that recognizes it:

* `aggregator` - the aggregator's JSON objects (`PeriodicalIF`, ...),
* `refdeck_json` - refdeck's own `--format json` output,
* `crossref` - Crossref works (list-valued `title`),
* `openalex` - OpenAlex works (`https://openalex.org/W...` ids),
* `semantic_scholar` - Semantic Scholar papers (`paperId`),
* `csl_json` - CSL items (Zotero, pandoc, Manubot): the loosest test, so last.

Envelopes are removed first: Crossref `{"message-type": "work", "message":
{...}}` and `"work-list"` (`message.items`), OpenAlex `{"meta", "results"}`,
Semantic Scholar `{"data": [...]}` and batch lists with `null` for papers not
found, and plain top-level arrays. Another refdeck library file (its TinyDB
`records` table) is read as a list of refdeck records, with its journals.

Parsing is strict (orjson: no NaN, nesting limited to 1024 levels), and every
problem becomes a located issue: a broken document is reported at its line
and column, a broken JSON Lines line fails that line only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import PurePath
from types import ModuleType
from typing import Any

import orjson

from tui.formats import aggregator, crossref, csl_json, openalex, refdeck_json, semantic_scholar
from tui.formats.base import ParseResult, line_of
from tui.formats.slices import JSON_LINES_SUFFIXES
from tui.normalize import clean_html_line, clean_line

NAME = "json_records"

# Most specific first: the aggregator and refdeck keys are unambiguous, and
# CSL's `type` + `title` would also match most of the others.
CONVERTERS: tuple[ModuleType, ...] = (
    aggregator,
    refdeck_json,
    crossref,
    openalex,
    semantic_scholar,
    csl_json,
)

_JSON_START = re.compile(r"[\s\ufeff]*[\[{]")
_LEADING_SPACE = re.compile(r"[\s\ufeff]*")
_LIST_KEYS = ("results", "data", "items", "records", "references")
"""Keys whose list holds the records: OpenAlex, Semantic Scholar, CSL collections."""
_JSONL_SUFFIXES = JSON_LINES_SUFFIXES
_MAX_SCAN_CHARS = 32 << 20
"""Above this size item lines are not looked up (a Python-level scan of the text)."""
_MAX_UNRECOGNIZED = 50
"""Unrecognized entries reported one by one; the rest are summed up in one issue."""
_NON_JSON_NUMBER = re.compile(r"-?(?:NaN|Infinity)\b")
_FRIENDLY = {
    "depth limit exceeded": "nested too deeply",
    "number is infinity when parsed as double": "number too large",
}


class BadJSON(ValueError):
    """Text that is not JSON, with the place the parser gave up (1-based; None if unknown)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def located(self, with_line: bool = True) -> str:
        """The message with its position, as "invalid JSON at line 3, column 7: ..."."""
        if self.line is None:
            return f"invalid JSON: {self.message}"
        if with_line:
            return f"invalid JSON at line {self.line}, column {self.column}: {self.message}"
        return f"invalid JSON at column {self.column}: {self.message}"


def sniff(text: str) -> bool:
    """A JSON document or JSON Lines file starts with `{` or `[` (after whitespace)."""
    # A match, not text.lstrip(): this must not copy a 1 GiB file to look at one character.
    return _JSON_START.match(text) is not None


# ---------------------------------------------------------------------------
# Reading JSON


def loads(text: str) -> Any:
    """Parse strict JSON; raise `BadJSON` (never RecursionError/MemoryError) on failure.

    orjson refuses NaN/Infinity, numbers beyond a double and nesting deeper than
    1024, which is what a bibliography importer wants. It also refuses lone
    UTF-16 surrogate escapes (`"\\ud800"`), which some APIs emit in truncated
    abstracts; those documents are read by the standard library instead and
    the surrogates replaced, because orjson (which the store writes with)
    could not save them later.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        if "surrogate" in error.msg:
            return _loads_lenient(text)
        message = _FRIENDLY.get(error.msg, error.msg)
        if _NON_JSON_NUMBER.match(text, error.pos):
            message = "NaN and Infinity are not valid JSON numbers"
        raise BadJSON(message, error.lineno, error.colno) from None
    except RecursionError:
        raise BadJSON("nested too deeply") from None
    except MemoryError:
        raise BadJSON("too large to read into memory") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_int(digits: str) -> int | float:
    """Integers as orjson reads them: beyond 64 bits a float, beyond a double an error.

    The store writes with orjson, which cannot write larger integers.
    """
    number = int(digits)
    if -(2**63) <= number < 2**64:
        return number
    as_float = float(digits)
    if as_float in (float("inf"), float("-inf")):
        raise ValueError("number too large")
    return as_float


def _loads_lenient(text: str) -> Any:
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_int=_parse_int)
    except json.JSONDecodeError as error:
        raise BadJSON(error.msg, error.lineno, error.colno) from None
    except RecursionError:
        raise BadJSON("nested too deeply") from None
    except MemoryError:
        raise BadJSON("too large to read into memory") from None
    except ValueError as error:  # NaN, or an integer beyond Python's digit limit
        raise BadJSON(str(error)) from None
    return _scrub_surrogates(value)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _scrub_surrogates(value: Any) -> Any:
    """Replace lone surrogates in every string with U+FFFD (iteratively: no depth limit)."""

    def fix(item: Any) -> Any:
        """The item with its lone surrogates replaced, if it is a string."""
        return _SURROGATE.sub("\ufffd", item) if isinstance(item, str) else item

    root = [value]
    stack: list[list[Any] | dict[str, Any]] = [root]
    while stack:
        container = stack.pop()
        if isinstance(container, dict):
            for key in list(container):
                item = container.pop(key)
                container[fix(key)] = fix(item)
                if isinstance(item, list | dict):
                    stack.append(item)
        else:
            for index, item in enumerate(container):
                container[index] = fix(item)
                if isinstance(item, list | dict):
                    stack.append(item)
    return root[0]


# ---------------------------------------------------------------------------
# Where items start (for located messages in single JSON documents)

# One JSON token: a string (and the colon that makes it a key), a bracket, or a
# scalar. Strings are matched whole, so brackets inside them are never counted.
_TOKEN = re.compile(
    r'("[^"\\]*(?:\\.[^"\\]*)*")(\s*:)?|[{}\[\]]|-?\d[\d.eE+\-]*|true|false|null', re.DOTALL
)
_ITEM = "[]"


def _key(raw: str) -> str:
    """An object key from its JSON spelling; escapes are decoded when they are valid."""
    if "\\" not in raw:
        return raw[1:-1]
    try:
        return str(orjson.loads(raw))
    except orjson.JSONDecodeError:  # a lone surrogate: the key just will not match
        return raw[1:-1]


def value_offsets(text: str) -> dict[tuple[str, ...], list[int]]:
    """Offsets where values start, by path from the root, for the paths envelopes use.

    Only values reached through object keys (and the elements of arrays so
    reached) are recorded: `()` for the root, `("results", "[]")` for each
    element of the root's `results` list, and so on. The inside of each item is
    skipped, so the table stays small however large the file is.
    """
    offsets: dict[tuple[str, ...], list[int]] = {}
    # Each frame: the container's bracket and its path (None: inside an item, not recorded).
    stack: list[tuple[str, tuple[str, ...] | None]] = []
    key: str | None = None
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if match.group(2) is not None:
            key = _key(match.group(1))
            continue
        char = token[0]
        if char in "}]":
            if stack:
                stack.pop()
            key = None
            continue
        path: tuple[str, ...] | None
        if not stack:
            path = ()
        else:
            bracket, parent = stack[-1]
            if parent is None:
                path = None
            elif bracket == "{":
                path = (*parent, key or "")
            else:
                path = (*parent, _ITEM)
        if path is not None:
            offsets.setdefault(path, []).append(match.start())
        if char in "{[":
            stack.append((char, path if path is not None and _ITEM not in path else None))
        key = None
    return offsets


def _lines_of(text: str, offsets: list[int]) -> list[int]:
    """1-based line numbers of sorted offsets, counting newlines once over the text."""
    lines: list[int] = []
    line, previous = 1, 0
    for offset in offsets:
        line += text.count("\n", previous, offset)
        previous = offset
        lines.append(line)
    return lines


class _Locator:
    """Finds the line where an item of a single JSON document starts, computed on demand."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._offsets: dict[tuple[str, ...], list[int]] | None = None

    def lines(self, path: tuple[str, ...], count: int) -> list[int | None]:
        """Lines of the `count` values at `path`; all None when they cannot be matched up."""
        if len(self._text) > _MAX_SCAN_CHARS:
            return [None] * count
        if self._offsets is None:
            self._offsets = value_offsets(self._text)
        found = self._offsets.get(path, [])
        if len(found) != count:  # duplicate keys or an unexpected shape: do not guess
            return [None] * count
        return list(_lines_of(self._text, found))


# ---------------------------------------------------------------------------
# Envelopes and items


def _kind(value: Any) -> str:
    """How a JSON value is called in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def converter_for(obj: dict[str, Any]) -> ModuleType | None:
    """The converter module whose `matches(obj)` is true, in `CONVERTERS` order."""
    for module in CONVERTERS:
        if module.matches(obj):
            return module
    return None


def is_library(doc: Any) -> bool:
    """True for a refdeck library file (TinyDB tables with refdeck's `meta` table)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("records"), dict):
        return False
    meta = doc.get("meta")
    return isinstance(meta, dict) and any(
        isinstance(info, dict) and info.get("schema") == "refdeck" for info in meta.values()
    )


def find_items(doc: Any) -> tuple[list[Any], tuple[str, ...] | None]:
    """The records of a parsed document and the path of their list (for line numbers).

    A single record gives a one-item list whose path is that record's own path;
    None means the items cannot be located cheaply. Raise `ValueError` for
    envelopes that hold no works (Crossref errors, ...).
    """
    if isinstance(doc, list):
        return doc, (_ITEM,)
    if not isinstance(doc, dict):
        raise ValueError(f"is a JSON {_kind(doc)}, not a record or a list of records")
    if is_library(doc):
        # Another refdeck library: its records table maps TinyDB ids to documents.
        return list(doc["records"].values()), None
    message_type = doc.get("message-type")
    if isinstance(message_type, str) and "message" in doc:
        return _crossref_envelope(doc, message_type)
    if converter_for(doc) is not None:
        return [doc], ()
    for key in _LIST_KEYS:
        if isinstance(doc.get(key), list):
            return doc[key], (key, _ITEM)
    return [doc], ()


def _crossref_envelope(doc: dict[str, Any], message_type: str) -> tuple[list[Any], tuple[str, ...]]:
    message = doc["message"]
    if doc.get("status", "ok") != "ok":
        detail = message if isinstance(message, str) else orjson.dumps(message).decode()
        kind = clean_line(message_type[:40])
        raise ValueError(f"is a Crossref error response ({kind}): {clean_line(detail[:200])}")
    if message_type == "work" and isinstance(message, dict):
        return [message], ("message",)
    if message_type == "work-list" and isinstance(message, dict):
        items = message.get("items")
        if isinstance(items, list):
            return items, ("message", "items", _ITEM)
    raise ValueError(f"is a Crossref {clean_line(message_type[:40])!r} response, not works")


def _unwrap_item(obj: dict[str, Any]) -> dict[str, Any]:
    """A list of Crossref `/works/{doi}` responses: take each response's work."""
    message = obj.get("message")
    if obj.get("message-type") == "work" and isinstance(message, dict):
        return message
    return obj


def _hint(obj: dict[str, Any]) -> str | None:
    """A title or id that lets the user find an entry: shown next to "entry N"."""
    for wrapper in semantic_scholar.WRAPPERS:
        if isinstance(obj.get(wrapper), dict):
            obj = obj[wrapper]
    for key in ("title", "display_name", "paperId", "id", "DOI", "doi"):
        value = obj.get(key)
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str) and v.strip()), None)
        if isinstance(value, str | int) and not isinstance(value, bool):
            hint = clean_html_line(value)
            if hint:
                return hint if len(hint) <= 60 else hint[:59] + "…"
    return None


class _Importer:
    """Imports the items of a document into one file's result (which counts them)."""

    def __init__(self, result: ParseResult) -> None:
        self.result = result

    def document(
        self, doc: Any, line: int | None, lines: Callable[[tuple[str, ...], int], list[int | None]]
    ) -> None:
        """Import the records of one parsed document (a whole file or one JSON Lines line)."""
        try:
            items, path = find_items(doc)
        except ValueError as error:
            if line is None:
                self.result.error(str(error), line=lines((), 1)[0])
            else:
                self.result.fail(line, None, str(error))
            return
        if is_library(doc):
            for journal in (doc.get("journals") or {}).values():
                if isinstance(journal, dict):
                    self.result.add_journal(journal.get("name"), journal.get("description"))
        if not items:
            where = "holds an empty JSON array" if isinstance(doc, list) else "holds an empty list"
            if line is None:
                self.result.error(f"{where}: no records")
            else:
                self.result.warn(line, None, "an empty list: no records")
            return
        if line is not None or path is None:
            item_lines: list[int | None] = [line] * len(items)
        else:
            item_lines = lines(path, len(items))
        for item, item_line in zip(items, item_lines, strict=True):
            self.item(item, item_line)

    def item(self, item: Any, line: int | None) -> None:
        """Import one item, or report why it is not a record."""
        self.result.entries += 1
        label = f"entry {self.result.entries}"
        if item is None:
            # Semantic Scholar's batch endpoint answers null for ids it does not know.
            self.result.warn(line, label, "is null (a record the source did not find); skipped")
            return
        if not isinstance(item, dict):
            self.result.fail(line, label, f"is a JSON {_kind(item)}, not a record")
            return
        obj = _unwrap_item(item)
        hint = _hint(obj)
        if hint:
            label = f"{label} ({hint})"
        module = converter_for(obj)
        if module is None:
            self._unrecognized(obj, line, label)
            return
        try:
            module.convert(obj, self.result, line=line, entry=label)
        except RecursionError:
            self.result.fail(line, label, "is nested too deeply to read")
        except Exception as error:  # noqa: BLE001 - one odd record must not lose the others
            detail = clean_line(str(error)[:200])
            self.result.fail(line, label, f"could not be read ({type(error).__name__}: {detail})")

    def _unrecognized(self, obj: dict[str, Any], line: int | None, label: str) -> None:
        if not self.result.repeated(
            "unrecognized",
            limit=_MAX_UNRECOGNIZED,
            summary="{} more entries are not bibliographic records refdeck recognizes",
            severity="error",
        ):
            self.result.failed += 1  # counted, but not reported one by one
            return
        # Keys are the file's text: cleaned, so an issue cannot carry a terminal escape.
        names = (clean_line(str(k)[:40]) or "?" for k in list(obj)[:8])
        keys = ", ".join(names) + (", ..." if len(obj) > 8 else "")
        message = "not a bibliographic record refdeck recognizes"
        self.result.fail(line, label, f"{message} (keys: {keys or 'none'})")


# ---------------------------------------------------------------------------
# The parser


def _no_lines(path: tuple[str, ...], count: int) -> list[int | None]:
    return [None] * count


def parse(text: str, result: ParseResult) -> None:
    """Parse a JSON document or a JSON Lines file into `result`."""
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark is not JSON whitespace
    importer = _Importer(result)
    try:
        doc = loads(text)
    except BadJSON as error:
        parsed_lines = _json_lines(text)
        if _is_json_lines(parsed_lines, result.file):
            _import_lines(parsed_lines, importer)
        else:
            result.error(error.located(), line=error.line)
        return
    # The line where the document itself starts: a single record's (or scalar's) line.
    leading = _LEADING_SPACE.match(text)
    first_line = line_of(text, leading.end() if leading else 0)
    locator = _Locator(text)

    def lines(path: tuple[str, ...], count: int) -> list[int | None]:
        """Lines of the items at `path`: a single record starts where the document does."""
        if path == ():
            return [first_line] * count
        return locator.lines(path, count)

    importer.document(doc, None, lines)


def parse_slice(text: str, result: ParseResult) -> None:
    """Parse a slice of a JSON Lines file (see `tui.formats.slices`): every line is a document.

    The file was judged to be JSON Lines from its start, so a slice is never
    taken for one document, even when it holds a single line.
    """
    importer = _Importer(result)
    _import_lines(_json_lines(text), importer)  # the file's BOM was dropped with its first slice


def _import_lines(parsed_lines: list[tuple[int, Any]], importer: _Importer) -> None:
    for number, value in parsed_lines:
        if isinstance(value, BadJSON):
            importer.result.fail(number, None, value.located(with_line=False))
        else:
            importer.document(value, number, _no_lines)


def _json_lines(text: str) -> list[tuple[int, Any]]:
    """Each non-blank line parsed on its own: (line number, value or `BadJSON`)."""
    parsed: list[tuple[int, Any]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            parsed.append((number, loads(line)))
        except BadJSON as error:
            parsed.append((number, error))
    return parsed


def _is_json_lines(lines: list[tuple[int, Any]], file: str) -> bool:
    """Whether a text that is not one JSON document is JSON Lines.

    A `.jsonl` name settles it. Otherwise most lines must be JSON objects or
    arrays by themselves: the lines of a broken pretty-printed document
    (`"title": "x",`) are not, so its error is reported at its real position.
    """
    if PurePath(file).suffix.lower() in _JSONL_SUFFIXES:
        return bool(lines)
    records = sum(1 for _, value in lines if isinstance(value, dict | list))
    return len(lines) >= 2 and records * 2 >= len(lines)
